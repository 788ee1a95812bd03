"""Meta webhooks (Facebook Pages, Instagram): handshake, signature, and payload parsing.

Pure functions over the query parameters, the raw body or the JSON-decoded payload; no I/O.

Identifiers are Meta's own, which are unique across the Graph:

* Facebook (``object: "page"``, field ``feed``): a post's ``native_id`` is its ``post_id``
  (``{page}_{story}``), a comment's is its ``comment_id``; ``thread_id`` is the ``post_id``.
  A comment whose ``parent_id`` is another comment is a ``reply`` with that parent.
* Instagram (``object: "instagram"``, field ``comments``/``live_comments``): the comment ``id``;
  ``thread_id`` is the media id; ``parent_id`` marks a reply. The payload carries no time, so
  ``created_at`` is the entry's ``time`` (when Meta sent it).
* Instagram ``mentions`` (someone @mentioned the account in a caption or a comment) carry only
  ``media_id`` and, for a comment, ``comment_id``: each becomes a :class:`FetchRequest` for the
  entry's account. The ingestor keeps it (once, however often Meta redelivers), and the
  ``instagram`` poll connector of the same brand and account fetches it from the Graph API
  (``mentioned_comment`` / ``mentioned_media``, see ``pollers.instagram``); a comment read that
  way has the same ``native_id`` as from the ``comments`` hook, so both are one mention.

Our own content is skipped into ``ignored``: an author is ours when their id is in
``AccountContext.own_ids`` or is the entry's ``id`` (the page / IG account the hook is for).
Reactions and likes are skipped too (engagement comes from snapshots), as are Messenger
``messaging`` entries. A feed comment whose ``from`` Meta withheld is skipped: nothing fetches
it yet (a Page token and a Graph call per comment would).
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from smm_ingest.adapters.networks.common import (
    BAD_VALUE,
    MAX_UNIX_SECONDS,
    AttachmentKind,
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
    FetchRequest,
    NewItem,
    ParsedItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import Attachment, MentionKind, Network

SIGNATURE_PREFIX = "sha256="
FACEBOOK_URL = "https://www.facebook.com"
#: A ``time`` this large is milliseconds: as seconds it would be after the year 5000.
MILLIS_THRESHOLD = 100_000_000_000
#: Feed items that are posts on the page; everything else in ``feed`` is not a mention.
POST_ITEMS = frozenset({"status", "post", "photo", "video", "share"})
ENGAGEMENT_ITEMS = frozenset({"reaction", "like"})
ADDED = frozenset({"add"})
EDITED = frozenset({"edited", "edit"})
REMOVED = frozenset({"remove", "delete"})
_CHALLENGE_CHARS = frozenset(string.ascii_letters + string.digits + "-_.")
_HEX = frozenset(string.hexdigits)
#: What the ``link`` of a photo, video or share feed item points to.
_LINK_KIND: dict[str, AttachmentKind] = {"photo": "image", "video": "video", "share": "link"}


def verify_handshake(params: Mapping[str, str], expected_verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when the subscription handshake is ours, else None."""
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or not expected_verify_token:
        return None
    if not isinstance(token, str) or not same_secret(token, expected_verify_token):
        return None
    # The challenge is echoed verbatim into our response; Meta sends digits, so refuse
    # anything that could turn the echo into markup.
    if not isinstance(challenge, str) or not 0 < len(challenge) <= 256:
        return None
    if not set(challenge) <= _CHALLENGE_CHARS:
        return None
    return challenge


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``X-Hub-Signature-256`` is ``sha256=`` + HMAC-SHA256(app secret, raw body)."""
    if not app_secret or header is None:
        return False
    header = header.strip()
    if not header.startswith(SIGNATURE_PREFIX):
        return False
    given = header[len(SIGNATURE_PREFIX) :]
    if len(given) != hashlib.sha256().digest_size * 2 or not set(given) <= _HEX:
        return False
    key = app_secret.encode("utf-8", "surrogatepass")
    expected = hmac.new(key, raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())


def parse(payload: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one webhook delivery (possibly many entries and changes) into items."""
    fields = as_fields(payload, "")
    kind = fields.req_str("object")
    network = {"page": Network.FACEBOOK, "instagram": Network.INSTAGRAM}.get(kind)
    if network is None:
        return ParsedPayload(ignored=(f"object {loggable(kind)}: not handled",))
    out = _Out()
    for entry in fields.req_objs("entry"):
        _entry(entry, network, account, out)
    return ParsedPayload(items=tuple(out.items), ignored=tuple(out.ignored))


