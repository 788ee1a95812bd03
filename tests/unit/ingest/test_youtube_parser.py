"""YouTube comment threads: documented resources parsed into exact items."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import common, youtube
from smm_ingest.domain.items import AccountContext, EditedItem, NewItem, PayloadError
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.events import Author, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "youtube"
OWN_CHANNEL = "UCx7AcmeBrandChannel0001"
ACCOUNT = AccountContext(Network.YOUTUBE, frozenset({OWN_CHANNEL}))
VIDEO = "Ab3dE5fG7hI"
OTHER_VIDEO = "Zz9yX8wV7uT"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def at(hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 11, 27, hour, minute, second, micro, tzinfo=UTC)


def test_top_level_comment_and_a_reply_on_our_video_skipping_our_own_reply() -> None:
    top = "UgzKp3v9X2f8Q1a2b3c4AaABAg"
    parsed = youtube.parse_comment_thread(load("thread_with_replies"), ACCOUNT)

    assert parsed.items == (
        NewItem(
            MentionDraft(
                network=Network.YOUTUBE,
                kind=MentionKind.COMMENT,
                native_id=top,
                author=Author(
                    id="UCq2AnnaKowalViewer00001", handle="annakowal", display_name="@annakowal"
                ),
                text="Does the X200 support USB-C charging?",
                created_at=at(10, 15),
                thread_id=top,
                url=f"https://www.youtube.com/watch?v={VIDEO}&lc={top}",
                on_own_post=True,
            )
        ),
        NewItem(
            MentionDraft(
                network=Network.YOUTUBE,
                kind=MentionKind.REPLY,
                native_id=f"{top}.9xYz1AbCdEf9xYz3MnOpQr",
                author=Author(id="UCr5BobStoneViewer000001", display_name="Bob Stone"),
                text="Mine charges fine over USB-C.",
                created_at=at(10, 25, 30),
                thread_id=top,
                url=f"https://www.youtube.com/watch?v={VIDEO}&lc={top}.9xYz1AbCdEf9xYz3MnOpQr",
                parent_native_id=top,
                on_own_post=True,
            )
        ),
    )
    assert parsed.ignored == (f"own comment {top}.9xYz1AbCdEf9xYz2GhIjKl",)
    assert {
        normalise(i.draft).conversation_key for i in parsed.items if isinstance(i, NewItem)
    } == {f"youtube:{top}"}


def test_edited_comment_is_only_an_edit_at_updated_at() -> None:
    parsed = youtube.parse_comment_thread(load("thread_edited"), ACCOUNT)

    assert parsed.ignored == ()
    (item,) = parsed.items
    assert item == EditedItem(
        draft=MentionDraft(
            network=Network.YOUTUBE,
            kind=MentionKind.COMMENT,
            native_id="UgwE3d1tEdC0mm3nt9Zz4AaABAg",
            author=Author(id="UCs8MikeRViewer000000001", handle="mike_r", display_name="@mike_r"),
            text="Battery died after two days (edit: support replaced it, thanks)",
            created_at=at(9, 0),
            thread_id="UgwE3d1tEdC0mm3nt9Zz4AaABAg",
            url=f"https://www.youtube.com/watch?v={OTHER_VIDEO}&lc=UgwE3d1tEdC0mm3nt9Zz4AaABAg",
            on_own_post=False,
        ),
        edited_at=at(11, 30),
    )


def test_reply_to_our_top_level_comment_on_someone_elses_video_is_on_our_post() -> None:
    parsed = youtube.parse_comment_thread(load("thread_own_top_level"), ACCOUNT)

    assert parsed.ignored == ("own comment UgyOwnT0pLevel0000000004AaABAg",)
    (item,) = parsed.items
    assert isinstance(item, NewItem)
    assert item.draft.kind is MentionKind.REPLY
    assert item.draft.parent_native_id == "UgyOwnT0pLevel0000000004AaABAg"
    assert item.draft.thread_id == "UgyOwnT0pLevel0000000004AaABAg"
    assert item.draft.on_own_post


def test_reply_to_someone_else_on_someone_elses_video_is_not_on_our_post() -> None:
    payload = load("thread_own_top_level")
    top = payload["snippet"]["topLevelComment"]["snippet"]
    top["authorChannelId"]["value"] = "UCsomeoneElse00000000001"

    parsed = youtube.parse_comment_thread(payload, ACCOUNT)

    assert [i.draft.on_own_post for i in parsed.items if isinstance(i, NewItem)] == [False, False]


def test_comment_without_author_channel_is_skipped_not_fatal() -> None:
    parsed = youtube.parse_comment_thread(load("thread_no_author_channel"), ACCOUNT)

    assert parsed.items == ()
    assert parsed.ignored == ("comment UgxN0Auth0rChann3l00000AaABAg: no authorChannelId",)


def test_text_display_stands_in_for_text_original_and_times_keep_fractions() -> None:
    parsed = youtube.parse_comment_thread(load("thread_text_display_only"), ACCOUNT)

    top, reply = parsed.items
    assert isinstance(top, NewItem)
    assert top.draft.text == "Ordered twice, still no tracking number"
    assert top.draft.created_at == at(12, 0, 0, 123000)
    assert isinstance(reply, EditedItem)
    assert reply.draft.created_at == at(12, 5)
    assert reply.edited_at == at(12, 6)


def test_offsets_are_converted_to_utc_and_language_is_left_unknown() -> None:
    (item,) = youtube.parse_comment_thread(load("thread_russian"), ACCOUNT).items

    assert isinstance(item, NewItem)
    assert item.draft.created_at == at(10, 0)
    assert item.draft.created_at.utcoffset() is not None
    assert item.draft.text == "Когда будет скидка на X200?"
    assert item.draft.language is None
    assert item.draft.author.handle is None
    assert item.draft.author.display_name == "Иван Петров"


def test_updated_at_equal_to_published_at_is_not_an_edit() -> None:
    payload = load("thread_edited")
    snippet = payload["snippet"]["topLevelComment"]["snippet"]
    snippet["updatedAt"] = snippet["publishedAt"]

    (item,) = youtube.parse_comment_thread(payload, ACCOUNT).items

    assert isinstance(item, NewItem)


def test_a_comment_without_video_has_no_url() -> None:
    payload = load("thread_russian")
    del payload["snippet"]["videoId"]
    del payload["snippet"]["topLevelComment"]["snippet"]["videoId"]

    (item,) = youtube.parse_comment_thread(payload, ACCOUNT).items

    assert isinstance(item, NewItem)
    assert item.draft.url is None


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p.pop("snippet"), "payload.missing_field"),
        (lambda p: p["snippet"].pop("topLevelComment"), "payload.missing_field"),
        (
            lambda p: p["snippet"]["topLevelComment"]["snippet"].pop("publishedAt"),
            "payload.missing_field",
        ),
        (
            lambda p: p["snippet"]["topLevelComment"]["snippet"].update(publishedAt="yesterday"),
            "payload.bad_value",
        ),
        (
            lambda p: p["snippet"]["topLevelComment"]["snippet"].update(
                publishedAt="2025-11-27T10:15:00"
            ),
            "payload.bad_value",
        ),
        (
            lambda p: p["snippet"]["topLevelComment"]["snippet"].update(publishedAt=1764238500),
            "payload.bad_type",
        ),
        (
            lambda p: p["snippet"]["topLevelComment"]["snippet"].update(
                textOriginal=None, textDisplay=None
            ),
            "payload.missing_field",
        ),
        (lambda p: p["replies"].update(comments="none"), "payload.bad_type"),
    ],
)
def test_unreadable_threads_raise_payload_errors(mutate: Any, code: str) -> None:
    payload = load("thread_with_replies")
    mutate(payload)

    with pytest.raises(PayloadError) as caught:
        youtube.parse_comment_thread(payload, ACCOUNT)
    assert caught.value.code == code


def test_thread_latest_at_is_its_newest_comment_or_none() -> None:
    assert youtube.thread_latest_at(load("thread_with_replies")) == at(10, 25, 30)
    assert youtube.thread_latest_at(load("thread_russian")) == at(10, 0)
    broken_reply = load("thread_with_replies")
    broken_reply["replies"]["comments"][1]["snippet"]["publishedAt"] = "later"
    assert youtube.thread_latest_at(broken_reply) == at(10, 20)
    assert youtube.thread_latest_at({"snippet": {}}) is None
    assert youtube.thread_latest_at({"snippet": {"topLevelComment": "x"}}) is None


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "", "2025-13-01T00:00:00Z"]
)
def test_rfc3339_edges_are_payload_errors(value: str) -> None:
    with pytest.raises(PayloadError) as caught:
        common.parse_rfc3339(value, "publishedAt")
    assert caught.value.code == "payload.bad_value"
