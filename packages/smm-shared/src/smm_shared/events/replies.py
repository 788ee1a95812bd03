"""Reply contracts: the responder's commands to the publisher and the publisher's answers.

``reply.requested`` goes to ``smm.publish-commands.v1`` keyed by case id. ``reply_id`` is the
idempotency key: the publisher posts a reply id at most once. The publisher reports on
``smm.posts.v1`` with ``reply.published`` (native id and URL) or ``reply.failed`` (the
network's code and a message a person understands).
"""

from __future__ import annotations

from pydantic import Field

from smm_shared.events.base import Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import POSTS, PUBLISH_COMMANDS


@register
class ReplyRequested(Event):
    """Post ``text`` as our answer in the thread of a mention (``smm.reply.requested``)."""

    event_type = "smm.reply.requested"
    topic = PUBLISH_COMMANDS.name

    reply_id: str = Field(min_length=1, max_length=64)
    case_id: str = Field(min_length=1, max_length=64)
    network: Network
    conversation_key: str = Field(min_length=3, max_length=512, pattern=r"^[a-z]+:.+$")
    #: The mention we answer: our reply goes under it (or in its thread/chat).
    in_reply_to_mention_id: str = Field(min_length=1, max_length=64)
    in_reply_to_native_id: str = Field(min_length=1, max_length=256)
    thread_native_id: str | None = Field(default=None, max_length=256)
    author_id: str | None = Field(default=None, max_length=128)
    text: str = Field(min_length=1, max_length=10_000)
    requested_by: str = Field(min_length=1, max_length=140)

    def partition_key(self) -> str:
        """A case's replies stay in order."""
        return self.case_id


class ReplyOutcome(Event):
    """Base of the publisher's answers about a reply."""

    topic = POSTS.name

    reply_id: str = Field(min_length=1, max_length=64)
    case_id: str = Field(min_length=1, max_length=64)
    network: Network

    def partition_key(self) -> str:
        """Same key as the request."""
        return self.case_id


@register
class ReplyPublished(ReplyOutcome):
    """The reply is on the network (``smm.reply.published``)."""

    event_type = "smm.reply.published"

    native_id: str = Field(min_length=1, max_length=256)
    url: str | None = Field(default=None, max_length=2000)


@register
class ReplyFailed(ReplyOutcome):
    """The reply could not be posted (``smm.reply.failed``); ``message`` is for people."""

    event_type = "smm.reply.failed"

    code: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=2000)
    retryable: bool = False
