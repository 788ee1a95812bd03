"""What each event adds to the write-time rollups: the metric catalogue. Pure Python.

:func:`increments_for` maps one event to the counters it adds, as
:class:`BucketIncrement` values (bucket key ``brand|metric|dimension|slot`` plus a flat
mapping of counter field to amount). Storage applies them with ``$inc`` upserts; every
read is then a sum of bucket documents, never a scan of raw events.

**What the service must guarantee.** Counters are not idempotent by themselves: the
storage applies *all* increments of one event exactly once (a processed-event ledger keyed
by ``event_id``, e.g. one conditional write per event id before or with the ``$inc``s), so
a replay of any slice of the topics changes no number. Increments of many events may be
summed per key first (:func:`sum_by_key`) and written as one ``$inc`` per bucket, provided
the ledger records the batch's event ids in the same atomic step or the batch only holds
events the ledger has not seen.

**Slot.** A mention counts in the hour it was written on its network
(``mention.created_at``), an engagement snapshot at ``observed_at``, every other event at
``occurred_at``; all in UTC (:func:`~smm_analytics.domain.buckets.hour_slot`).

**Field names.** Every key of ``inc`` is a valid MongoDB field name without dots: fixed
names (``count``, ``b17``, ``first_response_met``) or a user-supplied value (a term, an
author, a keyword label) passed through :func:`escape_field`. The repository keeps the
counters in one sub-document of the bucket (``$inc: {"c.<field>": n}``), so it must create
the document before a dotted ``$inc`` (docs/mongo-subset.md). Dimension values go through
the same escape, so a ``|`` in a language tag cannot break the bucket key.

**Escape** (:func:`escape_field` / :func:`unescape_field`): ``%``, ``.``, ``$``, ``|`` and
NUL become ``%`` plus two upper-case hex digits (``%25``, ``%2E``, ``%24``, ``%7C``,
``%00``); nothing else changes. ``%`` is escaped first-class so the mapping is one-to-one.

**Metric catalogue** (``metric``: dimensions -> counter fields):

* ``mentions`` (MentionReceived): ``all``, ``network=<n>``, ``language=<tag|none>`` ->
  ``count``; sentiment ``positive``, ``negative``, ``neutral``, ``mixed``, ``unknown``
  (one per mention, they sum to ``count``); ``scored`` and ``score_milli`` (mentions with a
  score, and the sum of their scores in thousandths, so the mean score is exact);
  ``reach`` (sum of the authors' followers; an author without a follower count adds 0).
  Net sentiment = (positive - negative) / count.
* ``authors`` (MentionReceived): ``all`` -> ``<network>:<author id>`` = mentions;
  ``author_reach``: ``all`` -> the same fields = followers summed per mention (potential
  impressions; authors without a follower count are absent). "Top authors by reach" sorts
  ``author_reach``.
* ``terms`` (MentionReceived): ``all``, ``sentiment=negative`` -> ``<term>`` = mentions
  carrying the term (once per mention), terms from
  :func:`~smm_analytics.domain.trends.terms_of`; hashtags keep their ``#``, so "top
  hashtags" are the fields starting with ``#``. At most :data:`MAX_TERMS_PER_MENTION` per
  mention (hashtags first, then words, each in code point order), so one long text cannot
  flood a bucket. The ``sentiment=negative`` bucket explains negative spikes.
* ``share_of_voice`` (MentionReceived): ``all``, ``network=<n>`` -> ``<keyword label>`` =
  mentions matching the brand/competitor rule of that label (``mention.keywords``, set by
  ingest). Share of a label = its count / the sum over labels.
* ``topics`` (MentionReceived): ``all`` -> ``<topic label>`` = mentions (``mention.topics``).
* ``posts`` (PostPublished, PostFailed): ``all``, ``network=<n>`` -> ``published``, ``failed``.
* ``replies`` (ReplyPublished, ReplyFailed): ``all``, ``network=<n>`` -> ``published``,
  ``failed``.
* ``backlog`` (CaseOpened, CaseReopened, CaseResolved): ``all`` -> ``opened``, ``reopened``,
  ``resolved``; CaseOpened also ``network=<n>`` (``opened``), CaseResolved also
  ``team=<department>``, ``agent=<assignee>`` and ``network=<n>`` (``resolved``) when it
  names them. Backlog
  at a time = cumulative (opened + reopened - resolved) on ``all``; resolution rate =
  resolved / (opened + reopened) over a range.
* ``case_resolution_time`` (CaseResolved): ``all``, ``team=``, ``agent=``, ``network=`` -> histogram
  fields (``bK``, ``n``, ``sum_ms`` of :mod:`~smm_analytics.domain.histograms`, scheme
  ``histograms.SCHEME``) of ``resolution_s``: wall-clock time from opening.
* ``first_response_time``, ``next_response_time``, ``resolution_time``,
  ``assignment_time``, ``department_response_time`` (SlaMet of the SLA metric of the same
  stem): ``all``, ``team=<department>``, ``agent=<assignee>``, ``network=<n>`` -> histogram fields of
  ``elapsed_s``: business time with pauses excluded, as SLAs measure it.
* ``sla`` (SlaMet, SlaBreached): ``all``, ``team=``, ``agent=``, ``network=`` -> ``<sla metric>_met``
  (SlaMet within target), ``<sla metric>_late`` (SlaMet past target), ``<sla metric>_breached``
  (SlaBreached, fired once at the deadline). Met rate of a metric = met / (met + breached):
  a late SlaMet follows its breach, so counting ``late`` as a miss would count it twice.
* ``reviews`` (ReviewOutcome): ``all`` -> ``improved``, ``deleted``, ``unchanged``,
  ``worsened``. Recovery rate = (improved + deleted) / all four.

**Engagement** (EngagementObserved) adds no counters: the counters of a snapshot are totals,
and summing snapshots would count a post again at every poll. :func:`latest_engagement`
gives instead a :class:`LatestEngagement` document per post
(``brand|post|<network>:<native id>``) that the repository writes with a guarded
replacement, ``update_one({"_id": key, "observed_ms": {"$lt": ms}}, {"$set": ...},
upsert=True)``, treating ``DuplicateKeyError`` as "a snapshot as new or newer is stored".
The newest snapshot wins whatever the order of arrival, and a replay is a no-op.
``$set`` rather than ``$max`` per counter because counters fall (unlikes, deleted comments).

The network of SLA events and of CaseResolved is carried since responder sets it; events
from before that have no ``network=`` dimension.

**Content metrics** (engagement per post and campaign, engagement rate, best time to post)
are not bucket counters: ``adapters/content_store.py`` joins ContentCreated.campaign_id ->
PostPublished.native_id -> the latest snapshot per post. MentionUpdated and
MentionDeleted change no counter: volume and sentiment count mentions as they arrived.
Other event types (content workflow, case notes, tags, assignments, SLA clocks that start
or pause) add nothing.

**Day rollup**: :func:`day_slot` names the day of an hour slot and :func:`roll_up` sums the
counters of its hours (histogram fields sum like any counter; a merged histogram is the sum
of its parts). A rolled day of a map metric keeps its :data:`DAY_TOP_FIELDS` largest
labels (:func:`trim_map`): totals stay exact through ``%_rest``, and ``%_floor`` bounds
what any label left out could add. Retention: :data:`HOUR_RETENTION` and :data:`DAY_RETENTION`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smm_analytics.domain import histograms
from smm_analytics.domain.buckets import HOUR_FORMAT, bucket_key, hour_slot
from smm_analytics.domain.trends import terms_of
from smm_shared.events import (
    CaseOpened,
    CaseReopened,
    CaseResolved,
    EngagementObserved,
    Event,
    MentionReceived,
    Network,
    PostFailed,
    PostPublished,
    ReplyFailed,
    ReplyPublished,
    ReviewOutcome,
    SlaBreached,
    SlaMet,
)

# --- metric names --------------------------------------------------------------------

MENTIONS = "mentions"
AUTHORS = "authors"
AUTHOR_REACH = "author_reach"
TERMS = "terms"
SHARE_OF_VOICE = "share_of_voice"
TOPICS = "topics"
POSTS = "posts"
REPLIES = "replies"
BACKLOG = "backlog"
REVIEWS = "reviews"
SLA = "sla"
CASE_RESOLUTION_TIME = "case_resolution_time"
#: Histogram metric per SLA metric name (SlaMet.elapsed_s).
SLA_TIME_METRICS: dict[str, str] = {
    "first_response": "first_response_time",
    "next_response": "next_response_time",
    "resolution": "resolution_time",
    "time_to_assignment": "assignment_time",
    "department_response": "department_response_time",
}
#: The metrics whose counters are duration histograms (scheme ``histograms.SCHEME``).
HISTOGRAM_METRICS = frozenset({CASE_RESOLUTION_TIME, *SLA_TIME_METRICS.values()})
#: The metrics whose counter fields are escaped user values (a map of name to count).
MAP_METRICS = frozenset({AUTHORS, AUTHOR_REACH, TERMS, SHARE_OF_VOICE, TOPICS})

ALL = "all"
#: Dimension value of a mention whose language was not detected.
NO_LANGUAGE = "none"

#: Sentiment label -> counter field of ``mentions``.
SENTIMENT_FIELDS: dict[str, str] = {
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
    "mixed": "mixed",
    "unknown": "unknown",
}
REVIEW_FIELDS = ("improved", "deleted", "unchanged", "worsened")

#: At most this many terms of one mention are counted (hashtags first, then code point order).
MAX_TERMS_PER_MENTION = 32
#: The most distinct fields a map bucket (``terms``, ``authors``...) should hold; enforcing
#: it is the repository's job (it needs the bucket's current size). 5,000 fields of ~60
#: bytes stay far below MongoDB's 16 MB document limit, also in a day document.
MAX_FIELDS_PER_BUCKET = 5_000

#: A rolled day bucket of a map metric keeps its this many largest fields; the rest is
#: summed into :data:`REST_FIELD`, and the largest value left out is :data:`FLOOR_FIELD`.
#: A month of authors is then ~6,000 fields to read instead of ~250,000 (see trim_map).
DAY_TOP_FIELDS = 200
#: The sum of the fields a rolled day left out (still part of every total).
REST_FIELD = "%_rest"
#: The largest value a rolled day left out: no label missing from the day had more.
FLOOR_FIELD = "%_floor"
#: Fields of a map bucket that are not labels (``escape_field`` never makes ``%_``).
RESERVED_PREFIX = "%_"

# --- retention and day slots ---------------------------------------------------------

#: Hour buckets are kept this long (the longest hourly range a query serves, see buckets.py).
HOUR_RETENTION = timedelta(days=93)
#: Day buckets are kept this long (three years, leap day included).
DAY_RETENTION = timedelta(days=3 * 365 + 1)
DAY_FORMAT = "%Y-%m-%d"

# --- escaping ------------------------------------------------------------------------

_ESCAPED = "%.$|\x00"
_ESCAPE = re.compile("[" + re.escape(_ESCAPED) + "]")
_UNESCAPE = re.compile("%([0-9A-F]{2})")


def escape_field(value: str) -> str:
    """A MongoDB-safe field name for a user value: ``% . $ | NUL`` as ``%XX`` (``a.b`` -> ``a%2Eb``)."""
    if not value:
        raise ValueError("an empty string cannot be a field name")
    return _ESCAPE.sub(lambda m: f"%{ord(m.group()):02X}", value)


def unescape_field(name: str) -> str:
    """The user value an :func:`escape_field` name stands for."""
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)


# --- increments ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BucketIncrement:
    """Counters one event adds to one bucket: ``$inc`` of ``inc`` on the bucket ``key``."""

    brand_id: str
    metric: str
    dimension: str
    slot: str
    inc: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The bucket's string id: ``brand|metric|dimension|slot``."""
        return bucket_key(self.brand_id, self.metric, self.dimension, self.slot)


