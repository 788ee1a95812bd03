"""Scenario events as the networks deliver them: VK Callback API, Meta webhooks, Telegram
updates, and X posts as the X API v2 filtered stream carries them.

Pure: an event, our accounts and the connector secrets in; a ``Delivery`` (which connector,
headers, body bytes, signed where the network signs) out, or for X a ``Tweet`` that
``x_stream_envelope`` cuts to what a stream request asked for. The shapes follow the
networks' documentation:

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
* X API v2: one line per post, ``{"data": tweet, "includes": {"users": [...], "tweets":
  [...]}, "matching_rules": [{id, tag}]}``; tweet and user objects carry the default fields
  (``id``, ``text``, ``edit_history_tweet_ids``; ``id``, ``name``, ``username``) plus those
  asked for with ``tweet.fields`` / ``user.fields``, and ``includes`` what ``expansions``
  asked for. A reply has ``in_reply_to_user_id`` and ``referenced_tweets`` (``replied_to``);
  ``conversation_id`` is the id of the post that started the thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from smm_shared.simulator import texts
from smm_shared.simulator.scenario import (
    ANCHOR_POSTS,
    Action,
    Author,
    MessageRef,
    Network,
    SimEvent,
    Surface,
)

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
    X_STREAM = "x_stream"  # not a webhook: ingest reads the (simulated) filtered stream


CONNECTOR_OF: Final[Mapping[Network, ConnectorKind]] = {
    Network.VK: ConnectorKind.VK,
    Network.FACEBOOK: ConnectorKind.META,
    Network.INSTAGRAM: ConnectorKind.META,
    Network.TELEGRAM: ConnectorKind.TELEGRAM,
    Network.X: ConnectorKind.X_STREAM,
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
    x_user_id: str = "1500000000000000001"
    x_username: str = texts.BRAND
    x_name: str = texts.BRAND


@dataclass(frozen=True, slots=True)
class WebhookSecrets:
    """The secrets the connectors are configured with (never printed)."""

    vk_secret: str
    meta_app_secret: str
    meta_verify_token: str
    telegram_secret_token: str
    x_bearer_token: str  # what ingest sends to the simulated X API, as to X's

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
    if event.network is Network.X:
        raise ValueError("X posts are read off the filtered stream, not delivered: see tweet()")
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


# -- X (API v2) -----------------------------------------------------------------------------------

#: What tweet and user objects carry when a request names no fields.
X_DEFAULT_TWEET_FIELDS: Final = frozenset({"id", "text", "edit_history_tweet_ids"})
X_DEFAULT_USER_FIELDS: Final = frozenset({"id", "name", "username"})
#: The values X accepts for ``tweet.fields``, ``user.fields`` and ``expansions``; a value
#: outside them is a 400. Fields the simulator does not model are simply absent, as on X
#: when a post has no such data.
X_TWEET_FIELDS: Final = frozenset(
    {
        "article", "attachments", "author_id", "card_uri", "community_id",
        "context_annotations", "conversation_id", "created_at", "display_text_range",
        "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id",
        "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics", "note_tweet",
        "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
        "referenced_tweets", "reply_settings", "scopes", "source", "text", "withheld",
    }
)  # fmt: skip
X_USER_FIELDS: Final = frozenset(
    {
        "affiliation", "connection_status", "created_at", "description", "entities", "id",
        "location", "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url",
        "profile_image_url", "protected", "public_metrics", "receives_your_dm",
        "subscription_type", "url", "username", "verified", "verified_type", "withheld",
    }
)  # fmt: skip
X_EXPANSIONS: Final = frozenset(
    {
        "attachments.media_keys", "attachments.media_source_tweet", "attachments.poll_ids",
        "author_id", "edit_history_tweet_ids", "entities.mentions.username", "geo.place_id",
        "in_reply_to_user_id", "entities.note.mentions.username", "referenced_tweets.id",
        "referenced_tweets.id.author_id",
    }
)  # fmt: skip
#: ``text`` holds at most this many characters; a longer post is whole in ``note_tweet``.
X_TEXT_LIMIT: Final = 280
#: Followers from which the simulated people carry X's blue check.
X_VERIFIED_FOLLOWERS: Final = 10_000


class XFieldsError(ValueError):
    """A request named a field or expansion X does not know (X answers 400)."""

    def __init__(self, parameter: str, unknown: list[str], known: frozenset[str]) -> None:
        super().__init__(
            f"The `{parameter}` query parameter value [{','.join(unknown)}] is not one of"
            f" [{','.join(sorted(known))}]"
        )
        self.parameter = parameter
        self.unknown = unknown


@dataclass(frozen=True, slots=True)
class XFields:
    """What a request asked X to include: expansions and extra tweet and user fields."""

    expansions: frozenset[str] = frozenset()
    tweet_fields: frozenset[str] = frozenset()
    user_fields: frozenset[str] = frozenset()

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> XFields:
        """Read ``expansions``, ``tweet.fields`` and ``user.fields`` (comma-separated)."""

        def values(parameter: str, known: frozenset[str]) -> frozenset[str]:
            given = [v for v in query.get(parameter, "").split(",") if v]
            unknown = [v for v in given if v not in known]
            if unknown:
                raise XFieldsError(parameter, unknown, known)
            return frozenset(given)

        return cls(
            expansions=values("expansions", X_EXPANSIONS),
            tweet_fields=values("tweet.fields", X_TWEET_FIELDS),
            user_fields=values("user.fields", X_USER_FIELDS),
        )


@dataclass(frozen=True, slots=True, eq=False)
class Tweet:
    """One X post with all the simulator knows of it: every modelled field, the people it
    involves and the posts it refers to; ``x_stream_envelope`` picks what a request wants."""

    data: JsonObject  # the tweet object with every modelled field
    users: Mapping[str, JsonObject]  # author, replied-to and mentioned people, by id
    referenced: tuple[JsonObject, ...]  # the posts of ``referenced_tweets``, every field
    text: str  # the whole text (``data["text"]`` is cut at X_TEXT_LIMIT)

    @property
    def id(self) -> str:
        """The post's id."""
        tweet_id: str = self.data["id"]
        return tweet_id


