"""Who works a case: automatic assignment, manual assignment and claim checks, bulk distribution.

Eligibility for automatic assignment. An agent is eligible for a case when all hold:

* the agent works for the case's brand;
* department: a case with a department goes only to agents listed in that department; a
  case without one may go to any agent of the brand. An agent with no departments is *not*
  a generalist who catches every department's cases (routing a case to a department means
  only that team should handle it); such an agent takes department-less cases only;
* language: when the case requires a language, the agent's language skills include it,
  compared by primary language (an ``en`` or ``en-GB`` skill reads ``en-US``). An *empty*
  language set means "any language" (like an empty network set), so a brand that never
  fills in skills still gets automatic assignment;
* network: when the case requires a network, the agent's networks include it or are empty;
* the agent is online (away and offline agents get nothing automatically);
* the agent has room: ``active_cases < capacity``. Nobody is ever assigned above capacity
  automatically.

Manual assignment (``check_assign``) is a person's decision: it ignores department, skills
and availability (a manager may hand a case to an away agent for the morning) but never the
brand, and refuses an agent at capacity unless ``force=True`` by an actor allowed to
override (an SMM manager or admin: the API decides who that is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from smm_responder.domain.routing import AssignmentStrategy, RoutingDecision, primary_language
from smm_shared.events import Network


class AssignmentError(ValueError):
    """An assignment or claim that breaks a rule; ``code`` (``assignment.*``) is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Availability(StrEnum):
    """Whether an agent takes cases now."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """An agent (a user) as assignment sees them: brands, departments, skills, load."""

    id: str
    brand_ids: frozenset[str]
    departments: frozenset[str] = frozenset()
    #: Language tags the agent reads; empty means any language.
    languages: frozenset[str] = frozenset()
    #: Networks the agent handles; empty means any network.
    networks: frozenset[Network] = frozenset()
    #: Most open cases the agent takes automatically (at least 1).
    capacity: int
    availability: Availability = Availability.OFFLINE
    #: Open cases assigned now; may exceed capacity after a forced assignment.
    active_cases: int = 0
    last_assigned_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise AssignmentError("assignment.invalid_agent", "agent id must not be empty")
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int):
            raise AssignmentError(
                "assignment.invalid_agent", f"agent {self.id!r}: capacity must be an integer"
            )
        if self.capacity < 1:
            raise AssignmentError(
                "assignment.invalid_agent", f"agent {self.id!r}: capacity must be at least 1"
            )
        if self.active_cases < 0:
            raise AssignmentError(
                "assignment.invalid_agent", f"agent {self.id!r}: active_cases must be >= 0"
            )
        if self.last_assigned_at is not None and self.last_assigned_at.tzinfo is None:
            raise AssignmentError(
                "assignment.invalid_agent",
                f"agent {self.id!r}: last_assigned_at must carry a time zone",
            )
        set_ = object.__setattr__
        set_(self, "brand_ids", frozenset(self.brand_ids))
        set_(self, "departments", frozenset(self.departments))
        set_(self, "languages", frozenset(self.languages))
        try:
            set_(self, "availability", Availability(self.availability))
            set_(self, "networks", frozenset(Network(n) for n in self.networks))
        except ValueError as exc:
            raise AssignmentError("assignment.invalid_agent", f"agent {self.id!r}: {exc}") from exc

    @property
    def has_room(self) -> bool:
        """Whether the agent is under capacity."""
        return self.active_cases < self.capacity

    @property
    def load(self) -> Fraction:
        """Open cases per unit of capacity (exact, so 1/2 and 2/4 tie)."""
        return Fraction(self.active_cases, self.capacity)

    def reads(self, language: str) -> bool:
        """Whether the agent's language skills cover ``language`` (empty skills: any)."""
        if not self.languages:
            return True
        wanted = primary_language(language)
        return any(primary_language(skill) == wanted for skill in self.languages)

    def handles(self, network: Network) -> bool:
        """Whether the agent's network skills cover ``network`` (empty skills: any)."""
        return not self.networks or network in self.networks

    def with_case(self, now: datetime) -> Agent:
        """The agent after taking one more case at ``now``."""
        return replace(self, active_cases=self.active_cases + 1, last_assigned_at=now)


