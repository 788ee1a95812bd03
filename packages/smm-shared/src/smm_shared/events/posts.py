"""Content lifecycle contracts on ``smm.posts.v1``, keyed by content item id.

A content item (a planned post with a variant per network) is created, submitted for
approval, approved or rejected, scheduled, and then delivered once per target account:
each delivery ends in ``post.published`` (native id and URL) or ``post.failed`` (the
network's code and a message a person understands). The reply equivalents are
``reply.published`` / ``reply.failed`` (``smm_shared.events.replies``), keyed by case id.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from smm_shared.events.base import Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import POSTS


class ContentEvent(Event):
    """Base of a content item's events: which item, and who acted (``system:*`` for us)."""

    topic = POSTS.name

    content_id: str = Field(min_length=1, max_length=64)
    actor: str = Field(min_length=1, max_length=140)

    def partition_key(self) -> str:
        """One item's events stay in order."""
        return self.content_id


@register
class ContentCreated(ContentEvent):
    """A content item was drafted (``smm.content.created``), also by import or duplicate."""

    event_type = "smm.content.created"

    title: str = Field(min_length=1, max_length=300)
    networks: list[Network] = Field(min_length=1)
    targets: list[str] = []
    campaign_id: str | None = Field(default=None, max_length=128)
    labels: list[str] = []
    #: The item this one was copied from, if duplicated.
    duplicated_from: str | None = Field(default=None, max_length=64)


@register
class ContentSubmitted(ContentEvent):
    """Sent for approval (``smm.content.submitted``); ``workflow_id`` None: none needed."""

    event_type = "smm.content.submitted"

    workflow_id: str | None = Field(default=None, max_length=64)


@register
class ContentApproved(ContentEvent):
    """Every step of the workflow approved (``smm.content.approved``)."""

    event_type = "smm.content.approved"

    workflow_id: str | None = Field(default=None, max_length=64)


@register
class ContentRejected(ContentEvent):
    """An approver rejected it (``smm.content.rejected``); ``reason`` is theirs."""

    event_type = "smm.content.rejected"

    workflow_id: str | None = Field(default=None, max_length=64)
    step: int = Field(ge=0)
    reason: str = Field(min_length=1, max_length=2000)


@register
class ContentScheduled(ContentEvent):
    """Put on the calendar to publish at ``publish_at`` (``smm.content.scheduled``)."""

    event_type = "smm.content.scheduled"

    publish_at: datetime
    time_zone: str = Field(min_length=1, max_length=64)
    #: When it was scheduled before (a reschedule), else None.
    previous_publish_at: datetime | None = None


@register
class ContentUnscheduled(ContentEvent):
    """Taken off the calendar or cancelled before it published (``smm.content.unscheduled``)."""

    event_type = "smm.content.unscheduled"

    reason: str = Field(min_length=1, max_length=500)
    cancelled: bool = False


class DeliveryOutcome(ContentEvent):
    """Base of one delivery's outcome: the item's post from one account."""

    delivery_id: str = Field(min_length=1, max_length=200)
    account_id: str = Field(min_length=1, max_length=128)
    network: Network
    attempts: int = Field(ge=1)


@register
class PostPublished(DeliveryOutcome):
    """The item is on the network from one account (``smm.post.published``)."""

    event_type = "smm.post.published"

    native_id: str = Field(min_length=1, max_length=256)
    url: str | None = Field(default=None, max_length=2000)
    #: True when an ambiguous failure was resolved by finding the post on the network.
    found_after_ambiguity: bool = False


@register
class PostFailed(DeliveryOutcome):
    """The item could not be posted from one account (``smm.post.failed``)."""

    event_type = "smm.post.failed"

    code: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=2000)
    #: Whether a person can retry it as it is (e.g. after renewing the token).
    retryable: bool = False
