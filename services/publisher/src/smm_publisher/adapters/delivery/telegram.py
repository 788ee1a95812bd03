"""Telegram Bot API delivery: ``sendMessage``, ``sendPhoto`` or ``sendMediaGroup`` (an album).

The request's ``account_id`` is the chat: a numeric chat id or a channel's ``@username``; its
``access_token`` is the bot token. A reply sets ``reply_parameters.message_id``;
``in_reply_to`` is a native id as ingest writes it (``{chat_id}_{message_id}``) or a bare
message id. The native id of what we send has the same ``{chat_id}_{message_id}`` form; its
URL is ``t.me/{username}/{id}`` in a public chat, ``t.me/c/{id}/{id}`` in a private
supergroup or channel (members only), and None in a private chat.

Errors follow the Bot API: ``ok: false`` with ``error_code`` and ``description``. 400 is a
request a person must fix (the description says what, e.g. "chat not found", "message is
too long"), 401/404 a revoked or mistyped bot token, 403 a bot blocked by the user or not a
member (or admin) of the channel, 429 waits ``parameters.retry_after`` seconds; 502/504 and
a timeout or dropped connection after sending are ambiguous; other 5xx are transient.

Media are passed as URLs (Telegram fetches them: public JPEG/PNG, at most 5 MB). One image
goes with ``sendPhoto`` and the text as its caption; two to ten with ``sendMediaGroup``, an
album of photos with the caption on the first one. An album is several messages; the native
id (and URL) of what we send is the first one's. Captions hold 1,024 characters (a text
message 4,096); a longer caption is refused before sending.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard

import httpx

from smm_publisher.adapters.delivery._http import (
    TIMEOUT_S,
    Json,
    created_body,
    json_object,
    send,
    short,
)
from smm_publisher.domain.content import TELEGRAM_CAPTION_LIMIT
from smm_publisher.domain.delivery import (
    AmbiguousDeliveryError,
    DeliveryError,
    PermanentDeliveryError,
    PostRequest,
    Published,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)
from smm_shared.events import Network

DEFAULT_API_BASE_URL = "https://api.telegram.org"
#: Wait on a 429 without ``retry_after`` (the Bot API always sends one; this is a fallback).
DEFAULT_RETRY_S = 30.0
#: ``sendMediaGroup`` takes 2 to 10 items.
ALBUM_LIMIT = 10
_CHAT_ID = re.compile(r"-?\d+")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


class TelegramDeliverer:
    """Sends messages and photos to the chat of each request as the bot of its token."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._client = client
        self._base = api_base_url.rstrip("/")
        self._timeout_s = timeout_s

    async def post(self, req: PostRequest) -> Published:
        """Send a new message (or photo with a caption) to the chat."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        return await self._send(req)

    async def reply(self, req: PostRequest) -> Published:
        """Send a message that replies to ``req.in_reply_to`` in the same chat."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        return await self._send(req)

    async def find(self, req: PostRequest) -> Published | None:
        """Always None: the Bot API cannot list or search the messages a bot has sent.

        So None here does *not* mean "not sent". After an :class:`AmbiguousDeliveryError`
        the service must not resend: it marks the delivery failed-needs-person, and someone
        checks the chat and either records the message or publishes again.
        """
        _check(req)
        return None

    async def _send(self, req: PostRequest) -> Published:
        _check(req)
        payload: Json = {"chat_id": _chat_id(req.account_id)}
        if req.media_urls:
            if len(req.text) > TELEGRAM_CAPTION_LIMIT:
                raise PermanentDeliveryError(
                    "telegram.caption_too_long",
                    f"Telegram accepts {TELEGRAM_CAPTION_LIMIT} characters under an image; "
                    f"this text has {len(req.text)}. Shorten it by "
                    f"{len(req.text) - TELEGRAM_CAPTION_LIMIT} or remove the image.",
                )
            if len(req.media_urls) > ALBUM_LIMIT:
                raise PermanentDeliveryError(
                    "telegram.too_many_media",
                    f"A Telegram album holds {ALBUM_LIMIT} images; this post has "
                    f"{len(req.media_urls)}. Remove {len(req.media_urls) - ALBUM_LIMIT}.",
                )
        if len(req.media_urls) > 1:
            method = "sendMediaGroup"
            album: list[Json] = [{"type": "photo", "media": url} for url in req.media_urls]
            if req.text:
                album[0]["caption"] = req.text
            payload["media"] = album
        elif req.media_urls:
            method = "sendPhoto"
            payload["photo"] = req.media_urls[0]
            if req.text:
                payload["caption"] = req.text
        else:
            method = "sendMessage"
            payload["text"] = req.text
        if req.in_reply_to is not None:
            payload["reply_parameters"] = {"message_id": _message_id(req.in_reply_to)}
        what = "send the message"
        response = await send(
            self._client,
            "POST",
            f"{self._base}/bot{req.access_token}/{method}",
            network="Telegram",
            what=what,
            creates=True,
            json_body=payload,
            timeout_s=self._timeout_s,
        )
        if response.is_success:
            body = created_body(response, "Telegram")
        else:
            body = json_object(response) or {}
        if body.get("ok") is not True:
            raise _error(response, body, req)
        result = body.get("result")
        if method == "sendMediaGroup":
            # An album answers with its messages; the first one stands for the post.
            result = result[0] if isinstance(result, list) and result else None
        chat = result.get("chat") if isinstance(result, dict) else None
        message_id = result.get("message_id") if isinstance(result, dict) else None
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        if not isinstance(chat, dict) or not _is_int(message_id) or not _is_int(chat_id):
            raise AmbiguousDeliveryError(
                "Telegram said the message was sent but not which one; check the chat"
            )
        return Published(
            native_id=f"{chat_id}_{message_id}", url=_url(chat, str(chat_id), int(message_id))
        )