@dataclass(frozen=True, slots=True)
class CaseNeeds:
    """What a case asks of its assignee; ``None`` asks nothing of that kind."""

    brand_id: str
    department: str | None = None
    language: str | None = None
    network: Network | None = None

    @classmethod
    def from_decision(cls, brand_id: str, decision: RoutingDecision) -> CaseNeeds:
        """The needs a routing decision gives a case of ``brand_id``."""
        return cls(
            brand_id=brand_id,
            department=decision.department,
            language=decision.required_language,
            network=decision.required_network,
        )


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case as assignment checks see it."""

    case_id: str
    needs: CaseNeeds
    assignee_id: str | None = None
    #: Whether the case's status is active (``cases.ACTIVE_STATUSES``); closed cases get nobody.
    active: bool = True


class Ineligibility(StrEnum):
    """Why one agent cannot get a case automatically, checked in this order."""

    WRONG_BRAND = "wrong_brand"
    NOT_IN_DEPARTMENT = "not_in_department"
    LANGUAGE = "language"
    NETWORK = "network"
    NOT_ONLINE = "not_online"
    AT_CAPACITY = "at_capacity"


def ineligibility(agent: Agent, needs: CaseNeeds) -> Ineligibility | None:
    """The first reason ``agent`` cannot get a case with ``needs`` automatically, or None."""
    if needs.brand_id not in agent.brand_ids:
        return Ineligibility.WRONG_BRAND
    if needs.department is not None and needs.department not in agent.departments:
        return Ineligibility.NOT_IN_DEPARTMENT
    if needs.language is not None and not agent.reads(needs.language):
        return Ineligibility.LANGUAGE
    if needs.network is not None and not agent.handles(needs.network):
        return Ineligibility.NETWORK
    if agent.availability is not Availability.ONLINE:
        return Ineligibility.NOT_ONLINE
    if not agent.has_room:
        return Ineligibility.AT_CAPACITY
    return None


def is_eligible(agent: Agent, needs: CaseNeeds) -> bool:
    """Whether ``agent`` may get a case with ``needs`` automatically."""
    return ineligibility(agent, needs) is None


# --- round-robin state -----------------------------------------------------------------


def _rotation_key(brand_id: str, department: str | None) -> tuple[str, str]:
    return (brand_id, department or "")


@dataclass(frozen=True, slots=True)
class RotationState:
    """Round-robin pointers: the last agent assigned per brand and department (none: ``""``)."""

    last: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy: the state is a value, and the caller's dict may change later.
        object.__setattr__(self, "last", MappingProxyType(dict(self.last)))

    def last_for(self, brand_id: str, department: str | None) -> str | None:
        """The agent last assigned in this brand and department, if any."""
        return self.last.get(_rotation_key(brand_id, department))

    def advanced(self, brand_id: str, department: str | None, agent_id: str) -> RotationState:
        """The state after ``agent_id`` got a case in this brand and department."""
        return RotationState({**self.last, _rotation_key(brand_id, department): agent_id})

    def to_doc(self) -> list[dict[str, str]]:
        """JSON-ready form: one entry per brand and department, in key order."""
        return [
            {"brand_id": brand, "department": department, "agent_id": agent}
            for (brand, department), agent in sorted(self.last.items())
        ]

    @classmethod
    def from_doc(cls, doc: object) -> RotationState:
        """The state from ``to_doc``'s form."""
        if not isinstance(doc, list):
            raise AssignmentError("assignment.invalid_document", "rotation state must be a list")
        last: dict[tuple[str, str], str] = {}
        for entry in doc:
            if not isinstance(entry, Mapping):
                raise AssignmentError(
                    "assignment.invalid_document", "rotation entries must be objects"
                )
            brand, department, agent = (
                entry.get("brand_id"),
                entry.get("department"),
                entry.get("agent_id"),
            )
            if not (
                isinstance(brand, str) and isinstance(department, str) and isinstance(agent, str)
            ):
                raise AssignmentError(
                    "assignment.invalid_document",
                    "rotation entries need string brand_id, department and agent_id",
                )
            last[(brand, department)] = agent
        return cls(last)


# --- automatic assignment --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentChoice:
    """The agent picked for a case, why (for the timeline), and the state to persist."""

    agent: Agent
    strategy: AssignmentStrategy
    reason: str
    state: RotationState


def _least_loaded_key(agent: Agent) -> tuple[Fraction, int, int, float, str]:
    # Never-assigned agents first, then the one whose last assignment is oldest.
    last = agent.last_assigned_at
    return (
        agent.load,
        agent.active_cases,
        0 if last is None else 1,
        0.0 if last is None else last.timestamp(),
        agent.id,
    )


