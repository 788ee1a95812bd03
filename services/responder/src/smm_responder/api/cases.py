"""Inbox routes: list and read cases, and every command on them."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smm_responder.adapters.agents_repo import AgentRepository
from smm_responder.adapters.cases_repo import NO_DEADLINE_MS, CaseCursor, CaseQuery
from smm_responder.domain.cases import MANUAL_TARGETS, CaseStatus
from smm_responder.domain.routing import Priority
from smm_responder.services.cases import (
    Actor,
    CaseNotFoundError,
    CaseService,
    CommandError,
    ConcurrentUpdateError,
)
from smm_shared.auth import Permission, Principal, Role, ensure_brand, require_permission
from smm_shared.http import ApiError
from smm_shared.mongo import Document, from_epoch_ms

router = APIRouter(prefix="/v1/cases", tags=["cases"])

StatusName = Literal["new", "open", "pending_customer", "pending_department", "resolved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
SlaStateName = Literal["none", "ok", "at_risk", "breached"]


class SlaClockOut(BaseModel):
    """One SLA clock of the case."""

    metric: str
    status: str
    target_s: float
    consumed_s: float
    warn_due_at: datetime | None = None
    breach_due_at: datetime | None = None
    warned: bool
    breached: bool
    met_at: datetime | None = None


class CaseOut(BaseModel):
    """A case as the inbox list shows it."""

    id: str
    brand_id: str
    conversation_key: str
    network: str
    status: StatusName
    priority: PriorityName
    tags: list[str] = []
    assignee_id: str | None = None
    department: str | None = None
    mention_count: int
    mention_ids: list[str]
    first_mention_at: datetime
    last_mention_at: datetime
    opened_at: datetime
    last_activity_at: datetime
    author: dict[str, Any]
    preview: str
    language: str | None = None
    sentiment: dict[str, Any] = {}
    sla_state: SlaStateName = "none"
    next_deadline_at: datetime | None = None
    sla_policy_id: str | None = None
    sla: list[SlaClockOut] = []
    version: int


class TimelineEntry(BaseModel):
    """One entry of the case's history: who, when, what and why."""

    id: str
    at: datetime
    type: str
    actor: str
    reason: str = ""
    data: dict[str, Any] = {}


class ReplyOut(BaseModel):
    """A reply of ours and its delivery state."""

    id: str
    state: str
    text: str
    by: str
    automatic: bool = False
    created_at: datetime
    native_id: str | None = None
    url: str | None = None
    error: dict[str, str] | None = None
    rejection: str | None = None


class HandoffOut(BaseModel):
    """A handoff to a department and its answer."""

    id: str
    department: str
    note: str
    by: str
    at: datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


class ReviewOut(BaseModel):
    """The follow-up of a negative review after resolution."""

    mention_id: str
    score_before: float | None = None
    watch_until: datetime | None = None
    outcome: str | None = None


class CaseDetail(CaseOut):
    """A case with its timeline, replies, handoffs and review follow-up."""

    routing: dict[str, Any] = {}
    timeline: list[TimelineEntry] = []
    replies: list[ReplyOut] = []
    handoffs: list[HandoffOut] = []
    review: ReviewOut | None = None


class CasePage(BaseModel):
    """A page of cases; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[CaseOut]
    next_cursor: str | None = None


class CaseCounts(BaseModel):
    """Case counts for the inbox's filters."""

    status: dict[str, int]
    priority: dict[str, int]
    sla_state: dict[str, int]


class AssignIn(BaseModel):
    """Assign to a user (an agent of the brand), or unassign with null."""

    model_config = ConfigDict(extra="forbid")
    assignee_id: str | None = Field(default=None, max_length=128)
    #: Managers only: assign even if the agent is at capacity.
    force: bool = False