def tweet(event: SimEvent, *, accounts: Accounts, epoch: float) -> Tweet:
    """The X post a NEW event on X writes; ``epoch`` is the unix time the run started."""
    if event.network is not Network.X or event.action is not Action.NEW:
        # The filtered stream carries new posts only (and edits as new versions, not played).
        raise ValueError(f"no X post for {event.action} on {event.network}")
    clock = _Clock(epoch)
    brand = _x_brand(accounts)
    author = _x_user(event.author)
    people = {brand["id"]: brand, author["id"]: author}
    tweet_id = str(event.message_id)
    conversation = str(event.post_id) if event.post_id is not None else tweet_id
    data = _tweet_object(
        tweet_id,
        event.text,
        author=author["id"],
        created_at=clock.x_time(event.created_at),
        conversation=conversation,
        lang=event.language,
        people=people,
    )
    referenced: tuple[JsonObject, ...] = ()
    if event.surface is Surface.COMMENT:
        if event.reply_to is not None:
            parent = _x_reply_target(event.reply_to, conversation, accounts, clock, people)
            people.setdefault(parent["author_id"], _x_user(event.reply_to.author))
        else:
            parent = _x_brand_post(_required(event.post_id), accounts, epoch, people)
        data["in_reply_to_user_id"] = parent["author_id"]
        data["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
        referenced = (parent,)
    elif event.surface is not Surface.POST:
        raise ValueError(f"no X post for a {event.surface}")
    return Tweet(data=data, users=people, referenced=referenced, text=event.text)


def x_stream_envelope(
    post: Tweet, fields: XFields, matching_rules: Sequence[tuple[str, str | None]]
) -> JsonObject:
    """One filtered-stream message: the post with the fields and expansions asked for, and
    the ``(id, tag)`` of the rules it matched."""
    wanted_tweet = X_DEFAULT_TWEET_FIELDS | fields.tweet_fields
    wanted_user = X_DEFAULT_USER_FIELDS | fields.user_fields
    expansions = fields.expansions
    user_ids: list[str] = []
    if "author_id" in expansions:
        user_ids.append(post.data["author_id"])
    if "in_reply_to_user_id" in expansions and "in_reply_to_user_id" in post.data:
        user_ids.append(post.data["in_reply_to_user_id"])
    if "entities.mentions.username" in expansions:
        user_ids.extend(m["id"] for m in post.data.get("entities", {}).get("mentions", []))
    if "referenced_tweets.id.author_id" in expansions:
        user_ids.extend(t["author_id"] for t in post.referenced)
    includes: JsonObject = {}
    users = [_pick(post.users[i], wanted_user) for i in dict.fromkeys(user_ids) if i in post.users]
    if users:
        includes["users"] = users
    if "referenced_tweets.id" in expansions and post.referenced:
        includes["tweets"] = [_pick(t, wanted_tweet) for t in post.referenced]
    envelope: JsonObject = {"data": _pick(post.data, wanted_tweet)}
    if includes:
        envelope["includes"] = includes
    envelope["matching_rules"] = [
        {"id": rule_id, "tag": tag} if tag is not None else {"id": rule_id}
        for rule_id, tag in matching_rules
    ]
    return envelope


def x_stream_line(envelope: JsonObject) -> bytes:
    """The envelope as a stream line: compact JSON (UTF-8) ended by ``\\r\\n``, as X sends it."""
    return _dumps(envelope) + b"\r\n"


def _pick(obj: JsonObject, fields: frozenset[str]) -> JsonObject:
    return {key: value for key, value in obj.items() if key in fields}


def _tweet_object(
    tweet_id: str,
    text: str,
    *,
    author: str,
    created_at: datetime,
    conversation: str,
    lang: str,
    people: Mapping[str, JsonObject],
) -> JsonObject:
    shown = text[:X_TEXT_LIMIT]
    obj: JsonObject = {
        "id": tweet_id,
        "text": shown,
        "edit_history_tweet_ids": [tweet_id],
        "author_id": author,
        "created_at": _x_iso(created_at),
        "conversation_id": conversation,
        "lang": lang,
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "edit_controls": {
            "edits_remaining": 5,
            "is_edit_eligible": True,
            "editable_until": _x_iso(created_at + timedelta(hours=1)),
        },
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        },
    }
    handles = {user["username"].casefold(): user["id"] for user in people.values()}
    entities = x_entities(shown, handles)
    if entities:
        obj["entities"] = entities
    if shown != text:
        note: JsonObject = {"text": text}
        note_entities = x_entities(text, handles)
        if note_entities:
            note["entities"] = note_entities
        obj["note_tweet"] = note
    return obj


