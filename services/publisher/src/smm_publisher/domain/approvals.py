"""Approval workflows for content: ordered steps of approvers, decisions and their audit.

Which workflow applies: among a brand's workflows, the first (by position, then id) whose
labels share one with the item; else the brand's default (a workflow without labels); else
none, and the item needs no approval (``submit`` approves it at once).

A step names approvers by user id and by role. In mode ``any`` one approval by an eligible
user completes the step; in mode ``all`` every listed user must approve and, for every listed
role, at least one user holding it (one user's approval counts for their id and all of their
roles). An approver cannot approve twice in one step; they may approve again in a later step
that lists them. One rejection (with a reason) by an eligible user rejects the item, which
must then be resubmitted (after an edit or as it is) and starts again at the first step.

Roles come from the caller's access token as plain strings: ``content_manager`` drafts and
submits, ``smm_manager`` approves (and may also submit), ``admin`` may do both. Approving or
rejecting needs ``smm_manager`` or ``admin`` *and* being eligible in the current step.

Edits: ``on_edit`` compares content fingerprints (``content.fingerprint``). A submitted or
approved item whose content changed goes back to draft, and the decisions so far stop
counting (the audit keeps them). Moving the schedule does not change the fingerprint, so
``reschedule`` keeps an approval; if the content changed in the same save, it resets as
``on_edit`` does.

The status values are those of ``content.ContentStatus`` (draft, submitted, approved,
rejected), so ``ContentStatus(state.status.value)`` is the item's status before scheduling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final


class ApprovalError(ValueError):
    """A decision is not allowed; ``code`` is stable for APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Role(StrEnum):
    """The roles the approval rules know (other role strings are simply not these)."""

    CONTENT_MANAGER = "content_manager"
    SMM_MANAGER = "smm_manager"
    ADMIN = "admin"


SUBMITTER_ROLES: Final = frozenset({Role.CONTENT_MANAGER, Role.SMM_MANAGER, Role.ADMIN})
APPROVER_ROLES: Final = frozenset({Role.SMM_MANAGER, Role.ADMIN})


class StepMode(StrEnum):
    """How many of a step's approvers must approve."""

    ANY = "any"
    ALL = "all"


class ApprovalStatus(StrEnum):
    """Where an item is in its approval (values shared with ``ContentStatus``)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class Action(StrEnum):
    """What an audit entry records."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMMENTED = "commented"
    RESET = "reset"  # content changed: back to draft
    RESCHEDULED = "rescheduled"


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    """One step: who may approve, and whether one or all of them must."""

    name: str
    users: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    mode: StepMode = StepMode.ANY

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ApprovalError("workflow.invalid", "Every approval step needs a name.")
        if not self.users and not self.roles:
            raise ApprovalError(
                "workflow.invalid", f"Step {self.name!r} needs at least one approver or role."
            )

    def eligible(self, user: str, roles: frozenset[str]) -> bool:
        """Whether ``user`` with ``roles`` is an approver of this step."""
        return user in self.users or bool(roles & self.roles)

    def complete(self, approvals: Iterable[Approval]) -> bool:
        """Whether these approvals complete the step."""
        given = tuple(approvals)
        if self.mode is StepMode.ANY:
            return bool(given)
        users = {a.user for a in given}
        roles = {role for a in given for role in a.roles}
        return self.users <= users and self.roles <= roles

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "name": self.name,
            "users": sorted(self.users),
            "roles": sorted(self.roles),
            "mode": self.mode.value,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ApprovalStep:
        """A step from its stored (or submitted) fields."""
        try:
            mode = StepMode(doc.get("mode", "any"))
        except ValueError:
            raise ApprovalError("workflow.invalid", "mode must be 'any' or 'all'.") from None
        return cls(
            name=str(doc.get("name") or ""),
            users=frozenset(str(u) for u in doc.get("users") or ()),
            roles=frozenset(str(r) for r in doc.get("roles") or ()),
            mode=mode,
        )


