"""Content metrics: engagement per post and campaign, best time to post, campaign spend.

The calculations are pure functions of stored posts (:class:`PostRow`, the newest snapshot of
each post) and spend entries; :class:`ContentMetrics` loads them and applies the rules.

**Definitions** (the API documents the same):

* *Engagements* of a post = likes + comments + shares of its newest snapshot, counting the
  ones the network reports (a counter it does not report adds nothing); ``None`` when the
  post has no snapshot or the snapshot reports none of the three. Views and clicks are
  not engagements.
* *Engagement rate* = engagements / views, for posts whose network reports views (and
  views > 0); ``None`` otherwise. Engagement per follower is not offered: no follower count
  of our own accounts reaches analytics. Over many posts the rate is the sum of engagements
  over the sum of views of the posts that report both.
* *Summed counters* over many posts add what the posts report; a counter none of them
  reports is ``None`` (not 0): a network that reports no clicks has unknown clicks.
* *Cost per engagement* and *cost per click*, in minor units of the campaign's currency to
  two decimals: spend / engagements and spend / clicks; ``None`` when no spend is entered,
  the denominator is 0 or it is not reported. Per network the spend is that of the entries
  entered with that network; the campaign's figures divide all its spend (entries without a
  network included) by all its engagements or reported clicks, so where only some networks
  report clicks the campaign's cost per click is an upper bound and the per-network one is
  the exact figure.
* *Best time to post*: posts published in the range with at least one engagement counter,
  grouped by weekday (0 = Monday) and hour of publication in the caller's IANA zone (the
  local wall clock, so summer time moves a UTC hour to another local one); each cell has
  its post count and average engagements per post. The best slots are the cells with at
  least :data:`MIN_POSTS_PER_SLOT` posts, by average (then more posts first), at most
  :data:`BEST_SLOTS`: fewer posts than that make an average one lucky post can dominate.
* One currency per campaign: the first entry's; another is refused until every entry of
  the campaign is deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smm_analytics.adapters.content_store import ContentStore, PostRow, SpendEntry
from smm_shared.events import utcnow
from smm_shared.mongo import new_id

#: The longest range a content query covers.
MAX_RANGE = timedelta(days=366)
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
#: Range of the posts list when none is given (ending now).
DEFAULT_POSTS_RANGE = timedelta(days=30)
#: Range of the best-time grid when none is given (ending now).
DEFAULT_BEST_TIMES_RANGE = timedelta(days=90)
#: A slot needs this many posts to be called a best time.
MIN_POSTS_PER_SLOT = 3
#: How many best slots are named.
BEST_SLOTS = 3
#: Spend entries one campaign may hold (they live in one document).
MAX_SPEND_ENTRIES = 1_000
ENGAGEMENT_COUNTERS = ("likes", "comments", "shares")
COUNTERS = ("likes", "comments", "shares", "views", "clicks")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

PostSort = Literal["engagements", "published_at"]


# --- errors --------------------------------------------------------------------------


class ContentMetricsError(ValueError):
    """A request the content metrics cannot serve; ``code`` is machine-readable."""

    code = "content_metrics.invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRangeError(ContentMetricsError):
    """``from`` is not before ``to``."""

    code = "range.invalid"


class RangeTooLongError(ContentMetricsError):
    """The range is longer than :data:`MAX_RANGE`."""

    code = "range.too_large"


class UnknownZoneError(ContentMetricsError):
    """Not an IANA time zone name."""

    code = "tz.unknown"


class CurrencyMismatchError(ContentMetricsError):
    """Spend in another currency than the campaign's."""

    code = "spend.currency_mismatch"


class TooManySpendEntriesError(ContentMetricsError):
    """The campaign holds :data:`MAX_SPEND_ENTRIES` entries already."""

    code = "spend.too_many"


class SpendNotFoundError(ContentMetricsError):
    """No such spend entry in this brand's campaign."""

    code = "spend.not_found"


