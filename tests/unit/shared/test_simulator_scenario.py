"""The simulator's scenario: seeded, bursty where asked, threaded, trending, multilingual."""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import statistics
from collections import Counter, defaultdict

import pytest

from smm_shared.simulator import texts
from smm_shared.simulator.scenario import (
    ANCHOR_POSTS,
    CONTEST_POST,
    DELETABLE,
    EDITABLE,
    Action,
    Intent,
    Network,
    Scenario,
    ScenarioConfig,
    SimEvent,
    Surface,
    poisson_arrivals,
    take,
)

pytestmark = pytest.mark.unit


def run(duration: float, **config: float) -> list[SimEvent]:
    return list(take(Scenario(ScenarioConfig(**config)).events(), duration=duration))  # type: ignore[arg-type]  # numbers only


@pytest.fixture(scope="module")
def ten_minutes() -> list[SimEvent]:
    """Ten minutes at 10 events/s with the default burst (minute 2, one minute, x5)."""
    return run(600, seed=7, rate=10)


def test_the_same_seed_gives_the_same_events() -> None:
    first = run(120, seed=42, rate=5)
    again = run(120, seed=42, rate=5)
    other = run(120, seed=43, rate=5)

    assert first == again
    assert [e.text for e in first] != [e.text for e in other]


def test_events_are_time_ordered_with_unique_ids(ten_minutes: list[SimEvent]) -> None:
    times = [e.at for e in ten_minutes]
    assert times == sorted(times)
    assert len({e.uid for e in ten_minutes}) == len(ten_minutes)
    assert [e.seq for e in ten_minutes] == list(range(1, len(ten_minutes) + 1))
    new = [e for e in ten_minutes if e.action is Action.NEW]
    assert all(e.message_id == e.uid for e in new)


def test_id_base_moves_ids_but_not_the_story() -> None:
    first = run(60, seed=1, rate=5, id_base=1_000)
    later = run(60, seed=1, rate=5, id_base=9_000_000)

    assert [e.text for e in first] == [e.text for e in later]
    assert {e.uid for e in first}.isdisjoint({e.uid for e in later})


def test_poisson_arrivals_give_about_rate_times_duration() -> None:
    rate, duration = 4.0, 2_000.0
    counts = [
        sum(1 for _ in poisson_arrivals(random.Random(seed), rate, end=duration))
        for seed in range(5)
    ]
    expected, sigma = rate * duration, math.sqrt(rate * duration)

    for count in counts:
        assert abs(count - expected) < 4 * sigma


def test_poisson_gaps_are_exponential() -> None:
    times = list(poisson_arrivals(random.Random(3), 2.0, end=5_000.0))
    gaps = [b - a for a, b in itertools.pairwise([0.0, *times])]

    mean = statistics.fmean(gaps)
    assert mean == pytest.approx(0.5, rel=0.05)
    # An exponential distribution's standard deviation equals its mean (not a fixed tick).
    assert statistics.stdev(gaps) == pytest.approx(mean, rel=0.08)


def test_the_scenario_sends_about_the_requested_count() -> None:
    config = ScenarioConfig(seed=5, rate=3.0, burst_for=0)
    duration = 1_000.0

    events = list(take(Scenario(config).events(), duration=duration))

    expected = config.expected_count(duration)
    assert expected == 3_000
    assert abs(len(events) - expected) < 4 * math.sqrt(expected)


def test_expected_count_includes_the_burst() -> None:
    config = ScenarioConfig(rate=10, burst_at=100, burst_for=50, burst_factor=5)
    events = list(take(Scenario(config).events(), duration=300))

    assert config.expected_count(300) == pytest.approx(3000 + config.burst_rate * 50)
    assert abs(len(events) - config.expected_count(300)) < 4 * math.sqrt(config.expected_count(300))


def test_count_stops_after_n_events() -> None:
    events = list(take(Scenario(ScenarioConfig()).events(), count=25))

    assert len(events) == 25


def test_the_burst_multiplies_new_negative_conversations_in_its_window() -> None:
    config = ScenarioConfig(seed=11, rate=20, burst_at=300, burst_for=100, burst_factor=5)
    events = list(take(Scenario(config).events(), duration=600))

    def negative_openers_per_second(start: float, end: float) -> float:
        n = sum(
            1
            for e in events
            if start <= e.at < end and e.opens_conversation and e.sentiment == "negative"
        )
        return n / (end - start)

    before = negative_openers_per_second(30, 300)  # after a short warm-up
    during = negative_openers_per_second(300, 400)
    after = negative_openers_per_second(420, 600)

    assert before == pytest.approx(config.negative_open_rate, rel=0.15)
    assert during / before == pytest.approx(5, rel=0.15)
    assert after / before == pytest.approx(1, rel=0.2)
    burst = [e for e in events if e.burst]
    assert burst
    assert all(e.at >= 300 for e in burst)
    assert {e.intent for e in burst} == {Intent.OUTAGE}


