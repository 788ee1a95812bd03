"""VK Streaming API: parse one stream message into mention items. Pure functions; no I/O.

A message is ``{"code": 100, "event": {...}}`` for an event or ``{"code": 300,
"service_message": {"message", "service_code"}}`` for a notice from VK; service messages and
other codes become ``ignored`` lines, never items.

Identifiers are the Callback API parser's (:mod:`smm_ingest.adapters.networks.vk`), so an item
heard through both APIs is one mention after dedupe:

==============  ==================================  ===========================  ==========
event_type      native_id                           thread_id                    kind
==============  ==================================  ===========================  ==========
``post``        ``wall{owner}_{post}``              the same id                  post
``share``       ``wall{owner}_{post}``              the same id                  repost
``comment``     ``wall{owner}_{post}_r{comment}``   ``wall{owner}_{post}``       comment
``topic_post``  ``topic{owner}_{topic}_p{post}``    ``topic{owner}_{topic}``     comment
==============  ==================================  ===========================  ==========

A share's ``parent_native_id`` is the shared post, ``wall{shared_post_author_id}_{shared_post_id}``.
The stream does not say which comment a reply answers, so stream comments are always
``comment`` with no parent (the Callback API, when it sees the same comment first, knows more).

``action``: ``new`` and ``restore`` are a :class:`NewItem`, ``update`` an :class:`EditedItem`
dated ``action_time``, ``delete`` a :class:`DeletedItem` dated ``action_time`` (the stream
does not say who deleted it: ``unknown``). ``creation_time`` dates the item.

Own content is skipped into ``ignored`` as in the Callback parser: a post, share, comment or
topic post whose author is one of our communities (only negative ids are compared; a positive
id is a user). A visitor's comment under our post is kept with ``on_own_post``.

VK writes line breaks in ``text`` as ``<br>``; they become newlines. ``tags`` (the rules that
matched) are not carried: the draft has no field for them and keyword matching happens later
on the text; the client uses them only to drop events matched by others' rules.
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
    make_author,
    truncate_text,
    utc_from_unix,
)
from smm_ingest.adapters.networks.vk import VK_URL, is_our_community
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
from smm_shared.events import MentionKind, Network

#: ``code`` of a message carrying an event.
EVENT_CODE = 100
#: ``code`` of a message carrying a service notice (``service_message``).
SERVICE_CODE = 300

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def stream_text(text: str) -> str:
    """Stream text with VK's ``<br>`` line breaks turned into newlines, cut to the contract limit."""
    return truncate_text(_BR.sub("\n", text))


