"""Typed dispatch of consumed messages: dead-letter codes, retries and infrastructure errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import ConnectionFailure

from smm_shared.config import KafkaSettings
from smm_shared.events import Author, CaseOpened, Event, Mention, MentionReceived, new_ulid
from smm_shared.messaging import Delivery, EventHandler, PermanentError, _dispatch

pytestmark = pytest.mark.unit

SETTINGS = KafkaSettings(max_handler_attempts=3, retry_backoff_s=0, max_message_bytes=4096)


@dataclass
class DeadLetter:
    body: bytes
    delivery: Delivery
    code: str
    error: str


@dataclass
class FakeDeadLetters:
    """Records what would go to the group's dead-letter topic."""

    group_id: str = "g-test"
    sent: list[DeadLetter] = field(default_factory=list)

    async def send(self, body: bytes, delivery: Delivery, *, code: str, error: str) -> None:
        self.sent.append(DeadLetter(body, delivery, code, error))

    @property
    def codes(self) -> list[str]:
        return [letter.code for letter in self.sent]


@dataclass
class RecordingHandler:
    """Fails with the given exceptions in turn, then succeeds; records every call."""

    failures: list[BaseException] = field(default_factory=list)
    always: BaseException | None = None
    calls: list[tuple[Any, Delivery]] = field(default_factory=list)

    async def __call__(self, event: Any, delivery: Delivery) -> None:
        self.calls.append((event, delivery))
        if self.always is not None:
            raise self.always
        if self.failures:
            raise self.failures.pop(0)


def mention_event(text: str = "hello") -> MentionReceived:
    native = new_ulid()
    return MentionReceived(
        brand_id="brand-a",
        mention=Mention(
            mention_id=new_ulid(),
            network="vk",
            kind="comment",
            native_id=native,
            conversation_key=f"vk:wall-1_{native}",
            author=Author(id="42", handle="ivan"),
            text=text,
            created_at=datetime.now(UTC),
        ),
    )


def delivery_for(ce_type: str | None, *, offset: int = 7) -> Delivery:
    headers = {"ce_type": ce_type} if ce_type is not None else {"ce_id": "x"}
    return Delivery("smm.mentions.v1", 2, offset, "vk:wall-1", headers)


async def dispatch(
    body: bytes,
    delivery: Delivery,
    handlers: Mapping[type[Event], EventHandler],
    dead: FakeDeadLetters,
) -> None:
    await _dispatch(
        body,
        delivery,
        handlers=handlers,
        dead=dead,  # type: ignore[arg-type]  # duck-typed fake of DeadLetters
        settings=SETTINGS,
    )


async def test_valid_event_reaches_its_handler_typed() -> None:
    event = mention_event()
    handler = RecordingHandler()
    dead = FakeDeadLetters()
    delivery = delivery_for("smm.mention.received")

    await dispatch(event.to_json(), delivery, {MentionReceived: handler}, dead)

    assert handler.calls == [(event, delivery)]
    assert dead.sent == []


async def test_oversize_body_is_dead_lettered_without_decoding() -> None:
    handler = RecordingHandler()
    dead = FakeDeadLetters()
    body = b"x" * (SETTINGS.max_message_bytes + 1)
    delivery = delivery_for("smm.mention.received")

    await dispatch(body, delivery, {MentionReceived: handler}, dead)

    assert dead.codes == ["message.too_large"]
    assert dead.sent[0].body == body
    assert dead.sent[0].delivery == delivery
    assert handler.calls == []


async def test_body_at_the_limit_is_not_too_large() -> None:
    dead = FakeDeadLetters()
    body = b"x" * SETTINGS.max_message_bytes

    await dispatch(body, delivery_for("smm.mention.received"), {}, dead)

    # Decoded (and refused as a contract), not refused for its size.
    assert dead.codes == ["contract.invalid"]


async def test_missing_ce_type_is_dead_lettered() -> None:
    handler = RecordingHandler()
    dead = FakeDeadLetters()

    await dispatch(mention_event().to_json(), delivery_for(None), {MentionReceived: handler}, dead)

    assert dead.codes == ["envelope.missing_ce_type"]
    assert handler.calls == []


async def test_unknown_type_is_dead_lettered_with_the_type_named() -> None:
    dead = FakeDeadLetters()

    await dispatch(mention_event().to_json(), delivery_for("smm.nope.happened"), {}, dead)

    assert dead.codes == ["envelope.unknown_type"]
    assert "smm.nope.happened" in dead.sent[0].error


async def test_invalid_json_is_a_contract_error() -> None:
    handler = RecordingHandler()
    dead = FakeDeadLetters()

    await dispatch(
        b"{not json", delivery_for("smm.mention.received"), {MentionReceived: handler}, dead
    )

    assert dead.codes == ["contract.invalid"]
    assert handler.calls == []


async def test_json_not_matching_the_contract_is_a_contract_error() -> None:
    dead = FakeDeadLetters()
    body = b'{"brand_id": "brand-a", "mention": {"text": "no ids"}}'

    await dispatch(body, delivery_for("smm.mention.received"), {}, dead)

    assert dead.codes == ["contract.invalid"]
    assert "mention" in dead.sent[0].error


async def test_permanent_error_is_rejected_after_one_call() -> None:
    handler = RecordingHandler(always=PermanentError("brand is deleted"))
    dead = FakeDeadLetters()

    await dispatch(
        mention_event().to_json(),
        delivery_for("smm.mention.received"),
        {MentionReceived: handler},
        dead,
    )

    assert len(handler.calls) == 1
    assert dead.codes == ["handler.rejected"]
    assert dead.sent[0].error == "PermanentError: brand is deleted"


async def test_failing_handler_is_tried_max_attempts_then_dead_lettered() -> None:
    handler = RecordingHandler(always=RuntimeError("bug"))
    dead = FakeDeadLetters()

    await dispatch(
        mention_event().to_json(),
        delivery_for("smm.mention.received"),
        {MentionReceived: handler},
        dead,
    )

    assert len(handler.calls) == SETTINGS.max_handler_attempts == 3
    assert dead.codes == ["handler.failed"]
    assert dead.sent[0].error == "RuntimeError: bug"


async def test_handler_failing_once_then_succeeding_is_not_dead_lettered() -> None:
    handler = RecordingHandler(failures=[RuntimeError("flaky")])
    dead = FakeDeadLetters()

    await dispatch(
        mention_event().to_json(),
        delivery_for("smm.mention.received"),
        {MentionReceived: handler},
        dead,
    )

    assert len(handler.calls) == 2
    assert dead.sent == []


async def test_infrastructure_error_propagates_for_redelivery() -> None:
    handler = RecordingHandler(always=ConnectionFailure("mongo is down"))
    dead = FakeDeadLetters()

    with pytest.raises(ConnectionFailure, match="mongo is down"):
        await dispatch(
            mention_event().to_json(),
            delivery_for("smm.mention.received"),
            {MentionReceived: handler},
            dead,
        )

    assert len(handler.calls) == 1
    assert dead.sent == []


async def test_known_type_without_a_handler_is_skipped() -> None:
    other = RecordingHandler()
    dead = FakeDeadLetters()
    case = CaseOpened(
        brand_id="brand-a",
        case_id=new_ulid(),
        conversation_key="vk:wall-1_1",
        network="vk",
        mention_id=new_ulid(),
    )

    await dispatch(case.to_json(), delivery_for("smm.case.opened"), {MentionReceived: other}, dead)

    assert other.calls == []
    assert dead.sent == []
