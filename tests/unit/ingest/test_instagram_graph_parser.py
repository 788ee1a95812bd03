"""Instagram Graph API objects (fetched @mentions, tagged media) parsed exactly, and never crashing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import instagram_graph, meta
from smm_ingest.domain.items import AccountContext, NewItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import MentionDraft, natural_key, normalise
from smm_shared.events import Author, MentionKind, Network
from smm_shared.testing import json_properties as jp

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"
IG = "17841405822304914"
ACCOUNT = AccountContext(Network.INSTAGRAM, frozenset({IG, "acme.store"}))
SOURCES = ["any json", "json in the samples' vocabulary", "broken samples", "every single mutation"]
SAMPLES = jp.load_samples(PAYLOADS / "instagram")


def load(name: str, network: str = "instagram") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / network / f"{name}.json").read_text())
    return data


def parse(payload: Any) -> ParsedPayload:
    return instagram_graph.parse_graph_item(payload, ACCOUNT)


def only(parsed: ParsedPayload) -> NewItem:
    assert len(parsed.items) == 1, parsed
    (item,) = parsed.items
    assert isinstance(item, NewItem)
    return item


def test_a_mentioned_comment_is_a_comment_on_its_media() -> None:
    item = only(parse(load("mentioned_comment")))

    assert item == NewItem(
        MentionDraft(
            network=Network.INSTAGRAM,
            kind=MentionKind.COMMENT,
            native_id="17894227972186120",
            author=Author(id="masha.travels", handle="masha.travels"),
            text="@acme.store is the blue one back in stock?",
            created_at=datetime(2025, 11, 27, 11, 16, 40, tzinfo=UTC),
            thread_id="17918195224117851",
            url="https://www.instagram.com/p/DBx3kLmN0aQ/",
        )
    )
    assert normalise(item.draft).conversation_key == "instagram:17918195224117851"


def test_a_comment_fetched_and_heard_by_the_comments_hook_is_one_mention() -> None:
    fetched = load("mentioned_comment")
    hooked = load("ig_comment", "meta")
    change = hooked["entry"][0]["changes"][0]["value"]
    change["id"] = fetched["value"]["id"]
    change["media"]["id"] = fetched["value"]["media"]["id"]

    via_fetch = only(parse(fetched)).draft
    via_hook = meta.parse(hooked, ACCOUNT).items[0]

    assert isinstance(via_hook, NewItem)
    assert natural_key("b", via_fetch.network, via_fetch.native_id) == natural_key(
        "b", via_hook.draft.network, via_hook.draft.native_id
    )
    assert normalise(via_fetch).conversation_key == normalise(via_hook.draft).conversation_key


def test_a_mentioned_comment_without_media_is_its_own_thread() -> None:
    draft = only(parse(load("mentioned_comment_no_media"))).draft

    assert draft.thread_id is None
    assert draft.url is None
    assert normalise(draft).conversation_key == "instagram:17873440459141021"


def test_a_caption_mention_is_a_post_with_its_permalink() -> None:
    item = only(parse(load("mentioned_media")))

    assert item == NewItem(
        MentionDraft(
            network=Network.INSTAGRAM,
            kind=MentionKind.POST,
            native_id="17918195224117851",
            author=Author(id="masha.travels", handle="masha.travels"),
            text="New jacket from acme.store, loving it ❤️ #ootd",
            created_at=datetime(2025, 11, 27, 10, 2, 11, tzinfo=UTC),
            thread_id="17918195224117851",
            url="https://www.instagram.com/p/DBx3kLmN0aQ/",
        )
    )


def test_tagged_media_is_a_post_and_the_same_media_mentioned_is_the_same_mention() -> None:
    tagged = only(parse(load("tagged_media"))).draft
    also_mentioned = load("tagged_media")
    also_mentioned["field"] = "mentioned_media"

    assert tagged.kind is MentionKind.POST
    assert tagged.native_id == "18031529713123456"
    assert tagged.author == Author(id="tech.reviews.ua", handle="tech.reviews.ua")
    assert tagged.created_at == datetime(2025, 11, 26, 18, 30, tzinfo=UTC)
    assert only(parse(also_mentioned)).draft == tagged


def test_media_without_caption_has_empty_text() -> None:
    draft = only(parse(load("tagged_media_no_caption"))).draft

    assert draft.text == ""
    assert draft.url == "https://www.instagram.com/reel/DBw1AbCdEfG/"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("tagged_media_own", "instagram: own media 18031529713123458"),
        (
            "tagged_media_without_username",
            "instagram: tagged media 18031529713123459 without username",
        ),
    ],
)
def test_own_and_authorless_media_are_skipped(name: str, reason: str) -> None:
    parsed = parse(load(name))

    assert parsed.items == ()
    assert parsed.ignored == (reason,)


def test_our_username_is_recognised_in_any_case() -> None:
    payload = load("mentioned_comment")
    payload["value"]["username"] = "ACME.Store"

    assert parse(payload).ignored == ("instagram: own comment 17894227972186120",)


@pytest.mark.parametrize(
    "permalink",
    [
        "https://evil.example/p/DBx3kLmN0aQ/",
        "http://www.instagram.com/p/DBx3kLmN0aQ/",
        "https://www.instagram.com.evil.example/p/x/",
        "https://www.instagram.com/p/has space/",
        42,
    ],
)
def test_only_instagram_permalinks_become_urls(permalink: object) -> None:
    payload = load("mentioned_media")
    payload["value"]["permalink"] = permalink

    assert only(parse(payload)).draft.url is None


def test_unknown_fields_are_ignored() -> None:
    parsed = parse({"field": "stories", "value": {}})

    assert parsed == ParsedPayload(ignored=("instagram: stories: not handled",))


@pytest.mark.parametrize(
    ("mutate", "code", "where"),
    [
        (lambda p: p.pop("field"), "payload.missing_field", "field"),
        (lambda p: p.update(value=[]), "payload.bad_type", "value"),
        (lambda p: p["value"].pop("id"), "payload.missing_field", "value.id"),
        (lambda p: p["value"].pop("timestamp"), "payload.missing_field", "value.timestamp"),
        (
            lambda p: p["value"].update(timestamp="yesterday"),
            "payload.bad_value",
            "value.timestamp",
        ),
        (lambda p: p["value"].update(timestamp=1764242200), "payload.bad_type", "value.timestamp"),
        (lambda p: p["value"].update(text=["x"]), "payload.bad_type", "value.text"),
        (lambda p: p["value"]["media"].pop("id"), "payload.missing_field", "value.media.id"),
    ],
)
def test_malformed_objects_raise_payload_errors(mutate: Any, code: str, where: str) -> None:
    payload = load("mentioned_comment")
    mutate(payload)

    with pytest.raises(PayloadError) as caught:
        parse(payload)

    assert caught.value.code == code
    assert where in caught.value.message


def test_every_sample_parses_into_items_or_reasons() -> None:
    """The samples themselves are readable; an unreadable fixture would test only the error path."""
    assert len(SAMPLES) >= 7
    for sample in SAMPLES:
        parsed = parse(sample)
        assert parsed.items or parsed.ignored


@pytest.mark.parametrize("source", SOURCES)
def test_payloads_parse_or_raise_payload_error(
    source: str, check_parser: Callable[..., None]
) -> None:
    check_parser(parse, SAMPLES, source, max_examples=200, min_single=500)
