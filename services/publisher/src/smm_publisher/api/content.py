"""Content routes: drafts, approvals, the calendar, publishing and its outcome per account.

Every route takes the brand (``brand_id`` in the body or the query) and checks it against
the caller's token; another brand's item is a 404. Reading needs ``content:read``; drafting,
editing, submitting and scheduling ``content:write`` (content managers, SMM managers,
admins); approving and rejecting ``content:approve`` (SMM managers, admins) *and* being an
approver of the item's current workflow step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from smm_publisher.adapters.content_repo import CalendarQuery
from smm_publisher.domain.approvals import ApprovalError
from smm_publisher.domain.content import ContentError, InvalidTransitionError, Schedule
from smm_publisher.services.content import (
    Actor,
    ConflictError,
    ContentNotFoundError,
    ContentService,
)
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.http import ApiError
from smm_shared.mongo import Document, from_epoch_ms

router = APIRouter(tags=["content"])

Reader = Annotated[Principal, Depends(require_permission(Permission.CONTENT_READ))]
Writer = Annotated[Principal, Depends(require_permission(Permission.CONTENT_WRITE))]
Approver = Annotated[Principal, Depends(require_permission(Permission.CONTENT_APPROVE))]
BrandQuery = Annotated[str, Query(min_length=1, max_length=64)]
StatusName = Literal[
    "draft",
    "submitted",
    "approved",
    "rejected",
    "scheduled",
    "publishing",
    "published",
    "failed",
    "cancelled",
]
#: Statuses that count as conflicts with the item's state (409), not bad input (422).
_STATE_CODES = frozenset(
    {
        "content.invalid_transition",
        "content.not_editable",
        "content.not_approved",
        "content.not_scheduled",
        "content.not_failed",
        "approval.invalid_state",
        "approval.already_approved",
        "approval.workflow_changed",
        "approval.required",
    }
)
_FORBIDDEN_CODES = frozenset({"approval.forbidden", "approval.not_an_approver"})
MAX_RANGE = timedelta(days=92)


def _service(request: Request) -> ContentService:
    service: ContentService = request.app.state.content
    return service


Service = Annotated[ContentService, Depends(_service)]


# --- bodies --------------------------------------------------------------------------------


class VariantIn(BaseModel):
    """What one network gets."""

    model_config = ConfigDict(extra="forbid")
    network: str = Field(min_length=1, max_length=32)
    text: str = Field(default="", max_length=70_000)
    media_urls: list[str] = Field(default=[], max_length=20)
    link: str | None = Field(default=None, max_length=2000)
    #: Reddit only.
    title: str | None = Field(default=None, max_length=1000)


class ScheduleIn(BaseModel):
    """When: ``at`` with an offset, or a wall-clock ``at`` without one read in ``time_zone``."""

    model_config = ConfigDict(extra="forbid")
    at: datetime
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)

    def to_schedule(self) -> Schedule:
        """The domain's schedule (ContentError for an unknown zone or a skipped time)."""
        return Schedule.from_local(self.at, self.time_zone)


class ContentIn(BaseModel):
    """A content item: a post with a variant per network, accounts, campaign, time, labels."""

    model_config = ConfigDict(extra="forbid")
    brand_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    variants: list[VariantIn] = Field(min_length=1, max_length=8)
    #: Publishing account ids (see ``/v1/accounts``).
    targets: list[str] = Field(default=[], max_length=50)
    campaign_id: str | None = Field(default=None, max_length=128)
    labels: list[str] = Field(default=[], max_length=30)
    schedule: ScheduleIn | None = None

    def fields(self) -> dict[str, Any]:
        """The domain's document fields."""
        return {
            "brand_id": self.brand_id,
            "title": self.title,
            "variants": [v.model_dump() for v in self.variants],
            "targets": self.targets,
            "campaign_id": self.campaign_id,
            "labels": self.labels,
            "schedule": self.schedule.to_schedule().to_doc() if self.schedule else None,
        }


class ContentUpdateIn(ContentIn):
    """A replace: send the ``version`` you read (409 when someone saved meanwhile)."""

    version: int = Field(ge=1)


class RejectIn(BaseModel):
    """Why the content is rejected."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class CommentIn(BaseModel):
    """A remark in the approval audit."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)


