"""Settings routes: routing rules, SLA policies, calendars, departments, escalation rules,
canned responses, agents and the brand's responder configuration.

Every kind has the same shape: ``GET /v1/<kind>?brand_id=`` lists, ``POST /v1/<kind>``
creates, ``GET|PUT|DELETE /v1/<kind>/{id}?brand_id=`` reads, replaces (optimistically: send
the ``version`` you read; a stale one is 409) and deletes. Bodies are checked by the same
domain code that uses them, so what is saved always works; errors say what to fix.
Reading needs ``mentions:read``; writing needs ``settings:write`` (SMM managers, admins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smm_responder.adapters.agents_repo import AgentRepository
from smm_responder.domain.calendars import CalendarError
from smm_responder.domain.escalation import EscalationError, EscalationRule
from smm_responder.domain.replies import ReplyError, check_template
from smm_responder.domain.routing import (
    DEFAULT_POSITION,
    RoutingError,
    default_rule,
    validate_rules,
)
from smm_responder.domain.sla import SlaError
from smm_responder.services.cases import CaseService
from smm_responder.services.settings import (
    SettingsService,
    calendar_from_doc,
    policy_from_doc,
    rule_from_doc,
)
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.brand_store import BrandStore
from smm_shared.http import ApiError
from smm_shared.mongo import Document, new_id

Reader = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_READ))]
Editor = Annotated[Principal, Depends(require_permission(Permission.SETTINGS_WRITE))]
BrandQuery = Annotated[str, Query(min_length=1, max_length=64)]
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _config(request: Request) -> SettingsService:
    config: SettingsService = request.app.state.config
    return config


Config = Annotated[SettingsService, Depends(_config)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand_id: str = Field(min_length=1, max_length=64)


# --- bodies ----------------------------------------------------------------------------


class RoutingRuleIn(_In):
    """An ordered routing rule: all conditions must hold; the first matching rule acts.

    Conditions: networks, kinds, languages, sentiment_labels, min/max_sentiment_score,
    text_keywords, keyword_labels, topics, keyword_join (all|any), priority_hints,
    min_author_followers, author_verified, on_own_post. Actions: department, priority, tags,
    sla_policy_id, assignment (round_robin|least_loaded|manual), required_skills.
    """

    name: str = Field(min_length=1, max_length=200)
    position: int = Field(ge=0, le=DEFAULT_POSITION)
    enabled: bool = True
    conditions: dict[str, Any] = {}
    actions: dict[str, Any] = {}


class TargetIn(BaseModel):
    """One SLA target: business seconds allowed and when to warn."""

    model_config = ConfigDict(extra="forbid")
    metric: Literal["first_response", "next_response", "resolution", "time_to_assignment"]
    target_s: float = Field(gt=0, le=366 * 86_400)
    warn_percent: int | None = Field(default=None, ge=1, le=99)
    warn_before_s: float | None = Field(default=None, gt=0)


class SlaPolicyIn(_In):
    """An SLA policy: targets on a business calendar (none: the brand's, else 24/7)."""

    name: str = Field(min_length=1, max_length=200)
    calendar_id: str | None = Field(default=None, max_length=64)
    pause_when_pending_customer: bool = True
    targets: list[TargetIn] = Field(min_length=1, max_length=4)


class CalendarIn(_In):
    """Business hours: a time zone, intervals per weekday (``["22:00", "06:00"]`` runs
    overnight), holidays of a country from the ``holidays`` package, and custom dates."""

    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(min_length=1, max_length=64)
    week: dict[str, list[list[str]]] = {}
    holidays_country: str | None = Field(default=None, max_length=8)
    holidays_subdivision: str | None = Field(default=None, max_length=16)
    closed_dates: list[str] = Field(default=[], max_length=1000)
    open_dates: list[str] = Field(default=[], max_length=1000)
    always_open: bool = False


class DepartmentIn(_In):
    """A team that fixes problems (support, billing, delivery, legal...)."""

    id: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    sla_policy_id: str | None = Field(default=None, max_length=64)
    calendar_id: str | None = Field(default=None, max_length=64)
    #: The internal SLA of a handoff: seconds of business time for the department to answer.
    response_target_s: float | None = Field(default=None, gt=0, le=366 * 86_400)
    warn_percent: int | None = Field(default=None, ge=1, le=99)


class EscalationRuleIn(_In):
    """What to do on an SLA warning or breach."""

    name: str = Field(min_length=1, max_length=200)
    trigger: Literal["warning", "breach"]
    metrics: list[str] = []
    departments: list[str] = []
    min_priority: Literal["low", "normal", "high", "urgent"] | None = None
    position: int = Field(default=0, ge=0, le=1_000_000)
    enabled: bool = True
    raise_priority: bool = False
    reassign: bool = False
    assign_to: str | None = Field(default=None, max_length=128)
    route_to_department: str | None = Field(default=None, max_length=64)
    notify: list[str] = Field(default=[], max_length=50)


class CannedResponseIn(_In):
    """A reusable answer; ``{{author_name}}``, ``{{author_handle}}``, ``{{agent_name}}``,
    ``{{case_id}}``, ``{{brand}}`` and ``{{department_answer}}`` are filled in."""

    name: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10_000)
    language: str | None = Field(default=None, max_length=16)
    tags: list[str] = Field(default=[], max_length=20)


