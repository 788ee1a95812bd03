"""Alert routes: list a brand's trend and crisis alert episodes, read one, acknowledge, resolve.

Every route names the brand (``brand_id`` query parameter) and checks the caller may see
it; an episode of another brand is 404, as if it did not exist. Reading needs
``analytics:read``; acknowledging and resolving need ``alerts:manage`` (agents, analysts,
SMM managers, admins). The service is ``request.app.state.alerts``
(:class:`~smm_analytics.services.alerts.AlertService`), set by the composition root.

Errors: 404 ``alert.not_found``; 409 ``alert.not_current`` (acknowledging an episode a newer
one of the same alert replaced) and ``alert.conflict`` (it kept changing; retry); 422
``alert.invalid_cursor`` and ``request.invalid``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel

from smm_analytics.adapters.alerts_repo import AlertRecord, CursorError
from smm_analytics.domain.episodes import AlertKind, EpisodeStatus
from smm_analytics.services.alerts import (
    AlertConflictError,
    AlertError,
    AlertNotCurrentError,
    AlertNotFoundError,
    AlertService,
)
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.http import ApiError

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

KindName = Literal["rising_term", "negative_spike"]
StatusName = Literal["open", "closed"]
SeverityName = Literal["low", "medium", "high", "critical"]


def _service(request: Request) -> AlertService:
    service: AlertService = request.app.state.alerts
    return service


Service = Annotated[AlertService, Depends(_service)]
Reader = Annotated[Principal, Depends(require_permission(Permission.ANALYTICS_READ))]
Manager = Annotated[Principal, Depends(require_permission(Permission.ALERTS_MANAGE))]
BrandId = Annotated[str, Query(min_length=1, max_length=64)]
EpisodeId = Annotated[str, Path(min_length=1, max_length=64)]


class TermCountOut(BaseModel):
    """A top term of the latest detected hour and how many mentions carried it."""

    term: str
    count: int


class AlertOut(BaseModel):
    """An alert episode: what, how bad, the latest figures and why, and who acted on it."""

    id: str
    brand_id: str
    kind: KindName
    #: The term or ``#hashtag`` (rising term), or ``negative`` (negative spike).
    subject: str
    status: StatusName
    severity: SeverityName
    peak_severity: SeverityName
    opened_at: datetime
    #: The end of the latest hour with a detection.
    last_detected_at: datetime
    observed: float
    expected: float
    ratio: float
    p_value: float | None = None
    peak_observed: float
    detections: int
    top_terms: list[TermCountOut]
    sample_mention_ids: list[str]
    networks: list[str]
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: Literal["quiet", "resolved"] | None = None
    resolved_by: str | None = None

    @classmethod
    def of(cls, record: AlertRecord) -> AlertOut:
        """The API form of a stored episode."""
        ratio = record.observed / record.expected if record.expected > 0 else 0.0
        return cls(
            id=record.id,
            brand_id=record.brand_id,
            kind=record.kind.value,
            subject=record.subject,
            status=record.status.value,
            severity=record.severity.value,
            peak_severity=record.peak_severity.value,
            opened_at=record.opened_at,
            last_detected_at=record.last_detected_at,
            observed=record.observed,
            expected=record.expected,
            ratio=ratio,
            p_value=record.p_value,
            peak_observed=record.peak_observed,
            detections=record.detections,
            top_terms=[TermCountOut(term=t, count=n) for t, n in record.top_terms],
            sample_mention_ids=list(record.sample_mention_ids),
            networks=list(record.networks),
            acknowledged_by=record.acknowledged_by,
            acknowledged_at=record.acknowledged_at,
            closed_at=record.closed_at,
            close_reason=record.close_reason,
            resolved_by=record.resolved_by,
        )


class AlertList(BaseModel):
    """A page of episodes, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[AlertOut]
    next_cursor: str | None = None


def _api_error(exc: AlertError) -> ApiError:
    if isinstance(exc, AlertNotFoundError):
        return ApiError(404, exc.code, str(exc))
    if isinstance(exc, AlertNotCurrentError | AlertConflictError):
        return ApiError(409, exc.code, str(exc))
    return ApiError(422, exc.code, str(exc))


@router.get("", response_model=AlertList)
async def list_alerts(
    principal: Reader,
    service: Service,
    brand_id: BrandId,
    status: StatusName | None = None,
    kind: KindName | None = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> AlertList:
    """The brand's alert episodes newest first (``since``: opened at or after)."""
    ensure_brand(principal, brand_id)
    try:
        page = await service.page(
            brand_id=brand_id,
            status=EpisodeStatus(status) if status else None,
            kind=AlertKind(kind) if kind else None,
            since=since,
            limit=limit,
            cursor=cursor,
        )
    except CursorError as exc:
        raise ApiError(422, "alert.invalid_cursor", str(exc)) from exc
    return AlertList(items=[AlertOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{episode_id}", response_model=AlertOut)
async def get_alert(
    principal: Reader, service: Service, episode_id: EpisodeId, brand_id: BrandId
) -> AlertOut:
    """One alert episode."""
    ensure_brand(principal, brand_id)
    try:
        return AlertOut.of(await service.get(brand_id=brand_id, episode_id=episode_id))
    except AlertError as exc:
        raise _api_error(exc) from exc


@router.post("/{episode_id}/acknowledge", response_model=AlertOut)
async def acknowledge_alert(
    principal: Manager, service: Service, episode_id: EpisodeId, brand_id: BrandId
) -> AlertOut:
    """Acknowledge an episode (it stays open); the first acknowledgement is kept."""
    ensure_brand(principal, brand_id)
    try:
        record = await service.acknowledge(
            brand_id=brand_id, episode_id=episode_id, by=principal.subject
        )
    except AlertError as exc:
        raise _api_error(exc) from exc
    return AlertOut.of(record)


@router.post("/{episode_id}/resolve", response_model=AlertOut)
async def resolve_alert(
    principal: Manager, service: Service, episode_id: EpisodeId, brand_id: BrandId
) -> AlertOut:
    """Close an episode as resolved; a closed one is returned unchanged."""
    ensure_brand(principal, brand_id)
    try:
        record = await service.resolve(
            brand_id=brand_id, episode_id=episode_id, by=principal.subject
        )
    except AlertError as exc:
        raise _api_error(exc) from exc
    return AlertOut.of(record)
