"""What each event adds to the rollups: a generated history against independent counts."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from smm_analytics.domain.histograms import Histogram, is_histogram_key
from smm_analytics.domain.rollups import (
    HISTOGRAM_METRICS,
    BucketIncrement,
    day_slot,
    escape_field,
    increments_for,
    latest_engagement,
    roll_up,
    sum_by_key,
    unescape_field,
)
from smm_shared.events import (
    Author,
    CaseNoteAdded,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    ContentCreated,
    EngagementObserved,
    Event,
    Mention,
    MentionDeleted,
    MentionKind,
    MentionReceived,
    Network,
    PostFailed,
    PostPublished,
    ReviewOutcome,
    Sentiment,
    SlaApplied,
    SlaBreached,
    SlaMet,
)

pytestmark = pytest.mark.unit

BRAND = "acme"
START = datetime(2026, 11, 27, 21, tzinfo=UTC)  # the history crosses midnight
NETWORKS = (Network.VK, Network.X, Network.TELEGRAM)
LABELS = ("positive", "negative", "neutral", "mixed", "unknown")
TEXTS = ("Loving the #NewPhone camera", "battery died again #fail", "support never answers")


def _at(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(0, 6 * 3600))


def _slot(at: datetime) -> str:
    # Independent of buckets.hour_slot on purpose.
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}"


def _mention(rng: random.Random, i: int) -> MentionReceived:
    network = rng.choice(NETWORKS)
    label = rng.choice(LABELS)
    return MentionReceived(
        brand_id=BRAND,
        mention=Mention(
            mention_id=f"m{i}",
            network=network,
            kind=MentionKind.POST,
            native_id=f"n{i}",
            conversation_key=f"{network.value}:c{i}",
            author=Author(
                id=rng.choice(("u.1", "u$2", "u3")), followers=rng.choice((None, 0, 10, 250))
            ),
            text=rng.choice(TEXTS),
            language=rng.choice(("en", "ru", None)),
            created_at=_at(rng),
            keywords=rng.choice(((), ("acme",), ("acme", "rival.co"))),
            sentiment=Sentiment(label=label, score=None if label == "unknown" else 0.5),
        ),
    )


def _history(seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = [_mention(rng, i) for i in range(400)]
    for i in range(60):
        case, at = f"case{i}", _at(rng)
        key = f"vk:c{i}"
        events.append(
            CaseOpened(
                brand_id=BRAND,
                occurred_at=at,
                case_id=case,
                conversation_key=key,
                network=rng.choice(NETWORKS),
                mention_id=f"m{i}",
            )
        )
        team, agent = rng.choice(("billing", None)), rng.choice(("ann", "bob", None))
        for metric in ("first_response", "resolution"):
            within = rng.random() < 0.7
            if not within:
                events.append(
                    SlaBreached(
                        brand_id=BRAND,
                        occurred_at=at,
                        case_id=case,
                        metric=metric,
                        policy_id="p",
                        department=team,
                        assignee_id=agent,
                        due_at=at,
                        lateness_ms=1,
                    )
                )
            events.append(
                SlaMet(
                    brand_id=BRAND,
                    occurred_at=at,
                    case_id=case,
                    metric=metric,
                    policy_id="p",
                    department=team,
                    assignee_id=agent,
                    elapsed_s=rng.uniform(0, 20_000),
                    within_target=within,
                )
            )
        if rng.random() < 0.6:
            events.append(
                CaseResolved(
                    brand_id=BRAND,
                    occurred_at=at,
                    case_id=case,
                    conversation_key=key,
                    actor="user:ann",
                    resolution_s=rng.uniform(0, 90_000),
                    department=team,
                    assignee_id=agent,
                )
            )
        if rng.random() < 0.2:
            events.append(
                CaseReopened(
                    brand_id=BRAND,
                    occurred_at=at,
                    case_id=case,
                    conversation_key=key,
                    actor="customer",
                )
            )
            events.append(
                ReviewOutcome(
                    brand_id=BRAND,
                    occurred_at=at,
                    case_id=case,
                    conversation_key=key,
                    mention_id=f"m{i}",
                    outcome=rng.choice(("improved", "deleted", "unchanged", "worsened")),
                )
            )
    for i in range(30):
        common = {
            "brand_id": BRAND,
            "occurred_at": _at(rng),
            "content_id": f"c{i}",
            "actor": "system:publisher",
            "delivery_id": f"d{i}",
            "account_id": "a",
            "network": rng.choice(NETWORKS),
            "attempts": 1,
        }
        if rng.random() < 0.8:
            events.append(PostPublished(**common, native_id=f"p{i}"))
        else:
            events.append(PostFailed(**common, code="E", message="no"))
    rng.shuffle(events)
    return events


def _totals(events: list[Event]) -> dict[str, dict[str, int]]:
    summed = sum_by_key(inc for event in events for inc in increments_for(event))
    return {key: increment.inc for key, increment in summed.items()}


def _key(metric: str, dimension: str, slot: str) -> str:
    return f"{BRAND}|{metric}|{dimension}|{slot}"


def _mentions(events: list[Event]) -> Iterator[Mention]:
    return (e.mention for e in events if isinstance(e, MentionReceived))


def test_mention_volume_sentiment_reach_and_voice_match_independent_counts() -> None:
    events = _history()
    totals = _totals(events)
    volume: Counter[tuple[str, str]] = Counter()
    sentiment: Counter[tuple[str, str]] = Counter()
    reach: Counter[str] = Counter()
    voice: Counter[tuple[str, str]] = Counter()
    authors: Counter[tuple[str, str]] = Counter()
    for m in _mentions(events):
        slot = _slot(m.created_at)
        volume[(m.network.value, slot)] += 1
        volume[("all", slot)] += 1
        sentiment[(m.sentiment.label, slot)] += 1
        reach[slot] += m.author.followers or 0
        authors[(f"{m.network.value}:{m.author.id}", slot)] += 1
        for label in m.keywords:
            voice[(label, slot)] += 1
    assert len({slot for _, slot in volume}) == 6
    for (network, slot), count in volume.items():
        dim = "all" if network == "all" else f"network={network}"
        assert totals[_key("mentions", dim, slot)]["count"] == count
    for (label, slot), count in sentiment.items():
        assert totals[_key("mentions", "all", slot)][label] == count
    for slot, followers in reach.items():
        assert totals[_key("mentions", "all", slot)].get("reach", 0) == followers
    for (label, slot), count in voice.items():
        assert totals[_key("share_of_voice", "all", slot)][escape_field(label)] == count
    for (author, slot), count in authors.items():
        assert totals[_key("authors", "all", slot)][escape_field(author)] == count
    # Language buckets partition the same mentions.
    per_language = sum(inc["count"] for key, inc in totals.items() if "|mentions|language=" in key)
    assert per_language == 400


def test_care_histograms_sla_backlog_reviews_and_posts_match_independent_counts() -> None:
    events = _history()
    totals = _totals(events)
    frt: defaultdict[str, list[float]] = defaultdict(list)
    sla: Counter[tuple[str, str]] = Counter()
    backlog: Counter[tuple[str, str]] = Counter()
    posts: Counter[tuple[str, str]] = Counter()
    for e in events:
        slot = _slot(e.occurred_at)
        if isinstance(e, SlaMet):
            sla[(f"{e.metric}_{'met' if e.within_target else 'late'}", slot)] += 1
            if e.metric == "first_response":
                frt[slot].append(e.elapsed_s)
                if e.assignee_id == "ann":
                    frt["ann" + slot].append(e.elapsed_s)
        elif isinstance(e, SlaBreached):
            sla[(f"{e.metric}_breached", slot)] += 1
        elif isinstance(e, CaseOpened | CaseReopened | CaseResolved):
            name = {CaseOpened: "opened", CaseReopened: "reopened", CaseResolved: "resolved"}
            backlog[(name[type(e)], slot)] += 1
        elif isinstance(e, PostPublished | PostFailed):
            outcome = "published" if isinstance(e, PostPublished) else "failed"
            posts[(outcome, slot)] += 1
            posts[(f"{outcome}@{e.network.value}", slot)] += 1
    for slot, seconds in frt.items():
        if slot.startswith("ann"):
            stored = totals[_key("first_response_time", "agent=ann", slot[3:])]
        else:
            stored = totals[_key("first_response_time", "all", slot)]
        assert Histogram.from_counts(stored) == Histogram.of(seconds)
        assert stored["n"] == len(seconds)
    for (field, slot), count in sla.items():
        assert totals[_key("sla", "all", slot)][field] == count
    for (field, slot), count in backlog.items():
        assert totals[_key("backlog", "all", slot)][field] == count
    for (field, slot), count in posts.items():
        outcome, _, network = field.partition("@")
        dim = f"network={network}" if network else "all"
        assert totals[_key("posts", dim, slot)][outcome] == count
    reviews = sum(isinstance(e, ReviewOutcome) for e in events)
    assert reviews > 0
    stored_reviews = sum(sum(inc.values()) for key, inc in totals.items() if "|reviews|all|" in key)
    assert stored_reviews == reviews


def test_every_counter_field_is_a_safe_mongodb_name_and_an_integer() -> None:
    for event in _history(seed=3):
        for increment in increments_for(event):
            assert "|" not in increment.dimension.partition("=")[2]
            for name, amount in increment.inc.items():
                assert name
                assert not set(name) & set(".$\x00")
                assert type(amount) is int
            if increment.metric in HISTOGRAM_METRICS:
                assert all(is_histogram_key(name) for name in increment.inc)


@pytest.mark.parametrize(
    "value", ["a.b", "$set", "%2E", "x|y", "nul\x00", "100%", "#café", "plain", "..$$%%"]
)
def test_escape_round_trips_and_removes_unsafe_characters(value: str) -> None:
    escaped = escape_field(value)
    assert unescape_field(escaped) == value
    assert not set(escaped) & set(".$|\x00")


def test_escape_is_one_to_one_on_lookalikes() -> None:
    assert escape_field("a.b") != escape_field("a%2Eb")
    assert escape_field("a.b") == "a%2Eb"
    with pytest.raises(ValueError, match="empty"):
        escape_field("")


def test_terms_and_hashtags_are_counted_once_per_mention_and_negative_ones_apart() -> None:
    mention = MentionReceived(
        brand_id=BRAND,
        mention=Mention(
            mention_id="m",
            network=Network.X,
            kind=MentionKind.POST,
            native_id="n",
            conversation_key="x:1",
            author=Author(id="a"),
            text="camera camera #Fail #fail broken camera",
            language="en",
            created_at=START,
            sentiment=Sentiment(label="negative", score=-0.9),
        ),
    )
    by_metric = {(i.metric, i.dimension): i.inc for i in increments_for(mention)}
    assert by_metric[("terms", "all")] == {"#fail": 1, "camera": 1, "broken": 1}
    assert by_metric[("terms", "sentiment=negative")] == by_metric[("terms", "all")]
    assert by_metric[("mentions", "all")]["score_milli"] == -900
    assert ("author_reach", "all") not in by_metric  # no follower count: no reach field


def test_day_rollup_equals_the_sum_of_its_hours() -> None:
    totals = _totals(_history())
    days: defaultdict[str, list[dict[str, int]]] = defaultdict(list)
    for key, counters in totals.items():
        brand, metric, dimension, slot = key.split("|")
        days[f"{brand}|{metric}|{dimension}|{day_slot(slot)}"].append(counters)
    assert day_slot("2026-11-27T23") == "2026-11-27"
    assert {key.rsplit("|", 1)[1] for key in days} == {"2026-11-27", "2026-11-28"}
    mentions = list(_mentions(_history()))
    for day in ("2026-11-27", "2026-11-28"):
        rolled = roll_up(days[_key("mentions", "all", day)])
        assert rolled["count"] == sum(m.created_at.date().isoformat() == day for m in mentions)
    frt_day = roll_up(days[_key("first_response_time", "all", "2026-11-28")])
    hours = [
        c for k, c in totals.items() if k.startswith(f"{BRAND}|first_response_time|all|2026-11-28")
    ]
    assert Histogram.from_counts(frt_day) == Histogram.merge_counts(hours)
    assert roll_up([{"a": 1, "b": 2}, {"a": 3}]) == {"a": 4, "b": 2}


def test_events_not_counted_give_no_increments() -> None:
    at = START
    ignored: list[Event] = [
        ContentCreated(
            brand_id=BRAND, content_id="c", actor="user:1", title="t", networks=[Network.VK]
        ),
        CaseNoteAdded(
            brand_id=BRAND, case_id="c", conversation_key="vk:1", actor="user:1", note_id="n"
        ),
        MentionDeleted(
            brand_id=BRAND,
            mention_id="m",
            network=Network.VK,
            native_id="n",
            conversation_key="vk:1",
            deleted_at=at,
        ),
        SlaApplied(brand_id=BRAND, case_id="c", metric="resolution", policy_id="p", target_s=60),
        EngagementObserved(
            brand_id=BRAND, network=Network.VK, native_post_id="p", observed_at=at, likes=3
        ),
    ]
    assert [increments_for(event) for event in ignored] == [[]] * len(ignored)


def test_latest_engagement_keeps_the_newest_snapshot_whatever_the_order() -> None:
    rng = random.Random(1)
    snapshots = [
        EngagementObserved(
            brand_id=BRAND,
            network=Network.VK,
            native_post_id="post.1",
            observed_at=START + timedelta(minutes=i),
            likes=rng.randrange(100),
            views=None if i % 2 else rng.randrange(1000),
        )
        for i in range(20)
    ]
    newest = snapshots[-1]
    for _ in range(5):
        rng.shuffle(snapshots)
        stored: dict[str, tuple[int, dict[str, int]]] = {}
        for snapshot in [*snapshots, *snapshots]:  # a replay of everything on top
            doc = latest_engagement(snapshot)
            # The repository's guard: replace only when strictly newer.
            if doc.key not in stored or stored[doc.key][0] < doc.observed_ms:
                stored[doc.key] = (doc.observed_ms, doc.counters)
        assert list(stored) == [f"{BRAND}|post|vk:post%2E1"]
        assert stored[f"{BRAND}|post|vk:post%2E1"][1] == {"likes": newest.likes}  # views absent


def test_bucket_increment_key_and_batch_sum() -> None:
    one = BucketIncrement(BRAND, "posts", "all", "2026-11-27T10", {"published": 1})
    two = BucketIncrement(BRAND, "posts", "all", "2026-11-27T10", {"published": 2, "failed": 1})
    assert one.key == "acme|posts|all|2026-11-27T10"
    summed = sum_by_key([one, two])
    assert summed[one.key].inc == {"published": 3, "failed": 1}
    assert one.inc == {"published": 1}  # inputs are not mutated


def test_trim_map_keeps_the_largest_labels_and_an_exact_total() -> None:
    from smm_analytics.domain.rollups import FLOOR_FIELD, REST_FIELD, trim_map

    counters = {f"u{i:03d}": i for i in range(1, 301)}  # 1..300
    trimmed = trim_map(counters, keep=200)
    labels = {k: v for k, v in trimmed.items() if not k.startswith("%_")}
    assert labels == {f"u{i:03d}": i for i in range(101, 301)}
    assert trimmed[REST_FIELD] == sum(range(1, 101))
    assert trimmed[FLOOR_FIELD] == 100
    assert sum(labels.values()) + trimmed[REST_FIELD] == sum(counters.values())
    # Trimming a trimmed map again keeps it, and accumulates rest and floor.
    assert trim_map(trimmed, keep=200) == trimmed
    again = trim_map(trimmed, keep=150)
    assert again[REST_FIELD] == sum(range(1, 151))
    assert again[FLOOR_FIELD] == 150
    # Small maps are left alone (no reserved fields added).
    assert trim_map({"a": 2, "b": 0}, keep=200) == {"a": 2}
