"""Assignment: eligibility, strategies and tie-breaks, manual and claim checks, bulk distribution."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_responder.domain.assignment import (
    Agent,
    AssignmentError,
    Availability,
    CaseNeeds,
    CaseRef,
    Ineligibility,
    RotationState,
    UnassignedReason,
    check_assign,
    check_claim,
    distribute,
    ineligibility,
    is_eligible,
    pick_agent,
    why_no_agent,
)
from smm_responder.domain.routing import (
    Actions,
    AssignmentStrategy,
    RoutingFacts,
    RoutingRule,
    Skill,
    default_rule,
    route,
)
from smm_shared.events import MentionKind, Network

pytestmark = pytest.mark.unit

BRAND = "acme"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LEAST = AssignmentStrategy.LEAST_LOADED
ROBIN = AssignmentStrategy.ROUND_ROBIN


def agent(agent_id: str, **overrides: Any) -> Agent:
    fields: dict[str, Any] = {
        "id": agent_id,
        "brand_ids": frozenset({BRAND}),
        "capacity": 3,
        "availability": Availability.ONLINE,
    }
    fields.update(overrides)
    return Agent(**fields)


def needs(**overrides: Any) -> CaseNeeds:
    fields: dict[str, Any] = {"brand_id": BRAND}
    fields.update(overrides)
    return CaseNeeds(**fields)


def case(case_id: str = "c1", **overrides: Any) -> CaseRef:
    fields: dict[str, Any] = {"case_id": case_id, "needs": needs()}
    fields.update(overrides)
    return CaseRef(**fields)


def picked(agents: list[Agent], strategy: AssignmentStrategy, **kw: Any) -> str | None:
    choice = pick_agent(agents, kw.pop("case_needs", needs()), strategy, kw.pop("state", None))
    return None if choice is None else choice.agent.id


# --- eligibility -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "what", "expected"),
    [
        (agent("a"), needs(), None),
        (agent("a", brand_ids=frozenset({"globex"})), needs(), Ineligibility.WRONG_BRAND),
        (agent("a", departments=frozenset({"billing"})), needs(department="billing"), None),
        (
            agent("a", departments=frozenset({"care"})),
            needs(department="billing"),
            Ineligibility.NOT_IN_DEPARTMENT,
        ),
        # No departments is not "every department": routing a case to a team means that team.
        (agent("a"), needs(department="billing"), Ineligibility.NOT_IN_DEPARTMENT),
        # ...but a case without a department may go to anyone, specialists included.
        (agent("a", departments=frozenset({"billing"})), needs(), None),
        (agent("a"), needs(language="ru"), None),  # empty language skills: any language
        (agent("a", languages=frozenset({"ru"})), needs(language="ru"), None),
        (agent("a", languages=frozenset({"ru"})), needs(language="en"), Ineligibility.LANGUAGE),
        (agent("a", languages=frozenset({"en-GB"})), needs(language="en-US"), None),
        (agent("a", languages=frozenset({"EN"})), needs(language="en"), None),
        (agent("a", languages=frozenset({"ru"})), needs(language=None), None),
        (agent("a"), needs(network=Network.X), None),  # empty networks: any network
        (agent("a", networks=frozenset({Network.X})), needs(network=Network.X), None),
        (
            agent("a", networks=frozenset({Network.VK})),
            needs(network=Network.X),
            Ineligibility.NETWORK,
        ),
        (agent("a", availability=Availability.AWAY), needs(), Ineligibility.NOT_ONLINE),
        (agent("a", availability=Availability.OFFLINE), needs(), Ineligibility.NOT_ONLINE),
        (agent("a", active_cases=2, capacity=3), needs(), None),
        (agent("a", active_cases=3, capacity=3), needs(), Ineligibility.AT_CAPACITY),
        (agent("a", active_cases=5, capacity=3), needs(), Ineligibility.AT_CAPACITY),
    ],
)
def test_ineligibility_names_the_first_failed_check(
    who: Agent, what: CaseNeeds, expected: Ineligibility | None
) -> None:
    assert ineligibility(who, what) is expected
    assert is_eligible(who, what) is (expected is None)


def test_agent_validation() -> None:
    for bad, message in [
        ({"capacity": 0}, "capacity must be at least 1"),
        ({"capacity": True}, "capacity must be an integer"),
        ({"active_cases": -1}, "active_cases must be >= 0"),
        ({"last_assigned_at": datetime(2026, 1, 1)}, "must carry a time zone"),
        ({"availability": "busy"}, "'busy' is not a valid Availability"),
        ({"id": " "}, "agent id must not be empty"),
    ]:
        with pytest.raises(AssignmentError, match=message) as exc:
            agent("a", **bad)
        assert exc.value.code == "assignment.invalid_agent"


def test_agent_accepts_plain_strings_and_sets() -> None:
    built = agent("a", availability="online", networks={"x"}, brand_ids={BRAND})

    assert built.availability is Availability.ONLINE
    assert built.networks == frozenset({Network.X})
    assert built.brand_ids == frozenset({BRAND})


# --- strategies ------------------------------------------------------------------------


def test_manual_strategy_picks_nobody() -> None:
    assert pick_agent([agent("a")], needs(), AssignmentStrategy.MANUAL) is None


def test_nobody_eligible_picks_nobody() -> None:
    agents = [agent("a", availability=Availability.AWAY), agent("b", active_cases=3)]

    assert picked(agents, LEAST) is None
    assert picked(agents, ROBIN) is None


def test_least_loaded_picks_the_lowest_ratio() -> None:
    agents = [agent("a", active_cases=2, capacity=4), agent("b", active_cases=1, capacity=3)]

    choice = pick_agent(agents, needs(), LEAST)

    assert choice is not None
    assert choice.agent.id == "b"  # 1/3 < 2/4
    assert choice.strategy is LEAST
    assert choice.reason == "least loaded: 1 of 3 cases open before this one"


def test_least_loaded_ratio_tie_goes_to_fewer_open_cases() -> None:
    agents = [agent("a", active_cases=2, capacity=4), agent("b", active_cases=1, capacity=2)]

    assert picked(agents, LEAST) == "b"  # both 1/2; b has 1 case, a has 2


def test_least_loaded_then_longest_since_last_assignment() -> None:
    agents = [
        agent("a", active_cases=1, last_assigned_at=NOW - timedelta(minutes=5)),
        agent("b", active_cases=1, last_assigned_at=NOW - timedelta(hours=2)),
        agent("c", active_cases=1, last_assigned_at=NOW - timedelta(minutes=30)),
    ]

    assert picked(agents, LEAST) == "b"


def test_least_loaded_never_assigned_comes_before_any_time() -> None:
    agents = [
        agent("a", active_cases=1, last_assigned_at=NOW - timedelta(days=300)),
        agent("b", active_cases=1),
    ]

    assert picked(agents, LEAST) == "b"


def test_least_loaded_full_tie_goes_to_the_smallest_id() -> None:
    assert picked([agent("b"), agent("c"), agent("a")], LEAST) == "a"


def test_least_loaded_ignores_ineligible_agents_even_when_idle() -> None:
    agents = [
        agent("idle-away", availability=Availability.AWAY),
        agent("idle-other-team", departments=frozenset({"care"})),
        agent("busy", active_cases=2, departments=frozenset({"billing"})),
    ]

    assert picked(agents, LEAST, case_needs=needs(department="billing")) == "busy"


def test_round_robin_starts_with_the_first_id_and_records_the_pointer() -> None:
    care = [agent(x, departments=frozenset({"care"})) for x in "cab"]

    choice = pick_agent(care, needs(department="care"), ROBIN)

    assert choice is not None
    assert choice.agent.id == "a"
    assert choice.reason == "round robin in care: first in rotation"
    assert choice.state.last_for(BRAND, "care") == "a"
    assert choice.state.last_for(BRAND, None) is None


def test_round_robin_takes_the_next_after_the_last_one() -> None:
    state = RotationState({(BRAND, ""): "a"})
    choice = pick_agent([agent("a"), agent("b"), agent("c")], needs(), ROBIN, state)

    assert choice is not None
    assert choice.agent.id == "b"
    assert choice.reason == "round robin in the brand's queue: next after a"


def test_round_robin_wraps_around() -> None:
    state = RotationState({(BRAND, ""): "c"})

    assert picked([agent("a"), agent("b"), agent("c")], ROBIN, state=state) == "a"


def test_round_robin_skips_ineligible_agents() -> None:
    agents = [agent("a"), agent("b", availability=Availability.OFFLINE), agent("c")]
    state = RotationState({(BRAND, ""): "a"})

    assert picked(agents, ROBIN, state=state) == "c"


def test_round_robin_survives_the_last_agent_leaving() -> None:
    state = RotationState({(BRAND, ""): "b"})  # b is gone

    assert picked([agent("a"), agent("c"), agent("d")], ROBIN, state=state) == "c"


def test_round_robin_pointers_are_per_brand_and_department() -> None:
    agents = [agent(x, departments=frozenset({"care", "billing"})) for x in "abc"]
    state = RotationState()
    sequence: list[tuple[str, str]] = []
    for department in ["care", "care", "billing", "care", "billing"]:
        choice = pick_agent(agents, needs(department=department), ROBIN, state)
        assert choice is not None
        state = choice.state
        sequence.append((department, choice.agent.id))

    assert sequence == [
        ("care", "a"),
        ("care", "b"),
        ("billing", "a"),
        ("care", "c"),
        ("billing", "b"),
    ]
    assert state.last == {(BRAND, "care"): "c", (BRAND, "billing"): "b"}


def test_round_robin_is_fair_over_many_assignments() -> None:
    agents = [agent(x, capacity=100) for x in ["ann", "bob", "cat"]]

    result = distribute([case(f"c{i}") for i in range(30)], agents, strategy=ROBIN, now=NOW)

    order = [a.agent_id for a in result.assignments]
    assert order[:6] == ["ann", "bob", "cat", "ann", "bob", "cat"]
    assert Counter(order) == {"ann": 10, "bob": 10, "cat": 10}
    assert result.state.last_for(BRAND, None) == "cat"


def test_round_robin_moves_past_a_full_agent() -> None:
    agents = [agent("a", capacity=1), agent("b", capacity=10), agent("c", capacity=10)]

    result = distribute([case(f"c{i}") for i in range(6)], agents, strategy=ROBIN, now=NOW)

    assert [a.agent_id for a in result.assignments] == ["a", "b", "c", "b", "c", "b"]


def test_least_loaded_spreads_a_batch_evenly() -> None:
    agents = [agent("a", capacity=2), agent("b", capacity=4), agent("c", capacity=4)]

    result = distribute([case(f"c{i}") for i in range(10)], agents, strategy=LEAST, now=NOW)

    assert Counter(a.agent_id for a in result.assignments) == {"a": 2, "b": 4, "c": 4}
    assert [a.agent_id for a in result.assignments][:3] == ["a", "b", "c"]


# --- rotation state storage ------------------------------------------------------------


def test_rotation_state_round_trips_through_its_document() -> None:
    state = RotationState({("acme", "care"): "a", ("acme", ""): "b"})

    doc = state.to_doc()

    assert doc == [
        {"brand_id": "acme", "department": "", "agent_id": "b"},
        {"brand_id": "acme", "department": "care", "agent_id": "a"},
    ]
    assert RotationState.from_doc(doc) == state


def test_rotation_state_is_a_value() -> None:
    source = {(BRAND, ""): "a"}
    state = RotationState(source)
    source[(BRAND, "")] = "z"

    assert state.last_for(BRAND, None) == "a"
    assert state.advanced(BRAND, None, "b").last_for(BRAND, None) == "b"
    assert state.last_for(BRAND, None) == "a"


@pytest.mark.parametrize("doc", [{"a": 1}, [1], [{"brand_id": "acme", "department": None}]])
def test_rotation_state_refuses_malformed_documents(doc: object) -> None:
    with pytest.raises(AssignmentError) as exc:
        RotationState.from_doc(doc)

    assert exc.value.code == "assignment.invalid_document"


# --- from a routing decision -----------------------------------------------------------


def test_case_needs_come_from_the_routing_decision() -> None:
    rules = [
        RoutingRule(
            id="r",
            brand_id=BRAND,
            name="billing",
            position=1,
            actions=Actions(department="billing", required_skills=frozenset({Skill.LANGUAGE})),
        ),
        default_rule(BRAND),
    ]
    decision = route(rules, RoutingFacts(network=Network.X, kind=MentionKind.REPLY, language="ru"))

    assert CaseNeeds.from_decision(BRAND, decision) == CaseNeeds(
        brand_id=BRAND, department="billing", language="ru", network=None
    )


# --- manual assignment -----------------------------------------------------------------


def test_assign_under_capacity_is_allowed() -> None:
    assert check_assign(agent("a", active_cases=2), case(), actor_can_override=False) is False


def test_assign_ignores_department_skills_and_availability() -> None:
    offline_other_team = agent(
        "a",
        availability=Availability.OFFLINE,
        departments=frozenset({"care"}),
        languages=frozenset({"ru"}),
    )
    billing_en = case(needs=needs(department="billing", language="en"))

    assert check_assign(offline_other_team, billing_en, actor_can_override=False) is False


def test_assign_over_capacity_is_refused_without_force() -> None:
    with pytest.raises(AssignmentError, match="force=true") as exc:
        check_assign(agent("a", active_cases=3), case(), actor_can_override=True)

    assert exc.value.code == "assignment.over_capacity"


def test_force_over_capacity_needs_a_manager() -> None:
    with pytest.raises(AssignmentError) as exc:
        check_assign(agent("a", active_cases=3), case(), actor_can_override=False, force=True)

    assert exc.value.code == "assignment.override_not_allowed"


def test_a_manager_may_force_over_capacity() -> None:
    full = agent("a", active_cases=3)

    assert check_assign(full, case(), actor_can_override=True, force=True) is True


def test_force_with_room_is_an_ordinary_assignment() -> None:
    assert check_assign(agent("a"), case(), actor_can_override=False, force=True) is False


@pytest.mark.parametrize(
    ("who", "what", "code"),
    [
        (agent("a", brand_ids=frozenset({"globex"})), case(), "assignment.wrong_brand"),
        (agent("a"), case(active=False), "assignment.case_inactive"),
        (agent("a"), case(assignee_id="a"), "assignment.already_assigned"),
    ],
)
def test_assign_refusals_that_force_does_not_lift(who: Agent, what: CaseRef, code: str) -> None:
    with pytest.raises(AssignmentError) as exc:
        check_assign(who, what, actor_can_override=True, force=True)

    assert exc.value.code == code


def test_reassigning_to_another_agent_is_allowed() -> None:
    assert check_assign(agent("b"), case(assignee_id="a"), actor_can_override=False) is False


# --- claims ----------------------------------------------------------------------------


def test_claim_of_an_unassigned_case_in_the_agents_department() -> None:
    member = agent("a", departments=frozenset({"billing"}), availability=Availability.AWAY)

    check_claim(member, case(needs=needs(department="billing", language="fr")))


def test_a_generalist_may_claim_a_case_without_department() -> None:
    check_claim(agent("a"), case())


@pytest.mark.parametrize(
    ("who", "what", "code"),
    [
        (agent("a"), case(assignee_id="b"), "assignment.already_assigned"),
        (agent("a"), case(assignee_id="a"), "assignment.already_assigned"),
        (agent("a"), case(needs=needs(department="billing")), "assignment.not_in_department"),
        (agent("a", active_cases=3), case(), "assignment.over_capacity"),
        (agent("a", brand_ids=frozenset({"globex"})), case(), "assignment.wrong_brand"),
        (agent("a"), case(active=False), "assignment.case_inactive"),
    ],
)
def test_claim_refusals(who: Agent, what: CaseRef, code: str) -> None:
    with pytest.raises(AssignmentError) as exc:
        check_claim(who, what)

    assert exc.value.code == code


# --- bulk ------------------------------------------------------------------------------


def test_distribute_respects_capacity_and_reports_leftovers() -> None:
    agents = [agent("a", capacity=2), agent("b", capacity=1)]

    result = distribute([case(f"c{i}") for i in range(1, 5)], agents, strategy=LEAST, now=NOW)

    assert [(a.case_id, a.agent_id) for a in result.assignments] == [
        ("c1", "a"),
        ("c2", "b"),
        ("c3", "a"),
    ]
    assert [(u.case_id, u.reason) for u in result.unassigned] == [
        ("c4", UnassignedReason.ALL_AT_CAPACITY)
    ]
    assert [(a.id, a.active_cases, a.last_assigned_at) for a in result.agents] == [
        ("a", 2, NOW),
        ("b", 1, NOW),
    ]


def test_distribute_gives_each_leftover_its_reason() -> None:
    agents = [
        agent("en-billing", departments=frozenset({"billing"}), languages=frozenset({"en"})),
        agent("care-away", departments=frozenset({"care"}), availability=Availability.AWAY),
    ]
    cases = [
        case("inactive", active=False),
        case("taken", assignee_id="someone"),
        case("other-brand", needs=needs(brand_id="globex")),
        case("legal", needs=needs(department="legal")),
        case("billing-ru", needs=needs(department="billing", language="ru")),
        case("care", needs=needs(department="care")),
        case("billing-en", needs=needs(department="billing", language="en")),
    ]

    result = distribute(cases, agents, strategy=ROBIN, now=NOW)

    assert [(a.case_id, a.agent_id) for a in result.assignments] == [("billing-en", "en-billing")]
    assert {u.case_id: u.reason for u in result.unassigned} == {
        "inactive": UnassignedReason.CASE_INACTIVE,
        "taken": UnassignedReason.ALREADY_ASSIGNED,
        "other-brand": UnassignedReason.NO_AGENT_FOR_BRAND,
        "legal": UnassignedReason.NO_AGENT_IN_DEPARTMENT,
        "billing-ru": UnassignedReason.NO_AGENT_WITH_SKILLS,
        "care": UnassignedReason.NO_AGENT_ONLINE,
    }


def test_distribute_with_manual_strategy_assigns_nothing() -> None:
    result = distribute(
        [case("c1"), case("c2")], [agent("a")], strategy=AssignmentStrategy.MANUAL, now=NOW
    )

    assert result.assignments == ()
    assert [u.reason for u in result.unassigned] == [UnassignedReason.MANUAL] * 2
    assert result.agents == (agent("a"),)


def test_distribute_is_greedy_in_the_given_order() -> None:
    # Documented limit: the first case takes the only Russian reader although any agent
    # would have done for it; the Russian case after it is left over.
    agents = [agent("a-ru", languages=frozenset({"ru"}), capacity=1)]
    cases = [case("any"), case("ru", needs=needs(language="ru"))]

    result = distribute(cases, agents, strategy=LEAST, now=NOW)

    assert [(a.case_id, a.agent_id) for a in result.assignments] == [("any", "a-ru")]
    assert [(u.case_id, u.reason) for u in result.unassigned] == [
        ("ru", UnassignedReason.ALL_AT_CAPACITY)
    ]


def test_distribute_refuses_duplicates() -> None:
    with pytest.raises(AssignmentError) as exc:
        distribute([case("c1"), case("c1")], [agent("a")], strategy=LEAST, now=NOW)
    assert exc.value.code == "assignment.duplicate_case"

    with pytest.raises(AssignmentError) as exc:
        distribute([case("c1")], [agent("a"), agent("a")], strategy=LEAST, now=NOW)
    assert exc.value.code == "assignment.duplicate_agent"


def test_why_no_agent_reports_the_closest_anyone_came() -> None:
    offline = agent("a", availability=Availability.OFFLINE)
    full = agent("b", active_cases=3)

    assert why_no_agent([offline, full], needs()) is UnassignedReason.ALL_AT_CAPACITY
    assert why_no_agent([offline], needs()) is UnassignedReason.NO_AGENT_ONLINE
    assert why_no_agent([], needs()) is UnassignedReason.NO_AGENT_FOR_BRAND
    assert why_no_agent([offline, agent("c")], needs()) is None


# --- properties ------------------------------------------------------------------------

_agents = st.lists(
    st.builds(
        lambda capacity, extra, **kw: Agent(
            capacity=capacity, active_cases=min(extra, capacity + 1), **kw
        ),
        id=st.sampled_from("abcdefgh"),
        brand_ids=st.frozensets(st.sampled_from([BRAND, "globex"]), min_size=1),
        departments=st.frozensets(st.sampled_from(["billing", "care"])),
        languages=st.frozensets(st.sampled_from(["en", "ru"])),
        networks=st.frozensets(st.sampled_from([Network.VK, Network.X])),
        capacity=st.integers(1, 4),
        extra=st.integers(0, 5),
        availability=st.sampled_from(list(Availability)),
        last_assigned_at=st.none()
        | st.integers(0, 10_000).map(lambda s: NOW - timedelta(seconds=s)),
    ),
    unique_by=lambda a: a.id,
    max_size=8,
)
_needs = st.builds(
    CaseNeeds,
    brand_id=st.sampled_from([BRAND, "globex"]),
    department=st.none() | st.sampled_from(["billing", "care"]),
    language=st.none() | st.sampled_from(["en", "ru", "en-US"]),
    network=st.none() | st.sampled_from([Network.VK, Network.X]),
)
_strategies = st.sampled_from([LEAST, ROBIN])


@settings(max_examples=150, deadline=None)
@given(agents=_agents, wanted=st.lists(_needs, max_size=30), strategy=_strategies)
def test_repeated_picks_never_exceed_capacity_or_pick_unavailable_agents(
    agents: list[Agent], wanted: list[CaseNeeds], strategy: AssignmentStrategy
) -> None:
    current = {a.id: a for a in agents}
    state = RotationState()
    for what in wanted:
        choice = pick_agent(list(current.values()), what, strategy, state)
        if choice is None:
            assert not any(is_eligible(a, what) for a in current.values())
            continue
        chosen = current[choice.agent.id]
        assert chosen.availability is Availability.ONLINE
        assert chosen.active_cases < chosen.capacity
        assert is_eligible(chosen, what)
        current[chosen.id] = chosen.with_case(NOW)
        state = choice.state
    for before in agents:
        after = current[before.id]
        if before.availability is not Availability.ONLINE:
            assert after.active_cases == before.active_cases
        assert after.active_cases <= max(before.capacity, before.active_cases)


@settings(max_examples=150, deadline=None)
@given(
    agents=_agents,
    wanted=st.lists(_needs, max_size=30),
    strategy=_strategies,
    assigned=st.lists(st.booleans(), max_size=30),
)
def test_bulk_places_every_case_once_within_capacity(
    agents: list[Agent], wanted: list[CaseNeeds], strategy: AssignmentStrategy, assigned: list[bool]
) -> None:
    cases = [
        CaseRef(f"c{i}", what, assignee_id="x" if i < len(assigned) and assigned[i] else None)
        for i, what in enumerate(wanted)
    ]

    result = distribute(cases, agents, strategy=strategy, now=NOW)

    placed = [a.case_id for a in result.assignments] + [u.case_id for u in result.unassigned]
    assert sorted(placed) == sorted(c.case_id for c in cases)
    by_id = {c.case_id: c for c in cases}
    taken = Counter(a.agent_id for a in result.assignments)
    for before, after in zip(agents, result.agents, strict=True):
        assert after.id == before.id
        assert after.active_cases == before.active_cases + taken[before.id]
        if taken[before.id]:
            assert before.availability is Availability.ONLINE
            assert after.active_cases <= after.capacity
    for assignment in result.assignments:
        case_ = by_id[assignment.case_id]
        assert case_.assignee_id is None
        agent_ = next(a for a in agents if a.id == assignment.agent_id)
        assert ineligibility(agent_, case_.needs) is None  # eligible before the batch began
    for leftover in result.unassigned:
        if by_id[leftover.case_id].assignee_id is not None:
            assert leftover.reason is UnassignedReason.ALREADY_ASSIGNED