# --- the generic CRUD ------------------------------------------------------------------

Validate = Callable[[SettingsService, Document], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of settings document and how to check it."""

    path: str
    tag: str
    model: type[_In]
    store: Callable[[SettingsService], BrandStore]
    validate: Validate
    #: The stable prefix of this kind's error codes (``<code>.not_found``...).
    code: str = ""
    #: The id is a slug chosen by the caller (unique per brand); stored as ``brand|slug``.
    id_from_body: bool = False

    def stored_id(self, brand_id: str, doc_id: str) -> str:
        """The document ``_id`` of an API id."""
        return f"{brand_id}|{doc_id}" if self.id_from_body else doc_id


def _invalid(kind: str, exc: Exception) -> ApiError:
    code = getattr(exc, "code", None) or f"{kind}.invalid"
    return ApiError(422, str(code), str(getattr(exc, "message", None) or exc))


def _out(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.get("slug", doc["_id"]),
        **{k: v for k, v in doc.items() if k not in ("_id", "slug")},
    }


def crud_router(kind: Kind) -> APIRouter:
    """The five routes of one settings kind."""
    router = APIRouter(prefix=f"/v1/{kind.path}", tags=[kind.tag])
    model = kind.model
    singular = kind.code

    async def checked(config: SettingsService, doc: Document) -> None:
        try:
            await kind.validate(config, doc)
        except (
            RoutingError,
            SlaError,
            CalendarError,
            EscalationError,
            ReplyError,
            ValueError,
        ) as exc:
            raise _invalid(singular, exc) from None

    @router.get("", summary=f"List {kind.tag}")
    async def list_docs(
        principal: Reader, config: Config, brand_id: BrandQuery
    ) -> list[dict[str, Any]]:
        ensure_brand(principal, brand_id)
        return [_out(d) for d in await kind.store(config).for_brand_fresh(brand_id)]

    async def create(body: model, principal: Editor, config: Config) -> dict[str, Any]:  # type: ignore[valid-type]
        fields = body.model_dump()  # type: ignore[attr-defined]
        ensure_brand(principal, fields["brand_id"])
        doc_id = fields.pop("id") if kind.id_from_body else new_id()
        doc = {"_id": kind.stored_id(fields["brand_id"], doc_id), **fields}
        if kind.id_from_body:
            doc["slug"] = doc_id
        await checked(config, doc)
        store = kind.store(config)
        if await store.get(fields["brand_id"], doc["_id"]) is not None:
            raise ApiError(409, f"{singular}.exists", f"{doc_id} already exists")
        await store.insert(doc)
        return _out({**doc, "version": 1})

    @router.get("/{doc_id}", summary=f"Read one of {kind.tag}")
    async def read(
        doc_id: str, principal: Reader, config: Config, brand_id: BrandQuery
    ) -> dict[str, Any]:
        ensure_brand(principal, brand_id)
        doc = await kind.store(config).get(brand_id, kind.stored_id(brand_id, doc_id))
        if doc is None:
            raise ApiError(404, f"{singular}.not_found", f"No {singular} {doc_id}")
        return _out(doc)

    async def replace(
        doc_id: str,
        body: model,  # type: ignore[valid-type]
        principal: Editor,
        config: Config,
        version: Annotated[int, Query(ge=1, description="The version you read")],
    ) -> dict[str, Any]:
        fields = body.model_dump()  # type: ignore[attr-defined]
        fields.pop("id", None)
        ensure_brand(principal, fields["brand_id"])
        doc = {"_id": kind.stored_id(fields["brand_id"], doc_id), **fields}
        if kind.id_from_body:
            doc["slug"] = doc_id
        await checked(config, doc)
        store = kind.store(config)
        if await store.get(fields["brand_id"], doc["_id"]) is None:
            raise ApiError(404, f"{singular}.not_found", f"No {singular} {doc_id}")
        if not await store.replace(doc, version=version):
            raise ApiError(
                409, f"{singular}.changed", "Someone changed it since you read it; reload."
            )
        return _out({**doc, "version": version + 1})

    # The body type is chosen at run time: FastAPI must see the class itself (not the name
    # a postponed annotation would give it) when the route is added.
    create.__annotations__["body"] = model
    replace.__annotations__["body"] = model
    router.add_api_route(
        "",
        create,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        summary=f"Create one of {kind.tag}",
    )
    router.add_api_route(
        "/{doc_id}", replace, methods=["PUT"], summary=f"Replace one of {kind.tag}"
    )

    @router.delete(
        "/{doc_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete one of {kind.tag}"
    )
    async def delete(
        doc_id: str, principal: Editor, config: Config, brand_id: BrandQuery
    ) -> Response:
        ensure_brand(principal, brand_id)
        if doc_id == f"default-{brand_id}" and kind.path == "routing-rules":
            raise ApiError(
                409, "routing.default_not_deletable", "The default rule cannot be deleted."
            )
        if not await kind.store(config).delete(brand_id, kind.stored_id(brand_id, doc_id)):
            raise ApiError(404, f"{singular}.not_found", f"No {singular} {doc_id}")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


async def _check_rule(config: SettingsService, doc: Document) -> None:
    rule = rule_from_doc({**doc, "id": doc["_id"]})
    if rule.is_default:
        raise RoutingError("routing.default_reserved", "The default rule exists already; edit it.")
    others = [r for r in await config.rules(doc["brand_id"]) if r.id != rule.id]
    validate_rules([*others, rule])
    policy_id = rule.actions.sla_policy_id
    if policy_id is not None and await config.policy(doc["brand_id"], policy_id) is None:
        raise RoutingError("routing.unknown_policy", f"No SLA policy {policy_id} in this brand.")


async def _check_policy(config: SettingsService, doc: Document) -> None:
    policy = policy_from_doc(
        {**doc, "targets": [{k: v for k, v in t.items() if v is not None} for t in doc["targets"]]}
    )
    if policy.calendar_id is not None and not any(
        c["_id"] == policy.calendar_id
        for c in await config.calendars.for_brand_fresh(doc["brand_id"])
    ):
        raise SlaError(f"No calendar {policy.calendar_id} in this brand.")


async def _check_calendar(config: SettingsService, doc: Document) -> None:
    calendar_from_doc(doc)


async def _check_department(config: SettingsService, doc: Document) -> None:
    if (
        doc.get("sla_policy_id")
        and await config.policy(doc["brand_id"], doc["sla_policy_id"]) is None
    ):
        raise ValueError(f"No SLA policy {doc['sla_policy_id']} in this brand.")


async def _check_escalation(config: SettingsService, doc: Document) -> None:
    EscalationRule.from_doc(doc)


async def _check_canned(config: SettingsService, doc: Document) -> None:
    check_template(doc["text"])


KINDS = (
    Kind(
        "routing-rules",
        "routing rules",
        RoutingRuleIn,
        lambda c: c.routing_rules,
        _check_rule,
        code="routing-rule",
    ),
    Kind(
        "sla-policies",
        "SLA policies",
        SlaPolicyIn,
        lambda c: c.sla_policies,
        _check_policy,
        code="sla-policy",
    ),
    Kind(
        "calendars",
        "calendars",
        CalendarIn,
        lambda c: c.calendars,
        _check_calendar,
        code="calendar",
    ),
    Kind(
        "departments",
        "departments",
        DepartmentIn,
        lambda c: c.departments,
        _check_department,
        code="department",
        id_from_body=True,
    ),
    Kind(
        "escalation-rules",
        "escalation rules",
        EscalationRuleIn,
        lambda c: c.escalation_rules,
        _check_escalation,
        code="escalation-rule",
    ),
    Kind(
        "canned-responses",
        "canned responses",
        CannedResponseIn,
        lambda c: c.canned_responses,
        _check_canned,
        code="canned-response",
    ),
)


# --- the default routing rule -------------------------------------------------------------

default_router = APIRouter(prefix="/v1/routing-rules", tags=["routing rules"])


class DefaultActionsIn(_In):
    """What the default rule does with cases no other rule matched."""

    actions: dict[str, Any] = {}


@default_router.get("/default/current", summary="The brand's default routing rule")
async def read_default(principal: Reader, config: Config, brand_id: BrandQuery) -> dict[str, Any]:
    """The catch-all rule (always last; only its actions can change)."""
    ensure_brand(principal, brand_id)
    rule = next(r for r in await config.rules(brand_id) if r.is_default)
    return dict(rule.to_doc())


@default_router.put("/default/current", summary="Change the default rule's actions")
async def write_default(
    body: DefaultActionsIn, principal: Editor, config: Config
) -> dict[str, Any]:
    """Set what happens to cases no other rule matched."""
    ensure_brand(principal, body.brand_id)
    base = default_rule(body.brand_id).to_doc()
    try:
        rule = rule_from_doc({**base, "actions": body.actions})
    except RoutingError as exc:
        raise _invalid("routing", exc) from None
    policy_id = rule.actions.sla_policy_id
    if policy_id is not None and await config.policy(body.brand_id, policy_id) is None:
        raise ApiError(422, "routing.unknown_policy", f"No SLA policy {policy_id} in this brand.")
    doc = {**rule.to_doc(), "_id": rule.id}
    store = config.routing_rules
    current = await store.get(body.brand_id, rule.id)
    if current is None:
        await store.insert(doc)
    else:
        await store.replace(doc, version=int(current["version"]))
    return dict(rule.to_doc())


# --- agents ------------------------------------------------------------------------------

agents_router = APIRouter(prefix="/v1/agents", tags=["agents"])


class AgentIn(_In):
    """An agent's profile in a brand: queues, skills, capacity, availability."""

    user_id: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=200)
    departments: list[str] = Field(default=[], max_length=50)
    languages: list[str] = Field(default=[], max_length=50)
    networks: list[
        Literal["vk", "x", "facebook", "instagram", "telegram", "youtube", "mastodon", "reddit"]
    ] = []
    capacity: int = Field(default=10, ge=1, le=1000)
    availability: Literal["online", "away", "offline"] = "offline"
    #: The agent's replies wait for a manager's approval.
    requires_approval: bool = False


