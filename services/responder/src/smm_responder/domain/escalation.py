"""Escalation rules: what happens when an SLA warning or breach fires. Pure Python.

Every enabled rule whose trigger, metric and scope match acts, in position order, and
their actions combine: the first rule that reassigns or routes decides where the case
goes; priority is raised once per rule that asks (capped at urgent); notifications add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from smm_responder.domain.routing import Priority


class Trigger(StrEnum):
    """Which SLA point fires a rule."""

    WARNING = "warning"
    BREACH = "breach"


class EscalationError(ValueError):
    """A rule is not usable as written; ``code`` is stable for APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: From least to most urgent, as routing orders them.
PRIORITIES = tuple(priority.value for priority in Priority)
METRICS = frozenset(
    {"first_response", "next_response", "resolution", "time_to_assignment", "department_response"}
)


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """One rule: when (trigger, metrics, scope) and what (actions)."""

    id: str
    brand_id: str
    name: str
    trigger: Trigger
    #: Metrics it reacts to; empty means every metric.
    metrics: frozenset[str] = frozenset()
    #: Only cases of these departments / at least this priority (None: any).
    departments: frozenset[str] = frozenset()
    min_priority: str | None = None
    position: int = 0
    enabled: bool = True
    #: Actions.
    raise_priority: bool = False
    reassign: bool = False  # take the case from its assignee and assign it again by strategy
    assign_to: str | None = None  # a specific user (a supervisor)
    route_to_department: str | None = None  # e.g. a supervisor queue
    notify: frozenset[str] = frozenset()  # user ids or queue names to tell

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise EscalationError("escalation.invalid", "An escalation rule needs a name.")
        unknown = self.metrics - METRICS
        if unknown:
            raise EscalationError(
                "escalation.invalid",
                f"Unknown metric(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(METRICS))}.",
            )
        if self.min_priority is not None and self.min_priority not in PRIORITIES:
            raise EscalationError(
                "escalation.invalid", f"min_priority must be one of {', '.join(PRIORITIES)}."
            )
        if self.reassign and self.assign_to:
            raise EscalationError(
                "escalation.invalid", "Choose either reassign (by strategy) or assign_to a person."
            )
        if not (
            self.raise_priority
            or self.reassign
            or self.assign_to
            or self.route_to_department
            or self.notify
        ):
            raise EscalationError(
                "escalation.no_action",
                "An escalation rule must do something: raise priority, reassign, assign to "
                "someone, route to a department or notify.",
            )

    def matches(
        self, *, trigger: Trigger, metric: str, department: str | None, priority: str
    ) -> bool:
        """Whether this rule acts on this SLA event of this case."""
        if not self.enabled or trigger is not self.trigger:
            return False
        if self.metrics and metric not in self.metrics:
            return False
        if self.departments and department not in self.departments:
            return False
        return self.min_priority is None or PRIORITIES.index(priority) >= PRIORITIES.index(
            self.min_priority
        )

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "_id": self.id,
            "brand_id": self.brand_id,
            "name": self.name,
            "trigger": self.trigger.value,
            "metrics": sorted(self.metrics),
            "departments": sorted(self.departments),
            "min_priority": self.min_priority,
            "position": self.position,
            "enabled": self.enabled,
            "raise_priority": self.raise_priority,
            "reassign": self.reassign,
            "assign_to": self.assign_to,
            "route_to_department": self.route_to_department,
            "notify": sorted(self.notify),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> EscalationRule:
        """A rule from its stored (or submitted) fields."""
        try:
            trigger = Trigger(doc["trigger"])
        except (KeyError, ValueError):
            raise EscalationError(
                "escalation.invalid", "trigger must be 'warning' or 'breach'."
            ) from None
        return cls(
            id=str(doc["_id"]),
            brand_id=str(doc["brand_id"]),
            name=str(doc.get("name", "")),
            trigger=trigger,
            metrics=frozenset(doc.get("metrics") or ()),
            departments=frozenset(doc.get("departments") or ()),
            min_priority=doc.get("min_priority"),
            position=int(doc.get("position", 0)),
            enabled=bool(doc.get("enabled", True)),
            raise_priority=bool(doc.get("raise_priority", False)),
            reassign=bool(doc.get("reassign", False)),
            assign_to=doc.get("assign_to"),
            route_to_department=doc.get("route_to_department"),
            notify=frozenset(doc.get("notify") or ()),
        )


@dataclass(frozen=True, slots=True)
class EscalationPlan:
    """What the matching rules ask for, combined."""

    rule_ids: tuple[str, ...] = ()
    priority: str | None = None  # the new priority, when raised
    reassign: bool = False
    assign_to: str | None = None
    route_to_department: str | None = None
    notify: tuple[str, ...] = ()
    actions: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.rule_ids)


def plan_escalation(
    rules: Iterable[EscalationRule],
    *,
    trigger: Trigger,
    metric: str,
    department: str | None,
    priority: str,
) -> EscalationPlan:
    """Combine the actions of every matching rule (see the module docstring)."""
    matching: Sequence[EscalationRule] = sorted(
        (
            r
            for r in rules
            if r.matches(trigger=trigger, metric=metric, department=department, priority=priority)
        ),
        key=lambda r: (r.position, r.id),
    )
    if not matching:
        return EscalationPlan()
    level = PRIORITIES.index(priority)
    reassign, assign_to, route = False, None, None
    notify: list[str] = []
    actions: list[str] = []
    for rule in matching:
        if rule.raise_priority and level < len(PRIORITIES) - 1:
            level += 1
            actions.append(f"priority→{PRIORITIES[level]}")
        if route is None and rule.route_to_department:
            route = rule.route_to_department
            actions.append(f"route→{route}")
        if not reassign and assign_to is None:
            if rule.assign_to:
                assign_to = rule.assign_to
                actions.append(f"assign→{assign_to}")
            elif rule.reassign:
                reassign = True
                actions.append("reassign")
        for who in sorted(rule.notify):
            if who not in notify:
                notify.append(who)
    if notify:
        actions.append("notify→" + ",".join(notify))
    new_priority = PRIORITIES[level] if PRIORITIES[level] != priority else None
    return EscalationPlan(
        rule_ids=tuple(r.id for r in matching),
        priority=new_priority,
        reassign=reassign,
        assign_to=assign_to,
        route_to_department=route,
        notify=tuple(notify),
        actions=tuple(actions),
    )
