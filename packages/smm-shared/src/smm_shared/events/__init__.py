"""Event contracts: frozen, versioned pydantic models shared by producers and consumers."""

from smm_shared.events.base import (
    CE_SPECVERSION,
    Contract,
    Event,
    UnknownEventTypeError,
    cloudevent_headers,
    decode_event,
    event_types,
    new_ulid,
    register,
    utcnow,
)
from smm_shared.events.cases import CaseEvent, CaseMentionAdded, CaseOpened
from smm_shared.events.engagement import EngagementObserved
from smm_shared.events.mentions import (
    Attachment,
    Author,
    DeletedBy,
    Mention,
    MentionDeleted,
    MentionKind,
    MentionReceived,
    MentionUpdated,
    Network,
    Sentiment,
)
from smm_shared.events.topics import ALL_TOPICS, BY_NAME, TopicSpec, dead_letter_topic

__all__ = [
    "ALL_TOPICS",
    "BY_NAME",
    "CE_SPECVERSION",
    "Attachment",
    "Author",
    "CaseEvent",
    "CaseMentionAdded",
    "CaseOpened",
    "Contract",
    "DeletedBy",
    "EngagementObserved",
    "Event",
    "Mention",
    "MentionDeleted",
    "MentionKind",
    "MentionReceived",
    "MentionUpdated",
    "Network",
    "Sentiment",
    "TopicSpec",
    "UnknownEventTypeError",
    "cloudevent_headers",
    "dead_letter_topic",
    "decode_event",
    "event_types",
    "new_ulid",
    "register",
    "utcnow",
]
