"""Approval workflows: selection, any/all steps, two steps, reject and resubmit, edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smm_publisher.domain.approvals import (
    Action,
    ApprovalError,
    ApprovalState,
    ApprovalStatus,
    ApprovalStep,
    StepMode,
    Workflow,
    approve,
    comment,
    on_edit,
    reject,
    reschedule,
    select_workflow,
    submit,
)
from smm_publisher.domain.content import ContentStatus

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CM = frozenset({"content_manager"})
SMM = frozenset({"smm_manager"})
ADMIN = frozenset({"admin"})
LEGAL = frozenset({"smm_manager", "legal"})


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def workflow(
    *steps: ApprovalStep,
    labels: frozenset[str] = frozenset(),
    id: str = "wf",
    brand_id: str = "acme",
    position: int = 0,
) -> Workflow:
    return Workflow(
        id=id, brand_id=brand_id, name="Review", steps=steps, labels=labels, position=position
    )


ANY_SMM = ApprovalStep("SMM review", roles=frozenset({"smm_manager"}))
ALL_OF_TWO = ApprovalStep("Both leads", users=frozenset({"ann", "bob"}), mode=StepMode.ALL)


def submitted(wf: Workflow) -> ApprovalState:
    return submit(ApprovalState(), wf, user="carl", roles=CM, at=T0)


# --- which workflow -----------------------------------------------------------------------


def test_a_labelled_workflow_wins_over_the_default() -> None:
    default = workflow(ANY_SMM, id="default")
    legal = workflow(ANY_SMM, labels=frozenset({"legal", "press"}), id="legal")
    other_brand = workflow(ANY_SMM, labels=frozenset({"promo"}), id="globex", brand_id="globex")
    flows = [default, legal, other_brand]
    assert select_workflow(flows, brand_id="acme", labels=frozenset({"press"})) is legal
    assert select_workflow(flows, brand_id="acme", labels=frozenset({"promo"})) is default
    assert select_workflow(flows, brand_id="acme", labels=frozenset()) is default


def test_among_matching_workflows_the_first_by_position_applies() -> None:
    late = workflow(ANY_SMM, labels=frozenset({"promo"}), id="a", position=2)
    early = workflow(ANY_SMM, labels=frozenset({"promo"}), id="b", position=1)
    assert select_workflow([late, early], brand_id="acme", labels=frozenset({"promo"})) is early


def test_no_workflow_means_no_approval_required() -> None:
    labelled = workflow(ANY_SMM, labels=frozenset({"legal"}))
    assert select_workflow([labelled], brand_id="acme", labels=frozenset({"promo"})) is None
    state = submit(ApprovalState(), None, user="carl", roles=CM, at=T0)
    assert state.status is ApprovalStatus.APPROVED
    assert [(e.action, e.reason) for e in state.audit] == [
        (Action.SUBMITTED, "no approval required")
    ]


# --- submitting ---------------------------------------------------------------------------


def test_submit_starts_the_first_step_and_is_audited() -> None:
    wf = workflow(ANY_SMM)
    state = submitted(wf)
    assert (state.status, state.workflow_id, state.step) == (ApprovalStatus.SUBMITTED, "wf", 0)
    (entry,) = state.audit
    assert (entry.user, entry.at, entry.action, entry.step) == ("carl", T0, Action.SUBMITTED, 0)


def test_submit_needs_a_known_role() -> None:
    with pytest.raises(ApprovalError) as info:
        submit(ApprovalState(), workflow(ANY_SMM), user="eve", roles=frozenset({"viewer"}), at=T0)
    assert info.value.code == "approval.forbidden"


def test_a_submitted_item_cannot_be_submitted_again() -> None:
    wf = workflow(ANY_SMM)
    with pytest.raises(ApprovalError) as info:
        submit(submitted(wf), wf, user="carl", roles=CM, at=at(1))
    assert info.value.code == "approval.invalid_state"


# --- any / all ----------------------------------------------------------------------------


def test_any_mode_one_approval_by_role_approves() -> None:
    wf = workflow(ANY_SMM)
    state = approve(submitted(wf), wf, user="sara", roles=SMM, at=at(5))
    assert state.status is ApprovalStatus.APPROVED
    assert ContentStatus(state.status.value) is ContentStatus.APPROVED
    assert [(e.user, e.action, e.step) for e in state.audit] == [
        ("carl", Action.SUBMITTED, 0),
        ("sara", Action.APPROVED, 0),
    ]


def test_all_mode_waits_for_every_listed_approver() -> None:
    wf = workflow(ALL_OF_TWO)
    one = approve(submitted(wf), wf, user="ann", roles=SMM, at=at(1))
    assert (one.status, one.step, [a.user for a in one.approvals]) == (
        ApprovalStatus.SUBMITTED,
        0,
        ["ann"],
    )
    both = approve(one, wf, user="bob", roles=SMM, at=at(2))
    assert both.status is ApprovalStatus.APPROVED


def test_all_mode_with_roles_needs_one_holder_of_each_role() -> None:
    step = ApprovalStep("Sign-off", roles=frozenset({"smm_manager", "legal"}), mode=StepMode.ALL)
    wf = workflow(step)
    first = approve(submitted(wf), wf, user="sara", roles=SMM, at=at(1))
    assert first.status is ApprovalStatus.SUBMITTED
    done = approve(first, wf, user="lena", roles=LEGAL, at=at(2))
    assert done.status is ApprovalStatus.APPROVED


def test_an_approver_cannot_approve_twice_in_a_step() -> None:
    wf = workflow(ALL_OF_TWO)
    once = approve(submitted(wf), wf, user="ann", roles=SMM, at=at(1))
    with pytest.raises(ApprovalError, match="ann has already approved step 'Both leads'") as info:
        approve(once, wf, user="ann", roles=SMM, at=at(2))
    assert info.value.code == "approval.already_approved"


def test_someone_not_in_the_step_cannot_decide() -> None:
    wf = workflow(ALL_OF_TWO)
    with pytest.raises(ApprovalError) as info:
        approve(submitted(wf), wf, user="zed", roles=SMM, at=at(1))
    assert info.value.code == "approval.not_an_approver"


def test_a_content_manager_cannot_approve_even_when_listed() -> None:
    wf = workflow(ApprovalStep("Lead", users=frozenset({"carl"})))
    with pytest.raises(ApprovalError) as info:
        approve(submitted(wf), wf, user="carl", roles=CM, at=at(1))
    assert info.value.code == "approval.forbidden"


def test_an_admin_listed_by_id_can_approve() -> None:
    wf = workflow(ApprovalStep("Owner", users=frozenset({"olga"})))
    assert approve(submitted(wf), wf, user="olga", roles=ADMIN, at=at(1)).status is (
        ApprovalStatus.APPROVED
    )


# --- two steps ----------------------------------------------------------------------------


def test_two_steps_in_order_and_the_same_approver_may_act_in_each() -> None:
    second = ApprovalStep("Brand lead", users=frozenset({"sara", "bob"}))
    wf = workflow(ANY_SMM, second)
    after_first = approve(submitted(wf), wf, user="sara", roles=SMM, at=at(1))
    assert (after_first.status, after_first.step, after_first.approvals) == (
        ApprovalStatus.SUBMITTED,
        1,
        (),
    )
    with pytest.raises(ApprovalError):  # first step's role is not enough for the second
        approve(after_first, wf, user="tom", roles=SMM, at=at(2))
    done = approve(after_first, wf, user="sara", roles=SMM, at=at(3))
    assert done.status is ApprovalStatus.APPROVED
    assert [(e.user, e.action, e.step) for e in done.audit] == [
        ("carl", Action.SUBMITTED, 0),
        ("sara", Action.APPROVED, 0),
        ("sara", Action.APPROVED, 1),
    ]


# --- reject and resubmit ------------------------------------------------------------------


def test_reject_needs_a_reason() -> None:
    wf = workflow(ANY_SMM)
    with pytest.raises(ApprovalError) as info:
        reject(submitted(wf), wf, user="sara", roles=SMM, at=at(1), reason="  ")
    assert info.value.code == "approval.reason_required"


def test_a_rejected_item_must_be_resubmitted_and_starts_over() -> None:
    second = ApprovalStep("Lead", users=frozenset({"bob"}))
    wf = workflow(ANY_SMM, second)
    in_step_two = approve(submitted(wf), wf, user="sara", roles=SMM, at=at(1))
    rejected = reject(in_step_two, wf, user="bob", roles=SMM, at=at(2), reason="Wrong price")
    assert rejected.status is ApprovalStatus.REJECTED
    assert (rejected.audit[-1].action, rejected.audit[-1].step, rejected.audit[-1].reason) == (
        Action.REJECTED,
        1,
        "Wrong price",
    )
    with pytest.raises(ApprovalError) as info:
        approve(rejected, wf, user="bob", roles=SMM, at=at(3))
    assert info.value.code == "approval.invalid_state"
    again = submit(rejected, wf, user="carl", roles=CM, at=at(4))
    assert (again.status, again.step, again.approvals) == (ApprovalStatus.SUBMITTED, 0, ())
    assert len(again.audit) == 4  # the history is kept


def test_comments_are_audited_in_any_status() -> None:
    state = comment(ApprovalState(), user="carl", text=" Draft for review ", at=at(1))
    assert [(e.user, e.action, e.reason, e.step) for e in state.audit] == [
        ("carl", Action.COMMENTED, "Draft for review", None)
    ]
    with pytest.raises(ApprovalError):
        comment(state, user="carl", text="", at=at(2))


# --- edits and rescheduling ---------------------------------------------------------------


def approved_state() -> tuple[Workflow, ApprovalState]:
    wf = workflow(ANY_SMM)
    return wf, approve(submitted(wf), wf, user="sara", roles=SMM, at=at(1))


def test_an_edit_of_the_content_after_approval_resets_to_draft() -> None:
    _, state = approved_state()
    edited = on_edit(state, "fp-old", "fp-new", user="carl", at=at(2))
    assert (edited.status, edited.workflow_id, edited.step, edited.approvals) == (
        ApprovalStatus.DRAFT,
        None,
        0,
        (),
    )
    assert (edited.audit[-1].action, edited.audit[-1].reason) == (Action.RESET, "content changed")
    assert len(edited.audit) == 3


def test_an_edit_during_review_resets_the_approvals_given_so_far() -> None:
    wf = workflow(ALL_OF_TWO)
    half = approve(submitted(wf), wf, user="ann", roles=SMM, at=at(1))
    edited = on_edit(half, "a", "b", user="carl", at=at(2))
    assert (edited.status, edited.approvals) == (ApprovalStatus.DRAFT, ())


def test_an_edit_that_does_not_change_the_content_keeps_the_approval() -> None:
    _, state = approved_state()
    assert on_edit(state, "same", "same", user="carl", at=at(2)) is state


def test_an_edit_of_a_rejected_item_keeps_it_rejected() -> None:
    wf = workflow(ANY_SMM)
    rejected = reject(submitted(wf), wf, user="sara", roles=SMM, at=at(1), reason="No")
    assert on_edit(rejected, "a", "b", user="carl", at=at(2)) is rejected


def test_reschedule_keeps_the_approval_when_the_content_is_unchanged() -> None:
    _, state = approved_state()
    moved = reschedule(state, "fp", "fp", user="carl", at=at(2), old_time=at(60), new_time=at(120))
    assert moved.status is ApprovalStatus.APPROVED
    assert (moved.audit[-1].action, moved.audit[-1].reason) == (
        Action.RESCHEDULED,
        "2025-03-01T10:00:00+00:00 → 2025-03-01T11:00:00+00:00",
    )


def test_reschedule_with_changed_content_resets() -> None:
    _, state = approved_state()
    moved = reschedule(state, "a", "b", user="carl", at=at(2), old_time=None, new_time=at(120))
    assert moved.status is ApprovalStatus.DRAFT
    assert [e.action for e in moved.audit][-2:] == [Action.RESCHEDULED, Action.RESET]
    assert moved.audit[-2].reason == "unscheduled → 2025-03-01T11:00:00+00:00"


def test_naive_decision_times_are_refused() -> None:
    with pytest.raises(ApprovalError) as info:
        submit(ApprovalState(), None, user="carl", roles=CM, at=datetime(2025, 3, 1))
    assert info.value.code == "approval.naive_time"


def test_a_state_submitted_under_another_workflow_must_be_resubmitted() -> None:
    wf = workflow(ANY_SMM)
    replaced = workflow(ANY_SMM, id="wf2")
    with pytest.raises(ApprovalError) as info:
        approve(submitted(wf), replaced, user="sara", roles=SMM, at=at(1))
    assert info.value.code == "approval.workflow_changed"


# --- definitions and storage --------------------------------------------------------------


def test_a_step_needs_approvers_and_a_workflow_needs_steps() -> None:
    with pytest.raises(ApprovalError):
        ApprovalStep("Empty")
    with pytest.raises(ApprovalError):
        workflow()


def test_state_and_workflow_round_trip_through_docs() -> None:
    wf = workflow(ANY_SMM, ALL_OF_TWO, labels=frozenset({"legal"}))
    assert Workflow.from_doc(wf.to_doc()) == wf
    half = approve(
        approve(submitted(wf), wf, user="sara", roles=SMM, at=at(1)),
        wf,
        user="ann",
        roles=SMM,
        at=at(2),
    )
    doc = half.to_doc()
    assert doc["approvals"] == [{"user": "ann", "roles": ["smm_manager"]}]
    assert doc["audit"][0] == {
        "user": "carl",
        "at": "2025-03-01T09:00:00+00:00",
        "action": "submitted",
        "step": 0,
        "reason": None,
    }
    assert ApprovalState.from_doc(doc) == half