class CampaignNotFoundError(ContentMetricsError):
    """No content item, post or spend of the brand names this campaign."""

    code = "campaign.not_found"


# --- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostStats:
    """One post with its newest counters, engagements and engagement rate."""

    network: str
    native_id: str
    url: str | None
    content_id: str | None
    campaign_id: str | None
    title: str | None
    account_id: str | None
    published_at: datetime | None
    observed_at: datetime | None
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    clicks: int | None
    engagements: int | None
    engagement_rate: float | None


@dataclass(frozen=True, slots=True)
class Totals:
    """Counters summed over posts (``None``: none of them reports it), engagements, rate."""

    posts: int
    observed: int
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    clicks: int | None
    engagements: int | None
    engagement_rate: float | None


@dataclass(frozen=True, slots=True)
class NetworkStats:
    """A campaign's figures on one network, with the spend entered for that network."""

    network: str
    totals: Totals
    spend_minor: int
    cost_per_engagement_minor: float | None
    cost_per_click_minor: float | None


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """A campaign's posts, engagement, spend and costs, in total and per network."""

    campaign_id: str
    totals: Totals
    spend_minor: int
    currency: str | None
    #: Spend entered without a network (counted only in the campaign's figures).
    spend_unassigned_minor: int
    cost_per_engagement_minor: float | None
    cost_per_click_minor: float | None
    networks: list[NetworkStats] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TimeSlot:
    """Posts published in one weekday-hour cell of the local week, and their engagement."""

    weekday: int
    hour: int
    posts: int
    engagements: int

    @property
    def day(self) -> str:
        """The weekday's English abbreviation (``Mon``)."""
        return WEEKDAYS[self.weekday]

    @property
    def average_engagements(self) -> float:
        """Average engagements per post in the cell, to two decimals."""
        return round(self.engagements / self.posts, 2)


@dataclass(frozen=True, slots=True)
class BestTimes:
    """The weekday-hour grid of a range (cells with posts only) and its best slots."""

    time_zone: str
    start: datetime
    end: datetime
    network: str | None
    posts: int
    min_posts: int
    slots: list[TimeSlot]
    best: list[TimeSlot]


@dataclass(frozen=True, slots=True)
class CampaignSpend:
    """A campaign's spend entries, their total and currency (``None`` without entries)."""

    campaign_id: str
    currency: str | None
    total_minor: int
    entries: list[SpendEntry]


@dataclass(frozen=True, slots=True)
class NewSpend:
    """Spend to enter: a positive amount in minor units of an ISO 4217 currency."""

    amount_minor: int
    currency: str
    spent_on: date
    network: str | None = None
    note: str | None = None


# --- pure calculations -------------------------------------------------------------------


def engagements(counters: Mapping[str, int]) -> int | None:
    """likes + comments + shares that are reported; ``None`` when none of them is."""
    reported = [counters[name] for name in ENGAGEMENT_COUNTERS if name in counters]
    return sum(reported) if reported else None


def ratio(numerator: int | None, denominator: int | None, *, digits: int) -> float | None:
    """``numerator / denominator`` rounded; ``None`` when either is unknown or it is 0."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def engagement_rate(engaged: int | None, views: int | None) -> float | None:
    """Engagements per view to six decimals; ``None`` without views."""
    return ratio(engaged, views, digits=6)


def cost_per(spend_minor: int, count: int | None) -> float | None:
    """Spend per unit in minor units to two decimals; ``None`` without spend or units."""
    return ratio(spend_minor, count, digits=2) if spend_minor > 0 else None


def post_stats(row: PostRow) -> PostStats:
    """A post's figures from its newest snapshot."""
    c = row.counters
    engaged = engagements(c)
    return PostStats(
        network=row.network,
        native_id=row.native_id,
        url=row.url,
        content_id=row.content_id,
        campaign_id=row.campaign_id,
        title=row.title,
        account_id=row.account_id,
        published_at=row.published_at,
        observed_at=row.observed_at,
        likes=c.get("likes"),
        comments=c.get("comments"),
        shares=c.get("shares"),
        views=c.get("views"),
        clicks=c.get("clicks"),
        engagements=engaged,
        engagement_rate=engagement_rate(engaged, c.get("views")),
    )


