"""Mastodon: ``Status`` and ``Notification`` entities, and our stream envelope, parsed into items.

Pure functions over JSON-decoded payloads; no I/O. Both clients (the REST poller and the
server-sent-events stream) hand the runner the same envelope, built by :func:`envelope`::

    {"event": "update" | "status.update" | "notification" | "delete",
     "payload": <Status> | <Notification> | <status id>,
     "instance": "mastodon.example", "received_at": "2025-11-27T10:15:00+00:00"}

so :func:`parse_stream_event` reads both paths.

Identifiers: a status's ``native_id`` is ``{instance}/{id}``, its id *on the instance we read
from*, scoped by that instance's host. Not the globally unique ``uri``: a ``delete`` event
carries only the local id, and ``in_reply_to_id`` is a local id too, so with ``uri`` we could
neither delete a mention nor link a reply to its parent. The price: the same remote status
read through two connectors on two instances is two mentions. Hosts are capped at
:data:`HOST_LIMIT` characters so the id fits the contract's 256.

Threads: Mastodon does not say where a thread starts (only ``in_reply_to_id``), so
``thread_id`` is the status a reply answers, or the status itself. A boost (``reblog``) is a
``repost`` whose text, media and language are the boosted status's, and whose thread and
parent are the boosted status. ``direct`` visibility makes a ``direct_message``.

Text: ``content`` is HTML; :func:`html_to_text` keeps what a reader sees (``@handle`` and
``#tag`` as text, full link URLs, ``<br>`` and paragraphs as line breaks, entities decoded).
A content warning (``spoiler_text``) comes first, separated by a blank line: the author wrote
it, and it often names the subject.

Authors: ``Author.id`` is the full, lower-cased ``user@domain`` address (``acct`` lacks the
domain for local accounts): stable across instances, unlike the instance-local account id.

Own content, skipped into ``ignored``: statuses by an account whose id, ``acct`` or full
address is in ``AccountContext.own_ids`` (compared case-insensitively).

Notifications: ``mention`` is a new item; ``update`` ("a status you boosted was edited") is an
edit only when the status mentions or answers one of our accounts; other types are ignored,
as are stream events other than the four above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from smm_ingest.adapters.networks.common import (
    BAD_VALUE,
    TEXT_LIMIT,
    AttachmentKind,
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
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import Attachment, Author, MentionKind, Network

NETWORK = Network.MASTODON
#: Stream (and envelope) events we turn into items.
STREAM_EVENTS = frozenset({"update", "status.update", "notification", "delete"})
#: Longest instance host (with port) we accept: ``{host}/{id}`` must fit 256 characters.
HOST_LIMIT = 120
#: Media attachment types and what the contract calls them (``unknown`` becomes ``other``).
MEDIA_KINDS: Mapping[str, AttachmentKind] = {
    "image": "image",
    "gifv": "video",
    "video": "video",
    "audio": "audio",
}
#: HTML we read at most; far beyond any real status, it bounds the work on a hostile one.
HTML_LIMIT = 10 * TEXT_LIMIT

_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")


def instance_host(instance_url: str) -> str:
    """The lower-cased ``host[:port]`` of an instance URL; ValueError when it has none."""
    host = urlsplit(instance_url.strip()).netloc.rpartition("@")[2].lower()
    if not (len(host) <= HOST_LIMIT and _HOST.fullmatch(host)):
        raise ValueError(f"{instance_url[:80]!r} is not an instance URL")
    return host


def native_id(instance: str, status_id: str) -> str:
    """A status's ``native_id``: its id on ``instance`` (a host), scoped by that host."""
    return f"{instance}/{status_id}"


def envelope(
    event: str, payload: object, *, instance: str, received_at: datetime
) -> dict[str, Any]:
    """What both clients hand the runner for one event, so one parser reads both paths."""
    return {
        "event": event,
        "payload": payload,
        "instance": instance,
        "received_at": received_at.astimezone(UTC).isoformat(),
    }


def parse_status(
    payload: Mapping[str, Any], account: AccountContext, *, instance: str
) -> ParsedPayload:
    """One ``Status`` read from ``instance`` (a host): a new item, or ignored when it is ours."""
    status = as_fields(payload, "")
    draft = _draft(status, account, _host(instance, "instance"))
    if isinstance(draft, str):
        return ParsedPayload(ignored=(draft,))
    return ParsedPayload(items=(NewItem(draft=draft),))


def parse_notification(
    payload: Mapping[str, Any], account: AccountContext, *, instance: str
) -> ParsedPayload:
    """One ``Notification``: a mention is new, an ``update`` an edit, anything else ignored."""
    return _notification(as_fields(payload, ""), account, _host(instance, "instance"))


