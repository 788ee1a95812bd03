"""Trend and crisis alerts on the real MongoDB-protocol server: one burst, one alert, closed once.

Eight days of ordinary hours and then a burst of 40 negative mentions sharing a text go
through the rollup store and the sample store as the consumers write them. Evaluating hour
by hour opens exactly one negative-spike episode (and one rising-term episode for each of
the burst's two terms), evaluating the burst hour again changes nothing, two quiet hours
close all three, and the events leave through the embedded outbox and the relay. The
hourly tick does the same from a durable timer on a manual clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from smm_analytics.adapters.samples import (
    MAX_TERM_FIELDS,
    NEGATIVE_SAMPLES,
    TERM_SAMPLES,
    sample_doc_id,
)
from smm_analytics.domain.buckets import hour_slot
from smm_analytics.domain.episodes import AlertKind as DomainKind
from smm_analytics.domain.episodes import EpisodeStatus
from smm_analytics.domain.trends import terms_of
from smm_analytics.services.alerts import (
    TICK_TIMER_KEY,
    AlertNotCurrentError,
    AlertTicker,
)
from smm_shared.config import MongoSettings
from smm_shared.events import (
    AlertAcknowledged,
    AlertClosed,
    AlertKind,
    AlertOpened,
    AlertSeverity,
    Network,
    TermCount,
)
from smm_shared.mongo import Document, epoch_ms
from smm_shared.testing import eventually
from smm_shared.timers import ManualClock, TimerState

from .test_alerts_support import (
    BRAND,
    BURST,
    BURST_SIZE,
    BURST_TEXT,
    HOUR,
    OTHER,
    SECOND_BURST_TEXT,
    START,
    Alerts,
    build,
    history,
    hour_of_mentions,
    hours,
)

pytestmark = pytest.mark.integration

LAG = timedelta(seconds=120)


@pytest.fixture
async def db(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings) -> Any:
    return mongo_client[mongo_settings.database]


async def _loaded(
    db: Any, clock: ManualClock, bursts: dict[Any, str], until: Any, *, days: int = 8
) -> Alerts:
    """The stores with ``days`` of history before the burst (the brand first seen then)."""
    alerts = await build(db, clock)
    start = BURST - timedelta(days=days, hours=BURST.hour)
    await alerts.load(history(until, bursts, start=start))
    await alerts.seen(BRAND, start, until - timedelta(minutes=1))
    return alerts


async def _versions(alerts: Alerts) -> dict[str, int]:
    return {str(d["_id"]): int(d["version"]) async for d in alerts.repo.keys.find({})}


def _ids(mentions: list[Any], label: str) -> set[str]:
    return {m.mention.mention_id for m in mentions if m.mention.sentiment.label == label}


async def test_a_burst_opens_one_negative_alert_a_replay_adds_nothing_and_quiet_hours_close_it(
    db: Any,
) -> None:
    assert terms_of(BURST_TEXT, "en") == {"refund", "#outage"}
    clock = ManualClock(BURST + timedelta(days=30))
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + 5 * HOUR)
    service = alerts.service

    # A day of ordinary hours before the burst: nothing to report.
    for end in hours(BURST - 23 * HOUR, BURST):
        assert await service.evaluate(brand_id=BRAND, hour_end=end) == ()

    opened = await service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR)
    assert [(type(e), e.kind, e.subject) for e in opened] == [
        (AlertOpened, AlertKind.NEGATIVE_SPIKE, "negative"),
        (AlertOpened, AlertKind.RISING_TERM, "#outage"),
        (AlertOpened, AlertKind.RISING_TERM, "refund"),
    ]
    spike, outage, refund = opened
    assert isinstance(spike, AlertOpened)
    assert (spike.severity, spike.peak_severity) == (AlertSeverity.CRITICAL,) * 2
    assert (spike.observed, spike.expected, spike.ratio) == (BURST_SIZE + 2, 2.0, 21.0)
    assert spike.p_value is not None
    assert spike.p_value < 1e-6
    assert (spike.interval_start, spike.interval_end) == (BURST, BURST + HOUR)
    assert spike.occurred_at == spike.opened_at == BURST + HOUR
    assert spike.explanation.top_terms == [
        TermCount(term="#outage", count=40),
        TermCount(term="refund", count=40),
        TermCount(term="delivery", count=2),
        TermCount(term="slow", count=2),
    ]
    assert spike.explanation.networks == [Network.TELEGRAM, Network.VK, Network.X]
    burst_hour = hour_of_mentions(BURST, BURST_TEXT)
    negatives = _ids(burst_hour, "negative")
    samples = spike.explanation.sample_mention_ids
    assert 5 <= len(samples) <= 10
    assert len(set(samples)) == len(samples)
    assert set(samples) <= negatives

    for event, term, other in ((outage, "#outage", "refund"), (refund, "refund", "#outage")):
        assert isinstance(event, AlertOpened)
        assert event.severity is AlertSeverity.MEDIUM
        assert event.observed == BURST_SIZE
        assert event.ratio == pytest.approx((40.5 / 47) / (0.5 / 73))
        assert event.expected == pytest.approx(event.observed / event.ratio)
        assert event.explanation.top_terms == [
            TermCount(term=term, count=40),
            TermCount(term=other, count=40),
        ]
        ids = event.explanation.sample_mention_ids
        assert 1 <= len(ids) <= TERM_SAMPLES
        assert set(ids) <= {m for m in negatives if m.startswith("b-")}
        assert set(event.explanation.networks) <= {Network.VK, Network.X}
        assert event.explanation.networks

    # The same hour again, and the same mentions counted and sampled again: nothing changes.
    versions = await _versions(alerts)
    assert len(versions) == 3
    assert await alerts.load(burst_hour) == 0
    await alerts.samples.record(burst_hour)
    assert await service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR) == ()
    assert await _versions(alerts) == versions

    # One quiet hour keeps them open; the second closes them at the end of the quiet window.
    assert await service.evaluate(brand_id=BRAND, hour_end=BURST + 2 * HOUR) == ()
    closed = await service.evaluate(brand_id=BRAND, hour_end=BURST + 3 * HOUR)
    assert [type(e) for e in closed] == [AlertClosed] * 3
    assert [
        (e.episode_id, e.reason, e.closed_at) for e in closed if isinstance(e, AlertClosed)
    ] == [(e.episode_id, "quiet", BURST + 3 * HOUR) for e in opened]
    assert isinstance(closed[0], AlertClosed)
    assert closed[0].explanation == spike.explanation  # the figures of the last detection
    assert closed[0].occurred_at == BURST + 3 * HOUR
    assert await service.evaluate(brand_id=BRAND, hour_end=BURST + 4 * HOUR) == ()
    assert await service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR) == ()  # late replay

    # Every event left through the outbox, keyed by its episode, in order per episode.
    published = await alerts.published()
    assert sorted((e.event_type, e.episode_id) for e in published) == sorted(
        [(e.event_type, e.episode_id) for e in (*opened, *closed)]
    )
    for message in alerts.sent.messages:
        assert message.topic == "smm.alerts.v1"
        assert message.key == dict(message.headers)["ce_subject"]
    for event in opened:
        mine = [e.event_type for e in published if e.episode_id == event.episode_id]
        assert mine == ["smm.alert.opened", "smm.alert.closed"]
    assert sorted(e.event_id for e in published) == sorted(e.event_id for e in (*opened, *closed))
    assert await alerts.published() == published  # nothing left pending

    # The read model: three closed episodes, exactly one negative spike.
    page = await service.page(brand_id=BRAND)
    assert {(r.kind, r.subject, r.status) for r in page.items} == {
        (DomainKind.NEGATIVE_SPIKE, "negative", EpisodeStatus.CLOSED),
        (DomainKind.RISING_TERM, "#outage", EpisodeStatus.CLOSED),
        (DomainKind.RISING_TERM, "refund", EpisodeStatus.CLOSED),
    }
    record = await service.get(brand_id=BRAND, episode_id=spike.episode_id)
    assert (record.closed_at, record.close_reason) == (BURST + 3 * HOUR, "quiet")
    assert record.top_terms[0] == ("#outage", 40)


async def _sample_doc(alerts: Alerts, start: Any) -> Document:
    doc = await alerts.samples.collection.find_one({"_id": sample_doc_id(BRAND, hour_slot(start))})
    assert doc is not None
    return doc


async def test_samples_are_bounded_and_a_replay_changes_no_sample(db: Any) -> None:
    alerts = await build(db, ManualClock(BURST))
    burst_hour = hour_of_mentions(BURST, BURST_TEXT)
    await alerts.samples.record(burst_hour)
    first = await _sample_doc(alerts, BURST)

    await alerts.samples.record(list(reversed(burst_hour)))  # again, in another order
    await alerts.samples.record(burst_hour[:7])
    again = await _sample_doc(alerts, BURST)
    # Only the growth guard's counter moves on a replay (it errs towards fewer samples).
    assert again.pop("w") > first.pop("w")
    assert again == first
    fields = [name for name in first if name.startswith(("n|", "t|"))]
    assert len([f for f in fields if f.startswith("n|")]) <= NEGATIVE_SAMPLES
    assert len([f for f in fields if f.startswith("t|#outage|")]) <= TERM_SAMPLES

    negatives = await alerts.samples.negatives(BRAND, hour_slot(BURST))
    assert 10 <= len(negatives) <= NEGATIVE_SAMPLES
    by_id = {m.mention.mention_id: m.mention.network.value for m in burst_hour}
    assert {s.mention_id for s in negatives} <= _ids(burst_hour, "negative")
    assert all(by_id[s.mention_id] == s.network for s in negatives)
    terms = await alerts.samples.for_terms(BRAND, hour_slot(BURST), ["#outage", "camera", "nope"])
    assert 1 <= len(terms["#outage"]) <= TERM_SAMPLES
    assert {s.mention_id for s in terms["camera"]} <= _ids(burst_hour, "positive")
    assert terms["camera"]
    assert terms["nope"] == []
    assert await alerts.samples.negatives(BRAND, hour_slot(BURST - HOUR)) == []


async def test_a_full_sample_document_takes_no_new_terms_but_still_negatives(db: Any) -> None:
    alerts = await build(db, ManualClock(BURST))
    ordinary = hour_of_mentions(BURST)
    positive = [m for m in ordinary if m.mention.sentiment.label == "positive"]
    await alerts.samples.record(positive[:1])  # creates the hour's document
    await alerts.samples.collection.update_one(
        {"_id": sample_doc_id(BRAND, hour_slot(BURST))}, {"$set": {"w": MAX_TERM_FIELDS}}
    )
    await alerts.samples.record(ordinary)
    doc = await _sample_doc(alerts, BURST)
    assert [name for name in doc if name.startswith("t|camera|")]  # from before the guard
    assert not [name for name in doc if name.startswith("t|delivery|")]
    negatives = await alerts.samples.negatives(BRAND, hour_slot(BURST))
    assert negatives
    assert {s.mention_id for s in negatives} <= _ids(ordinary, "negative")


async def test_a_second_burst_after_the_first_closed_opens_a_new_episode(db: Any) -> None:
    second = BURST + 6 * HOUR
    clock = ManualClock(BURST + timedelta(days=30))
    alerts = await _loaded(
        db, clock, {BURST: BURST_TEXT, second: SECOND_BURST_TEXT}, second + HOUR, days=2
    )
    found: list[Any] = []
    for end in hours(BURST + HOUR, second + HOUR):
        found.extend(await alerts.service.evaluate(brand_id=BRAND, hour_end=end))
    spikes = [e for e in found if e.kind is AlertKind.NEGATIVE_SPIKE]
    assert [type(e) for e in spikes] == [AlertOpened, AlertClosed, AlertOpened]
    first, _, again = spikes
    assert first.episode_id != again.episode_id
    assert again.opened_at == second + HOUR

    # Only the latest episode of a key can be acknowledged; the old one says so.
    with pytest.raises(AlertNotCurrentError):
        await alerts.service.acknowledge(brand_id=BRAND, episode_id=first.episode_id, by="ann")
    record = await alerts.service.acknowledge(brand_id=BRAND, episode_id=again.episode_id, by="ann")
    assert record.acknowledged_by == "ann"
    assert record.status is EpisodeStatus.OPEN
    acks = [e for e in await alerts.published() if isinstance(e, AlertAcknowledged)]
    assert [(a.episode_id, a.acknowledged_by) for a in acks] == [(again.episode_id, "ann")]
    # Resolving the old, closed one returns it as it is.
    old = await alerts.service.resolve(brand_id=BRAND, episode_id=first.episode_id, by="ann")
    assert (old.status, old.close_reason) == (EpisodeStatus.CLOSED, "quiet")


async def test_a_resolved_alert_stays_closed_for_the_hours_it_covered(db: Any) -> None:
    clock = ManualClock(BURST + HOUR + timedelta(minutes=5))
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + 2 * HOUR, days=2)
    opened = await alerts.service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR)
    spike = opened[0]
    record = await alerts.service.resolve(brand_id=BRAND, episode_id=spike.episode_id, by="mgr")
    assert (record.status, record.close_reason, record.resolved_by) == (
        EpisodeStatus.CLOSED,
        "resolved",
        "mgr",
    )
    assert record.closed_at == clock.now()
    again = await alerts.service.resolve(brand_id=BRAND, episode_id=spike.episode_id, by="other")
    assert again == record
    closed = [e for e in await alerts.published() if isinstance(e, AlertClosed)]
    assert [(e.episode_id, e.reason, e.resolved_by) for e in closed] == [
        (spike.episode_id, "resolved", "mgr")
    ]
    assert (await alerts.service.page(brand_id=BRAND, status=EpisodeStatus.OPEN)).items != []
    assert all(
        r.kind is DomainKind.RISING_TERM
        for r in (await alerts.service.page(brand_id=BRAND, status=EpisodeStatus.OPEN)).items
    )


async def test_a_crash_before_the_read_model_is_repaired_by_the_next_call(db: Any) -> None:
    clock = ManualClock(BURST + timedelta(days=1))
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + 2 * HOUR, days=2)
    opened = await alerts.service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR)
    # As if the process died after the state update: the read model lost its documents.
    keys = alerts.repo.keys
    async for doc in keys.find({}):
        await keys.update_one(
            {"_id": doc["_id"]},
            {"$set": {"proj": [{"_id": doc["episode"]["id"], **_projection_stub(doc)}]}},
        )
        await keys.update_one({"_id": doc["_id"]}, {"$set": {"proj_brand": BRAND}})
    await alerts.repo.episodes.delete_many({})
    assert (await alerts.service.page(brand_id=BRAND)).items == []
    assert await alerts.repo.sync_projections(BRAND) == 3
    page = await alerts.service.page(brand_id=BRAND)
    assert {r.id for r in page.items} == {e.episode_id for e in opened}
    assert await keys.count_documents({"proj_brand": BRAND}) == 0


def _projection_stub(doc: Document) -> Document:
    """What ``save`` leaves in ``proj``: the read-model document of the key's episode."""
    from smm_analytics.adapters.alerts_repo import projection_doc, stored_key

    stored = stored_key(doc)
    assert stored.state.episode is not None
    projection = projection_doc(
        stored.state.episode, stored.term_counts, key=stored.id, key_version=stored.version
    )
    projection.pop("_id")
    return projection


