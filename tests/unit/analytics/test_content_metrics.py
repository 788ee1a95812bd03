"""Content metrics calculations: engagements, rates, costs, best-time grid, zones, ranges, spend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from smm_analytics.adapters.content_store import PostRow, SpendEntry, post_key
from smm_analytics.api.csv_export import cell as _cell
from smm_analytics.domain.rollups import latest_engagement
from smm_analytics.services.content import (
    MAX_RANGE,
    CurrencyMismatchError,
    InvalidRangeError,
    RangeTooLongError,
    SpendNotFoundError,
    TimeSlot,
    UnknownZoneError,
    best_slots,
    campaign_stats,
    cost_per,
    engagement_rate,
    engagements,
    load_zone,
    post_stats,
    resolve_range,
    sort_posts,
    time_slots,
    totals,
    with_entry,
    without_entry,
)
from smm_shared.events import EngagementObserved, Network

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a Monday


def row(network: str, native: str, observed: bool = True, **counters: int) -> PostRow:
    return PostRow(
        brand_id="acme",
        network=network,
        native_id=native,
        counters=counters,
        observed_at=T0 if observed else None,
        published_at=T0,
    )


def entry(amount: int, currency: str = "RUB", network: str | None = None) -> SpendEntry:
    return SpendEntry(
        id=f"e{amount}{network}",
        amount_minor=amount,
        currency=currency,
        spent_on=date(2026, 3, 1),
        created_at=T0,
        created_by="user:olga",
        network=network,
    )


# --- engagements, rates, costs ---------------------------------------------------------


def test_engagements_add_the_reported_likes_comments_and_shares_only() -> None:
    assert engagements({"likes": 5, "comments": 2, "shares": 1, "views": 900}) == 8
    assert engagements({"shares": 4, "views": 100, "clicks": 7}) == 4
    assert engagements({"likes": 0}) == 0
    assert engagements({"views": 100, "clicks": 3}) is None
    assert engagements({}) is None


def test_engagement_rate_needs_views() -> None:
    assert engagement_rate(25, 1_000) == 0.025
    assert engagement_rate(1, 3) == 0.333333
    assert engagement_rate(5, 0) is None
    assert engagement_rate(5, None) is None
    assert engagement_rate(None, 100) is None
    stats = post_stats(row("telegram", "t1", views=400, shares=10))
    assert (stats.engagements, stats.engagement_rate, stats.likes, stats.clicks) == (
        10,
        0.025,
        None,
        None,
    )


def test_cost_per_unit_in_minor_units_or_none() -> None:
    assert cost_per(100_000, 400) == 250.0
    assert cost_per(1_000, 3) == 333.33
    assert cost_per(2, 3) == 0.67
    assert cost_per(1_000, 0) is None
    assert cost_per(1_000, None) is None
    assert cost_per(0, 10) is None  # no spend entered: no cost known


def test_totals_sum_what_is_reported_and_rate_only_posts_with_views() -> None:
    rows = [
        row("x", "1", likes=10, comments=5, shares=5, views=1_000, clicks=30),
        row("vk", "2", likes=20, comments=0, shares=0),  # no views: out of the rate
        row("telegram", "3", views=500, shares=5),
        row("youtube", "4", observed=False),
    ]
    found = totals(rows)
    assert (found.posts, found.observed) == (4, 3)
    assert (found.likes, found.comments, found.shares) == (30, 5, 10)
    assert (found.views, found.clicks, found.engagements) == (1_500, 30, 45)
    assert found.engagement_rate == round((20 + 5) / 1_500, 6)
    nothing = totals([row("telegram", "5", views=10)])
    assert (nothing.engagements, nothing.clicks, nothing.engagement_rate) == (None, None, None)


def test_campaign_costs_in_total_and_per_network() -> None:
    rows = [
        row("x", "1", likes=100, comments=50, shares=50, views=10_000, clicks=80),
        row("x", "2", likes=30, comments=10, shares=10, views=5_000, clicks=20),
        row("vk", "3", likes=200, comments=20, shares=30, views=9_000),
    ]
    entries = [entry(30_000, network="x"), entry(10_000, network="vk"), entry(5_000)]
    stats = campaign_stats("spring", rows, entries)
    assert (stats.spend_minor, stats.currency, stats.spend_unassigned_minor) == (
        45_000,
        "RUB",
        5_000,
    )
    assert stats.totals.engagements == 500
    assert stats.cost_per_engagement_minor == 90.0  # 45,000 / 500
    assert stats.cost_per_click_minor == 450.0  # all spend over the 100 clicks X reports
    vk, x = stats.networks  # by network name
    assert (x.network, x.totals.posts, x.totals.engagements, x.spend_minor) == ("x", 2, 250, 30_000)
    assert (x.cost_per_engagement_minor, x.cost_per_click_minor) == (120.0, 300.0)
    assert (vk.totals.clicks, vk.cost_per_click_minor) == (None, None)  # VK reports no clicks
    assert vk.cost_per_engagement_minor == 40.0


def test_campaign_without_spend_or_posts_has_no_costs() -> None:
    stats = campaign_stats("empty", [row("x", "1", likes=3, clicks=0)], [])
    assert (stats.spend_minor, stats.currency) == (0, None)
    assert (stats.cost_per_engagement_minor, stats.cost_per_click_minor) == (None, None)
    spent = campaign_stats("spent", [], [entry(700, network="reddit")])
    assert [n.network for n in spent.networks] == ["reddit"]
    assert spent.networks[0].totals.posts == 0
    assert spent.cost_per_engagement_minor is None


# --- zones and the best-time grid -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", "Nope/Zone", "America", "../etc/passwd", "/etc/localtime", " UTC", "Europe/Moscow "],
)
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(UnknownZoneError) as caught:
        load_zone(name)
    assert caught.value.code == "tz.unknown"


def test_grid_uses_the_local_weekday_and_hour() -> None:
    moscow = load_zone("Europe/Moscow")
    sunday_late = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # Monday 01:30 in Moscow (UTC+3)
    slots = time_slots([(sunday_late, 4), (sunday_late + timedelta(minutes=20), 6)], moscow)
    assert slots == [TimeSlot(weekday=0, hour=1, posts=2, engagements=10)]
    assert (slots[0].day, slots[0].average_engagements) == ("Mon", 5.0)
    utc = time_slots([(sunday_late, 4)], load_zone("UTC"))
    assert (utc[0].weekday, utc[0].hour) == (6, 22)


def test_grid_follows_summer_time() -> None:
    new_york = load_zone("America/New_York")  # summer time from 2026-03-08
    before = datetime(2026, 3, 6, 13, tzinfo=UTC)  # Friday 08:00 EST
    after = datetime(2026, 3, 9, 13, tzinfo=UTC)  # Monday 09:00 EDT
    slots = time_slots([(before, 1), (after, 2)], new_york)
    assert [(s.weekday, s.hour) for s in slots] == [(0, 9), (4, 8)]


def test_best_slots_need_enough_posts_and_rank_by_exact_average() -> None:
    slots = [
        TimeSlot(0, 9, posts=2, engagements=1_000),  # best average, too few posts
        TimeSlot(1, 9, posts=3, engagements=301),  # 100.33
        TimeSlot(2, 9, posts=6, engagements=602),  # 100.33 too, more posts: first
        TimeSlot(3, 9, posts=3, engagements=300),
        TimeSlot(4, 9, posts=9, engagements=9),
    ]
    best = best_slots(slots)
    assert [(s.weekday, s.hour) for s in best] == [(2, 9), (1, 9), (3, 9)]
    assert best_slots(slots, min_posts=10) == []
    assert [s.weekday for s in best_slots(slots, min_posts=1, count=1)] == [0]


# --- ranges, sorting, spend rules --------------------------------------------------------


def test_ranges_default_check_order_and_length() -> None:
    now = datetime(2026, 3, 20, 10, tzinfo=UTC)
    assert resolve_range(None, None, now=now, default=timedelta(days=30)) == (
        now - timedelta(days=30),
        now,
    )
    naive = datetime(2026, 3, 1)
    assert resolve_range(naive, None, now=now, default=timedelta(1))[0] == naive.replace(tzinfo=UTC)
    assert resolve_range(now - MAX_RANGE, now, now=now, default=timedelta(1))[0] == now - MAX_RANGE
    with pytest.raises(InvalidRangeError):
        resolve_range(now, now, now=now, default=timedelta(1))
    with pytest.raises(RangeTooLongError):
        resolve_range(now - MAX_RANGE - timedelta(seconds=1), now, now=now, default=timedelta(1))


def test_posts_sort_by_engagements_with_unknown_last_or_by_time() -> None:
    def stats(native: str, hours: int, **counters: int) -> PostRow:
        return PostRow("acme", "x", native, counters, published_at=T0 + timedelta(hours=hours))

    rows = [stats("a", 1, likes=5), stats("b", 2), stats("c", 3, likes=9), stats("d", 4, likes=5)]
    ranked = sort_posts([post_stats(r) for r in rows], "engagements")
    assert [s.native_id for s in ranked] == ["c", "d", "a", "b"]
    newest = sort_posts([post_stats(r) for r in rows], "published_at")
    assert [s.native_id for s in newest] == ["d", "c", "b", "a"]


def test_spend_keeps_one_currency_and_deletes_by_id() -> None:
    first = with_entry([], entry(100, "USD"))
    both = with_entry(first, entry(250, "USD"))
    assert [e.amount_minor for e in both] == [100, 250]
    with pytest.raises(CurrencyMismatchError) as caught:
        with_entry(both, entry(5, "EUR"))
    assert caught.value.code == "spend.currency_mismatch"
    assert without_entry(both, both[0].id) == [both[1]]
    with pytest.raises(SpendNotFoundError):
        without_entry(both, "missing")
    assert with_entry([], entry(5, "EUR"))[0].currency == "EUR"  # none left: any currency


def test_post_key_is_the_latest_engagement_key() -> None:
    snapshot = EngagementObserved(
        brand_id="acme", network=Network.VK, native_post_id="-1_2.3|$", observed_at=T0, likes=1
    )
    assert post_key("acme", "vk", "-1_2.3|$") == latest_engagement(snapshot).key


def test_csv_cells_cannot_run_as_formulas() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("@sum") == "'@sum"
    assert _cell("Spring sale") == "Spring sale"
    assert _cell(None) == ""
    assert _cell(0.025) == "0.025"
    assert _cell(T0) == "2026-03-02T12:00:00+00:00"
