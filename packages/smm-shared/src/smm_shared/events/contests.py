"""Contest contracts on ``smm.contests.v1``, keyed by contest id.

The draw is verifiable (``smm-contest-draw`` v1, documented in docs/publisher.md):
``contest.opened`` publishes the SHA-256 commitment of a secret seed; ``contest.drawn``
reveals the seed with the sorted eligible entry keys' digest and the winners, so anyone can
recompute the winners from the certificate.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from smm_shared.events.base import Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import CONTESTS

_HEX64 = r"^[0-9a-f]{64}$"


class ContestEvent(Event):
    """Base of a contest's events."""

    topic = CONTESTS.name

    contest_id: str = Field(min_length=1, max_length=64)

    def partition_key(self) -> str:
        """One contest's events stay in order."""
        return self.contest_id


@register
class ContestOpened(ContestEvent):
    """Entries count from now; the seed's commitment is public (``smm.contest.opened``)."""

    event_type = "smm.contest.opened"

    network: Network
    post_native_id: str = Field(min_length=1, max_length=256)
    opens_at: datetime
    closes_at: datetime
    winner_count: int = Field(ge=1)
    commitment: str = Field(pattern=_HEX64)


@register
class ContestClosed(ContestEvent):
    """The entry window ended (``smm.contest.closed``)."""

    event_type = "smm.contest.closed"

    entries: int = Field(ge=0)


@register
class ContestDrawn(ContestEvent):
    """Winners drawn; the seed is revealed (``smm.contest.drawn``)."""

    event_type = "smm.contest.drawn"

    algorithm: str = Field(min_length=1, max_length=64)
    algorithm_version: int = Field(ge=1)
    seed: str = Field(pattern=_HEX64)
    commitment: str = Field(pattern=_HEX64)
    winner_count: int = Field(ge=1)
    entry_count: int = Field(ge=0)
    entry_list_digest: str = Field(pattern=_HEX64)
    #: Canonical entry keys (``network|author id``) in prize order.
    winners: list[str]
    drawn_at: datetime