class AgentUpdate(BaseModel):
    """Fields to change on a profile (omit the rest)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    departments: list[str] | None = None
    languages: list[str] | None = None
    networks: list[str] | None = None
    capacity: int | None = Field(default=None, ge=1, le=1000)
    availability: Literal["online", "away", "offline"] | None = None
    requires_approval: bool | None = None


def _agents(request: Request) -> AgentRepository:
    repo: AgentRepository = request.app.state.agents
    return repo


Agents = Annotated[AgentRepository, Depends(_agents)]


def _agent_out(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("_id", "free_slots")}


@agents_router.get("", summary="List the brand's agents")
async def list_agents(
    principal: Reader, agents: Agents, brand_id: BrandQuery
) -> list[dict[str, Any]]:
    """Agents with their load (active cases) and availability."""
    ensure_brand(principal, brand_id)
    return [_agent_out(d) for d in await agents.for_brand(brand_id)]


@agents_router.post("", status_code=status.HTTP_201_CREATED, summary="Add an agent")
async def create_agent(body: AgentIn, principal: Editor, agents: Agents) -> dict[str, Any]:
    """Make a user an agent of the brand."""
    ensure_brand(principal, body.brand_id)
    if not await agents.create(body.model_dump()):
        raise ApiError(
            409, "agent.exists", f"{body.user_id} is already an agent of {body.brand_id}"
        )
    doc = await agents.get(body.brand_id, body.user_id)
    assert doc is not None
    return _agent_out(doc)


@agents_router.patch("/{user_id}", summary="Change an agent's profile or availability")
async def update_agent(
    request: Request,
    user_id: str,
    body: AgentUpdate,
    principal: Annotated[Principal, Depends(require_permission(Permission.MENTIONS_WRITE))],
    agents: Agents,
    brand_id: BrandQuery,
    version: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """Managers change anything; agents change only their own availability."""
    ensure_brand(principal, brand_id)
    fields = body.model_dump(exclude_none=True)
    own_availability = principal.subject == user_id and set(fields) <= {"availability"}
    if not own_availability and not principal.can(Permission.SETTINGS_WRITE):
        raise ApiError(403, "auth.forbidden_role", "Agents may only change their own availability.")
    if await agents.get(brand_id, user_id) is None:
        raise ApiError(404, "agent.not_found", f"{user_id} is not an agent of {brand_id}")
    if not await agents.update(brand_id, user_id, fields, version=version):
        raise ApiError(409, "agent.changed", "The profile changed since you read it; reload.")
    if fields.get("availability") == "online" or "capacity" in fields:
        # Room to work: the waiting cases this agent may take come to them now.
        cases: CaseService = request.app.state.cases
        await cases.backfill(brand_id, user_id)
    doc = await agents.get(brand_id, user_id)
    assert doc is not None
    return _agent_out(doc)


@agents_router.delete("/{user_id}", status_code=204, summary="Remove an agent")
async def delete_agent(
    user_id: str, principal: Editor, agents: Agents, brand_id: BrandQuery
) -> Response:
    """The user stops being an agent (their cases keep them until reassigned)."""
    ensure_brand(principal, brand_id)
    if not await agents.delete(brand_id, user_id):
        raise ApiError(404, "agent.not_found", f"{user_id} is not an agent of {brand_id}")
    return Response(status_code=204)


# --- brand configuration -------------------------------------------------------------------

brand_router = APIRouter(prefix="/v1/brand-config", tags=["brand configuration"])


class ApprovalIn(BaseModel):
    """Which replies wait for a manager."""

    model_config = ConfigDict(extra="forbid")
    priorities: list[Literal["low", "normal", "high", "urgent"]] = []
    tags: list[str] = []
    departments: list[str] = []


class ReviewIn(BaseModel):
    """Following negative reviews after resolution."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    threshold: float = Field(default=-0.05, ge=-1, le=1)
    days: int = Field(default=7, ge=1, le=90)


