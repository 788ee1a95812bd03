"""VK Callback API: classify a call, check its secret, parse an event into mention items.

Pure functions over the already JSON-decoded body; no I/O.

Identifiers (``native_id``; ``thread_id`` groups a conversation, see ``conversation_key``).
Owner ids keep VK's sign: a community's wall is ``-<group id>``, as in VK's own URLs.

=====================  ==================================  ===========================
item                   native_id                           thread_id
=====================  ==================================  ===========================
wall post / repost     ``wall{owner}_{post}``              the same id
wall comment           ``wall{owner}_{post}_r{comment}``   ``wall{owner}_{post}``
photo comment          ``photo{owner}_{photo}_c{comment}`` ``photo{owner}_{photo}``
video comment          ``video{owner}_{video}_c{comment}`` ``video{owner}_{video}``
board (topic) post     ``topic{owner}_{topic}_p{post}``    ``topic{owner}_{topic}``
community message      ``dm{group}_{peer}_m{conv_msg_id}`` ``dm{group}_{peer}``
=====================  ==================================  ===========================

Messages in group chats with the community (``peer_id`` >= 2000000000) are
``direct_message`` too: the contract has no group-chat kind, and the thread keeps them apart.
Comment ids are unique per owner, not per post, but carrying the post keeps an id
self-describing and lets a delete event (which names the post) build the same id. Messages use
``conversation_message_id``: ``id`` is 0 for messages in group chats, and edits carry both.
A reply's ``parent_native_id`` is the comment it answers (``reply_to_comment``, else the last
of ``parents_stack``); a repost's is the original post.

Own content: ``AccountContext.own_ids`` lists our communities; the community the callback is
addressed to (``group_id``) is always ours. Only negative (community) ids are compared: a
positive id is a user, and ``own_ids`` also carries group ids unsigned, which would collide.
Our own posts, comments and outgoing messages are skipped into ``ignored``.

Edits and deletions carry no time in VK's payloads, so ``received_at`` stands in for it.
``deleted_by`` is ``author`` when the deleter is the comment's author, ``moderator`` when it
is the owner or one of our communities, or anyone but the known author on our own wall;
otherwise ``unknown`` (wall and board deletions often do not name the author).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smm_ingest.adapters.networks.common import (
    BAD_VALUE,
    Fields,
    as_fields,
    loggable,
    make_attachment,
    make_author,
    same_secret,
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
from smm_shared.events import Attachment, DeletedBy, MentionKind, Network, utcnow

CONFIRMATION = "confirmation"
VK_URL = "https://vk.com"


@dataclass(frozen=True, slots=True)
class VkCallback:
    """What a Callback API call is: the server confirmation or an event, and its envelope."""

    type: str
    group_id: int
    event_id: str | None = None
    secret: str | None = None

    @property
    def is_confirmation(self) -> bool:
        """Whether VK asks us to confirm the server address (answer the confirmation code)."""
        return self.type == CONFIRMATION


def classify(payload: Mapping[str, Any]) -> VkCallback:
    """Read the envelope (type, group_id, event_id, secret) of a Callback API call."""
    fields = as_fields(payload, "")
    kind = fields.req_str("type")
    if not kind:
        raise PayloadError(BAD_VALUE, "type must not be empty")
    group_id = fields.req_int("group_id")
    if group_id <= 0:
        raise PayloadError(BAD_VALUE, "group_id must be positive")
    return VkCallback(
        type=kind,
        group_id=group_id,
        event_id=fields.opt_str("event_id"),
        secret=fields.opt_str("secret"),
    )


def verify_secret(payload: Mapping[str, Any], expected_secret: str | None) -> bool:
    """Whether the call carries our secret (constant time); never raises.

    ``None`` means no secret is configured in VK, so every call passes. An empty string never
    matches: a blank setting fails closed instead of silently accepting anyone.
    """
    if expected_secret is None:
        return True
    if not expected_secret or not isinstance(payload, Mapping):
        return False
    given = payload.get("secret")
    return isinstance(given, str) and same_secret(given, expected_secret)


def parse(
    payload: Mapping[str, Any], account: AccountContext, *, received_at: datetime | None = None
) -> ParsedPayload:
    """Turn one Callback API event into items; unknown event types land in ``ignored``.

    ``received_at`` (default: now) dates edits and deletions, which VK sends without a time.
    """
    if received_at is not None and received_at.tzinfo is None:
        raise ValueError("received_at must carry a time zone")  # a caller's bug, not the payload's
    callback = classify(payload)
    if callback.is_confirmation:
        return ParsedPayload(ignored=(f"{CONFIRMATION}: server confirmation, not an event",))
    handler = _HANDLERS.get(callback.type)
    if handler is None:
        return ParsedPayload(ignored=(f"{loggable(callback.type)}: event type not handled",))
    obj = as_fields(payload, "").req_obj("object")
    ctx = _Context(account, callback.group_id, received_at or utcnow(), callback.type)
    return handler(obj, ctx)


def is_our_community(account: AccountContext, owner_or_author: int) -> bool:
    """Whether a signed VK id is one of our communities.

    Only negative ids (communities) count: ``own_ids`` lists group ids unsigned too, and user
    123456 must not be taken for community 123456.
    """
    if owner_or_author >= 0:
        return False
    return str(owner_or_author) in account.own_ids or str(-owner_or_author) in account.own_ids


@dataclass(frozen=True, slots=True)
class _Context:
    """One event's context: whose callback it is, when it arrived, and its type."""

    account: AccountContext
    group_id: int
    received_at: datetime
    event: str

    def is_ours(self, owner_or_author: int) -> bool:
        """Whether a signed VK id is one of our communities (or the callback's own group)."""
        return -owner_or_author == self.group_id or is_our_community(self.account, owner_or_author)

    def skip(self, reason: str) -> ParsedPayload:
        return ParsedPayload(ignored=(f"{self.event}: {reason}",))

    def one(self, item: ParsedItem) -> ParsedPayload:
        return ParsedPayload(items=(item,))

    def emit(self, draft: MentionDraft) -> ParsedPayload:
        """A new, restored or edited item, by the event's suffix."""
        if self.event.endswith("_edit"):
            return self.one(EditedItem(draft=draft, edited_at=self.received_at))
        return self.one(NewItem(draft=draft))

    def deleted(
        self, native_id: str, *, owner: int, author: int | None, deleter: int | None
    ) -> ParsedPayload:
        by = self._deleted_by(owner=owner, author=author, deleter=deleter)
        return self.one(
            DeletedItem(
                network=Network.VK, native_id=native_id, deleted_at=self.received_at, deleted_by=by
            )
        )

    def _deleted_by(self, *, owner: int, author: int | None, deleter: int | None) -> DeletedBy:
        if deleter is None:
            return "unknown"
        if author is not None and deleter == author:
            return "author"
        if deleter == owner or self.is_ours(deleter):
            return "moderator"
        # deleter_id is the admin's *user* id, which we cannot tell from anyone else's. But on
        # a community's wall only the author or a manager may delete a comment, so when the
        # author is known and is not the deleter, a manager did it.
        if author is not None and self.is_ours(owner):
            return "moderator"
        return "unknown"