@dataclass(frozen=True, slots=True)
class LatestEngagement:
    """The newest known counters of one of our posts; stored by replacement, newest wins."""

    brand_id: str
    network: str
    native_post_id: str
    observed_at: datetime
    counters: dict[str, int]

    @property
    def key(self) -> str:
        """The document id: ``brand|post|<network>:<escaped native id>``."""
        return f"{self.brand_id}|post|{self.network}:{escape_field(self.native_post_id)}"

    @property
    def observed_ms(self) -> int:
        """``observed_at`` as integer epoch milliseconds (the guard's comparison field)."""
        return round(self.observed_at.timestamp() * 1000)


def dimension(name: str, value: str) -> str:
    """A dimension ``name=value`` with the value escaped (``language=pt%7Cbr``)."""
    return f"{name}={escape_field(value)}"


def increments_for(event: Event) -> list[BucketIncrement]:
    """The counters an event adds to its brand's hour buckets; none for event types not counted."""
    match event:
        case MentionReceived():
            return _mention(event)
        case CaseOpened():
            return _counts(event, BACKLOG, {"opened": 1}, network=event.network.value)
        case CaseReopened():
            return _counts(event, BACKLOG, {"reopened": 1})
        case CaseResolved():
            return _resolved(event)
        case SlaMet():
            return _sla_met(event)
        case SlaBreached():
            people = _people(event.department, event.assignee_id, event.network)
            return _counts(event, SLA, {f"{event.metric}_breached": 1}, extra=people)
        case ReviewOutcome():
            return _counts(event, REVIEWS, {event.outcome: 1})
        case PostPublished():
            return _counts(event, POSTS, {"published": 1}, network=event.network.value)
        case PostFailed():
            return _counts(event, POSTS, {"failed": 1}, network=event.network.value)
        case ReplyPublished():
            return _counts(event, REPLIES, {"published": 1}, network=event.network.value)
        case ReplyFailed():
            return _counts(event, REPLIES, {"failed": 1}, network=event.network.value)
        case _:
            # EngagementObserved (see latest_engagement) and every other type: no counter.
            return []