@dataclass(frozen=True, slots=True)
class Workflow:
    """A brand's approval workflow for items with one of ``labels`` (none: the default)."""

    id: str
    brand_id: str
    name: str
    steps: tuple[ApprovalStep, ...]
    labels: frozenset[str] = frozenset()
    position: int = 0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ApprovalError("workflow.invalid", "A workflow needs a name.")
        if not self.steps:
            raise ApprovalError("workflow.invalid", "A workflow needs at least one step.")

    @property
    def is_default(self) -> bool:
        """Whether this is the brand's default (it has no labels)."""
        return not self.labels

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "_id": self.id,
            "brand_id": self.brand_id,
            "name": self.name,
            "steps": [s.to_doc() for s in self.steps],
            "labels": sorted(self.labels),
            "position": self.position,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Workflow:
        """A workflow from its stored (or submitted) fields."""
        return cls(
            id=str(doc["_id"]),
            brand_id=str(doc["brand_id"]),
            name=str(doc.get("name") or ""),
            steps=tuple(ApprovalStep.from_doc(s) for s in doc.get("steps") or ()),
            labels=frozenset(str(label) for label in doc.get("labels") or ()),
            position=int(doc.get("position", 0)),
        )


def select_workflow(
    workflows: Iterable[Workflow], *, brand_id: str, labels: frozenset[str]
) -> Workflow | None:
    """The workflow for an item of ``brand_id`` with ``labels`` (module doc); None: no approval."""
    own = sorted((w for w in workflows if w.brand_id == brand_id), key=lambda w: (w.position, w.id))
    by_label = next((w for w in own if w.labels & labels), None)
    if by_label is not None:
        return by_label
    return next((w for w in own if w.is_default), None)


