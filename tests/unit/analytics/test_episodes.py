"""Alert episodes: open once, update on meaningful change, close after quiet hours; pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_analytics.domain.episodes import (
    DEFAULT_POLICY,
    AlertKind,
    Detection,
    EpisodeAcknowledged,
    EpisodeClosed,
    EpisodeError,
    EpisodeKey,
    EpisodeOpened,
    EpisodePolicy,
    EpisodeStatus,
    EpisodeUpdated,
    Explanation,
    KeyState,
    Outcome,
    Severity,
    UnknownEpisodeError,
    acknowledge,
    episode_id,
    evaluate,
    evaluate_interval,
    resolve,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
KEY = EpisodeKey("acme", AlertKind.NEGATIVE_SPIKE, "negative")
TERM = EpisodeKey("acme", AlertKind.RISING_TERM, "#outage")
OTHER_BRAND = EpisodeKey("globex", AlertKind.NEGATIVE_SPIKE, "negative")


def hour(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def det(
    n: float,
    severity: Severity = Severity.MEDIUM,
    observed: float = 100.0,
    *,
    key: EpisodeKey = KEY,
    networks: Sequence[str] = ("vk",),
    ids: Sequence[str] = ("m1",),
    terms: Sequence[str] = ("refund",),
) -> Detection:
    return Detection(
        key=key,
        at=hour(n),
        severity=severity,
        observed=observed,
        expected=20.0,
        p_value=0.001,
        explanation=Explanation(
            top_terms=tuple(terms), sample_mention_ids=tuple(ids), networks=tuple(networks)
        ),
    )


@dataclass
class Run:
    """Feeds one key's evaluations and keeps every outcome."""

    state: KeyState | None = None
    policy: EpisodePolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def at(self, n: float, detection: Detection | None = None) -> tuple[Outcome, ...]:
        transition = evaluate(
            self.state, key=KEY, at=hour(n), detection=detection, policy=self.policy
        )
        self.state = transition.state
        self.outcomes.extend(transition.outcomes)
        return transition.outcomes

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.outcomes]


def test_one_burst_opens_one_episode_and_closes_it_after_two_quiet_intervals() -> None:
    run = Run()
    run.at(0, det(0))
    run.at(1, det(1))
    run.at(2, det(2))
    run.at(3)

    assert run.names == ["opened"]
    assert run.state is not None
    assert run.state.episode is not None
    assert run.state.episode.is_open  # one quiet interval is not enough

    closing = run.at(4)

    assert [o.name for o in closing] == ["closed"]
    closed = closing[0]
    assert isinstance(closed, EpisodeClosed)
    assert closed.reason == "quiet"
    assert closed.at == hour(4)
    assert closed.episode.id == run.outcomes[0].episode.id == episode_id(KEY, hour(0))
    assert closed.episode.status is EpisodeStatus.CLOSED
    assert closed.episode.closed_at == hour(4)
    assert closed.episode.detections == 3
    assert closed.episode.last_detected_at == hour(2)
    assert run.at(5) == ()  # a closed episode does not close again


def test_one_quiet_interval_inside_a_burst_keeps_the_same_episode() -> None:
    run = Run()
    run.at(0, det(0))
    run.at(1)
    run.at(2, det(2))
    run.at(3)
    run.at(4, det(4))

    assert run.names == ["opened"]
    assert run.state is not None
    assert run.state.episode is not None
    assert run.state.episode.detections == 3


def test_a_longer_quiet_window_is_honoured() -> None:
    run = Run(policy=EpisodePolicy(quiet_intervals=3))
    run.at(0, det(0))
    run.at(1)
    run.at(2)

    assert run.names == ["opened"]
    run.at(3)
    assert run.names == ["opened", "closed"]


def test_escalation_updates_and_peak_severity_never_goes_down() -> None:
    run = Run()
    run.at(0, det(0, Severity.MEDIUM))
    escalated = run.at(1, det(1, Severity.HIGH))

    assert len(escalated) == 1
    update = escalated[0]
    assert isinstance(update, EpisodeUpdated)
    assert update.reasons == ("severity_escalated",)
    assert update.episode.severity is Severity.HIGH
    assert update.episode.peak_severity is Severity.HIGH

    lowered = run.at(2, det(2, Severity.LOW))

    assert len(lowered) == 1
    assert isinstance(lowered[0], EpisodeUpdated)
    assert lowered[0].reasons == ("severity_lowered",)
    assert lowered[0].episode.severity is Severity.LOW
    assert lowered[0].episode.peak_severity is Severity.HIGH
    assert run.at(3, det(3, Severity.LOW)) == ()  # same severity, same numbers: silent