@dataclass(slots=True)
class _Out:
    items: list[ParsedItem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One entry's context: whose hook it is and when Meta sent it."""

    network: Network
    #: The page or IG account the hook is for (the entry's ``id``).
    owner: str
    own_ids: frozenset[str]
    time: datetime
    out: _Out

    def skip(self, reason: str) -> None:
        self.out.ignored.append(f"{self.network.value}: {reason}")

    def add(self, item: ParsedItem) -> None:
        self.out.items.append(item)


def _entry(entry: Fields, network: Network, account: AccountContext, out: _Out) -> None:
    owner = entry.req_id("id")
    ctx = _Entry(network, owner, account.own_ids | {owner}, _meta_time(entry, "time"), out)
    if entry.has("messaging") or entry.has("standby"):
        ctx.skip(f"messaging entry for {owner}: Messenger is not in scope")
    changes = entry.objs("changes")
    # Business Login for Instagram documents field/value on the entry itself, not in changes.
    if entry.has("field"):
        changes.append(entry)
    for change in changes:
        _change(change, ctx)


def _change(change: Fields, ctx: _Entry) -> None:
    name = change.req_str("field")
    value = change.req_obj("value")
    if ctx.network is Network.FACEBOOK and name == "feed":
        _feed(value, ctx)
    elif ctx.network is Network.INSTAGRAM and name in ("comments", "live_comments"):
        _instagram_comment(value, ctx)
    elif ctx.network is Network.INSTAGRAM and name == "mentions":
        ctx.add(
            FetchRequest(
                network=Network.INSTAGRAM,
                account_id=ctx.owner,
                media_id=value.req_id("media_id"),
                comment_id=value.opt_id("comment_id"),
            )
        )
    else:
        ctx.skip(f"field {loggable(name)}: not handled")


def _feed(value: Fields, ctx: _Entry) -> None:
    item = value.req_str("item")
    verb = value.req_str("verb")
    if item in ENGAGEMENT_ITEMS:
        ctx.skip(f"feed {item} {loggable(verb)}: engagement comes from snapshots")
    elif item == "comment":
        _feed_item(value, ctx, verb, native_key="comment_id", what="comment")
    elif item in POST_ITEMS:
        _feed_item(value, ctx, verb, native_key="post_id", what=item)
    else:
        ctx.skip(f"feed {loggable(item)} {loggable(verb)}: not handled")


def _feed_item(value: Fields, ctx: _Entry, verb: str, *, native_key: str, what: str) -> None:
    """A comment or a post on the page feed, by verb: add, edited, remove (hide is skipped)."""
    native = value.req_id(native_key)
    post_id = value.req_id("post_id")
    if verb in REMOVED:
        when = _meta_time(value, "created_time") if value.has("created_time") else ctx.time
        # Meta does not say who removed it: the author and the page look the same here.
        ctx.add(DeletedItem(network=Network.FACEBOOK, native_id=native, deleted_at=when))
        return
    if verb not in ADDED | EDITED:
        ctx.skip(f"feed {what} {native} {loggable(verb)}: not handled")  # hide/unhide: still exists
        return
    sender = value.opt_obj("from")
    if sender is None:
        ctx.skip(f"feed {what} {native} without from: needs Graph API fetch")
        return
    author_id = sender.req_id("id")
    if author_id in ctx.own_ids:
        ctx.skip(f"own {what} {native}")
        return
    is_comment = native_key == "comment_id"
    parent = value.opt_id("parent_id") if is_comment else None
    reply_to = parent if parent is not None and parent != post_id else None
    created = _meta_time(value, "created_time") if value.has("created_time") else ctx.time
    draft = MentionDraft(
        network=Network.FACEBOOK,
        kind=(MentionKind.REPLY if reply_to else MentionKind.COMMENT)
        if is_comment
        else MentionKind.POST,
        native_id=native,
        author=make_author(author_id, display_name=sender.opt_str("name")),
        text=truncate_text(value.opt_str("message") or ""),
        created_at=created,
        thread_id=post_id,
        url=_facebook_url(post_id, native if is_comment else None),
        parent_native_id=reply_to,
        on_own_post=is_comment and post_id.split("_", 1)[0] in ctx.own_ids,
        attachments=_feed_attachments(value),
    )
    if verb in EDITED:
        ctx.add(EditedItem(draft=draft, edited_at=ctx.time))
    else:
        ctx.add(NewItem(draft=draft))


def _instagram_comment(value: Fields, ctx: _Entry) -> None:
    native = value.req_id("id")
    sender = value.opt_obj("from")
    if sender is None:
        ctx.skip(f"comment {native} without from: needs Graph API fetch")
        return
    author_id = sender.req_id("id")
    if author_id in ctx.own_ids:
        ctx.skip(f"own comment {native}")
        return
    media = value.opt_obj("media")
    parent = value.opt_id("parent_id")
    draft = MentionDraft(
        network=Network.INSTAGRAM,
        kind=MentionKind.REPLY if parent else MentionKind.COMMENT,
        native_id=native,
        author=make_author(author_id, handle=sender.opt_str("username")),
        text=truncate_text(value.opt_str("text") or ""),
        created_at=ctx.time,
        # Comments on albums come without the media (a documented limitation): the thread
        # then falls back to the parent or the comment itself.
        thread_id=media.req_id("id") if media else None,
        parent_native_id=parent,
        # Meta sends the comments hook only for media of the account it is subscribed for.
        on_own_post=True,
    )
    ctx.add(NewItem(draft=draft))


def _meta_time(fields: Fields, key: str) -> datetime:
    """A Meta timestamp that may be unix seconds or milliseconds, as UTC."""
    raw = fields.req_int(key)
    millis = raw if raw >= MILLIS_THRESHOLD else raw * 1000
    if not 0 <= millis <= MAX_UNIX_SECONDS * 1000:
        raise PayloadError(BAD_VALUE, f"{fields.where(key)} is not a plausible unix time")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)


def _facebook_url(post_id: str, comment_id: str | None) -> str | None:
    """The public permalink, from ids shaped ``{page}_{story}`` and ``{story}_{comment}``."""
    page, _, story = post_id.partition("_")
    if not page or not story:
        return None
    url = f"{FACEBOOK_URL}/{page}/posts/{story}"
    if comment_id is not None:
        url += f"?comment_id={comment_id.rpartition('_')[2]}"
    return url


def _feed_attachments(value: Fields) -> tuple[Attachment, ...]:
    """Media URLs the feed change carries; anything unusable is skipped."""
    found = [
        make_attachment("image", value.raw("photo")),
        make_attachment("video", value.raw("video")),
    ]
    item = value.raw("item")
    kind = _LINK_KIND.get(item) if isinstance(item, str) else None
    if kind is not None:
        found.append(make_attachment(kind, value.raw("link")))
    photos = value.raw("photos")
    if isinstance(photos, list):
        found.extend(make_attachment("image", url) for url in photos)
    return tuple(a for a in found if a is not None)
