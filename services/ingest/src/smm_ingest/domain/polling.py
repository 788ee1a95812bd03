"""Polling rules: what a poll returns, how failures are told apart, how long to wait. Pure Python."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class PollError(Exception):
    """A poll failed; subclasses say whether and when to try again."""


class TransientPollError(PollError):
    """The network or the connection hiccuped: retry with backoff."""


class RateLimitedError(PollError):
    """The network asked us to slow down: wait ``retry_after_s`` before the next call."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentPollError(PollError):
    """Retrying cannot help until a person fixes something (a revoked token, say)."""


@dataclass(frozen=True, slots=True)
class PollResult:
    """Payloads from one poll and the cursor to continue from once they are stored."""

    payloads: Sequence[dict[str, Any]] = ()
    next_cursor: str | None = None
    #: Wait before the next poll (0 for a long poll that returns as soon as data comes).
    wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class StreamBatch:
    """Payloads that arrived on a stream and the cursor to resume from once they are stored."""

    payloads: Sequence[dict[str, Any]] = ()
    cursor: str | None = None


class StalledStreamError(TransientPollError):
    """No data and no keep-alive within the network's promise (X: 20 s): reconnect."""


@dataclass
class Backoff:
    """Exponential backoff with full jitter (no thundering herd after an outage)."""

    base_s: float = 1.0
    max_s: float = 60.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """Seconds to wait after one more failure."""
        self.failures += 1
        ceiling = min(self.max_s, self.base_s * 2 ** (self.failures - 1))
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        """A success: start over."""
        self.failures = 0


def check_tagged_rules(rules: Sequence[tuple[str, str]], tag_prefix: str) -> None:
    """Stream rules we manage: our tag prefix marks them, so syncing never touches others' rules."""
    if not tag_prefix:
        raise ValueError("tag_prefix must not be empty: it decides which rules are ours")
    if not rules:
        raise ValueError("a stream needs at least one rule")
    if any(not tag.startswith(tag_prefix) for _, tag in rules):
        raise ValueError(f"every rule tag must start with {tag_prefix!r}")


def rate_limit_delay(retry_after_s: float, rng: random.Random) -> float:
    """Wait at least what the network asked, plus a little jitter so replicas do not align."""
    return max(0.0, retry_after_s) + rng.uniform(0, min(1.0, retry_after_s * 0.1 + 0.1))
