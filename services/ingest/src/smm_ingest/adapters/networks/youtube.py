"""YouTube Data API v3: one ``commentThread`` resource parsed into mention items.

Pure functions over the JSON-decoded resource (``commentThreads.list`` with
``part=snippet,replies``); no I/O.

Identifiers: ``native_id`` is the comment id (a reply's id is ``{top-level id}.{suffix}``).
``thread_id`` is the top-level comment id, i.e. the YouTube comment thread, not the video: a
video can gather thousands of unrelated conversations, and a reply always answers the thread's
top-level comment (YouTube has one level of replies), which is its ``parent_native_id``.
URLs are ``https://www.youtube.com/watch?v={videoId}&lc={commentId}``; a comment without a
video (the retired channel discussion tab) has none.

Kinds: the top-level comment is a ``comment``, each reply included in ``replies`` is a
``reply``. ``replies`` holds at most five replies; the rest need ``comments.list`` (not read
here). ``on_own_post`` is true on videos of our channels (``snippet.channelId``) and for
replies to a top-level comment of ours.

Own content (the author's channel in ``AccountContext.own_ids``) is skipped into ``ignored``;
so is a comment without ``authorChannelId`` (no stable author id to store).

Edits: a comment with ``updatedAt`` later than ``publishedAt`` becomes only an ``EditedItem``
(its draft is the current text, ``edited_at`` = ``updatedAt``). The ingestor stores an edit of
an unknown mention as new, and a ``NewItem`` next to it would make the first sighting of an
edited comment look like an edit of itself; replays of the same ``updatedAt`` are stale edits.
Deletions cannot be seen: a deleted comment simply stops being listed. YouTube reports no
language, so ``language`` stays None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smm_ingest.adapters.networks.common import (
    MISSING_FIELD,
    Fields,
    as_fields,
    make_author,
    parse_rfc3339,
    truncate_text,
)
from smm_ingest.domain.items import (
    AccountContext,
    EditedItem,
    NewItem,
    ParsedItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import MentionKind, Network

WATCH_URL = "https://www.youtube.com/watch"
#: Video and comment ids as YouTube writes them; anything else would have to be escaped in a URL.
_URL_SAFE_ID = re.compile(r"[A-Za-z0-9_.\-]+")


def thread_latest_at(thread: Mapping[str, Any]) -> datetime | None:
    """When a thread last got a comment (top-level or an included reply); None when unreadable."""
    try:
        fields = as_fields(thread, "")
        latest = _req_time(
            fields.req_obj("snippet").req_obj("topLevelComment").req_obj("snippet"), "publishedAt"
        )
    except PayloadError:
        return None
    replies = thread.get("replies")
    comments = replies.get("comments") if isinstance(replies, Mapping) else None
    for reply in comments if isinstance(comments, list) else ():
        snippet = reply.get("snippet") if isinstance(reply, Mapping) else None
        try:
            latest = max(latest, _req_time(as_fields(snippet, "snippet"), "publishedAt"))
        except PayloadError:
            continue  # the parser reports it; the thread's time stands
    return latest


def parse_comment_thread(thread: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one ``commentThread`` into items: its top-level comment and the replies it carries."""
    fields = as_fields(thread, "")
    snippet = fields.req_obj("snippet")
    video_id = snippet.opt_id("videoId")
    channel_id = snippet.opt_id("channelId")
    top = snippet.req_obj("topLevelComment")
    top_id = top.req_id("id")
    replies = fields.opt_obj("replies")
    reply_list = replies.objs("comments") if replies is not None else []
    own = account.own_ids
    on_own_video = channel_id is not None and channel_id in own

    items: list[ParsedItem] = []
    ignored: list[str] = []
    top_author = _author_channel(top.req_obj("snippet"))
    top_is_ours = top_author is not None and top_author in own
    for comment, parent in [(top, None), *((reply, top_id) for reply in reply_list)]:
        comment_id = top_id if parent is None else comment.req_id("id")
        comment_snippet = comment.req_obj("snippet")
        author_id = _author_channel(comment_snippet)
        if author_id is None:
            ignored.append(f"comment {comment_id}: no authorChannelId")
            continue
        if author_id in own:
            ignored.append(f"own comment {comment_id}")
            continue
        item = _comment(
            comment_snippet,
            comment_id=comment_id,
            author_id=author_id,
            thread_id=top_id,
            parent_id=parent,
            video_id=video_id,
            on_own_post=on_own_video or (parent is not None and top_is_ours),
        )
        items.append(item)
    return ParsedPayload(items=tuple(items), ignored=tuple(ignored))


def _req_time(fields: Fields, key: str) -> datetime:
    if not fields.has(key):
        raise PayloadError(MISSING_FIELD, f"{fields.where(key)} is required")
    return parse_rfc3339(fields.raw(key), fields.where(key))


def _author_channel(snippet: Fields) -> str | None:
    channel = snippet.opt_obj("authorChannelId")
    return channel.opt_id("value") if channel is not None else None


def _comment(
    snippet: Fields,
    *,
    comment_id: str,
    author_id: str,
    thread_id: str,
    parent_id: str | None,
    video_id: str | None,
    on_own_post: bool,
) -> ParsedItem:
    # textOriginal is the text as typed; the API promises it only to the comment's author,
    # so textDisplay (plain text: we ask for textFormat=plainText) is the fallback.
    text = snippet.opt_str("textOriginal")
    if text is None:
        text = snippet.req_str("textDisplay")
    name = snippet.opt_str("authorDisplayName")
    published = _req_time(snippet, "publishedAt")
    draft = MentionDraft(
        network=Network.YOUTUBE,
        kind=MentionKind.COMMENT if parent_id is None else MentionKind.REPLY,
        native_id=comment_id,
        author=make_author(
            author_id,
            # Channels show as "@handle" since handles came in (2022); older ones as a name.
            handle=name[1:] if name and name.startswith("@") else None,
            display_name=name,
        ),
        text=truncate_text(text),
        created_at=published,
        thread_id=thread_id,
        url=_url(video_id, comment_id),
        parent_native_id=parent_id,
        on_own_post=on_own_post,
    )
    updated_raw = snippet.raw("updatedAt")
    if updated_raw is not None:
        updated = parse_rfc3339(updated_raw, snippet.where("updatedAt"))
        if updated > published:
            return EditedItem(draft=draft, edited_at=updated)
    return NewItem(draft=draft)


def _url(video_id: str | None, comment_id: str) -> str | None:
    """The watch page scrolled to the comment (``lc``), when both ids are URL-safe."""
    if video_id is None or not _URL_SAFE_ID.fullmatch(video_id):
        return None
    if not _URL_SAFE_ID.fullmatch(comment_id):
        return f"{WATCH_URL}?v={video_id}"
    return f"{WATCH_URL}?v={video_id}&lc={comment_id}"