class BrandConfigIn(BaseModel):
    """The brand's responder configuration."""

    model_config = ConfigDict(extra="forbid")
    brand_name: str = Field(default="", max_length=200)
    reopen_window_h: float = Field(default=168, ge=0, le=24 * 90)
    default_sla_policy_id: str | None = None
    calendar_id: str | None = None
    approval: ApprovalIn = ApprovalIn()
    review_follow_up: ReviewIn = ReviewIn()


@brand_router.get("/{brand_id}", response_model=BrandConfigIn)
async def read_brand_config(brand_id: str, principal: Reader, config: Config) -> BrandConfigIn:
    """The brand's configuration (defaults when never saved)."""
    ensure_brand(principal, brand_id)
    doc = await config.brand_config.find_one({"_id": brand_id}) or {}
    return BrandConfigIn(**{k: v for k, v in doc.items() if k != "_id"})


@brand_router.put("/{brand_id}", response_model=BrandConfigIn)
async def write_brand_config(
    brand_id: str, body: BrandConfigIn, principal: Editor, config: Config
) -> BrandConfigIn:
    """Replace the brand's configuration."""
    ensure_brand(principal, brand_id)
    if (
        body.default_sla_policy_id
        and await config.policy(brand_id, body.default_sla_policy_id) is None
    ):
        raise ApiError(422, "brand.unknown_policy", f"No SLA policy {body.default_sla_policy_id}.")
    if body.calendar_id and not any(
        c["_id"] == body.calendar_id for c in await config.calendars.for_brand_fresh(brand_id)
    ):
        raise ApiError(422, "brand.unknown_calendar", f"No calendar {body.calendar_id}.")
    await config.save_config(brand_id, body.model_dump())
    return body


routers = (
    default_router,
    *(crud_router(kind) for kind in KINDS),
    agents_router,
    brand_router,
)
