"""Metric routes: time series read from rollup buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from smm_analytics.domain.buckets import RangeTooLargeError
from smm_analytics.services.rollups import RollupService
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.events import Network
from smm_shared.http import ApiError

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])


class SeriesPoint(BaseModel):
    """Mentions in one hour (UTC)."""

    slot: str
    count: int


class Series(BaseModel):
    """An hourly series and its total."""

    brand_id: str
    metric: str
    granularity: str = "hour"
    start: datetime
    end: datetime
    total: int
    points: list[SeriesPoint]


def _service(request: Request) -> RollupService:
    service: RollupService = request.app.state.rollups
    return service


Service = Annotated[RollupService, Depends(_service)]
Reader = Annotated[Principal, Depends(require_permission(Permission.ANALYTICS_READ))]


@router.get("/mentions", response_model=Series)
async def mention_volume(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    network: Network | None = None,
) -> Series:
    """Mention volume per hour (default: the last 24 hours)."""
    ensure_brand(principal, brand_id)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = (start or end - timedelta(hours=24)).astimezone(UTC)
    if start >= end:
        raise ApiError(422, "range.invalid", "'from' must be before 'to'")
    try:
        points = await service.mention_series(
            brand_id=brand_id, start=start, end=end, network=network.value if network else None
        )
    except RangeTooLargeError as exc:
        raise ApiError(422, "range.too_large", str(exc)) from exc
    return Series(
        brand_id=brand_id,
        metric="mentions",
        start=start,
        end=end,
        total=sum(p.count for p in points),
        points=[SeriesPoint(slot=p.slot, count=p.count) for p in points],
    )