class StatusIn(BaseModel):
    """Move the case: open, pending_customer, resolved or closed."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "pending_customer", "resolved", "closed"]
    reason: str = Field(default="", max_length=1000)


class PriorityIn(BaseModel):
    """Set the priority."""

    model_config = ConfigDict(extra="forbid")
    priority: PriorityName
    reason: str = Field(default="", max_length=1000)


class TagsIn(BaseModel):
    """Add and remove tags."""

    model_config = ConfigDict(extra="forbid")
    add: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default=[], max_length=20)
    remove: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=[], max_length=20
    )


class NoteIn(BaseModel):
    """An internal note (never sent to the customer)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000)


class RouteIn(BaseModel):
    """Route to a department; its SLA policy takes over (re-bound, with an audit entry)."""

    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=1000)


class ReplyIn(BaseModel):
    """A reply: text, or a canned response filled with the case's values."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, max_length=20_000)
    canned_response_id: str | None = Field(default=None, max_length=64)
    #: The case's status after the reply.
    then: Literal["open", "pending_customer", "resolved"] = "pending_customer"
    #: An automatic acknowledgement: sent, but it does not count as a response for SLAs.
    automatic: bool = False


class ReplyCreated(BaseModel):
    """The reply and the case after it."""

    reply_id: str
    state: str
    case: CaseDetail


class DecisionIn(BaseModel):
    """A manager's decision on a reply waiting for approval."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=1000)


class HandoffIn(BaseModel):
    """Hand the case to a department, with the context it needs."""

    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=64)
    note: str = Field(min_length=1, max_length=10_000)


class HandoffCreated(BaseModel):
    """The handoff and the case after it."""

    handoff_id: str
    case: CaseDetail


class AnswerIn(BaseModel):
    """The department's answer (quoted in the reply to the customer)."""

    model_config = ConfigDict(extra="forbid")
    answer: str = Field(min_length=1, max_length=10_000)


class BulkIn(BaseModel):
    """The same command on many cases of one brand."""

    model_config = ConfigDict(extra="forbid")
    brand_id: str = Field(min_length=1, max_length=64)
    case_ids: list[str] = Field(min_length=1, max_length=200)
    action: Literal["assign", "status", "priority"]
    assignee_id: str | None = None
    force: bool = False
    status: Literal["open", "pending_customer", "resolved", "closed"] | None = None
    priority: PriorityName | None = None
    reason: str = Field(default="", max_length=1000)


class BulkResult(BaseModel):
    """Per case: done, or the error that stopped it."""

    case_id: str
    ok: bool
    code: str | None = None
    message: str | None = None


def _service(request: Request) -> CaseService:
    service: CaseService = request.app.state.cases
    return service


def _agents(request: Request) -> AgentRepository:
    repo: AgentRepository = request.app.state.agents
    return repo


Service = Annotated[CaseService, Depends(_service)]
Agents = Annotated[AgentRepository, Depends(_agents)]
Reader = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_READ))]
Writer = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_WRITE))]
MANAGERS = frozenset({Role.ADMIN, Role.SMM_MANAGER})


def actor_of(principal: Principal) -> Actor:
    """The principal as the actor of a command."""
    return Actor.user(
        principal.subject, is_manager=principal.has_any_role(MANAGERS), name=principal.name
    )


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else from_epoch_ms(ms)


def _clocks(doc: Document) -> list[SlaClockOut]:
    out = []
    for clock in (doc.get("sla") or {}).values():
        out.append(
            SlaClockOut(
                metric=clock["metric"],
                status=clock["status"],
                target_s=clock["target_ms"] / 1000,
                consumed_s=clock["consumed_ms"] / 1000,
                warn_due_at=_time(clock.get("warn_due_at")),
                breach_due_at=_time(clock.get("breach_due_at")),
                warned=clock["warned"],
                breached=clock["breached"],
                met_at=_time(clock.get("met_at")),
            )
        )
    return sorted(out, key=lambda c: c.metric)


