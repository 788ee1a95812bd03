"""Instagram Graph API objects read by the ``instagram`` poll connector, parsed into mentions.

Pure functions over one payload; no I/O. A payload is what ``pollers.instagram`` hands over,
``{"field": ..., "value": <Graph object>}``, with ``field``:

* ``mentioned_comment``: an IG Comment that @mentions our account (``id``, ``text``,
  ``timestamp``, ``username``, ``like_count``, ``media{id,permalink}``) → a ``comment``;
* ``mentioned_media``: an IG Media whose caption @mentions our account (``id``, ``caption``,
  ``media_type``, ``timestamp``, ``username``, ``permalink``, ...) → a ``post``;
* ``tags``: an IG Media our account is tagged in (the same fields) → a ``post``.

Identity follows the ``comments`` webhook (``networks.meta``): a comment's ``native_id`` is its
id and its ``thread_id`` the media id, so a comment heard by the webhook and fetched here is
one mention; a media's ``native_id`` and ``thread_id`` are its id, so a post that both tags and
@mentions us is one mention too. ``url`` is the media's ``permalink`` (a comment has none of
its own), kept only when it is an ``https://www.instagram.com/`` path. ``created_at`` is the
object's ``timestamp`` (``2025-11-27T10:15:00+0000``).

Authors: the Graph API gives the author of a mentioned comment or media only as ``username``
(no id), so ``author.id`` is the username here, where the ``comments`` webhook has the
Instagram-scoped numeric id. An object without a username is skipped into ``ignored``, as is
our own (the username or id in ``AccountContext.own_ids``). The fetched text lacks the ``@``
of the mention (Instagram strips it for other people's content).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smm_ingest.adapters.networks.common import (
    BAD_VALUE,
    Fields,
    as_fields,
    loggable,
    make_attachment,
    make_author,
    parse_rfc3339,
    truncate_text,
)
from smm_ingest.domain.items import AccountContext, NewItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import MentionKind, Network

MENTIONED_COMMENT = "mentioned_comment"
MENTIONED_MEDIA = "mentioned_media"
TAGS = "tags"
#: Permalinks as the Graph API writes them (``/p/{shortcode}/``, ``/reel/{shortcode}/``).
_PERMALINK = re.compile(r"https://www\.instagram\.com/[A-Za-z0-9_./-]{1,200}")
#: Instagram usernames: letters, digits, periods and underscores, at most 30.
_USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")


def parse_graph_item(payload: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one fetched mention or tagged media into a mention (or a reason it is skipped)."""
    fields = as_fields(payload, "")
    source = fields.req_str("field")
    value = fields.req_obj("value")
    if source == MENTIONED_COMMENT:
        return _comment(value, account)
    if source in (MENTIONED_MEDIA, TAGS):
        return _media(value, account, source)
    return ParsedPayload(ignored=(f"instagram: {loggable(source)}: not handled",))


def _comment(value: Fields, account: AccountContext) -> ParsedPayload:
    native = value.req_id("id")
    username = _username(value)
    if username is None:
        return _skip(f"mentioned comment {native} without username")
    if _is_ours(username, account):
        return _skip(f"own comment {native}")
    media = value.opt_obj("media")
    draft = MentionDraft(
        network=Network.INSTAGRAM,
        kind=MentionKind.COMMENT,
        native_id=native,
        author=make_author(username, handle=username),
        text=truncate_text(value.opt_str("text") or ""),
        created_at=_timestamp(value),
        thread_id=media.req_id("id") if media else None,
        url=_permalink(media.raw("permalink")) if media else None,
    )
    return ParsedPayload(items=(NewItem(draft=draft),))


def _media(value: Fields, account: AccountContext, source: str) -> ParsedPayload:
    native = value.req_id("id")
    what = "tagged media" if source == TAGS else "mentioned media"
    username = _username(value)
    if username is None:
        return _skip(f"{what} {native} without username")
    if _is_ours(username, account):
        return _skip(f"own media {native}")
    draft = MentionDraft(
        network=Network.INSTAGRAM,
        kind=MentionKind.POST,
        native_id=native,
        author=make_author(username, handle=username),
        text=truncate_text(value.opt_str("caption") or ""),
        created_at=_timestamp(value),
        thread_id=native,
        url=_permalink(value.raw("permalink")),
    )
    return ParsedPayload(items=(NewItem(draft=draft),))


def _timestamp(value: Fields) -> datetime:
    return parse_rfc3339(value.req_str("timestamp"), value.where("timestamp"))


def _is_ours(username: str, account: AccountContext) -> bool:
    # Instagram usernames are case-insensitive.
    return username.lower() in {own.lower() for own in account.own_ids}


def _skip(reason: str) -> ParsedPayload:
    return ParsedPayload(ignored=(f"instagram: {reason}",))


def _permalink(value: object) -> str | None:
    """An Instagram permalink, else None (never a link elsewhere; a bad one is not fatal)."""
    if not isinstance(value, str) or not _PERMALINK.fullmatch(value):
        return None
    # make_attachment applies the contract's URL validation; we keep the original string.
    return value if make_attachment("link", value) else None


def _username(value: Fields) -> str | None:
    """The author's username; None when Meta withheld it."""
    username = value.opt_str("username")
    if not username:
        return None
    if not _USERNAME.fullmatch(username):
        raise PayloadError(BAD_VALUE, f"{value.where('username')} is not an Instagram username")
    return username