class ScheduleCommandIn(BaseModel):
    """Schedule or move: a new time, the item's own time (empty body), or ``now``.

    ``at`` without an offset is a wall-clock time in ``time_zone``, or else in the zone the
    item was planned in (UTC for an item that had no time).
    """

    model_config = ConfigDict(extra="forbid")
    at: datetime | None = None
    time_zone: str | None = Field(default=None, max_length=64)
    now: bool = False


class AuditOut(BaseModel):
    """One decision or remark."""

    user: str
    at: datetime
    action: str
    step: int | None = None
    reason: str | None = None


class ApprovalOut(BaseModel):
    """The approval state: status, workflow, current step and the audit trail."""

    status: str
    workflow_id: str | None = None
    step: int = 0
    approvals: list[dict[str, Any]] = []
    audit: list[AuditOut] = []


class DeliverySummary(BaseModel):
    """The outcome of the post from one account."""

    state: str
    network: str | None = None
    native_id: str | None = None
    url: str | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    #: While waiting (a rate limit, a retry): when the next attempt is (epoch ms).
    next_attempt_ms: int | None = None


class ContentOut(BaseModel):
    """A content item with its approval and delivery outcomes."""

    id: str
    brand_id: str
    title: str
    status: StatusName
    variants: list[dict[str, Any]]
    targets: list[str]
    campaign_id: str | None = None
    labels: list[str]
    schedule: dict[str, Any] | None = None
    publish_at: datetime | None = None
    approval: ApprovalOut
    deliveries: dict[str, DeliverySummary] = {}
    created_by: str
    created_at: datetime
    updated_at: datetime
    duplicated_from: str | None = None
    version: int


class DeliveryOut(BaseModel):
    """One delivery with its attempts' history."""

    id: str
    account_id: str | None
    network: str
    state: str
    attempts: int
    native_id: str | None = None
    url: str | None = None
    error: dict[str, Any] | None = None
    found_after_ambiguity: bool = False
    history: list[dict[str, Any]] = []


class ImportOut(BaseModel):
    """What an import did: the drafts created, and every row's problem."""

    created: list[str]
    errors: list[dict[str, Any]]
    stored: bool


def content_out(doc: Document) -> ContentOut:
    """The API view of a stored item."""
    approval = doc.get("approval") or {}
    return ContentOut(
        id=doc["_id"],
        brand_id=doc["brand_id"],
        title=doc["title"],
        status=doc["status"],
        variants=doc["variants"],
        targets=doc.get("targets") or [],
        campaign_id=doc.get("campaign_id"),
        labels=doc.get("labels") or [],
        schedule=doc.get("schedule"),
        publish_at=from_epoch_ms(doc["publish_at_ms"])
        if doc.get("publish_at_ms") is not None
        else None,
        approval=ApprovalOut(
            status=approval.get("status", "draft"),
            workflow_id=approval.get("workflow_id"),
            step=approval.get("step", 0),
            approvals=approval.get("approvals") or [],
            audit=[AuditOut(**entry) for entry in approval.get("audit") or []],
        ),
        deliveries={k: DeliverySummary(**v) for k, v in (doc.get("deliveries") or {}).items()},
        created_by=doc.get("created_by", ""),
        created_at=from_epoch_ms(doc["created_ms"]),
        updated_at=from_epoch_ms(doc["updated_ms"]),
        duplicated_from=doc.get("duplicated_from"),
        version=doc["version"],
    )


def actor_of(principal: Principal) -> Actor:
    """The caller as the approval domain sees them."""
    return Actor(principal.subject, frozenset(role.value for role in principal.roles))


T = TypeVar("T")


async def run(call: Callable[[], Awaitable[T]]) -> T:
    """Run a command; domain errors become API errors with their codes."""
    try:
        return await call()
    except ContentNotFoundError:
        raise ApiError(404, "content.not_found", "No such content item for this brand.") from None
    except ConflictError as exc:
        raise ApiError(409, "content.conflict", str(exc)) from None
    except InvalidTransitionError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    except (ContentError, ApprovalError) as exc:
        if exc.code in _FORBIDDEN_CODES:
            raise ApiError(403, exc.code, exc.message) from None
        code = 409 if exc.code in _STATE_CODES else 422
        raise ApiError(code, exc.code, exc.message) from None


