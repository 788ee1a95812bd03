"""Mention contracts: what ingest publishes on ``smm.mentions.v1``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from smm_shared.events.base import Contract, Event, register
from smm_shared.events.topics import MENTIONS


class Network(StrEnum):
    """The social networks the platform listens to and posts on."""

    VK = "vk"
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"
    YOUTUBE = "youtube"
    MASTODON = "mastodon"
    REDDIT = "reddit"


class MentionKind(StrEnum):
    """What kind of item a mention is on its network."""

    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    DIRECT_MESSAGE = "direct_message"
    REPOST = "repost"
    REVIEW = "review"


SentimentLabel = Literal["positive", "neutral", "negative", "mixed", "unknown"]


class Author(Contract):
    """Who wrote a mention, as the network reports them."""

    id: str = Field(min_length=1, max_length=128)
    handle: str | None = Field(default=None, max_length=256)
    display_name: str | None = Field(default=None, max_length=256)
    followers: int | None = Field(default=None, ge=0)
    verified: bool | None = None


class Sentiment(Contract):
    """Sentiment of a mention; ``unknown`` (no score) when no analyzer covers its language."""

    label: SentimentLabel = "unknown"
    score: float | None = Field(default=None, ge=-1.0, le=1.0)
    analyzer: str | None = None


class Attachment(Contract):
    """A media item or link attached to a mention."""

    kind: Literal["image", "video", "audio", "link", "document", "other"]
    url: HttpUrl


class Mention(Contract):
    """A normalised mention of the brand on any network."""

    mention_id: str = Field(min_length=1, max_length=64)
    network: Network
    kind: MentionKind
    native_id: str = Field(min_length=1, max_length=256)
    conversation_key: str = Field(min_length=3, max_length=512, pattern=r"^[a-z]+:.+$")
    url: HttpUrl | None = None
    author: Author
    text: str = Field(max_length=100_000)
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime
    edited_at: datetime | None = None
    parent_native_id: str | None = None
    thread_native_id: str | None = None
    on_own_post: bool = False
    attachments: tuple[Attachment, ...] = ()
    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sentiment: Sentiment = Sentiment()
    priority_hint: Literal["low", "normal", "high", "urgent"] = "normal"

    @field_validator("created_at", "edited_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a time zone")
        return value.astimezone(UTC)


@register
class MentionReceived(Event):
    """A new mention was heard on a network (``smm.mention.received``)."""

    event_type = "smm.mention.received"
    topic = MENTIONS.name

    mention: Mention

    def partition_key(self) -> str:
        """Keyed by conversation so a thread's mentions arrive in order."""
        return self.mention.conversation_key


@register
class MentionUpdated(Event):
    """A mention was edited on its network (``smm.mention.updated``): the new state in full."""

    event_type = "smm.mention.updated"
    topic = MENTIONS.name

    mention: Mention
    #: Which fields changed (e.g. ``text``, ``sentiment``), for consumers that only care about some.
    changed: tuple[str, ...] = ()
    #: The text before the edit, when the network or our store knows it.
    previous_text: str | None = Field(default=None, max_length=100_000)

    def partition_key(self) -> str:
        """Same key as the mention: edits follow it in order."""
        return self.mention.conversation_key


DeletedBy = Literal["author", "moderator", "network", "unknown"]


@register
class MentionDeleted(Event):
    """A mention was removed from its network (``smm.mention.deleted``)."""

    event_type = "smm.mention.deleted"
    topic = MENTIONS.name

    mention_id: str = Field(min_length=1, max_length=64)
    network: Network
    native_id: str = Field(min_length=1, max_length=256)
    conversation_key: str = Field(min_length=3, max_length=512, pattern=r"^[a-z]+:.+$")
    deleted_at: datetime
    deleted_by: DeletedBy = "unknown"

    def partition_key(self) -> str:
        """Same key as the mention."""
        return self.conversation_key