def test_no_burst_when_disabled() -> None:
    events = run(400, seed=2, rate=5, burst_for=0)

    assert not any(e.burst for e in events)


def test_conversations_have_several_messages_from_the_same_author(
    ten_minutes: list[SimEvent],
) -> None:
    by_conversation: dict[int, list[SimEvent]] = defaultdict(list)
    for e in ten_minutes:
        if e.action is Action.NEW:
            by_conversation[e.conversation].append(e)

    sizes = Counter(len(messages) for messages in by_conversation.values())
    assert sum(n for size, n in sizes.items() if size >= 3) >= 50
    for messages in by_conversation.values():
        assert len({m.author for m in messages}) == 1
        assert len({m.network for m in messages}) == 1
        assert [m.position for m in messages] == list(range(len(messages)))


def test_follow_ups_stay_in_the_thread(ten_minutes: list[SimEvent]) -> None:
    roots = {e.conversation: e for e in ten_minutes if e.opens_conversation}
    follow_ups = [e for e in ten_minutes if e.action is Action.NEW and e.position > 0]
    assert follow_ups

    for e in follow_ups:
        root = roots[e.conversation]
        assert e.at - root.at >= 2.0  # people take time to write again
        if root.network is Network.X:
            # X threads: replies to the first post, under the conversation it started or
            # joined (its own id, or the brand's post it replied under).
            assert e.surface is Surface.COMMENT
            assert e.post_id == (root.post_id if root.surface is Surface.COMMENT else root.uid)
            assert e.reply_to is not None
            assert (e.reply_to.message_id, e.reply_to.author) == (root.message_id, root.author)
        elif root.surface is Surface.POST:
            assert (e.surface, e.post_id, e.reply_to) == (Surface.COMMENT, root.message_id, None)
        elif root.surface is Surface.DIRECT:
            assert e.surface is Surface.DIRECT
        else:
            assert e.surface is root.surface
            assert e.post_id == root.post_id
            assert e.reply_to is not None
            assert e.reply_to.message_id == root.message_id
            assert e.reply_to.author == root.author


def test_edits_and_deletions_touch_earlier_messages(ten_minutes: list[SimEvent]) -> None:
    written = {e.message_id: e for e in ten_minutes if e.action is Action.NEW}
    deleted: set[int] = set()
    edits = [e for e in ten_minutes if e.action is Action.EDIT]
    deletions = [e for e in ten_minutes if e.action is Action.DELETE]
    assert len(edits) > 20
    assert len(deletions) > 10

    for e in ten_minutes:
        if e.action is Action.NEW:
            continue
        original = written[e.message_id]
        assert e.message_id not in deleted
        assert original.at + 2.0 <= e.at
        assert (e.author, e.created_at, e.conversation) == (
            original.author,
            original.at,
            original.conversation,
        )
        if e.action is Action.EDIT:
            assert (e.network, e.surface) in EDITABLE
            assert e.text.startswith(original.text)
            assert len(e.text) > len(original.text)
        else:
            assert (e.network, e.surface) in DELETABLE
            deleted.add(e.message_id)
    assert {e.network for e in edits} >= {Network.VK, Network.TELEGRAM, Network.FACEBOOK}


def test_the_trending_hashtag_spreads_over_time() -> None:
    config = ScenarioConfig(seed=9, rate=20, burst_for=0, trend_ramp_s=400, trend_max_share=0.6)
    events = list(take(Scenario(config).events(), duration=600))

    def share(start: float, end: float) -> float:
        openers = [
            e
            for e in events
            if start <= e.at < end
            and e.opens_conversation
            and e.intent in (Intent.COMPLAINT, Intent.PRAISE, Intent.QUESTION)
        ]
        return sum(texts.TREND_TAG in e.hashtags for e in openers) / len(openers)

    early, middle, late = share(0, 100), share(150, 250), share(450, 600)
    assert early < middle < late
    assert early == pytest.approx(config.trend_share(50), abs=0.05)
    assert late == pytest.approx(0.6, abs=0.05)


def test_contest_entries_are_comments_under_the_one_contest_post(
    ten_minutes: list[SimEvent],
) -> None:
    contest = [e for e in ten_minutes if e.intent is Intent.CONTEST and e.action is Action.NEW]
    assert len(contest) > 100

    for e in contest:
        assert (e.network, e.surface, e.post_id) == (
            Network.INSTAGRAM,
            Surface.COMMENT,
            CONTEST_POST,
        )
        assert texts.GIVEAWAY_TAG in e.hashtags
        assert "@" in e.text
    others = [e for e in ten_minutes if e.intent is not Intent.CONTEST]
    assert not any(texts.GIVEAWAY_TAG in e.text for e in others)


def test_every_language_and_network_is_played(ten_minutes: list[SimEvent]) -> None:
    assert {e.language for e in ten_minutes} == set(texts.LANGUAGES)
    assert {e.network for e in ten_minutes} == set(Network)
    assert {e.intent for e in ten_minutes} == set(Intent)