_Handler = Callable[[Fields, _Context], ParsedPayload]


def _comment_draft(
    obj: Fields,
    ctx: _Context,
    *,
    owner: int,
    native_prefix: str,
    thread_id: str,
    url: str,
) -> MentionDraft:
    """A comment-like draft (wall, photo, video): reply detection is the same for all three."""
    comment_id = obj.req_int("id")
    parent = obj.opt_int("reply_to_comment")
    if parent is None:
        stack = _parents_stack(obj)
        parent = stack[-1] if stack else None
    return MentionDraft(
        network=Network.VK,
        kind=MentionKind.REPLY if parent else MentionKind.COMMENT,
        native_id=f"{native_prefix}{comment_id}",
        author=make_author(str(obj.req_int("from_id"))),
        text=truncate_text(obj.opt_str("text") or ""),
        created_at=obj.req_time("date"),
        thread_id=thread_id,
        url=url,
        parent_native_id=f"{native_prefix}{parent}" if parent else None,
        on_own_post=ctx.is_ours(owner),
        attachments=_attachments(obj),
    )


def _parents_stack(obj: Fields) -> list[int]:
    """Root-first ids of the comments above a reply (entries that are not ids are dropped)."""
    stack = obj.opt_list("parents_stack")
    return [v for v in stack if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def _wall_comment(obj: Fields, ctx: _Context) -> ParsedPayload:
    owner = obj.opt_int("post_owner_id")
    if owner is None:
        owner = obj.req_int("owner_id")
    post = obj.req_int("post_id")
    thread = f"wall{owner}_{post}"
    if ctx.is_ours(obj.req_int("from_id")):
        return ctx.skip(f"own comment under {thread}")
    comment_id = obj.req_int("id")
    url = f"{VK_URL}/{thread}?reply={comment_id}"
    stack = _parents_stack(obj)
    if stack:
        url += f"&thread={stack[0]}"
    draft = _comment_draft(
        obj, ctx, owner=owner, native_prefix=f"{thread}_r", thread_id=thread, url=url
    )
    return ctx.emit(draft)


def _wall_comment_delete(obj: Fields, ctx: _Context) -> ParsedPayload:
    owner = obj.req_int("owner_id")
    native = f"wall{owner}_{obj.req_int('post_id')}_r{obj.req_int('id')}"
    author, deleter = obj.opt_int("user_id"), obj.opt_int("deleter_id")
    return ctx.deleted(native, owner=owner, author=author, deleter=deleter)


def _media_comment(media: str) -> _Handler:
    """Handler for ``photo_comment_*`` / ``video_comment_*`` new, edit and restore."""

    def handle(obj: Fields, ctx: _Context) -> ParsedPayload:
        owner = obj.req_int(f"{media}_owner_id")
        thread = f"{media}{owner}_{obj.req_int(f'{media}_id')}"
        if ctx.is_ours(obj.req_int("from_id")):
            return ctx.skip(f"own comment under {thread}")
        url = f"{VK_URL}/{thread}"
        draft = _comment_draft(
            obj, ctx, owner=owner, native_prefix=f"{thread}_c", thread_id=thread, url=url
        )
        return ctx.emit(draft)

    return handle


def _media_comment_delete(media: str) -> _Handler:
    """Handler for ``photo_comment_delete`` / ``video_comment_delete``."""

    def handle(obj: Fields, ctx: _Context) -> ParsedPayload:
        owner = obj.req_int("owner_id")
        native = f"{media}{owner}_{obj.req_int(f'{media}_id')}_c{obj.req_int('id')}"
        author, deleter = obj.opt_int("user_id"), obj.opt_int("deleter_id")
        return ctx.deleted(native, owner=owner, author=author, deleter=deleter)

    return handle


def _topic_owner(obj: Fields) -> int:
    # Topics exist only in communities; VK's schema gives the owner unsigned, URLs use "-".
    return -abs(obj.req_int("topic_owner_id"))


def _board_post(obj: Fields, ctx: _Context) -> ParsedPayload:
    owner = _topic_owner(obj)
    thread = f"topic{owner}_{obj.req_int('topic_id')}"
    if ctx.is_ours(obj.req_int("from_id")):
        return ctx.skip(f"own board post in {thread}")
    post_id = obj.req_int("id")
    draft = MentionDraft(
        network=Network.VK,
        kind=MentionKind.COMMENT,
        native_id=f"{thread}_p{post_id}",
        author=make_author(str(obj.req_int("from_id"))),
        text=truncate_text(obj.opt_str("text") or ""),
        created_at=obj.req_time("date"),
        thread_id=thread,
        url=f"{VK_URL}/{thread}?post={post_id}",
        on_own_post=ctx.is_ours(owner),
        attachments=_attachments(obj),
    )
    return ctx.emit(draft)


def _board_post_delete(obj: Fields, ctx: _Context) -> ParsedPayload:
    owner = _topic_owner(obj)
    native = f"topic{owner}_{obj.req_int('topic_id')}_p{obj.req_int('id')}"
    return ctx.deleted(native, owner=owner, author=None, deleter=None)


def _wall_post(obj: Fields, ctx: _Context) -> ParsedPayload:
    owner = obj.req_int("owner_id")
    native = f"wall{owner}_{obj.req_int('id')}"
    post_type = obj.opt_str("post_type") or "post"
    from_id = obj.req_int("from_id")
    if post_type == "postpone":
        return ctx.skip(f"scheduled post {native} (ours)")
    # A suggested post waits in our queue; it is someone else's words even though it sits on
    # our wall, so it is a mention. A published post by us is our content.
    if post_type != "suggest" and ctx.is_ours(from_id):
        return ctx.skip(f"own post {native}")
    draft = MentionDraft(
        network=Network.VK,
        kind=MentionKind.POST,
        native_id=native,
        author=make_author(str(from_id)),
        text=truncate_text(obj.opt_str("text") or ""),
        created_at=obj.req_time("date"),
        thread_id=native,
        url=f"{VK_URL}/{native}",
        attachments=_attachments(obj),
    )
    return ctx.one(NewItem(draft=draft))


def _wall_repost(obj: Fields, ctx: _Context) -> ParsedPayload:
    native = f"wall{obj.req_int('owner_id')}_{obj.req_int('id')}"
    from_id = obj.req_int("from_id")
    if ctx.is_ours(from_id):
        return ctx.skip(f"own repost {native}")
    originals = obj.objs("copy_history")
    original = originals[0] if originals else None
    original_owner = original.req_int("owner_id") if original else None
    draft = MentionDraft(
        network=Network.VK,
        kind=MentionKind.REPOST,
        native_id=native,
        author=make_author(str(from_id)),
        text=truncate_text(obj.opt_str("text") or ""),
        created_at=obj.req_time("date"),
        thread_id=native,
        url=f"{VK_URL}/{native}",
        parent_native_id=(
            f"wall{original_owner}_{original.req_int('id')}"
            if original is not None and original_owner is not None
            else None
        ),
        on_own_post=original_owner is not None and ctx.is_ours(original_owner),
        attachments=_attachments(obj),
    )
    return ctx.one(NewItem(draft=draft))


def _message(obj: Fields, ctx: _Context) -> ParsedPayload:
    # API >= 5.103 wraps the message with client_info; older versions send the message itself.
    message = obj.opt_obj("message") or obj
    peer = message.req_int("peer_id")
    thread = f"dm{ctx.group_id}_{peer}"
    from_id = message.req_int("from_id")
    if message.opt_int("out") == 1 or ctx.is_ours(from_id):
        return ctx.skip(f"own message in {thread}")
    cmid = message.req_int("conversation_message_id")
    reply = message.opt_obj("reply_message")
    parent = reply.opt_int("conversation_message_id") if reply else None
    created = message.req_time("date")
    draft = MentionDraft(
        network=Network.VK,
        kind=MentionKind.DIRECT_MESSAGE,
        native_id=f"{thread}_m{cmid}",
        author=make_author(str(from_id)),
        text=truncate_text(message.opt_str("text") or ""),
        created_at=created,
        thread_id=thread,
        parent_native_id=f"{thread}_m{parent}" if parent is not None else None,
        attachments=_attachments(message),
    )
    if ctx.event == "message_edit":
        edited = message.opt_time("update_time") or ctx.received_at
        return ctx.one(EditedItem(draft=draft, edited_at=edited))
    return ctx.one(NewItem(draft=draft))


def _attachments(obj: Fields) -> tuple[Attachment, ...]:
    """Attachments with a public URL; shapes we do not know are skipped, never fatal."""
    raw = obj.raw("attachments")
    if not isinstance(raw, list):
        return ()
    found: list[Attachment] = []
    for item in raw:
        attachment = _attachment(item) if isinstance(item, Mapping) else None
        if attachment is not None:
            found.append(attachment)
    return tuple(found)


def _attachment(item: Mapping[str, Any]) -> Attachment | None:
    kind = item.get("type")
    body = item.get(kind) if isinstance(kind, str) else None
    if not isinstance(body, Mapping):
        return None
    if kind == "photo":
        return make_attachment("image", _largest_photo_url(body.get("sizes")))
    if kind == "video":
        owner, video = body.get("owner_id"), body.get("id")
        if _plain_int(owner) and _plain_int(video):
            return make_attachment("video", f"{VK_URL}/video{owner}_{video}")
        return None
    if kind == "link":
        return make_attachment("link", body.get("url"))
    if kind == "doc":
        return make_attachment("document", body.get("url"))
    if kind == "audio":
        return make_attachment("audio", body.get("url"))
    return None


def _plain_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _largest_photo_url(sizes: object) -> object:
    if not isinstance(sizes, list):
        return None
    best: tuple[int, object] = (-1, None)
    for size in sizes:
        if not isinstance(size, Mapping):
            continue
        width, height = size.get("width"), size.get("height")
        area = width * height if isinstance(width, int) and isinstance(height, int) else 0
        if area > best[0]:
            best = (area, size.get("url"))
    return best[1]


_HANDLERS: dict[str, _Handler] = {
    "wall_reply_new": _wall_comment,
    "wall_reply_edit": _wall_comment,
    "wall_reply_restore": _wall_comment,
    "wall_reply_delete": _wall_comment_delete,
    "wall_post_new": _wall_post,
    "wall_repost": _wall_repost,
    "board_post_new": _board_post,
    "board_post_edit": _board_post,
    "board_post_restore": _board_post,
    "board_post_delete": _board_post_delete,
    "photo_comment_new": _media_comment("photo"),
    "photo_comment_edit": _media_comment("photo"),
    "photo_comment_restore": _media_comment("photo"),
    "photo_comment_delete": _media_comment_delete("photo"),
    "video_comment_new": _media_comment("video"),
    "video_comment_edit": _media_comment("video"),
    "video_comment_restore": _media_comment("video"),
    "video_comment_delete": _media_comment_delete("video"),
    "message_new": _message,
    "message_edit": _message,
}