# --- routes --------------------------------------------------------------------------------


@router.post("/v1/content", status_code=status.HTTP_201_CREATED, response_model=ContentOut)
async def create_content(body: ContentIn, principal: Writer, service: Service) -> ContentOut:
    """Draft a content item."""
    ensure_brand(principal, body.brand_id)
    doc = await run(lambda: service.create(body.fields(), actor_of(principal)))
    return content_out(doc)


@router.get("/v1/content", response_model=list[ContentOut])
async def list_content(
    brand_id: BrandQuery,
    principal: Reader,
    service: Service,
    status_: Annotated[list[StatusName], Query(alias="status")] = ["draft", "submitted"],  # noqa: B006 - FastAPI reads it
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ContentOut]:
    """Items by status whatever their time: drafts, the approval queue, failed posts."""
    ensure_brand(principal, brand_id)
    docs = await service.unscheduled(brand_id, status_, limit)
    return [content_out(d) for d in docs]


@router.post("/v1/content/import", response_model=ImportOut)
async def import_content(
    brand_id: BrandQuery,
    principal: Writer,
    service: Service,
    csv_text: Annotated[str, Body(media_type="text/csv", max_length=5_000_000)],
    partial: bool = False,
) -> ImportOut:
    """Drafts from a CSV file (columns in docs/publisher.md); all or nothing unless ``partial``."""
    ensure_brand(principal, brand_id)
    result, created = await run(
        lambda: service.import_csv(brand_id, csv_text, actor_of(principal), partial=partial)
    )
    errors = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
    return ImportOut(created=created, errors=errors, stored=bool(created) or not errors)


@router.get("/v1/content/{content_id}", response_model=ContentOut)
async def get_content(
    content_id: str, brand_id: BrandQuery, principal: Reader, service: Service
) -> ContentOut:
    """One item with its approval trail and per-account outcomes."""
    ensure_brand(principal, brand_id)
    return content_out(await run(lambda: service.get(brand_id, content_id)))


@router.put("/v1/content/{content_id}", response_model=ContentOut)
async def replace_content(
    content_id: str, body: ContentUpdateIn, principal: Writer, service: Service
) -> ContentOut:
    """Replace the content; after approval a content change sends it back to draft."""
    ensure_brand(principal, body.brand_id)
    doc = await run(
        lambda: service.update(
            body.brand_id, content_id, body.fields(), actor_of(principal), version=body.version
        )
    )
    return content_out(doc)


@router.get("/v1/content/{content_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    content_id: str, brand_id: BrandQuery, principal: Reader, service: Service
) -> list[DeliveryOut]:
    """The item's deliveries, one per account, with every attempt."""
    ensure_brand(principal, brand_id)
    docs = await run(lambda: service.deliveries(brand_id, content_id))
    return [
        DeliveryOut(
            id=d["_id"],
            account_id=d.get("account_id"),
            network=d["network"],
            state=d["state"],
            attempts=d.get("attempts", 0),
            native_id=d.get("native_id"),
            url=d.get("url"),
            error=d.get("error"),
            found_after_ambiguity=bool(d.get("found_after_ambiguity")),
            history=d.get("history") or [],
        )
        for d in docs
    ]


@router.post("/v1/content/{content_id}/submit", response_model=ContentOut)
async def submit_content(
    content_id: str, brand_id: BrandQuery, principal: Writer, service: Service
) -> ContentOut:
    """Send for approval (approved at once when no workflow applies)."""
    ensure_brand(principal, brand_id)
    return content_out(await run(lambda: service.submit(brand_id, content_id, actor_of(principal))))


@router.post("/v1/content/{content_id}/approve", response_model=ContentOut)
async def approve_content(
    content_id: str, brand_id: BrandQuery, principal: Approver, service: Service
) -> ContentOut:
    """Approve in the current step; the last approval puts a timed item on the calendar."""
    ensure_brand(principal, brand_id)
    return content_out(
        await run(lambda: service.approve(brand_id, content_id, actor_of(principal)))
    )