def latest_engagement(event: EngagementObserved) -> LatestEngagement:
    """The per-post document a snapshot replaces when it is newer than the stored one."""
    reported = {
        "likes": event.likes,
        "comments": event.comments,
        "shares": event.shares,
        "views": event.views,
        "clicks": event.clicks,
    }
    return LatestEngagement(
        brand_id=event.brand_id,
        network=event.network.value,
        native_post_id=event.native_post_id,
        observed_at=event.observed_at,
        # A counter the network does not report stays absent, never zero (contract rule).
        counters={name: value for name, value in reported.items() if value is not None},
    )


def _mention(event: MentionReceived) -> list[BucketIncrement]:
    mention = event.mention
    slot = hour_slot(mention.created_at)
    brand = event.brand_id
    network = mention.network.value
    followers = mention.author.followers or 0
    volume = {"count": 1, SENTIMENT_FIELDS[mention.sentiment.label]: 1}
    if mention.sentiment.score is not None:
        volume["scored"] = 1
        volume["score_milli"] = round(mention.sentiment.score * 1000)
    if followers:
        volume["reach"] = followers
    dims = (
        ALL,
        dimension("network", network),
        dimension("language", mention.language or NO_LANGUAGE),
    )
    found = [BucketIncrement(brand, MENTIONS, d, slot, dict(volume)) for d in dims]

    author = escape_field(f"{network}:{mention.author.id}")
    found.append(BucketIncrement(brand, AUTHORS, ALL, slot, {author: 1}))
    if followers:
        found.append(BucketIncrement(brand, AUTHOR_REACH, ALL, slot, {author: followers}))

    terms = _capped_terms(terms_of(mention.text, mention.language))
    if terms:
        counted = {escape_field(term): 1 for term in terms}
        found.append(BucketIncrement(brand, TERMS, ALL, slot, counted))
        if mention.sentiment.label == "negative":
            negative = dimension("sentiment", "negative")
            found.append(BucketIncrement(brand, TERMS, negative, slot, dict(counted)))

    labels = {escape_field(label): 1 for label in mention.keywords if label}
    if labels:
        for d in (ALL, dimension("network", network)):
            found.append(BucketIncrement(brand, SHARE_OF_VOICE, d, slot, dict(labels)))
    topics = {escape_field(topic): 1 for topic in mention.topics if topic}
    if topics:
        found.append(BucketIncrement(brand, TOPICS, ALL, slot, topics))
    return found


