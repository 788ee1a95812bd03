"""Content items of the calendar: variants per network, POST limits, schedule, status, UTM.

Statuses::

    draft ──▶ submitted ──▶ approved ──▶ scheduled ──▶ publishing ──▶ published
      │ ▲         │  ▲          │  ▲         │  ▲            │
      │ │         ▼  │          │  └─────────┘  │            ▼
      │ └───── rejected         │ (unscheduled) └───────── failed (retry)
      ▼                         ▼
    scheduled (no approval)   cancelled  (from every status before publishing)

* ``draft``: being written. An edit of the content of a submitted, approved or scheduled
  item sends it back here (``approvals.on_edit`` decides when).
* ``submitted`` / ``approved`` / ``rejected``: the approval workflow (``approvals``). A rejected
  item keeps its status (and the rejection's reason in sight) while it is edited, and is
  resubmitted (→ submitted), edited or not.
* ``draft → scheduled`` is for brands or labels without an approval workflow; the service
  asks ``approvals.select_workflow`` before it allows it.
* ``scheduled → approved`` takes an item off the calendar and keeps its approval.
* ``publishing`` is entered only from ``scheduled`` when the time comes; "publish now" is
  "schedule for now". It ends in ``published`` (final) or ``failed`` (retry: → publishing
  again for the accounts that failed, or → scheduled for another time).
* ``cancelled`` is final; ``duplicate`` makes a new draft from a cancelled item.

A transition to the same status is not a transition (``InvalidTransitionError``), so a
double click cannot emit two events.

POST limits (``POST_TEXT_LIMITS``) are each network's documented maximum for a new post;
they are larger than the reply limits of the responder for Facebook and Reddit. X and
Mastodon count every URL as 23 characters; we count code points otherwise, which is exact
for the Latin and Cyrillic text our brands write and errs long elsewhere (X counts most CJK
as 2: we would accept up to twice too much CJK text; the network then refuses the post).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smm_shared.events import Network


class ContentError(ValueError):
    """Content cannot be stored or published as written; ``code`` is stable for APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ContentStatus(StrEnum):
    """Where a content item is on its way from draft to the network."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


S = ContentStatus

#: Every allowed move; anything else is refused (see the module docstring).
TRANSITIONS: Final[Mapping[ContentStatus, frozenset[ContentStatus]]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.SCHEDULED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.DRAFT, S.CANCELLED}),
    S.APPROVED: frozenset({S.SCHEDULED, S.DRAFT, S.CANCELLED}),
    S.REJECTED: frozenset({S.SUBMITTED, S.DRAFT, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.PUBLISHING, S.APPROVED, S.DRAFT, S.CANCELLED}),
    S.PUBLISHING: frozenset({S.PUBLISHED, S.FAILED}),
    S.PUBLISHED: frozenset(),
    # FAILED -> PUBLISHING: a person retries the deliveries that failed (the rest stay).
    S.FAILED: frozenset({S.PUBLISHING, S.SCHEDULED, S.DRAFT, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}

#: Statuses in which the content may still be edited (an edit may reset approval).
EDITABLE_STATUSES: Final = frozenset(
    {S.DRAFT, S.SUBMITTED, S.APPROVED, S.REJECTED, S.SCHEDULED, S.FAILED}
)


class InvalidTransitionError(ContentError):
    """The move is not allowed from the item's current status."""

    def __init__(self, current: ContentStatus, target: ContentStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or f"none: {current.value} is final"
        super().__init__(
            "content.invalid_transition",
            f"A {current.value} item cannot become {target.value} (allowed: {allowed}).",
        )
        self.current = current
        self.target = target


def can_transition(current: ContentStatus, target: ContentStatus) -> bool:
    """Whether ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: ContentStatus, target: ContentStatus) -> None:
    """Raise ``InvalidTransitionError`` unless ``current`` may move to ``target``."""
    if not can_transition(current, target):
        raise InvalidTransitionError(current, target)


# --- limits -------------------------------------------------------------------------------

#: The longest post text each network accepts (characters). Reddit: the body (self text).
POST_TEXT_LIMITS: Final[Mapping[Network, int]] = {
    Network.X: 280,
    Network.MASTODON: 500,  # the default instance limit
    Network.INSTAGRAM: 2_200,  # caption
    Network.TELEGRAM: 4_096,  # a text message; with media the caption limit applies
    Network.FACEBOOK: 63_206,
    Network.VK: 16_384,  # wall.post message
    Network.YOUTUBE: 10_000,  # a comment: the Data API cannot create community posts
    Network.REDDIT: 40_000,  # self-post body
}
#: Telegram sends media with a caption, which is shorter than a text message.
TELEGRAM_CAPTION_LIMIT: Final = 1_024
#: Reddit post titles.
REDDIT_TITLE_LIMIT: Final = 300

#: The most media files one post may carry. X: 4 images; Instagram: a carousel of 10;
#: Telegram: an album of 10; VK: 10 attachments of wall.post; Mastodon: 4 (default instance);
#: Reddit: a gallery of 20; Facebook: our own cap of 10 photos (the Graph API documents none);
#: YouTube: 0, a comment carries no media.
MEDIA_LIMITS: Final[Mapping[Network, int]] = {
    Network.X: 4,
    Network.INSTAGRAM: 10,
    Network.TELEGRAM: 10,
    Network.VK: 10,
    Network.MASTODON: 4,
    Network.REDDIT: 20,
    Network.FACEBOOK: 10,
    Network.YOUTUBE: 0,
}
#: Networks that have no link preview of their own: the link is appended to the text there.
LINK_IN_TEXT: Final = frozenset({Network.X, Network.MASTODON, Network.TELEGRAM, Network.YOUTUBE})
#: Networks that count every URL as this many characters, whatever its length.
URL_WEIGHT: Final = 23
URL_WEIGHTED: Final = frozenset({Network.X, Network.MASTODON})
_URL = re.compile(r"https?://\S+")


def post_length(network: Network, text: str) -> int:
    """The length the network counts for ``text``."""
    if network in URL_WEIGHTED:
        return len(_URL.sub("x" * URL_WEIGHT, text))
    return len(text)


def text_limit(network: Network, *, media_count: int) -> int:
    """The text limit of a post with ``media_count`` media files."""
    if network is Network.TELEGRAM and media_count > 0:
        return TELEGRAM_CAPTION_LIMIT
    return POST_TEXT_LIMITS[network]


def check_http_url(url: str, what: str) -> str:
    """``url`` stripped; ContentError unless it is an absolute http(s) URL."""
    value = url.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(
            "content.invalid_url", f"The {what} {url!r} must be an http:// or https:// URL."
        )
    if any(c.isspace() for c in value):
        raise ContentError("content.invalid_url", f"The {what} {url!r} contains spaces.")
    return value


@dataclass(frozen=True, slots=True)
class Variant:
    """What one network gets: text, media, a link and (Reddit only) a title."""

    network: Network
    text: str
    media_urls: tuple[str, ...] = ()
    link: str | None = None
    #: Reddit's post title; refused on other networks.
    title: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip())
        object.__setattr__(
            self, "media_urls", tuple(check_http_url(u, "media URL") for u in self.media_urls)
        )
        if self.link is not None:
            link = self.link.strip()
            object.__setattr__(self, "link", check_http_url(link, "link") if link else None)
        if self.title is not None:
            object.__setattr__(self, "title", self.title.strip() or None)
        check_variant(self)

    def post_text(self) -> str:
        """The text as posted: the link is appended on networks without a link preview."""
        if self.link and self.network in LINK_IN_TEXT and self.link not in self.text:
            return f"{self.text}\n\n{self.link}" if self.text else self.link
        return self.text

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "network": self.network.value,
            "text": self.text,
            "media_urls": list(self.media_urls),
            "link": self.link,
            "title": self.title,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Variant:
        """A variant from its stored (or submitted) fields."""
        try:
            network = Network(doc["network"])
        except (KeyError, ValueError):
            raise ContentError(
                "content.unknown_network",
                f"network must be one of {', '.join(n.value for n in Network)}.",
            ) from None
        return cls(
            network=network,
            text=str(doc.get("text") or ""),
            media_urls=tuple(str(u) for u in doc.get("media_urls") or ()),
            link=doc.get("link"),
            title=doc.get("title"),
        )


def check_variant(variant: Variant) -> None:
    """ContentError when the variant breaks its network's rules; messages say what to cut."""
    network = variant.network
    name = network.value
    media = len(variant.media_urls)
    max_media = MEDIA_LIMITS[network]
    if media > max_media:
        allowed = f"at most {max_media}" if max_media else "no"
        raise ContentError(
            "content.too_many_media",
            f"{name} accepts {allowed} media files in a post; this one has {media}. "
            f"Remove {media - max_media}.",
        )
    if network is Network.INSTAGRAM and media == 0:
        raise ContentError("content.media_required", "instagram posts need at least one image.")
    if not variant.post_text() and media == 0:
        raise ContentError("content.empty", f"The {name} post needs some text or media.")
    if network is Network.REDDIT:
        if not variant.title:
            raise ContentError("content.title_required", "A reddit post needs a title.")
        if len(variant.title) > REDDIT_TITLE_LIMIT:
            cut = len(variant.title) - REDDIT_TITLE_LIMIT
            raise ContentError(
                "content.title_too_long",
                f"reddit accepts {REDDIT_TITLE_LIMIT} characters in a title; this one has "
                f"{len(variant.title)}. Shorten it by {cut}.",
            )
    elif variant.title is not None:
        raise ContentError(
            "content.title_unsupported", f"Only reddit posts have a title, not {name}."
        )
    limit = text_limit(network, media_count=media)
    length = post_length(network, variant.post_text())
    if length > limit:
        what = "a caption" if network is Network.TELEGRAM and media else "a post"
        raise ContentError(
            "content.too_long",
            f"{name} accepts {limit} characters in {what}; this one has {length}. "
            f"Shorten it by {length - limit}.",
        )


# --- schedule -----------------------------------------------------------------------------


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ContentError when unknown."""
    if not name or name != name.strip():
        raise ContentError(
            "content.unknown_time_zone",
            f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Moscow' or 'UTC'.",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: keys that are paths, directories or non-zone files of tzdata.
        raise ContentError(
            "content.unknown_time_zone",
            f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Moscow' or 'UTC'.",
        ) from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to publish: the instant in UTC and the zone the author planned in."""

    at: datetime  # timezone-aware, normalised to UTC
    time_zone: str

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ContentError(
                "content.naive_time",
                f"The scheduled time {self.at.isoformat()} has no time zone offset.",
            )
        load_zone(self.time_zone)
        try:
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        except OverflowError:  # year 1 or 9999 moved past the range of datetime
            raise ContentError(
                "content.invalid_time", f"{self.at.isoformat()} is out of range."
            ) from None

    @classmethod
    def from_local(cls, wall: datetime, time_zone: str) -> Schedule:
        """A schedule from a wall-clock time read in ``time_zone``.

        An aware ``wall`` keeps its own offset. An ambiguous wall time (autumn) is its first
        occurrence; a time that does not exist (a spring-forward gap) is refused.
        """
        zone = load_zone(time_zone)
        if wall.tzinfo is not None:
            return cls(wall, time_zone)
        at = wall.replace(tzinfo=zone, fold=0)
        try:
            exists = at.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
        except OverflowError:
            raise ContentError(
                "content.invalid_time", f"{wall.isoformat()} is out of range."
            ) from None
        if not exists:
            raise ContentError(
                "content.nonexistent_time",
                f"{wall.isoformat()} does not exist in {time_zone} (the clocks skip it).",
            )
        return cls(at, time_zone)

    def local(self) -> datetime:
        """The scheduled time on the author's clock."""
        return self.at.astimezone(ZoneInfo(self.time_zone))

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage: the UTC instant as ISO 8601 and the zone name."""
        return {"at": self.at.isoformat(), "time_zone": self.time_zone}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Schedule:
        """A schedule from stored fields (``at`` an ISO string or an aware datetime)."""
        raw = doc.get("at")
        if isinstance(raw, str):
            try:
                at = datetime.fromisoformat(raw)
            except ValueError:
                raise ContentError(
                    "content.invalid_time", f"{raw!r} is not an ISO 8601 time."
                ) from None
        elif isinstance(raw, datetime):
            at = raw
        else:
            raise ContentError("content.invalid_time", "The schedule needs a time ('at').")
        return cls(at, str(doc.get("time_zone") or ""))


# --- UTM ----------------------------------------------------------------------------------

UTM_MEDIUM: Final = "social"


def with_utm(url: str, campaign: str | None, *, network: Network) -> str:
    """``url`` with utm_source, utm_medium and utm_campaign added.

    Parameters already present (any ``utm_*`` the author set) are kept as they are and not
    added again; the rest of the query and the fragment are left byte for byte. Without a
    campaign, utm_campaign is not added.
    """
    value = check_http_url(url, "link")
    parts = urlsplit(value)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    wanted = [("utm_source", network.value), ("utm_medium", UTM_MEDIUM)]
    if campaign:
        wanted.append(("utm_campaign", campaign))
    added = "&".join(f"{k}={quote(v, safe='')}" for k, v in wanted if k not in present)
    if not added:
        return value
    joiner = "&" if parts.query and not parts.query.endswith("&") else ""
    query = f"{parts.query}{joiner}{added}"
    return urlunsplit(parts._replace(query=query))


# --- content items ------------------------------------------------------------------------


def _clean_set(values: Iterable[str], what: str) -> frozenset[str]:
    cleaned = frozenset(v.strip() for v in values)
    if "" in cleaned:
        raise ContentError("content.invalid", f"Empty {what} are not allowed.")
    return cleaned


@dataclass(frozen=True, slots=True)
class ContentItem:
    """One planned post of a brand, with a variant per network."""

    id: str
    brand_id: str
    title: str  # the calendar's name for it; never published
    variants: tuple[Variant, ...]
    #: Connector ids of the accounts to post from (the service checks they belong to the brand).
    targets: frozenset[str] = frozenset()
    campaign_id: str | None = None
    labels: frozenset[str] = frozenset()
    schedule: Schedule | None = None
    status: ContentStatus = ContentStatus.DRAFT

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ContentError("content.invalid", "A content item needs a title.")
        if not self.variants:
            raise ContentError("content.no_variants", "A content item needs at least one network.")
        networks = [v.network for v in self.variants]
        repeated = sorted({n.value for n in networks if networks.count(n) > 1})
        if repeated:
            raise ContentError(
                "content.duplicate_network",
                f"One variant per network; repeated: {', '.join(repeated)}.",
            )
        object.__setattr__(self, "title", self.title.strip())
        object.__setattr__(self, "variants", tuple(sorted(self.variants, key=lambda v: v.network)))
        object.__setattr__(self, "targets", _clean_set(self.targets, "target accounts"))
        object.__setattr__(self, "labels", _clean_set(self.labels, "labels"))
        if self.campaign_id is not None:
            object.__setattr__(self, "campaign_id", self.campaign_id.strip() or None)

    def variant(self, network: Network) -> Variant | None:
        """The variant for ``network``, if any."""
        return next((v for v in self.variants if v.network is network), None)

    def with_status(self, target: ContentStatus) -> ContentItem:
        """The item in ``target`` status; InvalidTransitionError when not allowed."""
        check_transition(self.status, target)
        return replace(self, status=target)

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "_id": self.id,
            "brand_id": self.brand_id,
            "title": self.title,
            "variants": [v.to_doc() for v in self.variants],
            "targets": sorted(self.targets),
            "campaign_id": self.campaign_id,
            "labels": sorted(self.labels),
            "schedule": self.schedule.to_doc() if self.schedule else None,
            "status": self.status.value,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ContentItem:
        """An item from its stored (or submitted) fields."""
        try:
            status = ContentStatus(doc.get("status", "draft"))
        except ValueError:
            raise ContentError(
                "content.invalid",
                f"status must be one of {', '.join(s.value for s in ContentStatus)}.",
            ) from None
        schedule = doc.get("schedule")
        return cls(
            id=str(doc["_id"]),
            brand_id=str(doc["brand_id"]),
            title=str(doc.get("title") or ""),
            variants=tuple(Variant.from_doc(v) for v in doc.get("variants") or ()),
            targets=frozenset(str(t) for t in doc.get("targets") or ()),
            campaign_id=doc.get("campaign_id"),
            labels=frozenset(str(label) for label in doc.get("labels") or ()),
            schedule=Schedule.from_doc(schedule) if schedule else None,
            status=status,
        )


def duplicate(item: ContentItem, *, new_id: str) -> ContentItem:
    """A new draft with the same content, targets, campaign and labels, and no schedule."""
    return replace(
        item, id=new_id, title=f"{item.title} (copy)", schedule=None, status=ContentStatus.DRAFT
    )


def fingerprint(item: ContentItem) -> str:
    """A hash of what would be published: variants (text, media, link, title) and targets.

    The campaign id is included because it goes into the UTM parameters of every link. The
    schedule, the calendar title, the labels and the status are not: changing them does not
    change what readers see, so it does not invalidate an approval.
    """
    published: dict[str, Any] = {
        "variants": [v.to_doc() for v in item.variants],  # sorted by network on construction
        "targets": sorted(item.targets),
        "campaign_id": item.campaign_id,
    }
    canonical = json.dumps(published, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Readiness:
    """What still keeps an item from being submitted or scheduled (empty: nothing)."""

    problems: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return not self.problems


def readiness(item: ContentItem) -> Readiness:
    """Whether the item names accounts and a time, which submitting and scheduling need."""
    problems: list[str] = []
    if not item.targets:
        problems.append("Choose at least one account to post from.")
    if item.schedule is None:
        problems.append("Choose a time to publish.")
    return Readiness(tuple(problems))