def _check(req: PostRequest) -> None:
    if req.network is not Network.TELEGRAM:
        raise ValueError(f"TelegramDeliverer cannot deliver a {req.network.value} request")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _chat_id(account_id: str) -> int | str:
    """A numeric chat id as a number; a channel's ``@username`` as it is."""
    value = account_id.strip()
    return int(value) if _CHAT_ID.fullmatch(value) else value


def _message_id(native_id: str) -> int:
    """The message id of ``{chat_id}_{message_id}`` or of a bare message id."""
    tail = native_id.rpartition("_")[2]
    if not tail.isascii() or not tail.isdigit():
        raise PermanentDeliveryError(
            "telegram.invalid_reply_target",
            f"{native_id!r} is not a Telegram message id, so there is nothing to reply to.",
        )
    return int(tail)


def _url(chat: Mapping[str, Any], chat_id: str, message_id: int) -> str | None:
    """``t.me`` link: public chats by username; private supergroups/channels via ``t.me/c``."""
    username = chat.get("username")
    chat_type = chat.get("type")
    if chat_type != "private" and isinstance(username, str) and _USERNAME.fullmatch(username):
        return f"https://t.me/{username}/{message_id}"
    # Private supergroup and channel ids are -100<internal id>; t.me/c/ opens it for members.
    if chat_type in ("supergroup", "channel") and chat_id.startswith("-100") and len(chat_id) > 4:
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


def _error(response: httpx.Response, body: Mapping[str, Any], req: PostRequest) -> DeliveryError:
    """The delivery error of an answer that is not ``ok`` (502/504 never get here)."""
    code = body.get("error_code")
    if not _is_int(code):
        code = response.status_code
    description = body.get("description")
    text = short(description) if isinstance(description, str) else "no description"
    lowered = text.lower()
    chat = req.account_id
    if code == 429:
        parameters = body.get("parameters")
        retry = parameters.get("retry_after") if isinstance(parameters, dict) else None
        wait = float(retry) if _is_int(retry) and retry > 0 else DEFAULT_RETRY_S
        return RateLimitedDeliveryError(f"Telegram rate limit: {text}", wait)
    if code in (401, 404):
        return PermanentDeliveryError(
            "telegram.token_invalid",
            "Telegram rejected the bot token: it was revoked or regenerated in @BotFather, "
            "or mistyped. Paste the bot's current token into the connection.",
        )
    if code == 403:
        if "blocked" in lowered:
            return PermanentDeliveryError(
                "telegram.blocked",
                f"The recipient of chat {chat} blocked the bot ({text}). Only they can undo it.",
            )
        return PermanentDeliveryError(
            "telegram.not_member",
            f"The bot may not post in chat {chat} ({text}). Add the bot to the chat; in a "
            "channel, make it an administrator allowed to post messages.",
        )
    if code == 400:
        return _bad_request(text, lowered, req)
    if _is_int(code) and code >= 500:
        return TransientDeliveryError(f"Telegram error {code}: {text}")
    if response.is_success and not isinstance(body.get("ok"), bool):
        # 2xx without ok: true or false: the Bot API acted, but on what we cannot tell.
        return AmbiguousDeliveryError(
            "Telegram answered without saying whether the message was sent; check the chat"
        )
    return TransientDeliveryError(f"Telegram error {code}: {text}")


def _bad_request(text: str, lowered: str, req: PostRequest) -> PermanentDeliveryError:
    chat = req.account_id
    if "chat not found" in lowered:
        return PermanentDeliveryError(
            "telegram.chat_not_found",
            f"Telegram cannot find chat {chat}: check the chat id or the channel's @username, "
            "and that the bot was added to it.",
        )
    if "too long" in lowered:
        return PermanentDeliveryError(
            "telegram.too_long",
            f"Telegram refused the text as too long ({text}). Messages hold 4,096 characters, "
            "captions under an image 1,024: shorten it.",
        )
    if "replied not found" in lowered or "reply" in lowered:
        return PermanentDeliveryError(
            "telegram.reply_target_missing",
            f"The message to reply to is gone from chat {chat} ({text}). Post without replying.",
        )
    if "rights" in lowered or "administrator" in lowered:
        return PermanentDeliveryError(
            "telegram.missing_permission",
            f"The bot lacks the right to post in chat {chat} ({text}). Give it the permission "
            "to send messages (in a channel: post messages as an administrator).",
        )
    if req.media_urls and any(
        marker in lowered for marker in ("url", "file", "photo", "media", "webpage")
    ):
        images = ", ".join(req.media_urls)
        which = "the image" if len(req.media_urls) == 1 else "one of the images"
        return PermanentDeliveryError(
            "telegram.media_unreachable",
            f"Telegram could not use {which} {images} ({text}). Use public JPEG or PNG URLs "
            "of at most 5 MB.",
        )
    return PermanentDeliveryError(
        "telegram.bad_request", f"Telegram refused the message: {text}. Fix it and send again."
    )