def parse_stream_message(payload: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one Streaming API message into items; service messages land in ``ignored``."""
    fields = as_fields(payload, "")
    code = fields.req_int("code")
    if code == SERVICE_CODE:
        service = fields.req_obj("service_message")
        service_code = service.opt_int("service_code")
        message = loggable(service.opt_str("message") or "", limit=200)
        return ParsedPayload(ignored=(f"service message {service_code}: {message}",))
    if code != EVENT_CODE:
        return ParsedPayload(ignored=(f"code {code}: not an event",))
    event = fields.req_obj("event")
    event_type = event.req_str("event_type")
    handler = _HANDLERS.get(event_type)
    if handler is None:
        return ParsedPayload(ignored=(f"{loggable(event_type)}: event type not handled",))
    action = event.req_str("action")
    if action not in _ACTIONS:
        return ParsedPayload(ignored=(f"{event_type}: action {loggable(action)} not handled",))
    return handler(event, account, action)


_ACTIONS = frozenset({"new", "update", "delete", "restore"})


def _author_id(event: Fields) -> int:
    return event.req_obj("author").req_int("id")


def _emit(event: Fields, action: str, draft: MentionDraft) -> ParsedPayload:
    """The item an action means for ``draft``: new/restore, update or delete."""
    item: ParsedItem
    if action == "delete":
        item = DeletedItem(
            network=Network.VK, native_id=draft.native_id, deleted_at=_action_time(event)
        )
    elif action == "update":
        item = EditedItem(draft=draft, edited_at=_action_time(event))
    else:
        item = NewItem(draft=draft)
    return ParsedPayload(items=(item,))


def _action_time(event: Fields) -> datetime:
    return event.req_time("action_time")


def _created(event: Fields) -> datetime:
    # A delete may come without creation_time; the action time is then the best we know.
    raw = event.raw("creation_time")
    if raw is None:
        return _action_time(event)
    return utc_from_unix(raw, event.where("creation_time"))


def _draft(
    event: Fields,
    *,
    kind: MentionKind,
    native_id: str,
    thread_id: str,
    url: str,
    author: int,
    parent: str | None = None,
    on_own_post: bool = False,
) -> MentionDraft:
    return MentionDraft(
        network=Network.VK,
        kind=kind,
        native_id=native_id,
        author=make_author(str(author)),
        text=stream_text(event.opt_str("text") or ""),
        created_at=_created(event),
        thread_id=thread_id,
        url=url,
        parent_native_id=parent,
        on_own_post=on_own_post,
    )


def _wall_ids(ids: Fields) -> tuple[int, int]:
    owner = ids.req_int("post_owner_id")
    post = ids.req_int("post_id")
    if owner == 0 or post <= 0:
        raise PayloadError(BAD_VALUE, "event.event_id names no wall post")
    return owner, post


def _post(event: Fields, account: AccountContext, action: str) -> ParsedPayload:
    owner, post = _wall_ids(event.req_obj("event_id"))
    native = f"wall{owner}_{post}"
    author = _author_id(event)
    if is_our_community(account, author):
        return ParsedPayload(ignored=(f"post: own post {native}",))
    draft = _draft(
        event,
        kind=MentionKind.POST,
        native_id=native,
        thread_id=native,
        url=f"{VK_URL}/{native}",
        author=author,
    )
    return _emit(event, action, draft)


def _share(event: Fields, account: AccountContext, action: str) -> ParsedPayload:
    ids = event.req_obj("event_id")
    owner, post = _wall_ids(ids)
    native = f"wall{owner}_{post}"
    author_obj = event.req_obj("author")
    author = author_obj.req_int("id")
    if is_our_community(account, author):
        return ParsedPayload(ignored=(f"share: own repost {native}",))
    shared_post = ids.opt_int("shared_post_id")
    shared_owner = author_obj.opt_int("shared_post_author_id")
    parent = (
        f"wall{shared_owner}_{shared_post}"
        if shared_post is not None and shared_owner is not None
        else None
    )
    draft = _draft(
        event,
        kind=MentionKind.REPOST,
        native_id=native,
        thread_id=native,
        url=f"{VK_URL}/{native}",
        author=author,
        parent=parent,
        on_own_post=shared_owner is not None and is_our_community(account, shared_owner),
    )
    return _emit(event, action, draft)


def _comment(event: Fields, account: AccountContext, action: str) -> ParsedPayload:
    ids = event.req_obj("event_id")
    owner, post = _wall_ids(ids)
    comment = ids.req_int("comment_id")
    if comment <= 0:
        raise PayloadError(BAD_VALUE, "event.event_id.comment_id must be positive")
    thread = f"wall{owner}_{post}"
    author = _author_id(event)
    if is_our_community(account, author):
        return ParsedPayload(ignored=(f"comment: own comment under {thread}",))
    draft = _draft(
        event,
        kind=MentionKind.COMMENT,
        native_id=f"{thread}_r{comment}",
        thread_id=thread,
        url=f"{VK_URL}/{thread}?reply={comment}",
        author=author,
        on_own_post=is_our_community(account, owner),
    )
    return _emit(event, action, draft)


def _topic_post(event: Fields, account: AccountContext, action: str) -> ParsedPayload:
    ids = event.req_obj("event_id")
    # Topics exist only in communities: the owner is signed "-" as in the Callback parser.
    owner = -abs(ids.req_int("topic_owner_id"))
    topic, post = ids.req_int("topic_id"), ids.req_int("topic_post_id")
    thread = f"topic{owner}_{topic}"
    author = _author_id(event)
    if is_our_community(account, author):
        return ParsedPayload(ignored=(f"topic_post: own board post in {thread}",))
    draft = _draft(
        event,
        kind=MentionKind.COMMENT,
        native_id=f"{thread}_p{post}",
        thread_id=thread,
        url=f"{VK_URL}/{thread}?post={post}",
        author=author,
        on_own_post=is_our_community(account, owner),
    )
    return _emit(event, action, draft)


_HANDLERS = {
    "post": _post,
    "share": _share,
    "comment": _comment,
    "topic_post": _topic_post,
}
