"""The event base: immutability, UTC timestamps, the CloudEvents envelope and the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar

import pytest
from pydantic import ValidationError

from smm_shared.events import (
    ALL_TOPICS,
    BY_NAME,
    Author,
    CaseOpened,
    Event,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    UnknownEventTypeError,
    base,
    cloudevent_headers,
    dead_letter_topic,
    decode_event,
    event_types,
    register,
)

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _case(**overrides: object) -> CaseOpened:
    fields: dict[str, object] = {
        "brand_id": "b1",
        "case_id": "c1",
        "conversation_key": "vk:wall-1_1",
        "network": Network.VK,
        "mention_id": "m-1",
        "occurred_at": T0,
    }
    fields.update(overrides)
    return CaseOpened.model_validate(fields)


def _mention(conversation_key: str) -> Mention:
    return Mention(
        mention_id="m-1",
        network=Network.X,
        kind=MentionKind.REPLY,
        native_id="123",
        conversation_key=conversation_key,
        author=Author(id="u1"),
        text="hi",
        created_at=T0,
    )


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register test-only event types without leaking them into the published contracts."""
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))


# --------------------------------------------------------------------------- base model


def test_defaults_event_id_and_occurred_at() -> None:
    event = CaseOpened(
        brand_id="b1", case_id="c1", conversation_key="x:1", network=Network.X, mention_id="m"
    )
    assert len(event.event_id) == 26  # a ULID
    assert event.occurred_at.tzinfo is not None
    assert event.schema_version == 1


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        _case(occurred_at=datetime(2025, 3, 1, 12, 30))  # naive on purpose


def test_naive_occurred_at_in_json_is_rejected() -> None:
    body = _case().model_dump(mode="json")
    body["occurred_at"] = "2025-03-01T12:30:00"
    with pytest.raises(ValidationError, match="time zone"):
        decode_event("smm.case.opened", body)


def test_occurred_at_is_normalised_to_utc() -> None:
    plus3 = timezone(timedelta(hours=3))
    event = _case(occurred_at=datetime(2025, 3, 1, 15, 30, tzinfo=plus3))
    assert event.occurred_at == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_extra_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        _case(unexpected="x")


def test_event_is_frozen() -> None:
    event = _case()
    with pytest.raises(ValidationError, match="frozen"):
        event.case_id = "other"  # type: ignore[misc]


def test_nested_contract_is_frozen() -> None:
    author = Author(id="u1")
    with pytest.raises(ValidationError, match="frozen"):
        author.id = "u2"  # type: ignore[misc]


def test_to_json_omits_none() -> None:
    body = MentionReceived(brand_id="b1", mention=_mention("x:1")).to_json()
    assert b'"url"' not in body
    assert b"null" not in body


# --------------------------------------------------------------------------- envelope


def test_cloudevent_headers_are_complete() -> None:
    event = _case()
    headers = cloudevent_headers(event, source="/smm/responder")
    assert headers == {
        "ce_specversion": "1.0",
        "ce_id": event.event_id,
        "ce_type": "smm.case.opened",
        "ce_source": "/smm/responder",
        "ce_time": "2025-03-01T12:30:15.123456Z",
        "ce_subject": "c1",
        "ce_dataschema": "urn:smm:schema:smm.case.opened:v1",
        "content-type": "application/json",
    }


def test_ce_time_is_rfc3339_utc_with_z() -> None:
    plus3 = timezone(timedelta(hours=3))
    event = _case(occurred_at=datetime(2025, 3, 1, 15, 30, tzinfo=plus3))
    ce_time = cloudevent_headers(event, source="/smm/test")["ce_time"]
    assert ce_time == "2025-03-01T12:30:00Z"
    assert datetime.fromisoformat(ce_time) == event.occurred_at


def test_ce_subject_is_the_partition_key() -> None:
    mention = MentionReceived(brand_id="b1", mention=_mention("x:thread-9"))
    headers = cloudevent_headers(mention, source="/smm/ingest")
    assert headers["ce_subject"] == mention.partition_key() == "x:thread-9"
    assert cloudevent_headers(_case(), source="/s")["ce_subject"] == "c1"


def test_header_values_are_strings() -> None:
    headers = cloudevent_headers(_case(), source="/smm/test")
    assert all(isinstance(v, str) for v in headers.values())


# --------------------------------------------------------------------------- decoding