def test_small_changes_do_not_cause_an_update_storm() -> None:
    run = Run()
    run.at(0, det(0, observed=100))
    for n, observed in enumerate((103, 110, 95, 120, 80), start=1):
        assert run.at(n, det(n, observed=observed)) == (), observed

    moved = run.at(6, det(6, observed=130))  # 30 % and 30 above the reported 100

    assert len(moved) == 1
    assert isinstance(moved[0], EpisodeUpdated)
    assert moved[0].reasons == ("volume",)
    assert moved[0].episode.observed == 130
    # Compared with what was last reported (130), not with the first figure.
    assert run.at(7, det(7, observed=140)) == ()
    assert run.state is not None
    assert run.state.episode is not None
    assert run.state.episode.observed == 140  # still refreshed silently
    assert run.state.episode.peak_observed == 140
    assert run.names == ["opened", "updated"]


def test_slow_drift_is_reported_once_it_adds_up() -> None:
    run = Run()
    run.at(0, det(0, observed=100))
    run.at(1, det(1, observed=110))
    run.at(2, det(2, observed=120))
    drifted = run.at(3, det(3, observed=126))

    assert [o.name for o in drifted] == ["updated"]


def test_a_large_relative_change_of_a_tiny_number_is_not_an_update() -> None:
    run = Run()
    run.at(0, det(0, observed=4))

    assert run.at(1, det(1, observed=8)) == ()  # +100 % but only 4 more
    assert [o.name for o in run.at(2, det(2, observed=9))] == ["updated"]


def test_a_new_network_is_an_update_and_the_explanation_is_refreshed() -> None:
    run = Run()
    run.at(0, det(0, networks=("vk",), ids=("m1", "m2"), terms=("refund",)))
    spread = run.at(1, det(1, networks=("x",), ids=("m3", "m1"), terms=("outage", "refund")))

    assert len(spread) == 1
    assert isinstance(spread[0], EpisodeUpdated)
    assert spread[0].reasons == ("networks",)
    explanation = spread[0].episode.explanation
    assert explanation.networks == ("vk", "x")
    assert explanation.top_terms == ("outage", "refund")
    assert explanation.sample_mention_ids == ("m3", "m1", "m2")
    assert run.at(2, det(2, networks=("vk",))) == ()  # already reported


def test_sample_ids_and_top_terms_are_bounded() -> None:
    policy = EpisodePolicy(max_sample_ids=3, max_top_terms=2)
    run = Run(policy=policy)
    run.at(0, det(0, ids=("a", "b"), terms=("t1", "t2", "t3")))
    run.at(1, det(1, ids=("c", "d")))

    assert run.state is not None
    assert run.state.episode is not None
    assert run.state.episode.explanation.sample_mention_ids == ("c", "d", "a")
    assert run.outcomes[0].episode.explanation.top_terms == ("t1", "t2")


def test_evaluating_the_same_interval_again_yields_nothing() -> None:
    run = Run()
    run.at(0, det(0))
    state_after_open = run.state

    assert run.at(0, det(0)) == ()
    assert run.state == state_after_open
    run.at(1, det(1, Severity.CRITICAL))
    assert run.at(1, det(1, Severity.CRITICAL)) == ()
    assert run.at(0, det(0)) == ()  # an older interval is a replay too
    run.at(2)
    run.at(3)
    assert run.at(3) == ()
    assert run.names == ["opened", "updated", "closed"]


def test_replaying_the_whole_history_gives_the_same_ids_and_outcomes() -> None:
    def history() -> list[Outcome]:
        run = Run()
        for n, detection in [(0, det(0)), (1, det(1, Severity.HIGH)), (2, None), (3, None)]:
            run.at(n, detection)
        for n, detection in [(7, det(7)), (8, None), (9, None)]:
            run.at(n, detection)
        return run.outcomes

    first, second = history(), history()

    assert first == second
    assert [o.name for o in first] == ["opened", "updated", "closed", "opened", "closed"]


def test_a_reoccurrence_after_close_is_a_new_episode() -> None:
    run = Run()
    run.at(0, det(0))
    run.at(1)
    run.at(2)
    reopened = run.at(3, det(3))

    assert [o.name for o in reopened] == ["opened"]
    first_id = run.outcomes[0].episode.id
    assert reopened[0].episode.id != first_id
    assert reopened[0].episode.id == episode_id(KEY, hour(3))
    assert reopened[0].episode.opened_at == hour(3)
    assert reopened[0].episode.detections == 1