@dataclass(frozen=True, slots=True)
class Approval:
    """One approval counted in the current step."""

    user: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One decision or remark: who, when, what, in which step, and why."""

    user: str
    at: datetime
    action: Action
    step: int | None = None
    reason: str | None = None

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "user": self.user,
            "at": self.at.isoformat(),
            "action": self.action.value,
            "step": self.step,
            "reason": self.reason,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> AuditEntry:
        """An entry from its stored fields."""
        at = doc["at"]
        return cls(
            user=str(doc["user"]),
            at=at if isinstance(at, datetime) else datetime.fromisoformat(str(at)),
            action=Action(doc["action"]),
            step=doc.get("step"),
            reason=doc.get("reason"),
        )


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """An item's approval: status, current step, the approvals counted in it, and the audit."""

    status: ApprovalStatus = ApprovalStatus.DRAFT
    workflow_id: str | None = None
    step: int = 0
    approvals: tuple[Approval, ...] = ()
    audit: tuple[AuditEntry, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "status": self.status.value,
            "workflow_id": self.workflow_id,
            "step": self.step,
            "approvals": [{"user": a.user, "roles": sorted(a.roles)} for a in self.approvals],
            "audit": [e.to_doc() for e in self.audit],
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ApprovalState:
        """A state from its stored fields."""
        return cls(
            status=ApprovalStatus(doc.get("status", "draft")),
            workflow_id=doc.get("workflow_id"),
            step=int(doc.get("step", 0)),
            approvals=tuple(
                Approval(str(a["user"]), frozenset(a.get("roles") or ()))
                for a in doc.get("approvals") or ()
            ),
            audit=tuple(AuditEntry.from_doc(e) for e in doc.get("audit") or ()),
        )


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ApprovalError("approval.naive_time", "Decision times must be timezone-aware.")
    return at.astimezone(UTC)


def _log(
    state: ApprovalState,
    user: str,
    at: datetime,
    action: Action,
    *,
    step: int | None,
    reason: str | None = None,
) -> tuple[AuditEntry, ...]:
    return (*state.audit, AuditEntry(user, _utc(at), action, step, reason))


def submit(
    state: ApprovalState,
    workflow: Workflow | None,
    *,
    user: str,
    roles: frozenset[str],
    at: datetime,
) -> ApprovalState:
    """Send a draft or rejected item for approval; without a workflow it is approved at once."""
    if not roles & SUBMITTER_ROLES:
        raise ApprovalError(
            "approval.forbidden", "Only content managers, SMM managers and admins submit content."
        )
    if state.status not in (ApprovalStatus.DRAFT, ApprovalStatus.REJECTED):
        raise ApprovalError(
            "approval.invalid_state", f"A {state.status.value} item cannot be submitted."
        )
    if workflow is None:
        return ApprovalState(
            status=ApprovalStatus.APPROVED,
            audit=_log(state, user, at, Action.SUBMITTED, step=None, reason="no approval required"),
        )
    return ApprovalState(
        status=ApprovalStatus.SUBMITTED,
        workflow_id=workflow.id,
        step=0,
        audit=_log(state, user, at, Action.SUBMITTED, step=0),
    )


def _current_step(
    state: ApprovalState, workflow: Workflow, user: str, roles: frozenset[str]
) -> ApprovalStep:
    if state.status is not ApprovalStatus.SUBMITTED:
        raise ApprovalError(
            "approval.invalid_state", f"A {state.status.value} item is not waiting for approval."
        )
    if workflow.id != state.workflow_id or state.step >= len(workflow.steps):
        raise ApprovalError(
            "approval.workflow_changed",
            "The item was submitted under another workflow; submit it again.",
        )
    step = workflow.steps[state.step]
    if not roles & APPROVER_ROLES:
        raise ApprovalError("approval.forbidden", "Only SMM managers and admins decide on content.")
    if not step.eligible(user, roles):
        raise ApprovalError(
            "approval.not_an_approver", f"{user} is not an approver of step {step.name!r}."
        )
    return step


def approve(
    state: ApprovalState,
    workflow: Workflow,
    *,
    user: str,
    roles: frozenset[str],
    at: datetime,
) -> ApprovalState:
    """Count ``user``'s approval in the current step; a completed step moves to the next."""
    step = _current_step(state, workflow, user, roles)
    if any(a.user == user for a in state.approvals):
        raise ApprovalError(
            "approval.already_approved", f"{user} has already approved step {step.name!r}."
        )
    approvals = (*state.approvals, Approval(user, roles))
    audit = _log(state, user, at, Action.APPROVED, step=state.step)
    if not step.complete(approvals):
        return replace(state, approvals=approvals, audit=audit)
    if state.step + 1 < len(workflow.steps):
        return replace(state, step=state.step + 1, approvals=(), audit=audit)
    return replace(state, status=ApprovalStatus.APPROVED, approvals=(), audit=audit)


def reject(
    state: ApprovalState,
    workflow: Workflow,
    *,
    user: str,
    roles: frozenset[str],
    at: datetime,
    reason: str,
) -> ApprovalState:
    """Reject the item in the current step; the reason is required."""
    _current_step(state, workflow, user, roles)
    if not reason.strip():
        raise ApprovalError("approval.reason_required", "Say why the content is rejected.")
    return replace(
        state,
        status=ApprovalStatus.REJECTED,
        approvals=(),
        audit=_log(state, user, at, Action.REJECTED, step=state.step, reason=reason.strip()),
    )


def comment(state: ApprovalState, *, user: str, text: str, at: datetime) -> ApprovalState:
    """Add a remark to the audit, in any status."""
    if not text.strip():
        raise ApprovalError("approval.empty_comment", "A comment needs some text.")
    step = state.step if state.status is ApprovalStatus.SUBMITTED else None
    return replace(
        state, audit=_log(state, user, at, Action.COMMENTED, step=step, reason=text.strip())
    )


def on_edit(
    state: ApprovalState,
    old_fingerprint: str,
    new_fingerprint: str,
    *,
    user: str,
    at: datetime,
) -> ApprovalState:
    """After an edit: back to draft if a submitted or approved item's content changed."""
    if old_fingerprint == new_fingerprint or state.status not in (
        ApprovalStatus.SUBMITTED,
        ApprovalStatus.APPROVED,
    ):
        return state
    return ApprovalState(
        status=ApprovalStatus.DRAFT,
        audit=_log(state, user, at, Action.RESET, step=None, reason="content changed"),
    )


def reschedule(
    state: ApprovalState,
    old_fingerprint: str,
    new_fingerprint: str,
    *,
    user: str,
    at: datetime,
    old_time: datetime | None,
    new_time: datetime,
) -> ApprovalState:
    """Record a move in the calendar; approval is kept only if the content is unchanged."""
    before = _utc(old_time).isoformat() if old_time else "unscheduled"
    moved = replace(
        state,
        audit=_log(
            state,
            user,
            at,
            Action.RESCHEDULED,
            step=None,
            reason=f"{before} → {_utc(new_time).isoformat()}",
        ),
    )
    return on_edit(moved, old_fingerprint, new_fingerprint, user=user, at=at)
