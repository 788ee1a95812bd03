"""Case rules that need no I/O."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case stands in the team's work."""

    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    PENDING_DEPARTMENT = "pending_department"
    RESOLVED = "resolved"
    CLOSED = "closed"


#: Statuses in which a new message of the conversation joins the case instead of opening one.
ACTIVE_STATUSES = frozenset(
    {CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER, CaseStatus.PENDING_DEPARTMENT}
)


def open_key(brand_id: str, conversation_key: str) -> str:
    """At most one active case per brand and conversation: this key is unique among them."""
    return f"{brand_id}|{conversation_key}"