def test_decode_unknown_type_raises() -> None:
    with pytest.raises(UnknownEventTypeError, match=r"smm\.nope"):
        decode_event("smm.nope", b"{}")


def test_unknown_type_error_is_a_value_error() -> None:
    assert issubclass(UnknownEventTypeError, ValueError)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"brand_id": "b1"}',
        b"[]",
    ],
)
def test_decode_bad_body_raises_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationError):
        decode_event("smm.case.opened", body)


def test_decode_picks_the_class_by_ce_type() -> None:
    event = _case()
    decoded = decode_event("smm.case.opened", event.to_json())
    assert type(decoded) is CaseOpened
    assert decoded == event


# --------------------------------------------------------------------------- registry


def test_registering_a_ce_type_twice_raises(isolated_registry: None) -> None:
    class Impostor(Event):
        """Claims an existing ce_type."""

        event_type: ClassVar[str] = "smm.case.opened"
        topic: ClassVar[str] = "smm.cases.v1"

    with pytest.raises(ValueError, match=r"smm\.case\.opened registered twice"):
        register(Impostor)
    assert event_types()["smm.case.opened"] is CaseOpened


def test_registering_the_same_class_again_is_harmless(isolated_registry: None) -> None:
    assert register(CaseOpened) is CaseOpened
    assert event_types()["smm.case.opened"] is CaseOpened


def test_registered_type_becomes_decodable(isolated_registry: None) -> None:
    @register
    class Pinged(Event):
        """Test-only event."""

        event_type: ClassVar[str] = "smm.test.pinged"
        topic: ClassVar[str] = "smm.alerts.v1"

        def partition_key(self) -> str:
            """Keyed by brand."""
            return self.brand_id

    body = Pinged(brand_id="b1").to_json()
    assert isinstance(decode_event("smm.test.pinged", body), Pinged)


def test_event_types_returns_a_copy() -> None:
    types = event_types()
    types.clear()
    assert event_types()


@pytest.mark.parametrize("ce_type", sorted(event_types()))
def test_every_event_type_maps_to_a_registered_topic(ce_type: str) -> None:
    cls = event_types()[ce_type]
    assert cls.topic in BY_NAME, f"{cls.__name__}.topic {cls.topic!r} is not in ALL_TOPICS"
    assert cls.event_type == ce_type


@pytest.mark.parametrize("ce_type", sorted(event_types()))
def test_every_event_type_names_itself_well(ce_type: str) -> None:
    assert ce_type.startswith("smm.")
    assert ce_type == ce_type.lower()
    cls = event_types()[ce_type]
    assert cls.__dict__.get("__doc__"), f"{cls.__name__} needs a docstring (its schema description)"


def test_topic_registry_is_consistent() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    assert set(BY_NAME) == set(names)
    for topic in ALL_TOPICS:
        assert topic.name.startswith("smm.")
        assert topic.name.endswith(".v1")
        assert topic.key
        assert topic.retention_ms > 0
        assert topic.partitions is None or topic.partitions >= 1


def test_dead_letter_topic() -> None:
    dlq = dead_letter_topic("responder")
    assert dlq.name == "smm.dlq.responder"
    assert dlq.partitions == 1
    assert dlq.retention_ms == 30 * 24 * 3600 * 1000
    assert dlq.name not in BY_NAME


# --------------------------------------------------------------------------- mentions


@pytest.mark.parametrize("key", ["vk:wall-1_1", "x:123", "telegram:chat:42"])
def test_conversation_key_accepted(key: str) -> None:
    assert _mention(key).conversation_key == key


@pytest.mark.parametrize("key", ["nocolon", "VK:1", ":1", "vk:", "1x:abc", "v k:1"])
def test_conversation_key_pattern_enforced(key: str) -> None:
    with pytest.raises(ValidationError, match="conversation_key"):
        _mention(key)


def test_mention_partition_key_is_the_conversation_key() -> None:
    event = MentionReceived(brand_id="b1", mention=_mention("x:thread-1"))
    assert event.partition_key() == "x:thread-1"


def test_mention_naive_created_at_rejected() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        Mention(
            mention_id="m-1",
            network=Network.X,
            kind=MentionKind.REPLY,
            native_id="123",
            conversation_key="x:1",
            author=Author(id="u1"),
            text="hi",
            created_at=datetime(2025, 3, 1),  # naive on purpose
        )
