"""What a network payload turns into, before storage: pure values, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import DeletedBy, Network


class PayloadError(ValueError):
    """A payload we cannot read: a stable ``code`` and a reason a person understands."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class AccountContext:
    """Our own accounts on the network behind a connector, to tell our posts from others'."""

    network: Network
    #: Ids of our pages/groups/accounts/bots as the network writes them (e.g. VK ``-123``
    #: for group 123 as an owner id, and ``123`` as a group id: list both forms).
    own_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NewItem:
    """A mention seen for the first time (or again: dedupe happens at storage)."""

    draft: MentionDraft


@dataclass(frozen=True, slots=True)
class EditedItem:
    """A mention edited on its network; ``draft`` is its new state."""

    draft: MentionDraft
    edited_at: datetime


@dataclass(frozen=True, slots=True)
class DeletedItem:
    """A mention removed from its network."""

    network: Network
    native_id: str
    deleted_at: datetime
    deleted_by: DeletedBy = "unknown"


@dataclass(frozen=True, slots=True)
class EngagementItem:
    """Counters of one of our posts; None means the network did not report that counter."""

    network: Network
    native_post_id: str
    observed_at: datetime
    url: str | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    clicks: int | None = None


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """An item the network named only by id (an Instagram @mention): to fetch before it is a mention.

    ``account_id`` is our account the notification was for; ``comment_id`` is set when the
    mention is in a comment on ``media_id``, absent when it is in the media's caption.
    """

    network: Network
    account_id: str
    media_id: str
    comment_id: str | None = None

    def key(self, brand_id: str) -> str:
        """What makes a request unique: the same notification delivered twice is one fetch."""
        target = f"comment:{self.comment_id}" if self.comment_id else f"media:{self.media_id}"
        return f"{brand_id}|{self.network.value}|{self.account_id}|{target}"


ParsedItem = NewItem | EditedItem | DeletedItem | EngagementItem | FetchRequest


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """Everything one payload carried; ``ignored`` says what was skipped and why (for logs)."""

    items: Sequence[ParsedItem] = ()
    ignored: Sequence[str] = field(default_factory=tuple)
