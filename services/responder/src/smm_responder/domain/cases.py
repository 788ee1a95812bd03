"""Case rules that need no I/O: the state machine and what a new customer message does.

States::

    new ──▶ open ──▶ pending_customer ──▶ resolved ──▶ closed
      │       ▲  ╲         │      ▲          │  ▲
      │       │   ╲        ▼      │          ▼  │
      │       └──── pending_department ───────▶ open (reopen)
      └─────────────────────────────────────────▶ resolved / closed

* ``new``: nobody has looked at it yet. Any action by the team moves it on.
* ``open``: the team works on it.
* ``pending_customer``: we answered or asked; waiting for the author. Their next message
  brings the case back to ``open``.
* ``pending_department``: handed to a department that can fix the problem; its answer
  brings the case back to ``open``.
* ``resolved``: done from our side. A new message of the conversation within the reopen
  window reopens it; after the window it starts a new case. The case still owns its
  conversation (``open_key``) so that the next message finds it.
* ``closed``: final. It no longer owns the conversation; the next message opens a new case.

A transition to the same state is not a transition (``InvalidTransitionError``), so a
double click cannot emit two ``status_changed`` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class CaseStatus(StrEnum):
    """Where a case stands in the team's work."""

    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    PENDING_DEPARTMENT = "pending_department"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = CaseStatus

#: Every allowed move; anything else is refused.
TRANSITIONS: Final[Mapping[CaseStatus, frozenset[CaseStatus]]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING_CUSTOMER, S.PENDING_DEPARTMENT, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.PENDING_CUSTOMER, S.PENDING_DEPARTMENT, S.RESOLVED, S.CLOSED}),
    S.PENDING_CUSTOMER: frozenset({S.OPEN, S.PENDING_DEPARTMENT, S.RESOLVED, S.CLOSED}),
    S.PENDING_DEPARTMENT: frozenset({S.OPEN, S.PENDING_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}

#: Statuses in which the case owns its conversation: a new message joins (or reopens) it.
OWNING_STATUSES: Final = frozenset(set(CaseStatus) - {S.CLOSED})
#: Statuses in which the team still has work to do.
ACTIVE_STATUSES: Final = frozenset({S.NEW, S.OPEN, S.PENDING_CUSTOMER, S.PENDING_DEPARTMENT})
#: Statuses an agent may set by hand through the status command.
MANUAL_TARGETS: Final = frozenset({S.OPEN, S.PENDING_CUSTOMER, S.RESOLVED, S.CLOSED})


class InvalidTransitionError(ValueError):
    """The move is not allowed from the case's current status."""

    def __init__(self, current: CaseStatus, target: CaseStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: the case is closed"
        super().__init__(
            f"a {current.value} case cannot become {target.value} (allowed: {allowed})"
        )
        self.current = current
        self.target = target


def can_transition(current: CaseStatus, target: CaseStatus) -> bool:
    """Whether ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    """Raise ``InvalidTransitionError`` unless ``current`` may move to ``target``."""
    if not can_transition(current, target):
        raise InvalidTransitionError(current, target)


class MessageEffect(StrEnum):
    """What a new customer message of the conversation does to the case that owns it."""

    JOIN = "join"  # add it to the active case; status unchanged
    BACK_TO_OPEN = "back_to_open"  # the customer answered: pending_customer → open
    REOPEN = "reopen"  # resolved within the window → open
    NEW_CASE = "new_case"  # resolved after the window: close that one, open a new case


@dataclass(frozen=True, slots=True)
class ReopenPolicy:
    """How long after resolution a new message reopens the case instead of starting a new one."""

    window_ms: int = 7 * 86_400_000

    def __post_init__(self) -> None:
        if self.window_ms < 0:
            raise ValueError("the reopen window cannot be negative")


def on_customer_message(
    status: CaseStatus, *, resolved_at_ms: int | None, now_ms: int, policy: ReopenPolicy
) -> MessageEffect:
    """Decide what a new message does to the case owning its conversation.

    A department working on the case keeps it (the message joins, the agent sees it).
    """
    if status is S.CLOSED:
        return MessageEffect.NEW_CASE
    if status is S.RESOLVED:
        if resolved_at_ms is not None and now_ms - resolved_at_ms <= policy.window_ms:
            return MessageEffect.REOPEN
        return MessageEffect.NEW_CASE
    if status is S.PENDING_CUSTOMER:
        return MessageEffect.BACK_TO_OPEN
    return MessageEffect.JOIN


def open_key(brand_id: str, conversation_key: str) -> str:
    """At most one owning case per brand and conversation: this key is unique among them."""
    return f"{brand_id}|{conversation_key}"
