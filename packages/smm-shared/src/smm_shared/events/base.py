"""Event base model, the CloudEvents envelope and the registry of event types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from ulid import ULID

CE_SPECVERSION = "1.0"
CONTENT_TYPE_JSON = "application/json"


def new_ulid() -> str:
    """A new ULID as a 26-character string (sortable by creation time)."""
    return str(ULID())


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base of every value object in a contract: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Contract):
    """Base of every event and command on a topic.

    Subclasses set ``event_type`` (the CloudEvents ``ce_type``), ``topic`` (the registry name)
    and implement :meth:`partition_key`, so that one aggregate's history stays in order.
    """

    event_type: ClassVar[str]
    topic: ClassVar[str]

    event_id: str = Field(default_factory=new_ulid, min_length=1, max_length=64)
    occurred_at: datetime = Field(default_factory=utcnow)
    brand_id: str = Field(min_length=1, max_length=64)
    #: The contract's major version; a v2 of an event is a new class with ``Literal[2]``.
    schema_version: Literal[1] = 1

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value.astimezone(UTC)

    def partition_key(self) -> str:
        """The Kafka key: the aggregate this event belongs to."""
        raise NotImplementedError

    def to_json(self) -> bytes:
        """The message body."""
        return self.model_dump_json(exclude_none=True).encode()


E = TypeVar("E", bound=Event)

_REGISTRY: dict[str, type[Event]] = {}


def register(cls: type[E]) -> type[E]:
    """Class decorator: make an event type decodable by its ``ce_type``."""
    existing = _REGISTRY.get(cls.event_type)
    if existing is not None and existing is not cls:
        raise ValueError(f"event type {cls.event_type} registered twice")
    _REGISTRY[cls.event_type] = cls
    return cls


def event_types() -> dict[str, type[Event]]:
    """Every registered event type by its ``ce_type``."""
    return dict(_REGISTRY)


class UnknownEventTypeError(ValueError):
    """A message names a ``ce_type`` no contract defines."""


def decode_event(ce_type: str, body: bytes | str | dict[str, Any]) -> Event:
    """Validate a message body against the contract its ``ce_type`` names.

    A tolerant reader: fields this version does not know are ignored, so a producer may add
    optional fields to a v1 contract without breaking older consumers (docs/events.md).
    Producers stay strict: building an event with an unknown field fails.
    """
    cls = _REGISTRY.get(ce_type)
    if cls is None:
        raise UnknownEventTypeError(f"unknown event type {ce_type!r}")
    if isinstance(body, dict):
        return cls.model_validate(body, extra="ignore")
    return cls.model_validate_json(body, extra="ignore")


def cloudevent_headers(event: Event, *, source: str) -> dict[str, str]:
    """CloudEvents 1.0 Kafka binary-mode headers for an event."""
    return {
        "ce_specversion": CE_SPECVERSION,
        "ce_id": event.event_id,
        "ce_type": event.event_type,
        "ce_source": source,
        "ce_time": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "ce_subject": event.partition_key(),
        "ce_dataschema": f"urn:smm:schema:{event.event_type}:v{event.schema_version}",
        "content-type": CONTENT_TYPE_JSON,
    }