def pick_agent(
    agents: Sequence[Agent],
    needs: CaseNeeds,
    strategy: AssignmentStrategy,
    state: RotationState | None = None,
) -> AgentChoice | None:
    """The agent a case gets automatically, or None (manual strategy or nobody eligible).

    ``least_loaded``: lowest open/capacity ratio, then fewest open cases, then longest since
    the last assignment (never first), then id. ``round_robin``: the first eligible agent,
    by id, after the brand and department's last assigned one, wrapping around; the
    pointer is a position in id order, so it survives the last agent leaving.
    """
    state = RotationState() if state is None else state
    if strategy is AssignmentStrategy.MANUAL:
        return None
    eligible = [agent for agent in agents if is_eligible(agent, needs)]
    if not eligible:
        return None
    if strategy is AssignmentStrategy.LEAST_LOADED:
        agent = min(eligible, key=_least_loaded_key)
        reason = (
            f"least loaded: {agent.active_cases} of {agent.capacity} cases open before this one"
        )
    else:
        eligible.sort(key=lambda a: a.id)
        previous = state.last_for(needs.brand_id, needs.department)
        agent = next((a for a in eligible if previous is not None and a.id > previous), eligible[0])
        queue = needs.department or "the brand's queue"
        reason = (
            f"round robin in {queue}: next after {previous}"
            if previous is not None
            else f"round robin in {queue}: first in rotation"
        )
    return AgentChoice(
        agent=agent,
        strategy=strategy,
        reason=reason,
        state=state.advanced(needs.brand_id, needs.department, agent.id),
    )


# --- manual assignment and claims ------------------------------------------------------


def _check_case(agent: Agent, case: CaseRef) -> None:
    if not case.active:
        raise AssignmentError(
            "assignment.case_inactive", f"case {case.case_id!r} is resolved or closed"
        )
    if case.needs.brand_id not in agent.brand_ids:
        raise AssignmentError(
            "assignment.wrong_brand",
            f"agent {agent.id!r} does not work for brand {case.needs.brand_id!r}",
        )


def check_assign(
    agent: Agent, case: CaseRef, *, actor_can_override: bool, force: bool = False
) -> bool:
    """Check a person assigning ``case`` to ``agent``; True when it goes over capacity by force.

    Refused (``AssignmentError``): inactive case, agent of another brand, agent already the
    assignee, agent at capacity without ``force`` (``assignment.over_capacity``), and ``force`` by an
    actor who may not override (``assignment.override_not_allowed``). ``force`` is ignored while the
    agent has room.
    """
    _check_case(agent, case)
    if case.assignee_id == agent.id:
        raise AssignmentError(
            "assignment.already_assigned",
            f"case {case.case_id!r} is already assigned to {agent.id!r}",
        )
    if agent.has_room:
        return False
    if not force:
        raise AssignmentError(
            "assignment.over_capacity",
            f"agent {agent.id!r} has {agent.active_cases} of {agent.capacity} cases open; "
            "a manager may assign anyway with force=true",
        )
    if not actor_can_override:
        raise AssignmentError(
            "assignment.override_not_allowed", "only a manager may assign over an agent's capacity"
        )
    return True


def check_claim(agent: Agent, case: CaseRef) -> None:
    """Check an agent claiming an unassigned case of their brand and department, under capacity.

    Availability and skills are not checked: the agent is choosing the case themselves.
    """
    _check_case(agent, case)
    if case.assignee_id is not None:
        raise AssignmentError(
            "assignment.already_assigned",
            f"case {case.case_id!r} is assigned to {case.assignee_id!r}",
        )
    department = case.needs.department
    if department is not None and department not in agent.departments:
        raise AssignmentError(
            "assignment.not_in_department",
            f"agent {agent.id!r} is not in department {department!r}",
        )
    if not agent.has_room:
        raise AssignmentError(
            "assignment.over_capacity",
            f"agent {agent.id!r} has {agent.active_cases} of {agent.capacity} cases open",
        )


# --- bulk ------------------------------------------------------------------------------