def test_a_detection_after_unevaluated_quiet_hours_closes_then_opens() -> None:
    run = Run()
    run.at(0, det(0))
    outcomes = run.at(3, det(3))  # 1 and 2 were never evaluated: they count as quiet

    assert [o.name for o in outcomes] == ["closed", "opened"]
    closed = outcomes[0]
    assert isinstance(closed, EpisodeClosed)
    assert closed.at == hour(2)  # when it would have closed had 1 and 2 been evaluated
    assert outcomes[1].episode.id != closed.episode.id


def test_a_gap_shorter_than_the_quiet_window_keeps_the_episode() -> None:
    run = Run()
    run.at(0, det(0))

    assert run.at(2, det(2)) == ()  # only interval 1 was quiet


def test_acknowledging_records_who_and_when_and_keeps_it_open() -> None:
    run = Run()
    run.at(0, det(0))
    assert run.state is not None
    assert run.state.episode is not None
    the_id = run.state.episode.id

    acked = acknowledge(run.state, episode_id=the_id, by="alice", at=hour(0.5))

    assert len(acked.outcomes) == 1
    ack = acked.outcomes[0]
    assert isinstance(ack, EpisodeAcknowledged)
    assert ack.by == "alice"
    episode = acked.state.episode
    assert episode is not None
    assert episode.is_open
    assert (episode.acknowledged_by, episode.acknowledged_at) == ("alice", hour(0.5))
    again = acknowledge(acked.state, episode_id=the_id, by="bob", at=hour(0.7))
    assert again.outcomes == ()
    assert again.state.episode is not None
    assert again.state.episode.acknowledged_by == "alice"

    run.state = again.state
    assert run.at(1, det(1)) == ()  # still the same open episode
    run.at(2)
    closed = run.at(3)
    assert [o.name for o in closed] == ["closed"]
    assert closed[0].episode.acknowledged_by == "alice"


def test_acknowledging_or_resolving_another_episode_is_refused() -> None:
    run = Run()
    run.at(0, det(0))
    assert run.state is not None

    with pytest.raises(UnknownEpisodeError):
        acknowledge(run.state, episode_id="nope", by="alice", at=hour(1))
    with pytest.raises(UnknownEpisodeError):
        resolve(KeyState(key=KEY), episode_id="nope", by="alice", at=hour(1))
    with pytest.raises(EpisodeError):
        acknowledge(run.state, episode_id=run.outcomes[0].episode.id, by="", at=hour(1))


def test_resolving_closes_and_ignores_detections_the_user_had_seen() -> None:
    run = Run()
    run.at(0, det(0))
    assert run.state is not None
    the_id = run.outcomes[0].episode.id

    resolved = resolve(run.state, episode_id=the_id, by="alice", at=hour(1.5))

    assert [o.name for o in resolved.outcomes] == ["closed"]
    closed = resolved.outcomes[0]
    assert isinstance(closed, EpisodeClosed)
    assert closed.reason == "resolved"
    assert closed.episode.resolved_by == "alice"
    assert closed.episode.closed_at == hour(1.5)
    assert resolve(resolved.state, episode_id=the_id, by="bob", at=hour(1.6)).outcomes == ()

    run.state = resolved.state
    assert run.at(1.5, det(1.5)) == ()  # an interval that ended when she resolved it
    reopened = run.at(2.5, det(2.5))
    assert [o.name for o in reopened] == ["opened"]
    assert reopened[0].episode.id != the_id


def test_evaluate_interval_covers_detections_and_open_episodes_of_every_key() -> None:
    first = evaluate_interval(
        {},
        at=hour(0),
        detections=[
            det(0, key=TERM),
            det(0, Severity.LOW, key=KEY),
            det(0, Severity.HIGH, key=KEY),  # the same key twice: the strongest wins
            det(0, key=OTHER_BRAND),
        ],
    )

    assert [(o.name, o.episode.key) for o in first.outcomes] == [
        ("opened", KEY),
        ("opened", TERM),
        ("opened", OTHER_BRAND),
    ]
    assert first.outcomes[0].episode.severity is Severity.HIGH
    quiet = evaluate_interval(first.states, at=hour(1), detections=[det(1, key=TERM)])
    assert quiet.outcomes == ()
    later = evaluate_interval(quiet.states, at=hour(2), detections=[det(2, key=TERM)])
    assert [(o.name, o.episode.key) for o in later.outcomes] == [
        ("closed", KEY),
        ("closed", OTHER_BRAND),
    ]
    assert set(later.states) == {KEY, TERM, OTHER_BRAND}
    assert evaluate_interval(later.states, at=hour(2), detections=[det(2, key=TERM)]).outcomes == ()


