"""Escalation rules: matching by trigger, metric, scope; combining actions."""

from __future__ import annotations

from typing import Any

import pytest

from smm_responder.domain.escalation import (
    EscalationError,
    EscalationRule,
    Trigger,
    plan_escalation,
)

pytestmark = pytest.mark.unit


def rule(rule_id: str, **fields: Any) -> EscalationRule:
    base: dict[str, Any] = {
        "_id": rule_id,
        "brand_id": "acme",
        "name": rule_id,
        "trigger": "breach",
    }
    return EscalationRule.from_doc({**base, **fields})


def test_no_matching_rule_is_an_empty_plan() -> None:
    rules = [rule("w", trigger="warning", notify=["lead"])]
    plan = plan_escalation(
        rules, trigger=Trigger.BREACH, metric="first_response", department=None, priority="normal"
    )
    assert not plan
    assert plan.actions == ()


def test_actions_of_every_matching_rule_combine_in_position_order() -> None:
    rules = [
        rule("b", position=2, raise_priority=True, route_to_department="supervisors"),
        rule("a", position=1, raise_priority=True, assign_to="boss", notify=["lead"]),
        rule("c", position=3, reassign=True, notify=["lead", "ops"]),
        rule("off", position=0, enabled=False, notify=["nobody"]),
    ]
    plan = plan_escalation(
        rules, trigger=Trigger.BREACH, metric="resolution", department="support", priority="normal"
    )
    assert plan.rule_ids == ("a", "b", "c")
    assert plan.priority == "urgent"  # normal → high → urgent: raised once per rule
    assert plan.assign_to == "boss"  # the first rule that decides who wins
    assert plan.reassign is False
    assert plan.route_to_department == "supervisors"
    assert plan.notify == ("lead", "ops")
    assert plan.actions == (
        "priority→high",
        "assign→boss",
        "priority→urgent",
        "route→supervisors",
        "notify→lead,ops",
    )


def test_priority_is_capped_at_urgent() -> None:
    plan = plan_escalation(
        [rule("a", raise_priority=True)],
        trigger=Trigger.BREACH,
        metric="resolution",
        department=None,
        priority="urgent",
    )
    assert plan
    assert plan.priority is None
    assert plan.actions == ()


@pytest.mark.parametrize(
    ("fields", "metric", "department", "priority", "expected"),
    [
        ({"metrics": ["first_response"]}, "first_response", None, "normal", True),
        ({"metrics": ["first_response"]}, "resolution", None, "normal", False),
        ({"departments": ["billing"]}, "resolution", "billing", "normal", True),
        ({"departments": ["billing"]}, "resolution", "support", "normal", False),
        ({"departments": ["billing"]}, "resolution", None, "normal", False),
        ({"min_priority": "high"}, "resolution", None, "urgent", True),
        ({"min_priority": "high"}, "resolution", None, "high", True),
        ({"min_priority": "high"}, "resolution", None, "normal", False),
    ],
)
def test_scope(
    fields: dict[str, Any], metric: str, department: str | None, priority: str, expected: bool
) -> None:
    r = rule("r", notify=["lead"], **fields)
    assert (
        r.matches(trigger=Trigger.BREACH, metric=metric, department=department, priority=priority)
        is expected
    )
    assert (
        r.matches(trigger=Trigger.WARNING, metric=metric, department=department, priority=priority)
        is False
    )


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({}, "escalation.no_action", "must do something"),
        ({"notify": ["x"], "metrics": ["speed"]}, "escalation.invalid", "Unknown metric"),
        ({"notify": ["x"], "min_priority": "asap"}, "escalation.invalid", "min_priority"),
        ({"reassign": True, "assign_to": "boss"}, "escalation.invalid", "either reassign"),
        ({"notify": ["x"], "trigger": "later"}, "escalation.invalid", "trigger"),
        ({"notify": ["x"], "name": " "}, "escalation.invalid", "needs a name"),
    ],
)
def test_invalid_rules_say_why(fields: dict[str, Any], code: str, words: str) -> None:
    with pytest.raises(EscalationError, match=words) as info:
        rule("r", **fields)
    assert info.value.code == code


def test_doc_round_trip() -> None:
    r = rule("r", trigger="warning", metrics=["resolution"], notify=["b", "a"], position=4)
    assert EscalationRule.from_doc(r.to_doc()) == r
    assert r.to_doc()["notify"] == ["a", "b"]