class UnassignedReason(StrEnum):
    """Why bulk distribution left a case without an assignee."""

    MANUAL = "manual"
    CASE_INACTIVE = "case_inactive"
    ALREADY_ASSIGNED = "already_assigned"
    NO_AGENT_FOR_BRAND = "no_agent_for_brand"
    NO_AGENT_IN_DEPARTMENT = "no_agent_in_department"
    NO_AGENT_WITH_SKILLS = "no_agent_with_skills"
    NO_AGENT_ONLINE = "no_agent_online"
    ALL_AT_CAPACITY = "all_at_capacity"


_REASON_BY_STAGE: Mapping[Ineligibility, UnassignedReason] = {
    Ineligibility.WRONG_BRAND: UnassignedReason.NO_AGENT_FOR_BRAND,
    Ineligibility.NOT_IN_DEPARTMENT: UnassignedReason.NO_AGENT_IN_DEPARTMENT,
    Ineligibility.LANGUAGE: UnassignedReason.NO_AGENT_WITH_SKILLS,
    Ineligibility.NETWORK: UnassignedReason.NO_AGENT_WITH_SKILLS,
    Ineligibility.NOT_ONLINE: UnassignedReason.NO_AGENT_ONLINE,
    Ineligibility.AT_CAPACITY: UnassignedReason.ALL_AT_CAPACITY,
}
_STAGE_ORDER: tuple[Ineligibility, ...] = tuple(Ineligibility)


def why_no_agent(agents: Sequence[Agent], needs: CaseNeeds) -> UnassignedReason | None:
    """Why nobody is eligible: the furthest check any agent got to; None if someone is.

    With one agent offline and another at capacity, the answer is ``all_at_capacity``: the
    closest anyone came, and what a manager can act on by raising a capacity.
    """
    reasons = [ineligibility(agent, needs) for agent in agents]
    if not reasons:
        return UnassignedReason.NO_AGENT_FOR_BRAND
    if None in reasons:
        return None
    furthest = max((reason for reason in reasons if reason is not None), key=_STAGE_ORDER.index)
    return _REASON_BY_STAGE[furthest]


@dataclass(frozen=True, slots=True)
class Assignment:
    """A case given to an agent by bulk distribution."""

    case_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A case bulk distribution left without an assignee, and why."""

    case_id: str
    reason: UnassignedReason


@dataclass(frozen=True, slots=True)
class Distribution:
    """The outcome of bulk distribution: assignments, leftovers, agents' new loads, new state."""

    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    agents: tuple[Agent, ...]
    state: RotationState


def distribute(
    cases: Sequence[CaseRef],
    agents: Sequence[Agent],
    *,
    strategy: AssignmentStrategy,
    now: datetime,
    state: RotationState | None = None,
) -> Distribution:
    """Assign ``cases`` in the given order (most urgent first is the caller's job) by ``strategy``.

    Each case is placed as ``pick_agent`` would, counting the cases placed before it, so
    capacity holds across the batch. Greedy: an early case may take the only agent a
    later, pickier case could have had; the later case is then left with its reason.
    """
    seen: set[str] = set()
    for case in cases:
        if case.case_id in seen:
            raise AssignmentError(
                "assignment.duplicate_case", f"case {case.case_id!r} is listed twice"
            )
        seen.add(case.case_id)
    state = RotationState() if state is None else state
    current = list(agents)
    index = {agent.id: i for i, agent in enumerate(current)}
    if len(index) != len(current):
        raise AssignmentError("assignment.duplicate_agent", "an agent is listed twice")
    assignments: list[Assignment] = []
    unassigned: list[Unassigned] = []
    for case in cases:
        if not case.active:
            unassigned.append(Unassigned(case.case_id, UnassignedReason.CASE_INACTIVE))
            continue
        if case.assignee_id is not None:
            unassigned.append(Unassigned(case.case_id, UnassignedReason.ALREADY_ASSIGNED))
            continue
        if strategy is AssignmentStrategy.MANUAL:
            unassigned.append(Unassigned(case.case_id, UnassignedReason.MANUAL))
            continue
        choice = pick_agent(current, case.needs, strategy, state)
        if choice is None:
            reason = why_no_agent(current, case.needs)
            # pick_agent found nobody, so why_no_agent names a reason.
            assert reason is not None
            unassigned.append(Unassigned(case.case_id, reason))
            continue
        state = choice.state
        current[index[choice.agent.id]] = choice.agent.with_case(now)
        assignments.append(Assignment(case.case_id, choice.agent.id, choice.reason))
    return Distribution(tuple(assignments), tuple(unassigned), tuple(current), state)
