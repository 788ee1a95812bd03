"""The topic registry: every stream the platform produces, with its key and retention."""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One Kafka topic: name, what its key is, partitions and retention."""

    name: str
    key: str
    description: str
    partitions: int | None = None  # None: the deployment's default (12)
    retention_ms: int = 7 * DAY_MS


MENTIONS = TopicSpec(
    "smm.mentions.v1", "conversation key `network:thread`", "Normalised mentions from every network"
)
ENGAGEMENT = TopicSpec(
    "smm.engagement.v1", "post id", "Engagement snapshots of the brand's own posts"
)
CASES = TopicSpec("smm.cases.v1", "case id", "Case (conversation) lifecycle events")
SLA = TopicSpec("smm.sla.v1", "case id", "SLA applied, warning, breached, met, paused, resumed")
PUBLISH_COMMANDS = TopicSpec(
    "smm.publish-commands.v1", "content item or case id", "Publish and reply commands"
)
POSTS = TopicSpec("smm.posts.v1", "content item id", "Content and reply delivery lifecycle")
CONTESTS = TopicSpec("smm.contests.v1", "contest id", "Contest lifecycle and verifiable draws")
ALERTS = TopicSpec(
    "smm.alerts.v1", "alert episode id", "Trend and crisis alert episodes", retention_ms=30 * DAY_MS
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    MENTIONS,
    ENGAGEMENT,
    CASES,
    SLA,
    PUBLISH_COMMANDS,
    POSTS,
    CONTESTS,
    ALERTS,
)
BY_NAME: dict[str, TopicSpec] = {t.name: t for t in ALL_TOPICS}


def dead_letter_topic(group_id: str) -> TopicSpec:
    """The dead-letter topic of one consumer group (kept longer: people read it)."""
    return TopicSpec(
        f"smm.dlq.{group_id}",
        "the original key",
        f"Messages consumer group {group_id} could not process, with the cause in headers",
        partitions=1,
        retention_ms=30 * DAY_MS,
    )