def parse_stream_event(payload: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """One envelope (see the module docstring) from the stream or the poller."""
    fields = as_fields(payload, "")
    event = fields.req_str("event")
    host = _host(fields.req_str("instance"), fields.where("instance"))
    if event == "notification":
        return _notification(fields.req_obj("payload"), account, host)
    if event == "delete":
        status_id = fields.req_id("payload")
        deleted = DeletedItem(
            network=NETWORK,
            native_id=native_id(host, status_id),
            deleted_at=_iso_time(fields, "received_at"),
        )
        return ParsedPayload(items=(deleted,))
    if event not in ("update", "status.update"):
        return ParsedPayload(ignored=(f"{loggable(event)}: stream event not handled",))
    status = fields.req_obj("payload")
    draft = _draft(status, account, host)
    if isinstance(draft, str):
        return ParsedPayload(ignored=(draft,))
    if event == "update":
        return ParsedPayload(items=(NewItem(draft=draft),))
    # Some servers send edits without ``edited_at`` (the documented example does): when we
    # heard of the edit is then the best estimate.
    edited_at = _opt_iso_time(status, "edited_at") or _iso_time(fields, "received_at")
    return ParsedPayload(items=(EditedItem(draft=draft, edited_at=edited_at),))


def html_to_text(html: str) -> str:
    """Status HTML as the plain text a reader sees (standard library only)."""
    extractor = _TextExtractor()
    extractor.feed(html[:HTML_LIMIT])
    extractor.close()
    return extractor.text()


# --- statuses ---------------------------------------------------------------------------------


def _notification(notification: Fields, account: AccountContext, host: str) -> ParsedPayload:
    kind = notification.req_str("type")
    notification_id = notification.req_id("id")
    if kind not in ("mention", "update"):
        return ParsedPayload(
            ignored=(f"notification {notification_id}: type {loggable(kind)} not handled",)
        )
    status = notification.req_obj("status")
    draft = _draft(status, account, host)
    if isinstance(draft, str):
        return ParsedPayload(ignored=(draft,))
    if kind == "mention":
        return ParsedPayload(items=(NewItem(draft=draft),))
    # "update" tells us a status we boosted was edited: a mention only if it concerns us.
    if not _concerns(status, account.own_ids, host):
        return ParsedPayload(
            ignored=(f"notification {notification_id}: edit of a status that is not a mention",)
        )
    edited_at = _opt_iso_time(status, "edited_at") or _iso_time(notification, "created_at")
    return ParsedPayload(items=(EditedItem(draft=draft, edited_at=edited_at),))


def _draft(status: Fields, account: AccountContext, host: str) -> MentionDraft | str:
    """The status as a draft, or the reason it is skipped."""
    own = account.own_ids
    native = native_id(host, status.req_id("id"))
    who = status.req_obj("account")
    if _is_ours(who, own, host):
        return f"own status {native}"
    created_at = _iso_time(status, "created_at")
    reblog = status.opt_obj("reblog")
    parent: str | None
    if reblog is not None:
        kind = MentionKind.REPOST
        parent = native_id(host, reblog.req_id("id"))
        thread = parent
        on_own_post = _is_ours(reblog.req_obj("account"), own, host)
    else:
        reply_to = status.opt_id("in_reply_to_id")
        parent = native_id(host, reply_to) if reply_to is not None else None
        thread = parent or native
        if status.opt_str("visibility") == "direct":
            kind = MentionKind.DIRECT_MESSAGE
        elif parent is not None:
            kind = MentionKind.REPLY
        else:
            kind = MentionKind.POST
        answered = status.opt_id("in_reply_to_account_id")
        on_own_post = answered is not None and _owns(own, answered)
    # A boost has no content of its own: what it shares is the boosted status.
    source = reblog if reblog is not None else status
    return MentionDraft(
        network=NETWORK,
        kind=kind,
        native_id=native,
        author=_author(who, host),
        text=_text(source),
        created_at=created_at,
        thread_id=thread,
        url=_web_url(source.raw("url")) or _web_url(source.raw("uri")),
        language=_language(source.opt_str("language")),
        parent_native_id=parent,
        on_own_post=on_own_post,
        attachments=_attachments(source),
    )


def _author(who: Fields, host: str) -> Author:
    acct = who.req_str("acct")
    # ``user`` or ``user@domain``: anything else would make a misleading author id.
    user, _, domain = acct.partition("@")
    if not (user and acct.isprintable()) or "@" in domain or " " in acct or acct.endswith("@"):
        raise PayloadError(BAD_VALUE, f"{who.where('acct')} is not an account address")
    author = make_author(
        _address(acct, host).lower(),
        handle=_address(acct, host),
        display_name=who.opt_str("display_name") or who.opt_str("username"),
    )
    followers = who.opt_int("followers_count")
    if followers is not None and followers >= 0:
        # Validated by hand: the contract wants a count >= 0, and make_author takes none.
        author = author.model_copy(update={"followers": followers})
    return author


def _address(acct: str, host: str) -> str:
    """``user@domain``: ``acct`` omits the domain for accounts local to the instance."""
    return acct if "@" in acct else f"{acct}@{host}"


def _owns(own: frozenset[str], *names: str) -> bool:
    lowered = {name.lower() for name in own}
    return any(name.lower() in lowered for name in names)


def _is_ours(who: Fields, own: frozenset[str], host: str) -> bool:
    """Whether an ``Account`` (or a status's ``mentions`` entry) is one of ours."""
    acct = who.opt_str("acct")
    names = [who.req_id("id")]
    if acct:
        names += [acct, _address(acct, host)]
    return _owns(own, *names)


def _concerns(status: Fields, own: frozenset[str], host: str) -> bool:
    """Whether a status mentions or answers one of our accounts."""
    answered = status.opt_id("in_reply_to_account_id")
    if answered is not None and _owns(own, answered):
        return True
    return any(_is_ours(m, own, host) for m in status.objs("mentions"))


def _text(status: Fields) -> str:
    body = html_to_text(status.opt_str("content") or "")
    warning = (status.opt_str("spoiler_text") or "").strip()
    return truncate_text(f"{warning}\n\n{body}" if warning and body else warning or body)


def _language(value: str | None) -> str | None:
    """An ISO 639 code (with an optional region), or None: a bad tag is not worth a mention."""
    if value is None or len(value) > 16 or not _LANGUAGE.fullmatch(value):
        return None
    return value


def _web_url(value: object) -> str | None:
    """An http(s) URL the contract accepts, else None (a remote server may send anything)."""
    # make_attachment applies the contract's URL validation; we keep the original string.
    return value if isinstance(value, str) and make_attachment("link", value) else None


def _attachments(status: Fields) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for media in status.objs("media_attachments"):
        kind = media.raw("type")
        # A remote file the instance has not cached has no ``url``, only ``remote_url``.
        url = media.raw("url") or media.raw("remote_url")
        attachment = make_attachment(
            MEDIA_KINDS.get(kind, "other") if isinstance(kind, str) else "other", url
        )
        if attachment is not None:
            found.append(attachment)
    return tuple(found)


# --- values -----------------------------------------------------------------------------------


def _host(value: str, path: str) -> str:
    host = value.lower()
    if not (len(host) <= HOST_LIMIT and _HOST.fullmatch(host)):
        raise PayloadError(BAD_VALUE, f"{path} is not an instance host")
    return host


def _iso_time(fields: Fields, key: str) -> datetime:
    """A required ISO 8601 time (Mastodon writes ``2019-11-23T07:49:02.064Z``), as UTC."""
    value = fields.req_str(key)
    try:
        parsed = datetime.fromisoformat(value)
        # Mastodon always writes the zone; a time without one is taken as UTC.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        raise PayloadError(BAD_VALUE, f"{fields.where(key)} is not an ISO 8601 time") from None


def _opt_iso_time(fields: Fields, key: str) -> datetime | None:
    return _iso_time(fields, key) if fields.has(key) else None


# --- HTML -------------------------------------------------------------------------------------

#: Elements that start a new paragraph (a blank line) or a new line.
_PARAGRAPHS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
)
_LINES = frozenset({"li", "tr", "dt", "dd"})
_HIDDEN = frozenset({"script", "style", "template"})