@router.post("/v1/content/{content_id}/unschedule", response_model=ContentOut)
async def unschedule_content(
    content_id: str, brand_id: BrandQuery, principal: Writer, service: Service
) -> ContentOut:
    """Take off the calendar; the approval is kept."""
    ensure_brand(principal, brand_id)
    return content_out(
        await run(lambda: service.unschedule(brand_id, content_id, actor_of(principal)))
    )


@router.post("/v1/content/{content_id}/cancel", response_model=ContentOut)
async def cancel_content(
    content_id: str, brand_id: BrandQuery, principal: Writer, service: Service
) -> ContentOut:
    """Cancel for good (duplicate it to use the content again)."""
    ensure_brand(principal, brand_id)
    return content_out(
        await run(
            lambda: service.unschedule(brand_id, content_id, actor_of(principal), cancel=True)
        )
    )


@router.post("/v1/content/{content_id}/retry", response_model=ContentOut)
async def retry_content(
    content_id: str, brand_id: BrandQuery, principal: Writer, service: Service
) -> ContentOut:
    """Publish again from the accounts that failed (after fixing the cause)."""
    ensure_brand(principal, brand_id)
    return content_out(await run(lambda: service.retry(brand_id, content_id, actor_of(principal))))


@router.post(
    "/v1/content/{content_id}/duplicate",
    status_code=status.HTTP_201_CREATED,
    response_model=ContentOut,
)
async def duplicate_content(
    content_id: str, brand_id: BrandQuery, principal: Writer, service: Service
) -> ContentOut:
    """A new draft with the same content and no time."""
    ensure_brand(principal, brand_id)
    return content_out(
        await run(lambda: service.duplicate(brand_id, content_id, actor_of(principal)))
    )


@router.post("/v1/content/{content_id}/reject", response_model=ContentOut)
async def reject_content(
    content_id: str, brand_id: BrandQuery, body: RejectIn, principal: Approver, service: Service
) -> ContentOut:
    """Reject in the current step, saying why."""
    ensure_brand(principal, brand_id)
    doc = await run(lambda: service.reject(brand_id, content_id, actor_of(principal), body.reason))
    return content_out(doc)


@router.post("/v1/content/{content_id}/comments", response_model=ContentOut)
async def comment_content(
    content_id: str, brand_id: BrandQuery, body: CommentIn, principal: Writer, service: Service
) -> ContentOut:
    """A remark in the approval audit."""
    ensure_brand(principal, brand_id)
    doc = await run(lambda: service.comment(brand_id, content_id, actor_of(principal), body.text))
    return content_out(doc)


@router.post("/v1/content/{content_id}/schedule", response_model=ContentOut)
async def schedule_content(
    content_id: str,
    brand_id: BrandQuery,
    body: ScheduleCommandIn,
    principal: Writer,
    service: Service,
) -> ContentOut:
    """Put an approved item on the calendar, move it (approval kept), or publish it now."""
    ensure_brand(principal, brand_id)
    doc = await run(
        lambda: service.schedule(
            brand_id,
            content_id,
            actor_of(principal),
            at=body.at,
            time_zone=body.time_zone,
            now=body.now,
        )
    )
    return content_out(doc)


@router.get("/v1/calendar", response_model=list[ContentOut])
async def calendar(
    brand_id: BrandQuery,
    principal: Reader,
    service: Service,
    from_: Annotated[datetime, Query(alias="from")],
    to: datetime,
    account_id: str | None = None,
    network: str | None = None,
    campaign_id: str | None = None,
    status_: Annotated[list[StatusName] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> list[ContentOut]:
    """Items whose time is in ``[from, to)`` (at most 92 days), earliest first, with filters."""
    ensure_brand(principal, brand_id)
    start, end = _aware(from_), _aware(to)
    if end <= start or end - start > MAX_RANGE:
        raise ApiError(
            422, "calendar.invalid_range", "'to' must be after 'from', at most 92 days later."
        )
    query = CalendarQuery(
        brand_id=brand_id,
        from_ms=int(start.timestamp() * 1000),
        to_ms=int(end.timestamp() * 1000),
        statuses=frozenset(status_ or ()),
        campaign_id=campaign_id,
        network=network,
        account_id=account_id,
        limit=limit,
    )
    return [content_out(d) for d in await service.calendar(query)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