def totals(rows: Iterable[PostRow]) -> Totals:
    """Counters, engagements and engagement rate over many posts (module doc)."""
    posts = observed = 0
    sums: dict[str, int] = {}
    engaged_total: int | None = None
    rated_engaged = rated_views = 0
    for row in rows:
        posts += 1
        if row.observed_at is not None:
            observed += 1
        for name in COUNTERS:
            if name in row.counters:
                sums[name] = sums.get(name, 0) + row.counters[name]
        engaged = engagements(row.counters)
        if engaged is None:
            continue
        engaged_total = (engaged_total or 0) + engaged
        if row.counters.get("views"):
            rated_engaged += engaged
            rated_views += row.counters["views"]
    return Totals(
        posts=posts,
        observed=observed,
        likes=sums.get("likes"),
        comments=sums.get("comments"),
        shares=sums.get("shares"),
        views=sums.get("views"),
        clicks=sums.get("clicks"),
        engagements=engaged_total,
        engagement_rate=engagement_rate(rated_engaged, rated_views),
    )


def spend_currency(entries: Sequence[SpendEntry]) -> str | None:
    """The campaign's currency: its first entry's (all entries share it)."""
    return entries[0].currency if entries else None


def campaign_stats(
    campaign_id: str, rows: Sequence[PostRow], entries: Sequence[SpendEntry]
) -> CampaignStats:
    """A campaign's figures from its posts and spend, in total and per network."""
    spend = sum(e.amount_minor for e in entries)
    by_network: dict[str, list[PostRow]] = defaultdict(list)
    for row in rows:
        by_network[row.network].append(row)
    network_spend: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.network is not None:
            network_spend[entry.network] += entry.amount_minor
    networks = []
    for network in sorted(set(by_network) | set(network_spend)):
        part = totals(by_network.get(network, []))
        spent = network_spend.get(network, 0)
        networks.append(
            NetworkStats(
                network=network,
                totals=part,
                spend_minor=spent,
                cost_per_engagement_minor=cost_per(spent, part.engagements),
                cost_per_click_minor=cost_per(spent, part.clicks),
            )
        )
    whole = totals(rows)
    return CampaignStats(
        campaign_id=campaign_id,
        totals=whole,
        spend_minor=spend,
        currency=spend_currency(entries),
        spend_unassigned_minor=spend - sum(network_spend.values()),
        cost_per_engagement_minor=cost_per(spend, whole.engagements),
        cost_per_click_minor=cost_per(spend, whole.clicks),
        networks=networks,
    )


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`UnknownZoneError` otherwise."""
    message = f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Moscow' or 'UTC'."
    if not name or name != name.strip():
        raise UnknownZoneError(message)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: keys that are paths, directories or non-zone files of tzdata.
        raise UnknownZoneError(message) from None


def _aware(at: datetime) -> datetime:
    """A time in UTC; a time without an offset is read as UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def resolve_range(
    start: datetime | None, end: datetime | None, *, now: datetime, default: timedelta
) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC, by default the ``default`` span ending ``now``; checked."""
    until = _aware(end) if end is not None else _aware(now)
    since = _aware(start) if start is not None else until - default
    if since >= until:
        raise InvalidRangeError("'from' must be before 'to'")
    if until - since > MAX_RANGE:
        raise RangeTooLongError(f"A range covers at most {MAX_RANGE.days} days")
    return since, until


def time_slots(samples: Iterable[tuple[datetime, int]], zone: ZoneInfo) -> list[TimeSlot]:
    """Posts and engagements per local (weekday, hour) of publication, by weekday and hour."""
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    for published_at, engaged in samples:
        local = _aware(published_at).astimezone(zone)
        cell = (local.weekday(), local.hour)
        posts, total = cells.get(cell, (0, 0))
        cells[cell] = (posts + 1, total + engaged)
    return [TimeSlot(d, h, posts, total) for (d, h), (posts, total) in sorted(cells.items())]


def best_slots(
    slots: Iterable[TimeSlot], *, min_posts: int = MIN_POSTS_PER_SLOT, count: int = BEST_SLOTS
) -> list[TimeSlot]:
    """The ``count`` slots with the highest average among those with ``min_posts`` posts."""
    backed = [s for s in slots if s.posts >= min_posts]
    backed.sort(key=lambda s: (-Fraction(s.engagements, s.posts), -s.posts, s.weekday, s.hour))
    return backed[:count]


def sort_posts(stats: Iterable[PostStats], sort: PostSort) -> list[PostStats]:
    """Most engagements first (unknown last), or newest first; ties by time, then id."""

    def when(s: PostStats) -> float:
        at = s.published_at or s.observed_at
        return at.timestamp() if at else float("-inf")

    def by_engagements(s: PostStats) -> tuple[bool, int, float, str, str]:
        return (s.engagements is None, -(s.engagements or 0), -when(s), s.network, s.native_id)

    def by_time(s: PostStats) -> tuple[float, str, str]:
        return (-when(s), s.network, s.native_id)

    if sort == "engagements":
        return sorted(stats, key=by_engagements)
    return sorted(stats, key=by_time)


def with_entry(entries: list[SpendEntry], entry: SpendEntry) -> list[SpendEntry]:
    """The entries with ``entry`` added; refused in another currency or beyond the cap."""
    currency = spend_currency(entries)
    if currency is not None and currency != entry.currency:
        raise CurrencyMismatchError(
            f"This campaign's spend is in {currency}; enter {entry.currency} spend as a "
            f"separate campaign or convert it to {currency}."
        )
    if len(entries) >= MAX_SPEND_ENTRIES:
        raise TooManySpendEntriesError(
            f"A campaign holds at most {MAX_SPEND_ENTRIES} spend entries"
        )
    return [*entries, entry]


def without_entry(entries: list[SpendEntry], entry_id: str) -> list[SpendEntry]:
    """The entries without ``entry_id``; :class:`SpendNotFoundError` when it is not there."""
    kept = [e for e in entries if e.id != entry_id]
    if len(kept) == len(entries):
        raise SpendNotFoundError(f"No spend entry {entry_id!r} in this campaign")
    return kept


# --- the service -----------------------------------------------------------------------


class ContentMetrics:
    """Reads content metrics and keeps campaign spend (``app.state.content_metrics``)."""

    def __init__(self, *, store: ContentStore, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    async def posts(
        self,
        *,
        brand_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        network: str | None = None,
        campaign_id: str | None = None,
        sort: PostSort = "engagements",
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[datetime, datetime, list[PostStats]]:
        """Posts published in the range (default: 30 days to now), sorted, at most ``limit``.

        Posts we never saw published (tracked ones) count in by their newest snapshot's
        time, unless a campaign is asked for (they have none).
        """
        since, until = resolve_range(start, end, now=self._clock(), default=DEFAULT_POSTS_RANGE)
        rows = await self._store.published_posts(
            brand_id=brand_id, start=since, end=until, network=network, campaign_id=campaign_id
        )
        if campaign_id is None:
            rows += await self._store.tracked_posts(
                brand_id=brand_id, start=since, end=until, network=network
            )
        ranked = sort_posts((post_stats(r) for r in rows), sort)
        return since, until, ranked[: max(1, min(limit, MAX_LIMIT))]

    async def campaign(self, *, brand_id: str, campaign_id: str) -> CampaignStats:
        """A campaign's figures; :class:`CampaignNotFoundError` when nothing names it."""
        rows = await self._store.campaign_posts(brand_id=brand_id, campaign_id=campaign_id)
        entries = await self._store.spend_entries(brand_id=brand_id, campaign_id=campaign_id)
        if (
            not rows
            and not entries
            and not await self._store.has_campaign_items(brand_id=brand_id, campaign_id=campaign_id)
        ):
            raise CampaignNotFoundError(f"No content or spend names campaign {campaign_id!r}")
        return campaign_stats(campaign_id, rows, entries)

    async def campaigns(self, *, brand_id: str, limit: int = DEFAULT_LIMIT) -> list[CampaignStats]:
        """Every campaign seen (content items, posts, spend), by id, at most ``limit``."""
        rows = await self._store.campaign_posts(brand_id=brand_id)
        spend = await self._store.spend_by_campaign(brand_id=brand_id)
        by_campaign: dict[str, list[PostRow]] = defaultdict(list)
        for row in rows:
            if row.campaign_id:
                by_campaign[row.campaign_id].append(row)
        seen = await self._store.item_campaigns(brand_id=brand_id)
        ids = sorted(seen | set(by_campaign) | set(spend))[: max(1, min(limit, MAX_LIMIT))]
        return [campaign_stats(c, by_campaign.get(c, []), spend.get(c, [])) for c in ids]

    async def best_times(
        self,
        *,
        brand_id: str,
        time_zone: str,
        network: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> BestTimes:
        """The weekday-hour grid of the range (default: 90 days to now) in ``time_zone``."""
        zone = load_zone(time_zone)
        since, until = resolve_range(
            start, end, now=self._clock(), default=DEFAULT_BEST_TIMES_RANGE
        )
        rows = await self._store.published_posts(
            brand_id=brand_id, start=since, end=until, network=network
        )
        samples = [
            (row.published_at, engaged)
            for row in rows
            if row.published_at is not None and (engaged := engagements(row.counters)) is not None
        ]
        slots = time_slots(samples, zone)
        return BestTimes(
            time_zone=time_zone,
            start=since,
            end=until,
            network=network,
            posts=len(samples),
            min_posts=MIN_POSTS_PER_SLOT,
            slots=slots,
            best=best_slots(slots),
        )

    async def spend(self, *, brand_id: str, campaign_id: str) -> CampaignSpend:
        """The campaign's spend entries and total."""
        entries = await self._store.spend_entries(brand_id=brand_id, campaign_id=campaign_id)
        return _campaign_spend(campaign_id, entries)

    async def add_spend(
        self, *, brand_id: str, campaign_id: str, spend: NewSpend, actor: str
    ) -> SpendEntry:
        """Enter spend on a campaign; :class:`CurrencyMismatchError` in another currency."""
        entry = SpendEntry(
            id=new_id(),
            amount_minor=spend.amount_minor,
            currency=spend.currency,
            spent_on=spend.spent_on,
            created_at=self._clock(),
            created_by=actor,
            network=spend.network,
            note=spend.note,
        )
        await self._store.change_spend(
            brand_id=brand_id,
            campaign_id=campaign_id,
            change=lambda entries: with_entry(entries, entry),
        )
        return entry

    async def delete_spend(self, *, brand_id: str, campaign_id: str, entry_id: str) -> None:
        """Remove a spend entry; :class:`SpendNotFoundError` when the campaign lacks it."""
        await self._store.change_spend(
            brand_id=brand_id,
            campaign_id=campaign_id,
            change=lambda entries: without_entry(entries, entry_id),
        )


def _campaign_spend(campaign_id: str, entries: list[SpendEntry]) -> CampaignSpend:
    return CampaignSpend(
        campaign_id=campaign_id,
        currency=spend_currency(entries),
        total_minor=sum(e.amount_minor for e in entries),
        entries=entries,
    )
