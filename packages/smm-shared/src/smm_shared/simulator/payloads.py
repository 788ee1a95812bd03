"""Scenario events as the networks deliver them: VK Callback API, Meta webhooks, Telegram updates.

Pure: an event, our accounts and the connector secrets in; a ``Delivery`` (which connector,
headers, body bytes, signed where the network signs) out. The shapes follow the networks'
documentation:

* VK Callback API 5.199: ``{group_id, type, event_id, v, object, secret}``; ``wall_post_new``,
  ``wall_reply_new`` / ``_edit`` / ``_delete`` and ``message_new`` objects as in VK's
  ``callback/objects.json`` schema.
* Meta: ``{"object": "page" | "instagram", "entry": [{id, time, changes: [{field, value}]}]}``
  with the page ``feed`` values (``from``, ``post_id``, ``comment_id``, ``parent_id``,
  ``created_time``, ``item``, ``verb``, ``message``) and the Instagram ``comments`` values
  (``id``, ``text``, ``from{id,username}``, ``media{id,media_product_type}``, ``parent_id``),
  signed ``X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body)``.
* Telegram Bot API: an ``Update`` with ``message`` or ``edited_message`` and the
  ``X-Telegram-Bot-Api-Secret-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from smm_shared.simulator.scenario import Action, Author, Network, SimEvent, Surface

VK_API_VERSION: Final = "5.199"
SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
TELEGRAM_SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
JSON: Final = "application/json"
#: A JSON object as it goes on the wire.
JsonObject = dict[str, Any]


class ConnectorKind(StrEnum):
    """The ingest connector a delivery goes to (Facebook and Instagram share Meta's)."""

    VK = "vk"
    META = "meta"
    TELEGRAM = "telegram"


CONNECTOR_OF: Final[Mapping[Network, ConnectorKind]] = {
    Network.VK: ConnectorKind.VK,
    Network.FACEBOOK: ConnectorKind.META,
    Network.INSTAGRAM: ConnectorKind.META,
    Network.TELEGRAM: ConnectorKind.TELEGRAM,
}


@dataclass(frozen=True, slots=True)
class Accounts:
    """The demo brand's accounts on the networks, as its connectors are configured."""

    vk_group_id: int = 218400001
    vk_confirmation: str = "5e2d9f1c"
    facebook_page_id: str = "104200000000001"
    instagram_account_id: str = "17841400000000001"
    telegram_bot_id: int = 7000000001
    telegram_bot_username: str = "DemoBankHelpBot"
    telegram_group_id: int = -1001900000001
    telegram_group_title: str = "DemoBank Community"
    telegram_group_username: str = "demobank_community"


@dataclass(frozen=True, slots=True)
class WebhookSecrets:
    """The secrets the connectors are configured with (never printed)."""

    vk_secret: str
    meta_app_secret: str
    meta_verify_token: str
    telegram_secret_token: str

    def __repr__(self) -> str:
        return "WebhookSecrets(***)"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One HTTP POST a network would make: to which connector, with what headers and body."""

    connector: ConnectorKind
    network: Network
    headers: Mapping[str, str]
    body: bytes


def delivery(
    event: SimEvent, *, accounts: Accounts, secrets: WebhookSecrets, epoch: float
) -> Delivery:
    """The webhook call for ``event``; ``epoch`` is the unix time the run started."""
    clock = _Clock(epoch)
    if event.network is Network.VK:
        body = _dumps(_vk(event, accounts, secrets.vk_secret, clock))
        headers = {"Content-Type": JSON, "User-Agent": "smm-simulator (VK Callback API)"}
    elif event.network is Network.TELEGRAM:
        body = _dumps(_telegram(event, accounts, clock))
        headers = {
            "Content-Type": JSON,
            "User-Agent": "smm-simulator (Telegram Bot API)",
            TELEGRAM_SECRET_HEADER: secrets.telegram_secret_token,
        }
    else:
        # Meta escapes non-ASCII characters as \uXXXX and signs that escaped body.
        body = _dumps(_meta(event, accounts, clock), ascii_only=True)
        headers = {
            "Content-Type": JSON,
            "User-Agent": "smm-simulator (Meta webhooks)",
            SIGNATURE_HEADER: meta_signature(secrets.meta_app_secret, body),
        }
    return Delivery(CONNECTOR_OF[event.network], event.network, headers, body)


def meta_signature(app_secret: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of the raw body keyed with the app secret."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def vk_confirmation_body(accounts: Accounts) -> bytes:
    """The call VK makes to confirm a server address; the answer must be the confirmation code."""
    return _dumps({"type": "confirmation", "group_id": accounts.vk_group_id})


def meta_handshake_params(verify_token: str, challenge: str) -> dict[str, str]:
    """The query of Meta's subscription check; the answer must echo ``challenge``."""
    return {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}


# -- VK -------------------------------------------------------------------------------------------


def _vk(event: SimEvent, accounts: Accounts, secret: str, clock: _Clock) -> JsonObject:
    group = accounts.vk_group_id
    owner = -group
    user = event.author.user_id
    obj: JsonObject
    if event.surface is Surface.POST and event.action is Action.NEW:
        kind = "wall_post_new"
        obj = {
            "id": event.message_id,
            "from_id": user,
            "owner_id": owner,
            "date": clock.at(event.created_at),
            "marked_as_ads": 0,
            "post_type": "post",
            "text": event.text,
            "can_edit": 0,
            "created_by": user,
            "can_delete": 1,
            "comments": {"count": 0},
            "is_favorite": False,
        }
    elif event.surface is Surface.COMMENT and event.action is Action.DELETE:
        kind = "wall_reply_delete"
        obj = {
            "owner_id": owner,
            "id": event.message_id,
            "deleter_id": user,  # people delete their own comments here
            "user_id": user,
            "post_id": _required(event.post_id),
        }
    elif event.surface is Surface.COMMENT:
        kind = "wall_reply_new" if event.action is Action.NEW else "wall_reply_edit"
        obj = {
            "id": event.message_id,
            "from_id": user,
            "post_id": _required(event.post_id),
            "owner_id": owner,
            "parents_stack": [event.reply_to.message_id] if event.reply_to else [],
            "date": clock.at(event.created_at),
            "text": event.text,
            "thread": {"count": 0, "items": [], "can_post": False, "show_reply_button": True},
            "post_owner_id": owner,
        }
        if event.reply_to is not None:
            obj["reply_to_user"] = event.reply_to.author.user_id
            obj["reply_to_comment"] = event.reply_to.message_id
    elif event.surface is Surface.DIRECT and event.action is Action.NEW:
        kind = "message_new"
        obj = {
            "message": {
                "date": clock.at(event.created_at),
                "from_id": user,
                "id": event.message_id,
                "out": 0,
                "version": event.uid,
                "attachments": [],
                # VK numbers a dialog's messages; the simulator keeps no state between runs,
                # so it uses the run-unique message id to never collide with an earlier run.
                "conversation_message_id": event.message_id,
                "fwd_messages": [],
                "important": False,
                "is_hidden": False,
                "peer_id": user,
                "random_id": 0,
                "text": event.text,
            },
            "client_info": {
                "button_actions": ["text", "vkpay", "open_app", "location", "open_link"],
                "keyboard": True,
                "inline_keyboard": True,
                "carousel": True,
                "lang_id": _VK_LANG_IDS.get(event.language, 0),
            },
        }
    else:
        raise ValueError(f"no VK callback for {event.action} of a {event.surface}")
    return {
        "group_id": group,
        "type": kind,
        "event_id": _event_id(event),
        "v": VK_API_VERSION,
        "object": obj,
        "secret": secret,
    }


# VK's lang_id values (client_info) for the languages we write in; 0 (Russian) otherwise.
_VK_LANG_IDS: Final = {"ru": 0, "uk": 1, "en": 3, "es": 4, "pt": 12, "de": 6, "fr": 16}


def _event_id(event: SimEvent) -> str:
    """A 40-hex-digit id like VK's, unique per event across runs."""
    return hashlib.blake2b(f"vk-event/{event.uid}".encode(), digest_size=20).hexdigest()


# -- Meta -----------------------------------------------------------------------------------------


def _meta(event: SimEvent, accounts: Accounts, clock: _Clock) -> JsonObject:
    if event.network is Network.INSTAGRAM:
        return _instagram(event, accounts, clock)
    page = accounts.facebook_page_id
    author = {"id": str(event.author.user_id), "name": event.author.display_name}
    if event.surface is Surface.POST and event.action is Action.NEW:
        value: JsonObject = {
            "from": author,
            "item": "status",
            "post_id": f"{page}_{event.message_id}",
            "verb": "add",
            "published": 1,
            "created_time": clock.at(event.created_at),
            "message": event.text,
        }
    elif event.surface is Surface.COMMENT:
        story = _required(event.post_id)
        post_id = f"{page}_{story}"
        parent = f"{story}_{event.reply_to.message_id}" if event.reply_to else post_id
        value = {
            "from": author,
            "post_id": post_id,
            "comment_id": f"{story}_{event.message_id}",
            "created_time": clock.at(
                event.at if event.action is Action.DELETE else event.created_at
            ),
            "item": "comment",
            "parent_id": parent,
            "verb": _META_VERBS[event.action],
        }
        if event.action is not Action.DELETE:
            value["message"] = event.text
        if event.action is Action.NEW:
            value["post"] = {
                "status_type": "mobile_status_update",
                "is_published": True,
                "updated_time": clock.iso(event.at),
                "permalink_url": f"https://www.facebook.com/{page}/posts/{story}",
                "promotion_status": "inactive",
                "id": post_id,
            }
    else:
        raise ValueError(f"no Facebook feed change for {event.action} of a {event.surface}")
    return _meta_envelope("page", page, clock.at(event.at), "feed", value)


_META_VERBS: Final = {Action.NEW: "add", Action.EDIT: "edited", Action.DELETE: "remove"}


def _instagram(event: SimEvent, accounts: Accounts, clock: _Clock) -> JsonObject:
    if event.surface is not Surface.COMMENT or event.action is not Action.NEW:
        # Instagram's webhooks carry new comments only; edits and deletions are not sent.
        raise ValueError(f"no Instagram webhook for {event.action} of a {event.surface}")
    value: JsonObject = {
        "from": {"id": str(event.author.user_id), "username": event.author.handle},
        "media": {"id": str(_required(event.post_id)), "media_product_type": "FEED"},
        "id": str(event.message_id),
        "text": event.text,
    }
    if event.reply_to is not None:
        value["parent_id"] = str(event.reply_to.message_id)
    return _meta_envelope(
        "instagram", accounts.instagram_account_id, clock.at(event.at), "comments", value
    )


def _meta_envelope(obj: str, owner: str, time: int, field: str, value: JsonObject) -> JsonObject:
    return {
        "object": obj,
        "entry": [{"id": owner, "time": time, "changes": [{"field": field, "value": value}]}],
    }


# -- Telegram -------------------------------------------------------------------------------------


def _telegram(event: SimEvent, accounts: Accounts, clock: _Clock) -> JsonObject:
    if event.action is Action.DELETE or event.surface not in (Surface.GROUP, Surface.DIRECT):
        # The Bot API has no update for deleted messages.
        raise ValueError(f"no Telegram update for {event.action} of a {event.surface}")
    user = _telegram_user(event.author)
    if event.surface is Surface.GROUP:
        chat: JsonObject = {
            "id": accounts.telegram_group_id,
            "title": accounts.telegram_group_title,
            "username": accounts.telegram_group_username,
            "type": "supergroup",
        }
    else:
        chat = {k: v for k, v in user.items() if k in ("id", "first_name", "last_name", "username")}
        chat["type"] = "private"
    message: JsonObject = {
        "message_id": event.message_id,
        "from": user,
        "chat": chat,
        "date": clock.at(event.created_at),
    }
    if event.reply_to is not None:
        message["reply_to_message"] = {
            "message_id": event.reply_to.message_id,
            "from": _telegram_user(event.reply_to.author),
            "chat": chat,
            "date": clock.at(event.reply_to.created_at),
            "text": event.reply_to.text,
        }
    if event.action is Action.EDIT:
        message["edit_date"] = clock.at(event.at)
    message["text"] = event.text
    entities = telegram_entities(event.text)
    if entities:
        message["entities"] = entities
    kind = "edited_message" if event.action is Action.EDIT else "message"
    return {"update_id": event.uid, kind: message}


def _telegram_user(author: Author) -> JsonObject:
    user: JsonObject = {"id": author.user_id, "is_bot": False, "first_name": author.first_name}
    # Not everyone fills in a last name or picks a username.
    if author.user_id % 3:
        user["last_name"] = author.last_name
    if author.user_id % 5:
        user["username"] = author.handle.replace(".", "_")
    user["language_code"] = author.language
    return user


_ENTITY = re.compile(r"(?<!\w)([#@])\w+")


def telegram_entities(text: str) -> list[JsonObject]:
    """``hashtag`` and ``mention`` entities, with offsets in UTF-16 code units as Telegram counts."""
    entities: list[JsonObject] = []
    for match in _ENTITY.finditer(text):
        entities.append(
            {
                "offset": _utf16_len(text[: match.start()]),
                "length": _utf16_len(match.group(0)),
                "type": "hashtag" if match.group(1) == "#" else "mention",
            }
        )
    return entities


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    epoch: float

    def at(self, offset: float) -> int:
        """Unix seconds of a scenario time."""
        return int(self.epoch + offset)

    def iso(self, offset: float) -> str:
        """Meta's ISO 8601 form (``2025-11-27T10:15:00+0000``)."""
        return datetime.fromtimestamp(self.epoch + offset, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%S+0000"
        )


def _required(value: int | None) -> int:
    if value is None:
        raise ValueError("a comment needs the post it is under")
    return value


def _dumps(obj: JsonObject, *, ascii_only: bool = False) -> bytes:
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":")).encode()