_X_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_])")
_X_HASHTAG = re.compile(r"(?<!\w)#(\w+)")


def x_entities(text: str, handles: Mapping[str, str]) -> JsonObject:
    """``mentions`` (of the people X knows: ``handles`` maps a casefolded username to an id)
    and ``hashtags``, with ``start``/``end`` in characters (Unicode code points)."""
    entities: JsonObject = {}
    mentions = [
        {"start": m.start(), "end": m.end(), "username": m.group(1), "id": handles[key]}
        for m in _X_MENTION.finditer(text)
        if (key := m.group(1).casefold()) in handles
    ]
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _X_HASHTAG.finditer(text)
    ]
    if mentions:
        entities["mentions"] = mentions
    if hashtags:
        entities["hashtags"] = hashtags
    return entities


def _x_user(author: Author) -> JsonObject:
    verified = author.followers >= X_VERIFIED_FOLLOWERS
    return {
        "id": str(author.user_id),
        "name": author.display_name,
        "username": author.handle,
        "protected": False,
        "verified": verified,
        "verified_type": "blue" if verified else "none",
        # Derived from the id, so one person keeps the same counts in every post.
        "public_metrics": {
            "followers_count": author.followers,
            "following_count": 40 + author.user_id % 960,
            "tweet_count": 120 + author.user_id % 24_000,
            "listed_count": author.followers // 250,
            "like_count": 300 + author.user_id % 40_000,
        },
    }


def _x_brand(accounts: Accounts) -> JsonObject:
    return {
        "id": accounts.x_user_id,
        "name": accounts.x_name,
        "username": accounts.x_username,
        "protected": False,
        "verified": True,
        "verified_type": "business",
        "public_metrics": {
            "followers_count": 184_200,
            "following_count": 312,
            "tweet_count": 9_870,
            "listed_count": 640,
            "like_count": 2_150,
        },
    }


def _x_reply_target(
    ref: MessageRef,
    conversation: str,
    accounts: Accounts,
    clock: _Clock,
    people: Mapping[str, JsonObject],
) -> JsonObject:
    """The post a reply answers, as ``includes.tweets`` shows it."""
    target_id = str(ref.message_id)
    created = clock.x_time(ref.created_at)
    target = _tweet_object(
        target_id,
        ref.text,
        author=str(ref.author.user_id),
        created_at=created,
        conversation=conversation,
        lang=ref.author.language,
        people=people,
    )
    if target_id != conversation:
        # Itself a reply under the brand's post that started the conversation.
        target["in_reply_to_user_id"] = accounts.x_user_id
        target["referenced_tweets"] = [{"type": "replied_to", "id": conversation}]
    return target


def _x_brand_post(
    post_id: int, accounts: Accounts, epoch: float, people: Mapping[str, JsonObject]
) -> JsonObject:
    """One of the brand's own posts (from before the run) that people reply under."""
    index = ANCHOR_POSTS[Network.X].index(post_id)
    created = datetime.fromtimestamp(epoch, tz=UTC) - timedelta(days=1 + index)
    return _tweet_object(
        str(post_id),
        texts.BRAND_POSTS[index % len(texts.BRAND_POSTS)],
        author=accounts.x_user_id,
        created_at=created,
        conversation=str(post_id),
        lang="en",
        people=people,
    )


def _x_iso(when: datetime) -> str:
    """X's timestamps: UTC with milliseconds, ``2025-11-27T10:15:00.000Z``."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    epoch: float

    def at(self, offset: float) -> int:
        """Unix seconds of a scenario time."""
        return int(self.epoch + offset)

    def x_time(self, offset: float) -> datetime:
        """The UTC time of a scenario time."""
        return datetime.fromtimestamp(self.epoch + offset, tz=UTC)

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