def test_times_must_be_aware_and_detections_must_match_their_interval() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(None, key=KEY, at=datetime(2026, 11, 27, 10), detection=None)
    with pytest.raises(ValueError, match="another key or interval"):
        evaluate(None, key=KEY, at=hour(1), detection=det(0))
    with pytest.raises(ValueError, match="evaluated interval"):
        evaluate_interval({}, at=hour(1), detections=[det(0)])


# -- property: any sequence of detections, acks and resolutions --------------------------

KEYS = (KEY, TERM, OTHER_BRAND)

_detection_spec = st.none() | st.tuples(
    st.sampled_from(list(Severity)),
    st.integers(min_value=0, max_value=200),
    st.sets(st.sampled_from(["vk", "x", "telegram"]), max_size=2),
)
_step = st.one_of(
    st.tuples(
        st.just("eval"),
        st.integers(min_value=1, max_value=4),  # hours since the previous evaluation
        st.tuples(*[_detection_spec for _ in KEYS]),
    ),
    st.tuples(st.just("ack"), st.integers(min_value=0, max_value=len(KEYS) - 1)),
    st.tuples(
        st.just("resolve"),
        st.integers(min_value=0, max_value=len(KEYS) - 1),
        st.integers(min_value=0, max_value=90),  # minutes after the last evaluation
    ),
    st.tuples(st.just("replay")),
)


def _play(steps: list[tuple[object, ...]]) -> list[Outcome]:
    states: dict[EpisodeKey, KeyState] = {}
    outcomes: list[Outcome] = []
    now = T0
    last: tuple[datetime, list[Detection]] | None = None
    for step in steps:
        if step[0] == "eval":
            gap, specs = step[1], step[2]
            assert isinstance(gap, int)
            assert isinstance(specs, tuple)
            now += timedelta(hours=gap)
            detections = [
                Detection(
                    key=key,
                    at=now,
                    severity=spec[0],
                    observed=float(spec[1]),
                    expected=10.0,
                    explanation=Explanation(networks=tuple(sorted(spec[2]))),
                )
                for key, spec in zip(KEYS, specs, strict=True)
                if spec is not None
            ]
            result = evaluate_interval(states, at=now, detections=detections)
            states = dict(result.states)
            outcomes.extend(result.outcomes)
            last = (now, detections)
        elif step[0] == "replay" and last is not None:
            again = evaluate_interval(states, at=last[0], detections=last[1])
            assert again.outcomes == ()
            assert dict(again.states) == states
        elif step[0] in ("ack", "resolve"):
            index = step[1]
            assert isinstance(index, int)
            state = states.get(KEYS[index])
            if state is None or state.episode is None:
                continue
            if step[0] == "ack":
                t = acknowledge(state, episode_id=state.episode.id, by="u", at=now)
            else:
                minutes = step[2]
                assert isinstance(minutes, int)
                at = now + timedelta(minutes=minutes)
                t = resolve(state, episode_id=state.episode.id, by="u", at=at)
            states[KEYS[index]] = t.state
            outcomes.extend(t.outcomes)
    return outcomes


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(_step, max_size=40))
def test_opened_and_closed_alternate_per_key_and_every_closed_episode_was_opened(
    steps: list[tuple[object, ...]],
) -> None:
    outcomes = _play(steps)

    open_ids: dict[EpisodeKey, str | None] = dict.fromkeys(KEYS)
    opened: set[str] = set()
    for outcome in outcomes:
        key = outcome.episode.key
        if isinstance(outcome, EpisodeOpened):
            assert open_ids[key] is None, "a second episode opened while one was open"
            assert outcome.episode.id not in opened, "an episode id was reused"
            open_ids[key] = outcome.episode.id
            opened.add(outcome.episode.id)
        elif isinstance(outcome, EpisodeClosed):
            assert open_ids[key] == outcome.episode.id, "closed an episode that was not open"
            open_ids[key] = None
            if outcome.reason == "quiet":
                assert outcome.at - outcome.episode.last_detected_at == timedelta(hours=2)
        elif isinstance(outcome, EpisodeUpdated):
            assert open_ids[key] == outcome.episode.id
            assert outcome.reasons
            assert outcome.episode.peak_severity.rank >= outcome.episode.severity.rank
        else:
            assert outcome.episode.id in opened
    assert _play(steps) == outcomes  # deterministic: a replay gives the same outcomes