async def test_the_hourly_tick_evaluates_completed_hours_and_arms_the_next(db: Any) -> None:
    clock = ManualClock(BURST + HOUR + LAG - timedelta(seconds=1))
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + 4 * HOUR, days=2)
    ticker = AlertTicker(alerts.service, alerts.timers, owner_id="tick-1", clock=clock)

    await ticker.arm()
    timer = await alerts.timers.get(key=TICK_TIMER_KEY)
    assert timer is not None
    assert timer.due_at == BURST + LAG
    # The tick catches up the last 24 completed hours (the burst hour is not complete yet).
    assert await ticker.loop.run_due() == 1
    assert await alerts.repo.evaluated_until([BRAND]) == {BRAND: epoch_ms(BURST)}
    assert await alerts.published() == []
    timer = await alerts.timers.get(key=TICK_TIMER_KEY)
    assert timer is not None
    assert (timer.state, timer.due_at) == (TimerState.PENDING, BURST + HOUR + LAG)
    assert await ticker.loop.run_due() == 0  # not due yet

    clock.advance_to(BURST + HOUR + LAG)
    assert await ticker.loop.run_due() == 1
    opened = await alerts.published()
    assert [(type(e), e.subject) for e in opened] == [
        (AlertOpened, "negative"),
        (AlertOpened, "#outage"),
        (AlertOpened, "refund"),
    ]

    # Down for two hours: the next tick evaluates both missed hours and closes the episodes,
    # also when the brand has had no event for days (its open episodes keep it active).
    first_seen = BURST - timedelta(days=2, hours=BURST.hour)
    await alerts.seen(BRAND, first_seen, first_seen)
    clock.advance_to(BURST + 3 * HOUR + LAG + timedelta(minutes=7))
    assert await ticker.loop.run_due() == 1
    events = await alerts.published()
    closed = events[len(opened) :]
    assert [(type(e), e.episode_id, e.closed_at) for e in closed] == [
        (AlertClosed, e.episode_id, BURST + 3 * HOUR) for e in opened
    ]
    assert await alerts.repo.evaluated_until([BRAND]) == {BRAND: epoch_ms(BURST + 3 * HOUR)}
    timer = await alerts.timers.get(key=TICK_TIMER_KEY)
    assert timer is not None
    assert timer.due_at == BURST + 4 * HOUR + LAG