def _capped_terms(terms: set[str]) -> list[str]:
    """At most MAX_TERMS_PER_MENTION terms, chosen the same way on every replay."""
    ordered = sorted(terms, key=lambda term: (not term.startswith("#"), term))
    return ordered[:MAX_TERMS_PER_MENTION]


def _people(department: str | None, assignee_id: str | None, network: Network | None) -> list[str]:
    """The team, agent and network dimensions a care event names."""
    found = []
    if department:
        found.append(dimension("team", department))
    if assignee_id:
        found.append(dimension("agent", assignee_id))
    if network is not None:
        found.append(dimension("network", network.value))
    return found


def _counts(
    event: Event,
    metric: str,
    inc: Mapping[str, int],
    *,
    network: str | None = None,
    extra: Iterable[str] = (),
) -> list[BucketIncrement]:
    """The same counters in the ``all`` bucket and in each further dimension given."""
    slot = hour_slot(event.occurred_at)
    dims = [ALL, *([dimension("network", network)] if network else []), *extra]
    return [BucketIncrement(event.brand_id, metric, d, slot, dict(inc)) for d in dims]


def _resolved(event: CaseResolved) -> list[BucketIncrement]:
    people = _people(event.department, event.assignee_id, event.network)
    found = _counts(event, BACKLOG, {"resolved": 1}, extra=people)
    found += _counts(
        event, CASE_RESOLUTION_TIME, histograms.increments(event.resolution_s), extra=people
    )
    return found


