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


ParsedItem = NewItem | EditedItem | DeletedItem | EngagementItem


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """Everything one payload carried; ``ignored`` says what was skipped and why (for logs)."""

    items: Sequence[ParsedItem] = ()
    ignored: Sequence[str] = field(default_factory=tuple)