def _summary_fields(doc: Document) -> dict[str, Any]:
    due = doc.get("next_due_ms", NO_DEADLINE_MS)
    return {
        "id": doc["_id"],
        "brand_id": doc["brand_id"],
        "conversation_key": doc["conversation_key"],
        "network": doc["network"],
        "status": doc["status"],
        "priority": doc["priority"],
        "tags": doc.get("tags") or [],
        "assignee_id": doc.get("assignee_id"),
        "department": doc.get("department"),
        "mention_count": doc["mention_count"],
        "mention_ids": doc["mention_ids"],
        "first_mention_at": doc["first_mention_at"],
        "last_mention_at": from_epoch_ms(doc["last_mention_ms"]),
        "opened_at": doc["opened_at"],
        "last_activity_at": from_epoch_ms(doc["last_activity_ms"]),
        "author": doc.get("author") or {},
        "preview": doc.get("preview", ""),
        "language": doc.get("language"),
        "sentiment": doc.get("sentiment") or {},
        "sla_state": doc.get("sla_state", "none"),
        "next_deadline_at": None if due >= NO_DEADLINE_MS else from_epoch_ms(due),
        "sla_policy_id": doc.get("sla_policy_id"),
        "sla": _clocks(doc),
        "version": doc["version"],
    }


def case_out(doc: Document) -> CaseOut:
    """A stored case as the list shows it."""
    return CaseOut(**_summary_fields(doc))


def case_detail(doc: Document) -> CaseDetail:
    """A stored case in full."""
    timeline = sorted(doc.get("timeline") or [], key=lambda e: (e["at_ms"], e["id"]))
    replies = [
        ReplyOut(
            id=rid,
            state=r["state"],
            text=r["text"],
            by=r["by"],
            automatic=bool(r.get("automatic")),
            created_at=from_epoch_ms(r["created_ms"]),
            native_id=r.get("native_id"),
            url=r.get("url"),
            error=r.get("error"),
            rejection=r.get("rejection"),
        )
        for rid, r in sorted((doc.get("replies") or {}).items(), key=lambda kv: kv[1]["created_ms"])
    ]
    handoffs = [
        HandoffOut(
            id=hid,
            department=h["department"],
            note=h["note"],
            by=h["by"],
            at=from_epoch_ms(h["at_ms"]),
            answer=h.get("answer"),
            answered_by=h.get("answered_by"),
            answered_at=_time(h.get("answered_ms")),
        )
        for hid, h in sorted((doc.get("handoffs") or {}).items(), key=lambda kv: kv[1]["at_ms"])
    ]
    review = doc.get("review")
    return CaseDetail(
        **_summary_fields(doc),
        routing=doc.get("routing") or {},
        timeline=[
            TimelineEntry(
                id=e["id"],
                at=from_epoch_ms(e["at_ms"]),
                type=e["type"],
                actor=e["actor"],
                reason=e.get("reason", ""),
                data=e.get("data") or {},
            )
            for e in timeline
        ],
        replies=replies,
        handoffs=handoffs,
        review=None
        if not review
        else ReviewOut(
            mention_id=review["mention_id"],
            score_before=review.get("score_before"),
            watch_until=_time(review.get("watch_until_ms")),
            outcome=review.get("outcome"),
        ),
    )


def _api_error(exc: Exception, case_id: str) -> ApiError:
    if isinstance(exc, CaseNotFoundError):
        return ApiError(404, "case.not_found", f"No case {case_id}")
    if isinstance(exc, CommandError):
        return ApiError(exc.status, exc.code, exc.message)
    if isinstance(exc, ConcurrentUpdateError):
        return ApiError(409, "case.busy", "The case is changing right now; try again.")
    raise exc


async def _detail(service: CaseService, case_id: str, principal: Principal) -> CaseDetail:
    return case_detail(await service.get(case_id=case_id, brand_ok=principal.can_access))


