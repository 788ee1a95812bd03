"""Content items: the status table (every pair), POST limits at the boundary, schedule, UTM."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smm_publisher.domain.content import (
    ContentError,
    ContentItem,
    ContentStatus,
    InvalidTransitionError,
    Schedule,
    Variant,
    can_transition,
    check_transition,
    duplicate,
    fingerprint,
    post_length,
    readiness,
    with_utm,
)
from smm_shared.events import Network

pytestmark = pytest.mark.unit

IMG = "https://cdn.example.com/a.jpg"
MOSCOW = "Europe/Moscow"


def item(**changes: object) -> ContentItem:
    base = ContentItem(
        id="c1",
        brand_id="acme",
        title="Spring sale",
        variants=(
            Variant(Network.X, "Spring sale starts today", link="https://acme.example/sale"),
            Variant(Network.INSTAGRAM, "Spring sale", media_urls=(IMG,)),
        ),
        targets=frozenset({"x-acme", "ig-acme"}),
        campaign_id="spring25",
        labels=frozenset({"promo"}),
        schedule=Schedule(datetime(2025, 3, 1, 9, 30, tzinfo=UTC), MOSCOW),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- the status table ---------------------------------------------------------------------

# Every allowed pair, spelled out: the table in the code is checked against this one.
ALLOWED = {
    ("draft", "submitted"),
    ("draft", "scheduled"),
    ("draft", "cancelled"),
    ("submitted", "approved"),
    ("submitted", "rejected"),
    ("submitted", "draft"),
    ("submitted", "cancelled"),
    ("approved", "scheduled"),
    ("approved", "draft"),
    ("approved", "cancelled"),
    ("rejected", "submitted"),
    ("rejected", "draft"),
    ("rejected", "cancelled"),
    ("scheduled", "publishing"),
    ("scheduled", "approved"),
    ("scheduled", "draft"),
    ("scheduled", "cancelled"),
    ("publishing", "published"),
    ("publishing", "failed"),
    ("failed", "publishing"),
    ("failed", "scheduled"),
    ("failed", "draft"),
    ("failed", "cancelled"),
}
PAIRS = [(a, b) for a in ContentStatus for b in ContentStatus]


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_pair_of_statuses(current: ContentStatus, target: ContentStatus) -> None:
    expected = (current.value, target.value) in ALLOWED
    assert can_transition(current, target) is expected
    if expected:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransitionError) as info:
            check_transition(current, target)
        assert info.value.code == "content.invalid_transition"
        assert (info.value.current, info.value.target) == (current, target)


def test_a_refused_move_names_the_allowed_ones() -> None:
    with pytest.raises(InvalidTransitionError, match=r"allowed: approved, cancelled, draft, rej"):
        check_transition(ContentStatus.SUBMITTED, ContentStatus.PUBLISHED)
    with pytest.raises(InvalidTransitionError, match="none: published is final"):
        check_transition(ContentStatus.PUBLISHED, ContentStatus.DRAFT)


def test_with_status_moves_the_item_and_refuses_a_bad_move() -> None:
    submitted = item().with_status(ContentStatus.SUBMITTED)
    assert submitted.status is ContentStatus.SUBMITTED
    with pytest.raises(InvalidTransitionError):
        submitted.with_status(ContentStatus.PUBLISHING)


# --- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "limit", "media"),
    [
        (Network.X, 280, ()),
        (Network.MASTODON, 500, ()),
        (Network.INSTAGRAM, 2_200, (IMG,)),
        (Network.TELEGRAM, 4_096, ()),
        (Network.TELEGRAM, 1_024, (IMG,)),
        (Network.FACEBOOK, 63_206, ()),
        (Network.VK, 16_384, ()),
        (Network.YOUTUBE, 10_000, ()),
    ],
)
def test_the_text_limit_is_accepted_and_one_more_is_refused_with_how_much_to_cut(
    network: Network, limit: int, media: tuple[str, ...]
) -> None:
    assert Variant(network, "я" * limit, media_urls=media).text == "я" * limit
    with pytest.raises(ContentError, match=f"this one has {limit + 1}. Shorten it by 1.") as info:
        Variant(network, "я" * (limit + 1), media_urls=media)
    assert info.value.code == "content.too_long"


def test_the_cut_is_the_whole_excess() -> None:
    with pytest.raises(ContentError, match=r"Shorten it by 20\.$"):
        Variant(Network.X, "a" * 300)


def test_telegram_says_it_is_a_caption_when_media_are_attached() -> None:
    with pytest.raises(ContentError, match="telegram accepts 1024 characters in a caption"):
        Variant(Network.TELEGRAM, "a" * 1_025, media_urls=(IMG,))


def test_reddit_body_and_title_limits() -> None:
    assert Variant(Network.REDDIT, "b" * 40_000, title="t" * 300).title == "t" * 300
    with pytest.raises(ContentError, match=r"Shorten it by 1\.") as body:
        Variant(Network.REDDIT, "b" * 40_001, title="t")
    assert body.value.code == "content.too_long"
    with pytest.raises(ContentError, match=r"has 301\. Shorten it by 1\.") as title:
        Variant(Network.REDDIT, "b", title="t" * 301)
    assert title.value.code == "content.title_too_long"


def test_reddit_needs_a_title_and_other_networks_have_none() -> None:
    with pytest.raises(ContentError) as missing:
        Variant(Network.REDDIT, "body")
    assert missing.value.code == "content.title_required"
    with pytest.raises(ContentError) as unsupported:
        Variant(Network.X, "hi", title="Title")
    assert unsupported.value.code == "content.title_unsupported"


def test_x_and_mastodon_count_every_url_as_23() -> None:
    url = "https://example.com/" + "p" * 100
    assert post_length(Network.X, f"a {url}") == 2 + 23
    assert post_length(Network.MASTODON, url) == 23
    assert post_length(Network.VK, url) == len(url)
    assert Variant(Network.X, "a" * 257 + url).text.endswith(url)  # 257 + 23 = 280
    with pytest.raises(ContentError, match="Shorten it by 1"):
        Variant(Network.X, "a" * 258 + url)


def test_the_link_is_appended_and_counted_where_there_is_no_preview() -> None:
    link = "https://acme.example/" + "x" * 60
    fits = Variant(Network.X, "a" * 255, link=link)  # 255 + 2 newlines + 23
    assert fits.post_text() == "a" * 255 + "\n\n" + link
    with pytest.raises(ContentError, match="Shorten it by 1"):
        Variant(Network.X, "a" * 256, link=link)
    assert Variant(Network.FACEBOOK, "hello", link=link).post_text() == "hello"
    assert Variant(Network.X, f"see {link}", link=link).post_text() == f"see {link}"


@pytest.mark.parametrize(
    ("network", "limit"),
    [(Network.X, 4), (Network.INSTAGRAM, 10), (Network.TELEGRAM, 10), (Network.REDDIT, 20)],
)
def test_media_limit_is_accepted_and_one_more_is_refused(network: Network, limit: int) -> None:
    urls = tuple(f"https://cdn.example.com/{i}.jpg" for i in range(limit + 1))
    title = "T" if network is Network.REDDIT else None
    assert len(Variant(network, "x", media_urls=urls[:limit], title=title).media_urls) == limit
    with pytest.raises(
        ContentError, match=f"at most {limit} .* has {limit + 1}. Remove 1."
    ) as info:
        Variant(network, "x", media_urls=urls, title=title)
    assert info.value.code == "content.too_many_media"


def test_youtube_comments_carry_no_media() -> None:
    with pytest.raises(ContentError, match="youtube accepts no media files"):
        Variant(Network.YOUTUBE, "x", media_urls=(IMG,))


def test_instagram_needs_an_image() -> None:
    with pytest.raises(ContentError) as info:
        Variant(Network.INSTAGRAM, "caption")
    assert info.value.code == "content.media_required"


@pytest.mark.parametrize(
    "url", ["ftp://cdn.example.com/a.jpg", "javascript:alert(1)", "/relative.jpg", "https://"]
)
def test_media_urls_must_be_http_or_https(url: str) -> None:
    with pytest.raises(ContentError) as info:
        Variant(Network.X, "x", media_urls=(url,))
    assert info.value.code == "content.invalid_url"


def test_an_empty_post_is_refused() -> None:
    with pytest.raises(ContentError) as info:
        Variant(Network.FACEBOOK, "   ")
    assert info.value.code == "content.empty"


def test_one_variant_per_network() -> None:
    with pytest.raises(ContentError, match="repeated: x") as info:
        item(variants=(Variant(Network.X, "a"), Variant(Network.X, "b")))
    assert info.value.code == "content.duplicate_network"


# --- schedule -----------------------------------------------------------------------------


def test_a_schedule_stores_utc_and_the_zone() -> None:
    msk = timezone(timedelta(hours=3))
    schedule = Schedule(datetime(2025, 3, 1, 12, 30, tzinfo=msk), MOSCOW)
    assert schedule.at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert schedule.at.tzinfo is UTC
    assert schedule.local().replace(tzinfo=None) == datetime(2025, 3, 1, 12, 30)
    assert schedule.to_doc() == {"at": "2025-03-01T09:30:00+00:00", "time_zone": MOSCOW}


def test_naive_times_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ContentError) as naive:
        Schedule(datetime(2025, 3, 1, 12, 30), MOSCOW)
    assert naive.value.code == "content.naive_time"
    for zone in ("Mars/Olympus", "", "../etc/passwd", "Europe"):
        with pytest.raises(ContentError) as unknown:
            Schedule(datetime(2025, 3, 1, tzinfo=UTC), zone)
        assert unknown.value.code == "content.unknown_time_zone"


def test_a_time_out_of_range_in_utc_is_refused() -> None:
    with pytest.raises(ContentError) as info:
        Schedule.from_local(datetime(1, 1, 1, 0, 0), "Etc/GMT-14")  # UTC+14: before year 1
    assert info.value.code == "content.invalid_time"


def test_a_local_time_is_read_in_its_zone() -> None:
    schedule = Schedule.from_local(datetime(2025, 7, 1, 9, 0), "Europe/Berlin")
    assert schedule.at == datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # CEST is UTC+2


def test_a_time_in_the_spring_gap_is_refused_and_an_ambiguous_one_is_the_first() -> None:
    with pytest.raises(ContentError) as gap:
        Schedule.from_local(datetime(2025, 3, 30, 2, 30), "Europe/Berlin")
    assert gap.value.code == "content.nonexistent_time"
    ambiguous = Schedule.from_local(datetime(2025, 10, 26, 2, 30), "Europe/Berlin")
    assert ambiguous.at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # still CEST


# --- UTM ----------------------------------------------------------------------------------


def test_utm_is_added_to_a_plain_url() -> None:
    assert (
        with_utm("https://acme.example/sale", "spring25", network=Network.VK)
        == "https://acme.example/sale?utm_source=vk&utm_medium=social&utm_campaign=spring25"
    )


def test_utm_keeps_the_query_and_the_fragment() -> None:
    assert (
        with_utm("https://acme.example/p?id=7&b=%2F#reviews", "c1", network=Network.X)
        == "https://acme.example/p?id=7&b=%2F&utm_source=x&utm_medium=social&utm_campaign=c1#reviews"
    )


def test_utm_set_by_the_author_is_kept_and_not_added_twice() -> None:
    url = "https://acme.example/?utm_source=newsletter&x=1"
    assert (
        with_utm(url, "c1", network=Network.X)
        == "https://acme.example/?utm_source=newsletter&x=1&utm_medium=social&utm_campaign=c1"
    )


def test_utm_twice_is_utm_once() -> None:
    once = with_utm("https://acme.example/a", "c1", network=Network.TELEGRAM)
    assert with_utm(once, "c1", network=Network.TELEGRAM) == once
    assert once.count("utm_source") == 1


def test_utm_encodes_the_campaign_and_handles_a_trailing_ampersand() -> None:
    assert (
        with_utm("http://acme.example/?a=1&", "spring sale&more", network=Network.REDDIT)
        == "http://acme.example/?a=1&utm_source=reddit&utm_medium=social"
        "&utm_campaign=spring%20sale%26more"
    )


def test_utm_without_a_campaign_adds_source_and_medium() -> None:
    assert (
        with_utm("https://acme.example", None, network=Network.FACEBOOK)
        == "https://acme.example?utm_source=facebook&utm_medium=social"
    )


def test_utm_refuses_a_non_http_url() -> None:
    with pytest.raises(ContentError) as info:
        with_utm("mailto:sales@acme.example", "c1", network=Network.X)
    assert info.value.code == "content.invalid_url"


# --- duplicate, fingerprint, storage ------------------------------------------------------


def test_duplicate_is_a_new_unscheduled_draft_with_the_same_content() -> None:
    original = item(status=ContentStatus.PUBLISHED)
    copy = duplicate(original, new_id="c2")
    assert copy.id == "c2"
    assert copy.status is ContentStatus.DRAFT
    assert copy.schedule is None
    assert copy.title == "Spring sale (copy)"
    assert (copy.variants, copy.targets, copy.labels) == (
        original.variants,
        original.targets,
        original.labels,
    )
    assert fingerprint(copy) == fingerprint(original)


def test_fingerprint_ignores_schedule_title_labels_and_status() -> None:
    base = item()
    moved = item(
        schedule=Schedule(datetime(2025, 4, 1, tzinfo=UTC), "UTC"),
        title="Renamed",
        labels=frozenset({"other"}),
        status=ContentStatus.APPROVED,
    )
    assert fingerprint(moved) == fingerprint(base)


def test_fingerprint_ignores_the_order_of_variants() -> None:
    base = item()
    assert fingerprint(item(variants=tuple(reversed(base.variants)))) == fingerprint(base)


@pytest.mark.parametrize(
    "changes",
    [
        {"variants": (Variant(Network.X, "Spring sale starts tomorrow"),)},
        {"targets": frozenset({"x-acme"})},
        {"campaign_id": "summer25"},
        {
            "variants": (
                Variant(Network.X, "Spring sale starts today", link="https://acme.example/sale"),
                Variant(Network.INSTAGRAM, "Spring sale", media_urls=(IMG, IMG)),
            )
        },
    ],
    ids=["text", "targets", "campaign", "media"],
)
def test_fingerprint_changes_with_what_is_published(changes: dict[str, object]) -> None:
    assert fingerprint(item(**changes)) != fingerprint(item())


def test_fingerprint_is_a_sha256_hex_digest() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(item()))


def test_to_doc_and_from_doc_round_trip() -> None:
    original = item(status=ContentStatus.SCHEDULED)
    doc = original.to_doc()
    assert doc["_id"] == "c1"
    assert doc["targets"] == ["ig-acme", "x-acme"]
    assert doc["schedule"] == {"at": "2025-03-01T09:30:00+00:00", "time_zone": MOSCOW}
    assert ContentItem.from_doc(doc) == original


def test_from_doc_refuses_an_unknown_network() -> None:
    doc = item().to_doc()
    doc["variants"] = [{"network": "myspace", "text": "hi"}]
    with pytest.raises(ContentError) as info:
        ContentItem.from_doc(doc)
    assert info.value.code == "content.unknown_network"


def test_readiness_lists_what_is_missing() -> None:
    assert bool(readiness(item())) is True
    missing = readiness(item(targets=frozenset(), schedule=None))
    assert bool(missing) is False
    assert missing.problems == (
        "Choose at least one account to post from.",
        "Choose a time to publish.",
    )