def _sla_met(event: SlaMet) -> list[BucketIncrement]:
    people = _people(event.department, event.assignee_id, event.network)
    outcome = "met" if event.within_target else "late"
    found = _counts(event, SLA, {f"{event.metric}_{outcome}": 1}, extra=people)
    metric = SLA_TIME_METRICS[event.metric]
    found += _counts(event, metric, histograms.increments(event.elapsed_s), extra=people)
    return found


def sum_by_key(increments: Iterable[BucketIncrement]) -> dict[str, BucketIncrement]:
    """Increments of many events summed per bucket (one ``$inc`` per bucket in a batch)."""
    summed: dict[str, BucketIncrement] = {}
    for increment in increments:
        current = summed.get(increment.key)
        if current is None:
            summed[increment.key] = BucketIncrement(
                increment.brand_id,
                increment.metric,
                increment.dimension,
                increment.slot,
                dict(increment.inc),
            )
            continue
        for name, amount in increment.inc.items():
            current.inc[name] = current.inc.get(name, 0) + amount
    return summed


# --- day rollup ----------------------------------------------------------------------


def day_slot(slot: str) -> str:
    """The day an hour slot belongs to: ``2026-11-27T10`` -> ``2026-11-27``."""
    return datetime.strptime(slot, HOUR_FORMAT).strftime(DAY_FORMAT)


def roll_up(hour_docs: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The counters of a day bucket: the field-wise sum of its hour buckets' counters."""
    total: dict[str, int] = {}
    for counters in hour_docs:
        for name, amount in counters.items():
            total[name] = total.get(name, 0) + amount
    return total


def trim_map(counters: Mapping[str, int], keep: int = DAY_TOP_FIELDS) -> dict[str, int]:
    """A map bucket's ``keep`` largest labels (ties by name), plus the rest and the floor.

    Totals stay exact (``REST_FIELD`` carries what was left out); a label's value summed
    over trimmed days is exact where the label was kept on every day it occurred, and
    otherwise short by at most the sum of ``FLOOR_FIELD`` of the days it was left out.
    Top lists are exact when the top values are larger than that bound.
    """
    labels = {k: v for k, v in counters.items() if v and not k.startswith(RESERVED_PREFIX)}
    rest = counters.get(REST_FIELD, 0)
    floor = counters.get(FLOOR_FIELD, 0)
    if len(labels) <= keep:
        kept = dict(labels)
    else:
        ranked = sorted(labels.items(), key=lambda item: (-item[1], item[0]))
        kept = dict(ranked[:keep])
        rest += sum(v for _, v in ranked[keep:])
        floor = max(floor, ranked[keep][1])
    if rest:
        kept[REST_FIELD] = rest
        kept[FLOOR_FIELD] = floor
    return kept