async def _command(
    service: CaseService, case_id: str, principal: Principal, run: Awaitable[object]
) -> CaseDetail:
    """Run a command, then answer with the case; domain refusals become API errors."""
    try:
        await run
        return await _detail(service, case_id, principal)
    except (CaseNotFoundError, CommandError, ConcurrentUpdateError) as exc:
        raise _api_error(exc, case_id) from None


@router.get("", response_model=CasePage)
async def list_cases(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
    status_: Annotated[list[StatusName] | None, Query(alias="status")] = None,
    priority: Annotated[list[PriorityName] | None, Query()] = None,
    network: Annotated[list[str] | None, Query(max_length=10)] = None,
    sentiment: Annotated[list[str] | None, Query(max_length=5)] = None,
    assignee: Annotated[list[str] | None, Query(max_length=50)] = None,
    unassigned: bool = False,
    department: Annotated[list[str] | None, Query(max_length=50)] = None,
    sla_state: Annotated[list[SlaStateName] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query(max_length=20)] = None,
    sort: Literal["activity", "deadline"] = "activity",
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """A brand's cases with filters; ``sort=deadline`` puts the next SLA deadline first."""
    ensure_brand(principal, brand_id)
    try:
        after = CaseCursor.decode(cursor) if cursor else None
    except ValueError:
        raise ApiError(422, "cursor.invalid", "cursor is not one this API returned") from None
    query = CaseQuery(
        brand_id=brand_id,
        statuses=tuple(status_ or ()),
        priorities=tuple(priority or ()),
        networks=tuple(network or ()),
        sentiments=tuple(sentiment or ()),
        assignees=tuple(assignee or ()),
        unassigned=unassigned,
        departments=tuple(department or ()),
        sla_states=tuple(sla_state or ()),
        tags=tuple(tag or ()),
        sort=sort,
        after=after,
        limit=limit,
    )
    try:
        docs, following = await service.list(query)
    except ValueError:
        raise ApiError(422, "cursor.invalid", "cursor is not one this list returned") from None
    next_cursor = None if following is None else following.encode()
    return CasePage(items=[case_out(d) for d in docs], next_cursor=next_cursor)


@router.get("/counts", response_model=CaseCounts)
async def case_counts(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> CaseCounts:
    """Cases per status; active cases per priority and SLA state."""
    ensure_brand(principal, brand_id)
    return CaseCounts(**await service.counts(brand_id))


@router.get("/{case_id}", response_model=CaseDetail)
async def get_case(case_id: str, principal: Reader, service: Service) -> CaseDetail:
    """One case with its timeline, replies, handoffs and review follow-up."""
    try:
        return await _detail(service, case_id, principal)
    except CaseNotFoundError as exc:
        raise _api_error(exc, case_id) from None


@router.post("/{case_id}/assign", response_model=CaseDetail)
async def assign(case_id: str, body: AssignIn, principal: Writer, service: Service) -> CaseDetail:
    """Assign to an agent (capacity holds; a manager may force) or unassign."""
    return await _command(
        service,
        case_id,
        principal,
        service.assign(
            case_id,
            body.assignee_id,
            actor=actor_of(principal),
            brand_ok=principal.can_access,
            force=body.force,
        ),
    )


@router.post("/{case_id}/claim", response_model=CaseDetail)
async def claim(case_id: str, principal: Writer, service: Service) -> CaseDetail:
    """Take an unassigned case for yourself."""
    return await _command(
        service,
        case_id,
        principal,
        service.claim(case_id, actor=actor_of(principal), brand_ok=principal.can_access),
    )


@router.post("/{case_id}/status", response_model=CaseDetail)
async def set_status(
    case_id: str, body: StatusIn, principal: Writer, service: Service
) -> CaseDetail:
    """Open, wait for the customer, resolve, close, or reopen a resolved case."""
    target = CaseStatus(body.status)
    assert target in MANUAL_TARGETS
    return await _command(
        service,
        case_id,
        principal,
        service.set_status(
            case_id,
            target,
            actor=actor_of(principal),
            reason=body.reason,
            brand_ok=principal.can_access,
        ),
    )


@router.post("/{case_id}/priority", response_model=CaseDetail)
async def set_priority(
    case_id: str, body: PriorityIn, principal: Writer, service: Service
) -> CaseDetail:
    """Change the priority."""
    return await _command(
        service,
        case_id,
        principal,
        service.set_priority(
            case_id,
            Priority(body.priority),
            actor=actor_of(principal),
            reason=body.reason,
            brand_ok=principal.can_access,
        ),
    )


@router.post("/{case_id}/tags", response_model=CaseDetail)
async def change_tags(
    case_id: str, body: TagsIn, principal: Writer, service: Service
) -> CaseDetail:
    """Add and remove tags."""
    return await _command(
        service,
        case_id,
        principal,
        service.change_tags(
            case_id,
            add=body.add,
            remove=body.remove,
            actor=actor_of(principal),
            brand_ok=principal.can_access,
        ),
    )


@router.post("/{case_id}/notes", response_model=CaseDetail, status_code=status.HTTP_201_CREATED)
async def add_note(case_id: str, body: NoteIn, principal: Writer, service: Service) -> CaseDetail:
    """Add an internal note."""
    return await _command(
        service,
        case_id,
        principal,
        service.add_note(
            case_id, body.text, actor=actor_of(principal), brand_ok=principal.can_access
        ),
    )


@router.post("/{case_id}/route", response_model=CaseDetail)
async def route_case(
    case_id: str, body: RouteIn, principal: Writer, service: Service
) -> CaseDetail:
    """Route to another department; the SLA is re-bound to its policy."""
    return await _command(
        service,
        case_id,
        principal,
        service.route_to(
            case_id,
            body.department,
            actor=actor_of(principal),
            reason=body.reason,
            brand_ok=principal.can_access,
        ),
    )


@router.post("/{case_id}/reroute", response_model=CaseDetail)
async def reroute(case_id: str, principal: Writer, service: Service) -> CaseDetail:
    """Evaluate the brand's routing rules again and apply the result."""
    return await _command(
        service,
        case_id,
        principal,
        service.reroute(case_id, actor=actor_of(principal), brand_ok=principal.can_access),
    )


@router.post("/{case_id}/replies", response_model=ReplyCreated)
async def reply(
    case_id: str,
    body: ReplyIn,
    principal: Writer,
    service: Service,
    agents: Agents,
    response: Response,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=128)],
) -> ReplyCreated:
    """Reply to the customer in the case's thread.

    ``Idempotency-Key`` (required) makes a double click one reply: the same key returns the
    same reply (200) instead of creating another (201). The reply may wait for a manager's
    approval (per agent, or by the case's priority, tags or department).
    """
    if (body.text is None) == (body.canned_response_id is None):
        raise ApiError(422, "reply.text_or_canned", "Give either text or canned_response_id.")
    try:
        case = await service.get(case_id=case_id, brand_ok=principal.can_access)
        profile = await agents.get(case["brand_id"], principal.subject)
        _, rid, created = await service.reply(
            case_id,
            text=body.text,
            canned_response_id=body.canned_response_id,
            idempotency_key=idempotency_key,
            then=CaseStatus(body.then),
            automatic=body.automatic,
            actor=actor_of(principal),
            agent_requires_approval=bool(profile and profile.get("requires_approval")),
            brand_ok=principal.can_access,
        )
        detail = await _detail(service, case_id, principal)
    except (CaseNotFoundError, CommandError, ConcurrentUpdateError) as exc:
        raise _api_error(exc, case_id) from None
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    state = next((r.state for r in detail.replies if r.id == rid), "unknown")
    return ReplyCreated(reply_id=rid, state=state, case=detail)


