"""Mention identity, conversation keys and normalisation: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smm_ingest.domain.mentions import MentionDraft, conversation_key, natural_key, normalise
from smm_shared.events import Author, MentionKind, Network

pytestmark = pytest.mark.unit

AUTHOR = Author(id="42", handle="ivan")
CREATED = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)


def draft(**overrides: object) -> MentionDraft:
    fields: dict[str, object] = {
        "network": Network.VK,
        "kind": MentionKind.COMMENT,
        "native_id": "wall-1_7",
        "author": AUTHOR,
        "text": "hello",
        "created_at": CREATED,
    }
    fields.update(overrides)
    return MentionDraft(**fields)  # type: ignore[arg-type]


def test_conversation_key_is_network_and_thread() -> None:
    assert conversation_key(Network.VK, "wall-1_5") == "vk:wall-1_5"
    assert conversation_key(Network.X, "1861234567890") == "x:1861234567890"


def test_natural_key_separates_brands_networks_and_items() -> None:
    key = natural_key("acme", Network.TELEGRAM, "chat-1_2")

    assert key == "acme|telegram|chat-1_2"
    assert key != natural_key("globex", Network.TELEGRAM, "chat-1_2")
    assert key != natural_key("acme", Network.VK, "chat-1_2")


def test_thread_id_wins_when_given() -> None:
    mention = normalise(draft(thread_id="wall-1_1", parent_native_id="wall-1_5"))

    assert mention.thread_native_id == "wall-1_1"
    assert mention.conversation_key == "vk:wall-1_1"
    assert mention.parent_native_id == "wall-1_5"


def test_thread_defaults_to_the_parent() -> None:
    mention = normalise(draft(parent_native_id="wall-1_5"))

    assert mention.thread_native_id == "wall-1_5"
    assert mention.conversation_key == "vk:wall-1_5"


def test_thread_defaults_to_the_item_itself() -> None:
    mention = normalise(draft(network=Network.X, native_id="186123"))

    assert mention.thread_native_id == "186123"
    assert mention.conversation_key == "x:186123"


def test_text_is_stripped_and_language_lowercased() -> None:
    mention = normalise(draft(text="  \n Привет!  \t", language="RU"))

    assert mention.text == "Привет!"
    assert mention.language == "ru"


def test_missing_or_empty_language_stays_unknown() -> None:
    assert normalise(draft()).language is None
    assert normalise(draft(language="")).language is None


def test_given_mention_id_is_kept_otherwise_a_new_one_each_time() -> None:
    assert normalise(draft(), mention_id="m-1").mention_id == "m-1"

    first, second = normalise(draft()), normalise(draft())

    assert first.mention_id != second.mention_id
    assert len(first.mention_id) == 26  # a ULID


def test_draft_fields_are_carried_over() -> None:
    local = datetime(2026, 11, 27, 13, 15, tzinfo=timezone(timedelta(hours=3)))

    mention = normalise(
        draft(
            kind=MentionKind.REPLY,
            url="https://vk.com/wall-1_7",
            on_own_post=True,
            created_at=local,
        )
    )

    assert mention.network is Network.VK
    assert mention.kind is MentionKind.REPLY
    assert mention.native_id == "wall-1_7"
    assert mention.author == AUTHOR
    assert str(mention.url) == "https://vk.com/wall-1_7"
    assert mention.on_own_post is True
    # The contract stores times in UTC.
    assert mention.created_at == CREATED
    assert mention.created_at.utcoffset() == timedelta(0)
