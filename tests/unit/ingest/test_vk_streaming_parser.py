"""VK Streaming API messages parsed into exact items, with the Callback parser's ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_ingest.adapters.networks import vk
from smm_ingest.adapters.networks.vk_streaming import parse_stream_message
from smm_ingest.domain.items import (
    AccountContext,
    DeletedItem,
    EditedItem,
    NewItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import Author, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"
ACCOUNT = AccountContext(Network.VK, frozenset({"-123456", "123456"}))


def load(name: str, folder: str = "vk_streaming") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / folder / f"{name}.json").read_text("utf-8"))
    return data


def unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def only(parsed: ParsedPayload) -> object:
    assert parsed.ignored == ()
    assert len(parsed.items) == 1
    return parsed.items[0]


def test_comment_on_our_post_is_a_comment_in_the_post_thread() -> None:
    item = only(parse_stream_message(load("comment_new"), ACCOUNT))
    assert item == NewItem(
        draft=MentionDraft(
            network=Network.VK,
            kind=MentionKind.COMMENT,
            native_id="wall-123456_45_r801",
            author=Author(id="5501"),
            text="Когда будет доставка в Казань?",
            created_at=unix(1764238500),
            thread_id="wall-123456_45",
            url="https://vk.com/wall-123456_45?reply=801",
            on_own_post=True,
        )
    )


def test_a_comment_heard_through_both_apis_has_the_same_identity() -> None:
    streamed = only(parse_stream_message(load("comment_new"), ACCOUNT))
    called = vk.parse(load("wall_reply_new", "vk"), ACCOUNT, received_at=unix(1764238600))
    assert isinstance(streamed, NewItem)
    [item] = called.items
    assert isinstance(item, NewItem)
    assert (streamed.draft.native_id, streamed.draft.thread_id) == (
        item.draft.native_id,
        item.draft.thread_id,
    )
    assert streamed.draft.url == item.draft.url
    assert streamed.draft.created_at == item.draft.created_at


def test_a_deletion_heard_through_both_apis_names_the_same_item() -> None:
    streamed = only(parse_stream_message(load("comment_delete"), ACCOUNT))
    called = vk.parse(load("wall_reply_delete", "vk"), ACCOUNT, received_at=unix(1764241200))
    assert isinstance(streamed, DeletedItem)
    [item] = called.items
    assert isinstance(item, DeletedItem)
    assert streamed == DeletedItem(
        network=Network.VK, native_id="wall-123456_45_r801", deleted_at=unix(1764241200)
    )
    assert item.native_id == streamed.native_id


def test_update_is_an_edit_dated_by_action_time_with_line_breaks() -> None:
    item = only(parse_stream_message(load("comment_update"), ACCOUNT))
    assert isinstance(item, EditedItem)
    assert item.edited_at == unix(1764240000)
    assert item.draft.native_id == "wall77_12_r5"
    assert item.draft.thread_id == "wall77_12"
    assert item.draft.text == "Брендом доволен,\nно доставка\nдолгая"
    assert item.draft.created_at == unix(1764238800)
    assert item.draft.on_own_post is False


def test_post_by_a_user_is_a_post_thread_of_its_own() -> None:
    item = only(parse_stream_message(load("post_new"), ACCOUNT))
    assert item == NewItem(
        draft=MentionDraft(
            network=Network.VK,
            kind=MentionKind.POST,
            native_id="wall9001_310",
            author=Author(id="9001"),
            text="Купил чайник Бренд\nРаботает отлично!",
            created_at=unix(1764238600),
            thread_id="wall9001_310",
            url="https://vk.com/wall9001_310",
        )
    )


def test_restore_is_seen_as_new_again() -> None:
    item = only(parse_stream_message(load("post_restore"), ACCOUNT))
    assert isinstance(item, NewItem)
    assert item.draft.native_id == "wall9001_310"
    assert item.draft.created_at == unix(1764238600)


def test_share_of_our_post_is_a_repost_pointing_at_it() -> None:
    item = only(parse_stream_message(load("share_new"), ACCOUNT))
    assert item == NewItem(
        draft=MentionDraft(
            network=Network.VK,
            kind=MentionKind.REPOST,
            native_id="wall7003_88",
            author=Author(id="7003"),
            text="Смотрите, что Бренд выпустил",
            created_at=unix(1764239000),
            thread_id="wall7003_88",
            url="https://vk.com/wall7003_88",
            parent_native_id="wall-123456_46",
            on_own_post=True,
        )
    )


def test_topic_post_uses_the_board_scheme() -> None:
    item = only(parse_stream_message(load("topic_post_new"), ACCOUNT))
    assert isinstance(item, NewItem)
    assert item.draft.kind is MentionKind.COMMENT
    assert item.draft.native_id == "topic-123456_30_p4"
    assert item.draft.thread_id == "topic-123456_30"
    assert item.draft.url == "https://vk.com/topic-123456_30?post=4"
    assert item.draft.on_own_post is True


def test_our_own_post_is_ignored() -> None:
    parsed = parse_stream_message(load("post_own"), ACCOUNT)
    assert parsed.items == ()
    assert parsed.ignored == ("post: own post wall-123456_46",)


def test_the_same_post_is_kept_for_an_account_that_does_not_own_it() -> None:
    parsed = parse_stream_message(load("post_own"), AccountContext(Network.VK))
    assert len(parsed.items) == 1


def test_service_message_is_ignored_with_its_code() -> None:
    parsed = parse_stream_message(load("service_message"), ACCOUNT)
    assert parsed.items == ()
    assert parsed.ignored == (
        "service message 3001: Stream consumer is too slow, some events were lost",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"event_type": "video"}, "video: event type not handled"),
        ({"action": "archive"}, "comment: action archive not handled"),
    ],
)
def test_unknown_event_types_and_actions_are_ignored(change: dict[str, str], expected: str) -> None:
    payload = load("comment_new")
    payload["event"].update(change)
    parsed = parse_stream_message(payload, ACCOUNT)
    assert parsed == ParsedPayload(ignored=(expected,))


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p.pop("code"), "payload.missing_field"),
        (lambda p: p["event"]["event_id"].pop("comment_id"), "payload.missing_field"),
        (lambda p: p["event"]["event_id"].update(post_id="45"), "payload.bad_type"),
        (lambda p: p["event"]["author"].update(id=True), "payload.bad_type"),
        (lambda p: p["event"].update(creation_time=-5), "payload.bad_value"),
        (lambda p: p["event"].update(text=["x"]), "payload.bad_type"),
        (lambda p: p.update(event="nope"), "payload.bad_type"),
    ],
)
def test_malformed_events_are_payload_errors(mutate: Any, code: str) -> None:
    payload = load("comment_new")
    mutate(payload)
    with pytest.raises(PayloadError) as caught:
        parse_stream_message(payload, ACCOUNT)
    assert caught.value.code == code


CODES = {"payload.missing_field", "payload.bad_type", "payload.bad_value"}


def outcome(payload: object) -> str:
    """``parsed``, or the PayloadError's code; any other exception escapes and fails the test."""
    try:
        parse_stream_message(payload, ACCOUNT)  # type: ignore[arg-type]
    except PayloadError as exc:
        return exc.code
    return "parsed"


SAMPLES = [
    "comment_new",
    "comment_update",
    "comment_delete",
    "post_new",
    "post_restore",
    "post_own",
    "share_new",
    "topic_post_new",
    "service_message",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    return found


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_samples_parse_or_raise_payload_error_only(data: st.DataObject) -> None:
    payload = load(data.draw(st.sampled_from(SAMPLES)))
    path = data.draw(st.sampled_from(_paths(payload)))
    parent: Any = payload
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON)
    assert outcome(payload) in {"parsed", *CODES}


@settings(max_examples=200, deadline=None)
@given(payload=JSON)
def test_random_json_parses_or_raises_payload_error_only(payload: object) -> None:
    assert outcome(payload) in {"parsed", *CODES}
