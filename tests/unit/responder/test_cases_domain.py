"""Case rules: the state machine (every pair), what a new message does, the conversation key."""

from __future__ import annotations

import pytest

from smm_responder.domain.cases import (
    ACTIVE_STATUSES,
    OWNING_STATUSES,
    CaseStatus,
    InvalidTransitionError,
    MessageEffect,
    ReopenPolicy,
    can_transition,
    check_transition,
    on_customer_message,
    open_key,
)

pytestmark = pytest.mark.unit


def test_resolved_and_closed_cases_are_not_active() -> None:
    assert CaseStatus.RESOLVED not in ACTIVE_STATUSES
    assert CaseStatus.CLOSED not in ACTIVE_STATUSES


def test_every_other_status_is_active() -> None:
    assert set(CaseStatus) - ACTIVE_STATUSES == {CaseStatus.RESOLVED, CaseStatus.CLOSED}


def test_statuses_compare_to_their_stored_strings() -> None:
    assert "pending_customer" in ACTIVE_STATUSES
    assert CaseStatus("closed") is CaseStatus.CLOSED


def test_open_key_is_brand_and_conversation() -> None:
    assert open_key("acme", "vk:wall-1_5") == "acme|vk:wall-1_5"


def test_open_key_differs_per_brand_and_per_conversation() -> None:
    keys = {
        open_key("acme", "vk:wall-1_5"),
        open_key("globex", "vk:wall-1_5"),
        open_key("acme", "x:wall-1_5"),
    }

    assert len(keys) == 3


# Every pair of statuses, spelled out: the table in the code is checked against this one.
ALLOWED = {
    ("new", "open"),
    ("new", "pending_customer"),
    ("new", "pending_department"),
    ("new", "resolved"),
    ("new", "closed"),
    ("open", "pending_customer"),
    ("open", "pending_department"),
    ("open", "resolved"),
    ("open", "closed"),
    ("pending_customer", "open"),
    ("pending_customer", "pending_department"),
    ("pending_customer", "resolved"),
    ("pending_customer", "closed"),
    ("pending_department", "open"),
    ("pending_department", "pending_customer"),
    ("pending_department", "resolved"),
    ("pending_department", "closed"),
    ("resolved", "open"),
    ("resolved", "closed"),
}
PAIRS = [(a, b) for a in CaseStatus for b in CaseStatus]


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_pair_of_statuses(current: CaseStatus, target: CaseStatus) -> None:
    expected = (current.value, target.value) in ALLOWED
    assert can_transition(current, target) is expected
    if expected:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransitionError) as info:
            check_transition(current, target)
        assert current.value in str(info.value)
        assert target.value in str(info.value)


def test_closed_is_final_and_says_so() -> None:
    with pytest.raises(InvalidTransitionError, match="the case is closed"):
        check_transition(CaseStatus.CLOSED, CaseStatus.OPEN)


def test_a_resolved_case_still_owns_its_conversation_a_closed_one_does_not() -> None:
    assert CaseStatus.RESOLVED in OWNING_STATUSES
    assert CaseStatus.CLOSED not in OWNING_STATUSES


DAY = 86_400_000
POLICY = ReopenPolicy(window_ms=3 * DAY)


@pytest.mark.parametrize(
    ("status", "resolved_at", "now", "effect"),
    [
        (CaseStatus.NEW, None, 10, MessageEffect.JOIN),
        (CaseStatus.OPEN, None, 10, MessageEffect.JOIN),
        (CaseStatus.PENDING_DEPARTMENT, None, 10, MessageEffect.JOIN),
        (CaseStatus.PENDING_CUSTOMER, None, 10, MessageEffect.BACK_TO_OPEN),
        (CaseStatus.RESOLVED, 0, 3 * DAY, MessageEffect.REOPEN),  # the window's last moment
        (CaseStatus.RESOLVED, 0, 3 * DAY + 1, MessageEffect.NEW_CASE),
        (CaseStatus.RESOLVED, None, 5, MessageEffect.NEW_CASE),  # no resolution time: be safe
        (CaseStatus.CLOSED, None, 5, MessageEffect.NEW_CASE),
    ],
)
def test_what_a_new_customer_message_does(
    status: CaseStatus, resolved_at: int | None, now: int, effect: MessageEffect
) -> None:
    assert on_customer_message(status, resolved_at_ms=resolved_at, now_ms=now, policy=POLICY) is (
        effect
    )


def test_a_zero_window_never_reopens_and_a_negative_one_is_refused() -> None:
    zero = ReopenPolicy(window_ms=0)
    assert (
        on_customer_message(CaseStatus.RESOLVED, resolved_at_ms=5, now_ms=6, policy=zero)
        is MessageEffect.NEW_CASE
    )
    with pytest.raises(ValueError, match="negative"):
        ReopenPolicy(window_ms=-1)