def test_texts_are_filled_in_and_in_the_authors_language(ten_minutes: list[SimEvent]) -> None:
    for e in ten_minutes:
        assert e.text.strip()
        assert "{" not in e.text
        assert "}" not in e.text
    cyrillic = [e for e in ten_minutes if e.language in ("ru", "uk") and e.opens_conversation]
    assert all(any("а" <= ch.lower() <= "я" or ch in "іїєґ" for ch in e.text) for e in cyrillic)
    # A Ukrainian opener uses Ukrainian words, not the Russian template.
    ukrainian = [e.text for e in ten_minutes if e.language == "uk"]
    assert not any("Приложение" in t for t in ukrainian)


def test_authors_are_stable_people() -> None:
    one, two = Scenario(ScenarioConfig(seed=4)), Scenario(ScenarioConfig(seed=4))

    assert one.authors == two.authors
    for network, people in one.authors.items():
        assert len({p.user_id for p in people}) == len(people)
        assert len({p.handle for p in people}) == len(people)
        assert all(p.network is network and p.followers >= 0 for p in people)
        assert all(p.handle.isascii() for p in people)
    followers = [p.followers for people in one.authors.values() for p in people]
    assert max(followers) > 10 * statistics.median(followers)  # a few big accounts


def test_russian_family_names_agree_with_the_first_name() -> None:
    people = [
        p
        for people in Scenario(ScenarioConfig(seed=8)).authors.values()
        for p in people
        if p.language == "ru"
    ]
    female = {n.native for n in texts.RU.first_names if n.female}

    assert people
    for p in people:
        assert p.last_name.endswith("а") == (p.first_name in female)


@pytest.mark.parametrize(
    "bad",
    [
        {"rate": 0},
        {"rate": float("nan")},
        {"burst_factor": 0.5},
        {"burst_at": -1},
        {"trend_max_share": 1.5},
        {"trend_ramp_s": 0},
    ],
)
def test_invalid_configs_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        ScenarioConfig(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_every_phrasebook_has_every_group(language: str) -> None:
    book = texts.PHRASEBOOKS[language]

    assert set(book.texts) == set(texts.GROUPS)
    assert all(book.texts[group] for group in texts.GROUPS)
    assert book.greetings
    assert {n.female for n in book.first_names} == {True, False}


# --- X ----------------------------------------------------------------------------------------


def test_x_people_mention_the_brand_in_threads(ten_minutes: list[SimEvent]) -> None:
    x = [e for e in ten_minutes if e.network is Network.X]
    assert len(x) > 300

    assert {e.action for e in x} == {Action.NEW}  # the filtered stream carries no edits
    openers = [e for e in x if e.opens_conversation]
    assert {e.surface for e in openers} == {Surface.POST, Surface.COMMENT}
    for e in openers:
        if e.surface is Surface.POST:
            assert (e.post_id, e.reply_to) == (e.uid, None)
            assert texts.BRAND in e.text
        else:  # a reply under one of the brand's own posts
            assert e.post_id in ANCHOR_POSTS[Network.X]
            assert e.reply_to is None
            assert e.text.startswith(texts.BRAND_HANDLE)
    replies = [e for e in x if e.position > 0]
    assert len(replies) > 50
    assert all(e.text.startswith(f"{texts.BRAND_HANDLE} ") for e in replies)
    # Several languages, complaints and praise, the trending hashtag and the outage burst.
    assert len({e.language for e in x}) >= 6
    assert {e.intent for e in x} == {
        Intent.COMPLAINT,
        Intent.PRAISE,
        Intent.QUESTION,
        Intent.OUTAGE,
    }
    assert any(texts.TREND_TAG in e.hashtags for e in x)
    assert any(e.burst for e in x)


def test_x_handles_are_valid_x_usernames() -> None:
    people = Scenario(ScenarioConfig(seed=6)).authors[Network.X]

    assert len({p.handle for p in people}) == len(people)
    for p in people:
        assert 1 <= len(p.handle) <= 15
        assert all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in p.handle), p.handle


def test_without_x_the_stream_is_the_one_played_before_x_existed() -> None:
    config = {"seed": 5, "rate": 10, "burst_at": 20, "burst_for": 20}
    without = run(120, **config, play_x=False)
    with_x = run(120, **config)

    assert not any(e.network is Network.X for e in without)
    assert any(e.network is Network.X for e in with_x)
    # The digest of this run as the simulator played it before X was added: seeded runs of
    # the other networks did not change (fields as in SimEvent, times to 9 decimals).
    digest = hashlib.sha256()
    for e in without:
        fields = (
            e.seq, e.uid, round(e.at, 9), e.network.value, e.action.value, e.surface.value,
            e.conversation, e.position, e.message_id, e.post_id,
            e.reply_to.message_id if e.reply_to else None, e.author.user_id, e.author.handle,
            e.intent.value, e.text, e.burst,
        )  # fmt: skip
        digest.update(repr(fields).encode())
    assert digest.hexdigest() == "df5a643886e5d0220e473f3ad0e0eeddf4bdf071ba27f027527fcb5db835e67f"
