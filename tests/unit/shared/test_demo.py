"""Demo data: every body is one the ingest API accepts, varied enough to show the product."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smm_ingest.api.mentions import MentionIn
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.demo import DEMO_BRAND, demo_mentions

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def bodies() -> list[dict[str, Any]]:
    return demo_mentions(NOW)


def test_every_body_validates_against_the_ingest_api_model(bodies: list[dict[str, Any]]) -> None:
    accepted = [MentionIn.model_validate(body) for body in bodies]

    assert len(accepted) == len(bodies) >= 5
    assert {m.brand_id for m in accepted} == {DEMO_BRAND}


def test_every_body_normalises_into_the_mention_contract(bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        m = MentionIn.model_validate(body)
        mention = normalise(
            MentionDraft(
                network=m.network,
                kind=m.kind,
                native_id=m.native_id,
                author=m.author,
                text=m.text,
                created_at=m.created_at,
                thread_id=m.thread_id,
                language=m.language,
            )
        )
        assert mention.conversation_key == f"{body['network']}:{body['thread_id']}"


def test_native_ids_are_unique_per_network(bodies: list[dict[str, Any]]) -> None:
    keys = [(b["network"], b["native_id"]) for b in bodies]

    assert len(set(keys)) == len(keys)


def test_several_languages_and_networks(bodies: list[dict[str, Any]]) -> None:
    assert len({b["language"] for b in bodies}) >= 3
    assert len({b["network"] for b in bodies}) >= 3


def test_some_conversations_have_several_mentions(bodies: list[dict[str, Any]]) -> None:
    threads = [(b["network"], b["thread_id"]) for b in bodies]

    assert any(threads.count(t) > 1 for t in threads)


def test_timestamps_are_timezone_aware_in_the_recent_past(bodies: list[dict[str, Any]]) -> None:
    times = [datetime.fromisoformat(b["created_at"]) for b in bodies]

    assert all(t.tzinfo is not None for t in times)
    assert all(NOW - timedelta(days=1) < t < NOW for t in times)
    # Spread out in order, so the conversations read naturally.
    assert times == sorted(times)
    assert len(set(times)) == len(times)


def test_default_now_is_the_current_time() -> None:
    before = datetime.now(UTC)

    times = [datetime.fromisoformat(b["created_at"]) for b in demo_mentions()]

    assert all(t < before for t in times)
    assert all(before - timedelta(days=1) < t for t in times)