class _TextExtractor(HTMLParser):
    """Collects text as a reader sees it: whitespace collapsed, block elements as line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pending = 0  # line breaks owed before the next text (none at the very start)
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element: hidden ones hide their text; blocks break the line."""
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _PARAGRAPHS:
            self._pending = 2
            self._pre += tag == "pre"
        elif tag in _LINES:
            self._pending = max(self._pending, 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing element (``<br />``): no content, so never hidden."""
        if tag not in _HIDDEN:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """Close an element."""
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _PARAGRAPHS:
            self._pending = 2
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _LINES:
            self._pending = max(self._pending, 1)

    def handle_data(self, data: str) -> None:
        """Text: whitespace collapses as in a browser, except inside ``<pre>``."""
        if self._hidden:
            return
        if not self._pre:
            data = _SPACES.sub(" ", data)
            # A browser shows no space at the start of a line, nor two in a row across tags.
            if self._pending or not self._parts or self._parts[-1].endswith((" ", "\n")):
                data = data.lstrip(" ")
        if not data:
            return
        if self._pending and self._parts:
            self._parts.append("\n" * self._pending)
        self._pending = 0
        self._parts.append(data)

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """Skip ``<![...]>`` sections: CPython's version asserts on names it does not know."""
        # _markupbase raises AssertionError("expected name token") on e.g. "<![ x ]>".
        end = self.rawdata.find("]>", i + 3)
        return -1 if end < 0 else end + 2

    def text(self) -> str:
        """What was collected, without trailing spaces or runs of blank lines."""
        lines = [line.rstrip(" ") for line in "".join(self._parts).split("\n")]
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