async def test_the_tick_covers_every_active_brand_and_at_most_a_day(db: Any) -> None:
    clock = ManualClock(BURST + HOUR + LAG)
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + HOUR, days=2)
    # Another brand, seen three days ago and still active: a day of hours is evaluated.
    await alerts.seen(OTHER, BURST - timedelta(days=3), BURST)
    # A brand silent for a week is not evaluated.
    await alerts.seen("dormant", START, START + HOUR)
    assert await alerts.service.catch_up() == 48
    assert await alerts.repo.evaluated_until([BRAND, OTHER, "dormant"]) == {
        BRAND: epoch_ms(BURST + HOUR),
        OTHER: epoch_ms(BURST + HOUR),
    }
    assert await alerts.service.catch_up() == 0  # nothing new


async def test_a_started_ticker_catches_up_at_once_and_stops(db: Any) -> None:
    clock = ManualClock(BURST + HOUR + LAG + timedelta(minutes=3))
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + HOUR, days=2)
    ticker = AlertTicker(alerts.service, alerts.timers, owner_id="tick-2", clock=clock)
    await ticker.start()
    try:

        async def three_open() -> bool:
            page = await alerts.service.page(brand_id=BRAND, status=EpisodeStatus.OPEN)
            return len(page.items) == 3

        await eventually(three_open, what="the tick's episodes")

        async def rearmed() -> bool:
            timer = await alerts.timers.get(key=TICK_TIMER_KEY)
            return timer is not None and timer.due_at == BURST + 2 * HOUR + LAG

        await eventually(rearmed, what="the next tick")
    finally:
        await ticker.stop()
    assert not ticker.loop.running


async def test_two_processes_evaluating_the_same_hour_store_each_event_once(db: Any) -> None:
    clock = ManualClock(BURST + HOUR + LAG)
    alerts = await _loaded(db, clock, {BURST: BURST_TEXT}, BURST + HOUR, days=2)
    twin = await build(db, clock)  # a second replica over the same database
    results = await asyncio.gather(
        *(
            service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR)
            for service in (alerts.service, twin.service, alerts.service, twin.service)
        )
    )
    assert sorted(len(r) for r in results)[-1] <= 3
    assert sum(len(r) for r in results) == 3
    published = await alerts.published()
    assert sorted((e.event_type, e.subject) for e in published) == [
        ("smm.alert.opened", "#outage"),
        ("smm.alert.opened", "negative"),
        ("smm.alert.opened", "refund"),
    ]
    assert set((await _versions(alerts)).values()) == {1}
