"""Engagement contracts: snapshots of the brand's own posts on ``smm.engagement.v1``."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, HttpUrl

from smm_shared.events.base import Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import ENGAGEMENT


@register
class EngagementObserved(Event):
    """Counters of one of our posts as the network reported them (``smm.engagement.observed``).

    Counters are totals at ``observed_at``, not increments: the latest snapshot wins.
    A counter the network does not report is absent, never zero.
    """

    event_type = "smm.engagement.observed"
    topic = ENGAGEMENT.name

    network: Network
    native_post_id: str = Field(min_length=1, max_length=256)
    url: HttpUrl | None = None
    observed_at: datetime
    likes: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    shares: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)
    clicks: int | None = Field(default=None, ge=0)

    def partition_key(self) -> str:
        """Keyed by the post: ``network:native_post_id``."""
        return f"{self.network.value}:{self.native_post_id}"
