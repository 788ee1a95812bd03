"""Per-account rate limits: the table, the window arithmetic and the in-memory limiter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smm_publisher.adapters.rate_limiter import InMemoryRateLimiter, counter_id
from smm_publisher.domain.rate_limits import (
    KINDS,
    LIMITS,
    DocumentedLimit,
    Enforcement,
    Kind,
    Window,
    epoch_ms,
    parse_kind,
    retry_at,
    window_end,
    window_start,
    window_start_ms,
    windows_for,
)
from smm_shared.events import Network

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 1772442000 s since the epoch


def by_name(name: str) -> DocumentedLimit:
    return next(limit for limit in LIMITS if limit.name == name)


# ------------------------------------------------------------------------------ the table


@pytest.mark.parametrize("network", list(Network))
@pytest.mark.parametrize("kind", KINDS)
def test_every_network_and_kind_has_windows(network: Network, kind: Kind) -> None:
    windows = windows_for(network, kind)

    assert windows
    assert all(w.name.startswith(f"{network.value}.") for w in windows)
    assert len({w.name for w in windows}) == len(windows)


def test_every_limit_names_its_source_and_never_lets_more_through_than_documented() -> None:
    for limit in LIMITS:
        assert limit.source.startswith("https://"), limit.name
        window = limit.window
        if limit.enforcement is Enforcement.BURST:
            # Only where the network tolerates bursts and the figure cannot be split.
            assert limit.limit == 1, limit.name
            assert limit.worst_case == 2
        else:
            assert limit.worst_case <= limit.limit, limit.name
            assert window.seconds * limit.parts == limit.seconds, limit.name


def test_a_split_limit_is_cut_into_quarters_with_a_fifth_of_the_limit_each() -> None:
    x = by_name("x.tweets.15m")  # 100 per 15 min

    assert (x.parts, x.window) == (4, Window("x.tweets.15m", 20, 225))
    # 3 per second cannot be cut into whole seconds: one per second, 2 at worst in a second.
    vk = by_name("vk.api.1s")
    assert (vk.parts, vk.window, vk.worst_case) == (1, Window("vk.api.1s", 1, 1), 2)


def test_an_aligned_limit_is_enforced_exactly_as_documented() -> None:
    mastodon = by_name("mastodon.statuses.3h")

    assert mastodon.window == Window("mastodon.statuses.3h", 300, 3 * 3600)
    assert mastodon.worst_case == 300


def test_posts_and_replies_share_a_window_where_the_network_counts_them_together() -> None:
    def names(network: Network, kind: Kind) -> set[str]:
        return {w.name for w in windows_for(network, kind)}

    # A reply is a tweet: the API window is shared, the daily account caps are separate.
    assert names(Network.X, "post") & names(Network.X, "reply") == {"x.tweets.15m"}
    assert "x.posts.24h" in names(Network.X, "post") - names(Network.X, "reply")
    assert "x.replies.24h" in names(Network.X, "reply") - names(Network.X, "post")
    # Instagram replies are comment writes: they do not use up the publishing limit.
    assert not names(Network.INSTAGRAM, "post") & names(Network.INSTAGRAM, "reply")
    # VK's daily cap is wall.post's alone; the API rate is shared.
    assert names(Network.VK, "reply") == {"vk.api.1s"}
    assert names(Network.MASTODON, "post") == names(Network.MASTODON, "reply")


def test_figures_match_the_documented_limits() -> None:
    figures = {limit.name: (limit.limit, limit.seconds) for limit in LIMITS}

    assert figures["x.tweets.15m"] == (100, 900)
    assert figures["telegram.group.1m"] == (20, 60)
    assert figures["mastodon.statuses.3h"] == (300, 10_800)
    assert figures["vk.wall_posts.24h"] == (50, 86_400)
    assert figures["instagram.publish.24h"] == (50, 86_400)
    assert figures["youtube.comments.24h"] == (10_000 // 50, 86_400)
    assert figures["reddit.api.10m"][1] == 600


def test_bad_limits_are_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="split"):
        DocumentedLimit(
            Network.X, "x.one", 1, 60, frozenset({"post"}), Enforcement.SPLIT, "https://x"
        )
    with pytest.raises(ValueError, match="network"):
        DocumentedLimit(
            Network.X, "vk.wrong", 5, 60, frozenset({"post"}), Enforcement.ALIGNED, "https://x"
        )
    with pytest.raises(ValueError, match="limit"):
        Window("w", 0, 60)
    with pytest.raises(ValueError, match="name"):
        Window("a|b", 1, 60)


def test_kinds_other_than_post_and_reply_are_refused() -> None:
    assert parse_kind("reply") == "reply"
    with pytest.raises(ValueError, match="kind"):
        parse_kind("story")


# ------------------------------------------------------------------ the window arithmetic


def test_windows_are_aligned_to_the_utc_epoch() -> None:
    quarter = Window("w", 5, 900)
    at = T0 + timedelta(minutes=7, seconds=30, microseconds=999)

    assert window_start(at, quarter) == T0
    assert window_end(at, quarter) == T0 + timedelta(minutes=15)
    assert window_start_ms(at, quarter) == epoch_ms(T0) == 1_772_442_000_000
    # The boundary belongs to the next window.
    assert window_start(T0 + timedelta(minutes=15), quarter) == T0 + timedelta(minutes=15)
    assert window_start(T0 - timedelta(microseconds=1), quarter) == T0 - timedelta(minutes=15)


def test_alignment_does_not_depend_on_the_time_zone_of_now() -> None:
    day = Window("d", 5, 86_400)
    moscow = T0.astimezone(timezone(timedelta(hours=3)))

    assert window_start(moscow, day) == datetime(2026, 3, 2, tzinfo=UTC)
    assert window_start(moscow, day) == window_start(T0, day)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        window_start(datetime(2026, 3, 2, 9, 0), Window("w", 1, 60))


def test_retry_at_is_when_the_last_full_window_opens_again() -> None:
    minute, hour = Window("m", 1, 60), Window("h", 1, 3600)
    at = T0 + timedelta(seconds=90)

    assert retry_at(at, [minute]) == T0 + timedelta(minutes=2)
    assert retry_at(at, [minute, hour]) == T0 + timedelta(hours=1)
    with pytest.raises(ValueError, match="full window"):
        retry_at(at, [])


# -------------------------------------------------------------------- in-memory limiter

SHORT = Window("x.short", 3, 60)
LONG = Window("x.long", 5, 3600)


def table(network: Network, kind: Kind) -> tuple[Window, ...]:
    """Posts take SHORT and LONG, replies LONG only."""
    return (SHORT, LONG) if kind == "post" else (LONG,)


async def test_a_window_lets_its_limit_through_and_then_names_when_to_retry() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    go = [
        await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)
        for _ in range(4)
    ]

    assert go[:3] == [None, None, None]
    assert go[3] == T0 + timedelta(minutes=1)
    assert await limiter.used(account_key="a1", window=SHORT, now=T0) == 3


async def test_the_next_window_opens_again() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    for _ in range(3):
        await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)

    later = T0 + timedelta(minutes=1)
    assert (
        await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=later) is None
    )
    assert await limiter.used(account_key="a1", window=SHORT, now=later) == 1
    assert await limiter.used(account_key="a1", window=LONG, now=later) == 4


async def test_a_refusal_by_a_later_window_takes_no_slot_in_the_earlier_ones() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    for _ in range(5):  # replies fill LONG without touching SHORT
        assert (
            await limiter.acquire(account_key="a1", network=Network.X, kind="reply", now=T0) is None
        )

    answer = await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)

    assert answer == T0 + timedelta(hours=1)
    assert await limiter.used(account_key="a1", window=SHORT, now=T0) == 0
    assert await limiter.used(account_key="a1", window=LONG, now=T0) == 5


async def test_retry_waits_for_every_full_window_not_only_the_first() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    for kind in ("reply", "reply", "post", "post", "post"):  # SHORT 3/3, LONG 5/5
        assert await limiter.acquire(account_key="a1", network=Network.X, kind=kind, now=T0) is None

    answer = await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)

    assert answer == T0 + timedelta(hours=1)


def test_windows_come_longest_first() -> None:
    for network in Network:
        for kind in KINDS:
            seconds = [w.seconds for w in windows_for(network, kind)]
            assert seconds == sorted(seconds, reverse=True)


async def test_accounts_are_counted_apart() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    for _ in range(3):
        await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)

    assert await limiter.acquire(account_key="a2", network=Network.X, kind="post", now=T0) is None
    assert await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)


async def test_real_table_x_replies_and_posts_share_the_15_minute_window() -> None:
    limiter = InMemoryRateLimiter()
    api = next(w for w in windows_for(Network.X, "post") if w.name == "x.tweets.15m")
    for i in range(api.limit):
        kind = "post" if i % 4 == 0 else "reply"  # 5 posts (under 10) and 15 replies
        assert await limiter.acquire(account_key="u", network=Network.X, kind=kind, now=T0) is None

    answer = await limiter.acquire(account_key="u", network=Network.X, kind="reply", now=T0)

    assert answer == window_end(T0, api)


async def test_purge_forgets_ended_windows_only() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    await limiter.acquire(account_key="a1", network=Network.X, kind="post", now=T0)

    assert await limiter.purge(before=T0 + timedelta(minutes=30)) == 1  # SHORT ended
    assert await limiter.used(account_key="a1", window=SHORT, now=T0) == 0
    assert await limiter.used(account_key="a1", window=LONG, now=T0) == 1


async def test_bad_account_keys_and_kinds_are_refused() -> None:
    limiter = InMemoryRateLimiter(windows=table)
    with pytest.raises(ValueError, match="account_key"):
        await limiter.acquire(account_key="a|b", network=Network.X, kind="post", now=T0)
    with pytest.raises(ValueError, match="kind"):
        await limiter.acquire(account_key="a", network=Network.X, kind="story", now=T0)


def test_counter_ids_keep_accounts_windows_and_periods_apart() -> None:
    ids = {
        counter_id(account, window, start)
        for account in ("a", "b")
        for window in (SHORT, LONG)
        for start in (0, 60_000)
    }
    assert len(ids) == 8


@pytest.mark.parametrize(
    "name", [limit.name for limit in LIMITS if limit.enforcement is Enforcement.SPLIT]
)
async def test_greedy_sending_never_exceeds_a_split_limit_in_any_sliding_interval(
    name: str,
) -> None:
    """Send whenever the limiter allows, at random times over 3 periods; then slide an
    interval of the documented length over every send and count what falls in it."""
    documented = by_name(name)
    window = documented.window
    limiter = InMemoryRateLimiter(windows=lambda _n, _k: (window,))
    rng = random.Random(name)
    period_ms = documented.seconds * 1000
    # About 4 tries per slot, so the limiter, not chance, decides.
    tries = 3 * (documented.parts + 1) * window.limit * 4
    times = sorted(rng.randrange(3 * period_ms) for _ in range(tries))
    sent: list[int] = []
    for ms in times:
        now = T0 + timedelta(milliseconds=ms)
        if (
            await limiter.acquire(account_key="a", network=documented.network, kind="post", now=now)
            is None
        ):
            sent.append(ms)

    busiest = max(sum(1 for t in sent if start <= t < start + period_ms) for start in sent)
    assert busiest <= documented.limit
    # And the split still lets most of the limit through over a period.
    assert len(sent) >= 2 * documented.limit * documented.parts // (documented.parts + 1)