async def _decide(
    case_id: str,
    reply_id: str,
    body: DecisionIn,
    principal: Principal,
    service: Service,
    *,
    approve: bool,
) -> CaseDetail:
    if not principal.has_any_role(MANAGERS):
        raise ApiError(
            403, "auth.forbidden_role", "Only an SMM manager or admin decides on replies."
        )
    return await _command(
        service,
        case_id,
        principal,
        service.decide_reply(
            case_id,
            reply_id,
            approve=approve,
            reason=body.reason,
            actor=actor_of(principal),
            brand_ok=principal.can_access,
        ),
    )


@router.post("/{case_id}/replies/{reply_id}/approve", response_model=CaseDetail)
async def approve_reply(
    case_id: str, reply_id: str, body: DecisionIn, principal: Writer, service: Service
) -> CaseDetail:
    """Approve (and send) a reply waiting for approval."""
    return await _decide(case_id, reply_id, body, principal, service, approve=True)


@router.post("/{case_id}/replies/{reply_id}/reject", response_model=CaseDetail)
async def reject_reply(
    case_id: str, reply_id: str, body: DecisionIn, principal: Writer, service: Service
) -> CaseDetail:
    """Reject a reply waiting for approval, with a reason."""
    return await _decide(case_id, reply_id, body, principal, service, approve=False)


