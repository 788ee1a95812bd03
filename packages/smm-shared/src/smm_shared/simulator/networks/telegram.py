"""Fake Telegram Bot API (mounted at ``/telegram``): what ``TelegramDeliverer`` calls.

``POST /bot{token}/sendMessage``, ``/sendPhoto`` and ``/sendMediaGroup`` with a JSON body
(``chat_id``, ``text`` / ``photo`` + ``caption`` / ``media``, ``reply_parameters``), answered
as the Bot API does: ``{"ok": true, "result": Message}`` (a list of messages for an album) or
``{"ok": false, "error_code", "description", "parameters"}``. Each call is a posting request
(faults apply). The chat is the request's ``chat_id``: a number (``-100...`` a channel, other
negatives a group, positives a private chat) or an ``@username`` (a public channel, given a
stable numeric id). An album is stored as one post with all its photos; its native id, like
every native id here, is ``{chat id}_{message id}`` of its first message.

The Bot API cannot list messages, so nothing here does: ``find`` has nothing to call.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smm_shared.simulator.networks import FakeNetworks, FakePost, Fault, token_valid
from smm_shared.simulator.networks._common import gateway_timeout

NETWORK = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
RETRY_AFTER_S = 7


def _failed(code: int, description: str, **parameters: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def _chat(chat_id: object) -> dict[str, Any] | None:
    """The chat object for a ``chat_id``; None when it names no chat."""
    if isinstance(chat_id, str) and chat_id.startswith("@") and len(chat_id) > 1:
        name = chat_id[1:]
        number = -1_000_000_000_000 - int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
        return {"id": number, "title": name, "username": name, "type": "channel"}
    try:
        number = int(str(chat_id))
    except ValueError:
        return None
    if str(number).startswith("-100"):
        kind = "channel"
    elif number < 0:
        kind = "group"
    else:
        kind = "private"
    chat: dict[str, Any] = {"id": number, "type": kind}
    if kind == "private":
        chat["first_name"] = "Someone"
    else:
        chat["title"] = f"Chat {number}"
    return chat


def _public_url(chat: dict[str, Any], message_id: int) -> str | None:
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat["id"])
    if chat["type"] in ("channel", "supergroup") and chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


def _photo_ok(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def router(state: FakeNetworks) -> APIRouter:
    """The fake Bot API endpoints over ``state``."""
    api = APIRouter()

    @api.post("/bot{token}/{method}")
    async def call(token: str, method: str, request: Request) -> Response:
        if method not in ("sendMessage", "sendPhoto", "sendMediaGroup"):
            return _failed(404, "Not Found")
        fault = state.take_fault(NETWORK)
        if fault is Fault.EXPIRED_TOKEN or not token_valid(token):
            return _failed(401, "Unauthorized")
        if fault is Fault.RATE_LIMITED:
            return _failed(
                429,
                f"Too Many Requests: retry after {RETRY_AFTER_S}",
                retry_after=RETRY_AFTER_S,
            )
        if fault is Fault.SERVER_ERROR:
            return _failed(500, "Internal Server Error")
        try:
            body: Any = await request.json()
        except ValueError:
            return _failed(400, "Bad Request: the body must be JSON")
        if not isinstance(body, dict):
            return _failed(400, "Bad Request: the body must be a JSON object")
        if body.get("chat_id") in (None, ""):
            return _failed(400, "Bad Request: chat_id is empty")
        chat = _chat(body["chat_id"])
        if chat is None:
            return _failed(400, "Bad Request: chat not found")
        if fault is Fault.REJECT_CONTENT:
            return _failed(400, "Bad Request: message is too long")

        if method == "sendMessage":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return _failed(400, "Bad Request: message text is empty")
            if len(text) > TEXT_LIMIT:
                return _failed(400, "Bad Request: message is too long")
            photos: list[str] = []
        elif method == "sendPhoto":
            text = body.get("caption") or ""
            if not _photo_ok(body.get("photo")):
                return _failed(400, "Bad Request: wrong file identifier/HTTP URL specified")
            photos = [body["photo"]]
        else:
            media = body.get("media")
            if not isinstance(media, list) or not 2 <= len(media) <= 10:
                return _failed(400, "Bad Request: media group must contain 2 to 10 items")
            if not all(isinstance(m, dict) and _photo_ok(m.get("media")) for m in media):
                return _failed(400, "Bad Request: wrong file identifier/HTTP URL specified")
            photos = [m["media"] for m in media]
            text = media[0].get("caption") or ""
        if not isinstance(text, str) or (photos and len(text) > CAPTION_LIMIT):
            return _failed(400, "Bad Request: message caption is too long")

        reply = body.get("reply_parameters")
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        now = state.now()
        message_ids = [state.next_id() for _ in photos or [text]]
        messages = []
        for index, message_id in enumerate(message_ids):
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(now.timestamp()),
                "chat": chat,
            }
            if photos:
                message["photo"] = [{"file_id": f"photo-{message_id}", "width": 1280}]
                message["media_group_id"] = str(message_ids[0]) if len(photos) > 1 else None
                if index == 0 and text:
                    message["caption"] = text
            else:
                message["text"] = text
            if reply_to is not None:
                message["reply_to_message"] = {"message_id": reply_to, "chat": chat}
            messages.append({k: v for k, v in message.items() if v is not None})
        state.add(
            FakePost(
                network=NETWORK,
                account=str(body["chat_id"]),
                native_id=f"{chat['id']}_{message_ids[0]}",
                text=text,
                created_at=now,
                media_urls=tuple(photos),
                in_reply_to=f"{chat['id']}_{reply_to}" if reply_to is not None else None,
                url=_public_url(chat, message_ids[0]),
                extra={"method": method, "message_ids": message_ids},
            )
        )
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        result: Any = messages if method == "sendMediaGroup" else messages[0]
        return JSONResponse({"ok": True, "result": result})

    return api
