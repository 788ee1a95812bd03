"""Reddit API listings: one child of a ``Listing`` (a ``t1`` comment or a ``t3`` post) into items.

Pure functions over the JSON-decoded child (``{"kind": "t1", "data": {...}}``); no I/O. The
poller asks for ``raw_json=1``, so texts arrive unescaped (without it Reddit writes ``&amp;``).

Identifiers: ``native_id`` is the fullname (``t1_<id>`` for a comment, ``t3_<id>`` for a
post). A post is its own thread; a comment's thread is its post (``link_id``). A comment that
answers another comment (``parent_id`` ``t1_...``) is a ``reply`` whose ``parent_native_id``
is that comment; a comment on the post itself is a ``comment`` without a parent, as on the
other networks. URLs are ``https://www.reddit.com{permalink}``.

Posts: ``title`` and ``selftext`` joined by a blank line; a link post's ``url`` is a ``link``
attachment.

Own content: ``AccountContext.own_ids`` lists our Reddit accounts as usernames (compared
without case, as Reddit does) and/or ``t2_`` fullnames; their items are skipped into
``ignored``. ``on_own_post`` is true for comments under a post of ours (``link_author``, which
the subreddit comment listing carries; search results hold posts only).

Edits: ``edited`` is ``false`` or the unix time of the last edit; an edited item becomes only
an ``EditedItem`` (the ingestor stores an edit of an unknown mention as new). Very old items
may carry ``edited: true`` without a time: they stay a ``NewItem``.

Deletions: a body (or a post's ``selftext``) of ``[deleted]`` (by its author) or ``[removed]``
(by a moderator) becomes a ``DeletedItem``. Reddit does not say when, so ``deleted_at`` is the
latest time the item carries (its edit, else its creation): a lower bound.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from smm_ingest.adapters.networks.common import (
    BAD_TYPE,
    BAD_VALUE,
    MAX_UNIX_SECONDS,
    MISSING_FIELD,
    Fields,
    as_fields,
    loggable,
    make_attachment,
    make_author,
    truncate_text,
)
from smm_ingest.domain.items import (
    AccountContext,
    DeletedItem,
    EditedItem,
    NewItem,
    ParsedItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import Attachment, DeletedBy, MentionKind, Network

REDDIT_URL = "https://www.reddit.com"
#: Bodies Reddit leaves in place of removed content, and who removed it.
DELETED_BODIES: Mapping[str, DeletedBy] = {"[deleted]": "author", "[removed]": "moderator"}
#: Permalinks are site paths of ASCII slugs; anything else makes no URL.
_PERMALINK = re.compile(r"/[A-Za-z0-9_\-./%~]*")


def unix_time(value: object, path: str) -> datetime:
    """Unix seconds as Reddit writes them (``1764238560.0``: a float, or an integer) in UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(BAD_TYPE, f"{path} must be a number")
    if not (math.isfinite(value) and 0 <= value <= MAX_UNIX_SECONDS):
        raise PayloadError(BAD_VALUE, f"{path} is not a plausible unix time")
    return datetime.fromtimestamp(value, tz=UTC)


def child_created_utc(child: Mapping[str, Any]) -> float | None:
    """A listing child's ``created_utc`` in seconds; None when the child is unreadable."""
    try:
        data = as_fields(child, "").req_obj("data")
        return unix_time(data.raw("created_utc"), "created_utc").timestamp()
    except PayloadError:
        return None


def parse_listing_child(child: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one listing child into an item; kinds other than comments and posts are ignored."""
    fields = as_fields(child, "")
    kind = fields.req_str("kind")
    if kind not in ("t1", "t3"):
        return ParsedPayload(ignored=(f"{loggable(kind)}: listing kind not handled",))
    data = fields.req_obj("data")
    native = f"{kind}_{data.req_id('id')}"
    author_name = data.req_str("author")
    author_fullname = data.opt_id("author_fullname")
    own = {i.lower() for i in account.own_ids if i}
    if author_name.lower() in own or (author_fullname or "").lower() in own:
        return ParsedPayload(ignored=(f"own {'comment' if kind == 't1' else 'post'} {native}",))

    created = _req_time(data, "created_utc")
    edited_at = _edited(data)
    body = data.req_str("body") if kind == "t1" else data.opt_str("selftext") or ""
    deleted_by = DELETED_BODIES.get(body.strip())
    if deleted_by is not None:
        return ParsedPayload(
            items=(
                DeletedItem(
                    network=Network.REDDIT,
                    native_id=native,
                    deleted_at=max(created, edited_at) if edited_at else created,
                    deleted_by=deleted_by,
                ),
            )
        )

    parent: str | None = None
    attachments: tuple[Attachment, ...] = ()
    if kind == "t1":
        thread = data.req_id("link_id")
        parent_id = data.req_id("parent_id")
        parent = parent_id if parent_id.startswith("t1_") else None
        link_author = data.opt_str("link_author")
        on_own_post = link_author is not None and link_author.lower() in own
        text = body
    else:
        thread = native
        on_own_post = False
        title = data.req_str("title")
        text = f"{title}\n\n{body}" if body else title
        if data.raw("is_self") is False:
            link = make_attachment("link", data.raw("url"))
            attachments = (link,) if link is not None else ()
    draft = MentionDraft(
        network=Network.REDDIT,
        kind=MentionKind.POST
        if kind == "t3"
        else MentionKind.REPLY
        if parent
        else MentionKind.COMMENT,
        native_id=native,
        author=make_author(author_fullname or author_name, handle=author_name),
        text=truncate_text(text),
        created_at=created,
        thread_id=thread,
        url=_url(data.opt_str("permalink")),
        parent_native_id=parent,
        on_own_post=on_own_post,
        attachments=attachments,
    )
    item: ParsedItem = (
        EditedItem(draft=draft, edited_at=edited_at) if edited_at else NewItem(draft=draft)
    )
    return ParsedPayload(items=(item,))


def _req_time(data: Fields, key: str) -> datetime:
    if not data.has(key):
        raise PayloadError(MISSING_FIELD, f"{data.where(key)} is required")
    return unix_time(data.raw(key), data.where(key))


def _edited(data: Fields) -> datetime | None:
    """The time of the last edit; None when not edited (``false``) or edited at no known time."""
    value = data.raw("edited")
    if value is None or isinstance(value, bool):
        return None
    return unix_time(value, data.where("edited"))


def _url(permalink: str | None) -> str | None:
    if permalink is None or not _PERMALINK.fullmatch(permalink) or permalink.startswith("//"):
        return None
    return f"{REDDIT_URL}{permalink}"