@router.post("/{case_id}/handoffs", response_model=HandoffCreated, status_code=201)
async def hand_off(
    case_id: str, body: HandoffIn, principal: Writer, service: Service
) -> HandoffCreated:
    """Hand the case to a department; it waits in pending_department with its own SLA."""
    try:
        _, handoff_id = await service.hand_off(
            case_id,
            body.department,
            note=body.note,
            actor=actor_of(principal),
            brand_ok=principal.can_access,
        )
        return HandoffCreated(
            handoff_id=handoff_id, case=await _detail(service, case_id, principal)
        )
    except (CaseNotFoundError, CommandError, ConcurrentUpdateError) as exc:
        raise _api_error(exc, case_id) from None


@router.post("/{case_id}/handoffs/{handoff_id}/answer", response_model=CaseDetail)
async def department_answer(
    case_id: str, handoff_id: str, body: AnswerIn, principal: Writer, service: Service
) -> CaseDetail:
    """The department's answer; the case returns to the agent (open)."""
    return await _command(
        service,
        case_id,
        principal,
        service.department_answer(
            case_id,
            handoff_id,
            answer=body.answer,
            actor=actor_of(principal),
            brand_ok=principal.can_access,
        ),
    )


@router.post("/bulk", response_model=list[BulkResult])
async def bulk(body: BulkIn, principal: Writer, service: Service) -> list[BulkResult]:
    """Assign, move or re-prioritise many cases; each case succeeds or fails on its own."""
    ensure_brand(principal, body.brand_id)
    actor = actor_of(principal)

    def same_brand(brand: str) -> bool:
        return brand == body.brand_id and principal.can_access(brand)

    results = []
    for case_id in dict.fromkeys(body.case_ids):
        try:
            if body.action == "assign":
                await service.assign(
                    case_id, body.assignee_id, actor=actor, brand_ok=same_brand, force=body.force
                )
            elif body.action == "status" and body.status is not None:
                await service.set_status(
                    case_id,
                    CaseStatus(body.status),
                    actor=actor,
                    reason=body.reason,
                    brand_ok=same_brand,
                )
            elif body.action == "priority" and body.priority is not None:
                await service.set_priority(
                    case_id,
                    Priority(body.priority),
                    actor=actor,
                    reason=body.reason,
                    brand_ok=same_brand,
                )
            else:
                raise CommandError(
                    "bulk.missing_value", f"{body.action} needs its value.", status=422
                )
            results.append(BulkResult(case_id=case_id, ok=True))
        except (CaseNotFoundError, CommandError, ConcurrentUpdateError) as exc:
            error = _api_error(exc, case_id)
            results.append(
                BulkResult(case_id=case_id, ok=False, code=error.code, message=error.message)
            )
    return results
