"""Episode outcomes mapped to ``smm.alerts.v1`` events: fields, severities, reasons, wire form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smm_analytics.domain.episodes import (
    AlertKind,
    Detection,
    EpisodeKey,
    Explanation,
    KeyState,
    Severity,
    acknowledge,
    evaluate,
    resolve,
)
from smm_analytics.services.alerts import alert_event
from smm_shared.events import (
    AlertAcknowledged,
    AlertClosed,
    AlertEvent,
    AlertOpened,
    AlertSeverity,
    AlertUpdated,
    Network,
    TermCount,
    decode_event,
)
from smm_shared.events import AlertKind as EventKind

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 28, 11, tzinfo=UTC)
HOUR = timedelta(hours=1)
KEY = EpisodeKey("acme", AlertKind.NEGATIVE_SPIKE, "negative")
COUNTS = {"#outage": 40, "refund": 12}


def det(at: datetime, severity: Severity, observed: float, networks: tuple[str, ...]) -> Detection:
    return Detection(
        key=KEY,
        at=at,
        severity=severity,
        observed=observed,
        expected=2.0,
        p_value=1e-30,
        explanation=Explanation(
            top_terms=("#outage", "refund"),
            sample_mention_ids=("m1", "m2"),
            networks=networks,
        ),
    )


def _round_trip(event: AlertEvent) -> AlertEvent:
    decoded = decode_event(event.event_type, event.to_json())
    assert decoded == event
    assert event.partition_key() == event.episode_id
    assert event.topic == "smm.alerts.v1"
    return decoded


def test_an_opened_episode_becomes_alert_opened_with_its_figures() -> None:
    # "mastodon-fork" is not a network of the contract: dropped rather than failing.
    opened = evaluate(
        None,
        key=KEY,
        at=T0,
        detection=det(T0, Severity.CRITICAL, 42, ("telegram", "vk", "mastodon-fork")),
    )
    (outcome,) = opened.outcomes
    event = alert_event(outcome, term_counts=COUNTS)
    assert isinstance(event, AlertOpened)
    assert _round_trip(event) == event
    assert (event.brand_id, event.episode_id, event.kind, event.subject) == (
        "acme",
        outcome.episode.id,
        EventKind.NEGATIVE_SPIKE,
        "negative",
    )
    assert (event.severity, event.peak_severity) == (AlertSeverity.CRITICAL,) * 2
    assert (event.occurred_at, event.opened_at) == (T0, T0)
    assert (event.interval_start, event.interval_end) == (T0 - HOUR, T0)
    assert (event.observed, event.expected, event.ratio, event.p_value) == (42, 2.0, 21.0, 1e-30)
    assert event.detections == 1
    assert event.explanation.top_terms == [
        TermCount(term="#outage", count=40),
        TermCount(term="refund", count=12),
    ]
    assert event.explanation.sample_mention_ids == ["m1", "m2"]
    assert event.explanation.networks == [Network.TELEGRAM, Network.VK]


def test_updates_carry_their_reasons_and_the_peak_severity() -> None:
    first = evaluate(None, key=KEY, at=T0, detection=det(T0, Severity.CRITICAL, 42, ("vk",)))
    later = T0 + HOUR
    second = evaluate(
        first.state, key=KEY, at=later, detection=det(later, Severity.HIGH, 80, ("vk", "x"))
    )
    (outcome,) = second.outcomes
    event = alert_event(outcome, term_counts={"#outage": 70})
    assert isinstance(event, AlertUpdated)
    assert _round_trip(event) == event
    assert event.reasons == ["severity_lowered", "volume", "networks"]
    assert (event.severity, event.peak_severity) == (AlertSeverity.HIGH, AlertSeverity.CRITICAL)
    assert (event.observed, event.detections, event.interval_end) == (80, 2, later)
    assert event.opened_at == T0
    assert event.explanation.top_terms == [
        TermCount(term="#outage", count=70),
        TermCount(term="refund", count=0),
    ]


def test_a_quiet_close_happens_at_the_end_of_the_quiet_window() -> None:
    first = evaluate(None, key=KEY, at=T0, detection=det(T0, Severity.HIGH, 20, ("vk",)))
    # The service was down: the next evaluation comes five hours later.
    late = T0 + 5 * HOUR
    closing = evaluate(first.state, key=KEY, at=late, detection=None)
    (outcome,) = closing.outcomes
    event = alert_event(outcome, term_counts=COUNTS)
    assert isinstance(event, AlertClosed)
    assert _round_trip(event) == event
    assert (event.reason, event.closed_at, event.occurred_at) == (
        "quiet",
        T0 + 2 * HOUR,
        T0 + 2 * HOUR,
    )
    assert (event.resolved_by, event.acknowledged_by) == (None, None)
    assert (event.interval_start, event.interval_end) == (T0 - HOUR, T0)


def test_acknowledgement_and_resolution_name_the_people() -> None:
    opened = evaluate(None, key=KEY, at=T0, detection=det(T0, Severity.HIGH, 20, ("vk",)))
    episode = opened.state.episode
    assert episode is not None
    seen_at = T0 + timedelta(minutes=7)
    acked = acknowledge(opened.state, episode_id=episode.id, by="ann", at=seen_at)
    (ack,) = acked.outcomes
    ack_event = alert_event(ack, term_counts=COUNTS)
    assert isinstance(ack_event, AlertAcknowledged)
    assert _round_trip(ack_event) == ack_event
    assert (ack_event.acknowledged_by, ack_event.acknowledged_at, ack_event.occurred_at) == (
        "ann",
        seen_at,
        seen_at,
    )
    assert ack_event.severity is AlertSeverity.HIGH

    done_at = T0 + timedelta(minutes=30)
    resolved = resolve(acked.state, episode_id=episode.id, by="bob", at=done_at)
    (closed,) = resolved.outcomes
    event = alert_event(closed, term_counts=COUNTS)
    assert isinstance(event, AlertClosed)
    assert _round_trip(event) == event
    assert (event.reason, event.closed_at, event.resolved_by, event.acknowledged_by) == (
        "resolved",
        done_at,
        "bob",
        "ann",
    )


@pytest.mark.parametrize("severity", list(Severity))
def test_every_episode_severity_has_its_contract_value(severity: Severity) -> None:
    key = EpisodeKey("acme", AlertKind.RISING_TERM, "#outage")
    detection = Detection(key=key, at=T0, severity=severity, observed=5, expected=0.0)
    (outcome,) = evaluate(KeyState(key=key), key=key, at=T0, detection=detection).outcomes
    event = alert_event(outcome, term_counts={})
    assert event.severity.value == severity.value
    assert event.kind is EventKind.RISING_TERM
    assert isinstance(event, AlertOpened)
    assert (event.ratio, event.p_value) == (0.0, None)  # no baseline figure: no ratio
