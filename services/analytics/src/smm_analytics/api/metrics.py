"""Metric routes: time series, top-N, care and reputation, read from rollup buckets.

Every route needs ``analytics:read`` (every role has it) and a ``brand_id`` the caller's
token covers (403 otherwise). Times are UTC; a time without a zone is read as UTC. A
window covers whole hours or days (``granularity``; by default hours up to 3 days, days
beyond) and the answer gives the window it covers. Buckets are stored per one dimension,
so a query takes at most one of ``network``, ``language``, ``team``, ``agent``,
``sentiment``, and only one its metric is stored by (422 ``filter.*`` otherwise). Care
metrics have no network: SLA and case-resolution events carry none.

``format=csv`` returns the rows of a series, a top-N list or the care points as
``text/csv`` (header row first) to download.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from smm_analytics.api.csv_export import csv_attachment
from smm_analytics.domain.buckets import RangeTooLargeError
from smm_analytics.services.queries import (
    Care,
    FilterName,
    Granularity,
    QueryError,
    QueryService,
    Reputation,
    Series,
    SeriesMetric,
    Top,
    TopKind,
)
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.events import Network
from smm_shared.http import ApiError

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])

T = TypeVar("T")
Reader = Annotated[Principal, Depends(require_permission(Permission.ANALYTICS_READ))]
BrandId = Annotated[str, Query(min_length=1, max_length=64)]
From = Annotated[
    datetime | None, Query(alias="from", description="Window start (UTC), floored to the slot.")
]
To = Annotated[
    datetime | None, Query(alias="to", description="Window end (UTC), rounded up to the slot.")
]
GranularityQuery = Annotated[
    Granularity | None, Query(description="hour or day; default: hour up to 3 days, else day.")
]
NetworkQuery = Annotated[Network | None, Query(description="Filter: one network.")]
LanguageQuery = Annotated[
    str | None, Query(min_length=1, max_length=16, description="Filter: language tag or 'none'.")
]
TeamQuery = Annotated[str | None, Query(min_length=1, max_length=64, description="Filter: team.")]
AgentQuery = Annotated[
    str | None, Query(min_length=1, max_length=128, description="Filter: agent (assignee id).")
]
SentimentQuery = Annotated[
    Literal["negative"] | None, Query(description="Filter (terms only): negative mentions.")
]
Format = Annotated[
    Literal["json", "csv"], Query(description="csv: the rows as text/csv, to download.")
]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or with format=csv a CSV attachment with a header row.",
    }
}


def _service(request: Request) -> QueryService:
    service: QueryService = request.app.state.queries
    return service


Service = Annotated[QueryService, Depends(_service)]


async def _answer(call: Awaitable[T]) -> T:
    """Await a query; its errors become 422 with their code."""
    try:
        return await call
    except QueryError as exc:
        raise ApiError(422, exc.code, str(exc)) from exc
    except RangeTooLargeError as exc:
        raise ApiError(422, "range.too_large", str(exc)) from exc


def _fields(given: Sequence[str] | None) -> list[str]:
    """Repeated ``fields`` parameters, each a comma-separated list."""
    return [part for value in given or () for part in value.split(",")]


def _json(result: BaseModel) -> Response:
    """The answer as JSON, serialised once.

    Returning the model would make FastAPI dump it and validate it again against the
    response model: for a long series that doubled the time. The model stays the
    documented response (``response_model``); the service built it from typed values.
    """
    return Response(result.model_dump_json(), media_type="application/json")


def _stamp(window_start: datetime) -> str:
    return window_start.strftime("%Y%m%dT%H")


@router.get("/series", response_model=Series, responses=CSV_RESPONSE)
async def series(
    principal: Reader,
    service: Service,
    brand_id: BrandId,
    metric: SeriesMetric,
    start: From = None,
    end: To = None,
    granularity: GranularityQuery = None,
    network: NetworkQuery = None,
    language: LanguageQuery = None,
    team: TeamQuery = None,
    agent: AgentQuery = None,
    sentiment: SentimentQuery = None,
    fields: Annotated[
        list[str] | None,
        Query(
            max_length=100,
            description="Fields to return (repeat or comma-separate); labels for map metrics.",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=50, description="Map metrics without fields: the top labels.")
    ] = 10,
    format: Format = "json",
) -> Response:
    """A zero-filled time series of one metric with totals and derived values.

    Metrics and fields: mentions (count, sentiment counts, reach, net_sentiment,
    mean_score, <label>_share), posts and replies (published, failed, failure_rate),
    backlog (opened, reopened, resolved, backlog, resolution_rate), reviews (outcomes,
    recovery_rate), sla (<metric>_met, _late, _breached, _met_rate), duration histograms
    (count, mean_s, p50_s, p90_s, p95_s), and map metrics (share_of_voice, terms, topics,
    authors, author_reach) whose fields are labels. Filters: mentions by network or
    language; posts, replies, share_of_voice by network; care metrics by team or agent
    (never network); backlog by network (opened) or team/agent (resolved); terms by
    sentiment=negative.
    """
    ensure_brand(principal, brand_id)
    filters: dict[FilterName, str | None] = {
        "network": network.value if network else None,
        "language": language,
        "team": team,
        "agent": agent,
        "sentiment": sentiment,
    }
    result = await _answer(
        service.series(
            brand_id=brand_id,
            metric=metric,
            start=start,
            end=end,
            granularity=granularity,
            filters=filters,
            fields=_fields(fields),
            limit=limit,
        )
    )
    if format == "csv":
        return csv_attachment(
            ["slot", *result.fields],
            ([p.slot, *(p.values[f] for f in result.fields)] for p in result.points),
            brand_id,
            metric.value,
            result.granularity,
            _stamp(result.start),
        )
    return _json(result)


@router.get("/top", response_model=Top, responses=CSV_RESPONSE)
async def top(
    principal: Reader,
    service: Service,
    brand_id: BrandId,
    kind: TopKind,
    start: From = None,
    end: To = None,
    granularity: GranularityQuery = None,
    network: Annotated[
        Network | None,
        Query(description="share_of_voice, authors and authors_by_reach only."),
    ] = None,
    sentiment: SentimentQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    format: Format = "json",
) -> Response:
    """The top terms, hashtags, authors (by mentions or by reach), topics or share of voice.

    Share of voice ranks the keyword labels ingest matched (the brand and the configured
    competitors); ``share`` is each label's part of the total.
    """
    ensure_brand(principal, brand_id)
    filters: dict[FilterName, str | None] = {
        "network": network.value if network else None,
        "sentiment": sentiment,
    }
    result = await _answer(
        service.top(
            brand_id=brand_id,
            kind=kind,
            start=start,
            end=end,
            granularity=granularity,
            filters=filters,
            limit=limit,
        )
    )
    if format == "csv":
        return csv_attachment(
            ["rank", "name", "value", "share"],
            ([i.rank, i.name, i.value, i.share] for i in result.items),
            brand_id,
            f"top-{kind.value}",
            _stamp(result.start),
        )
    return _json(result)


@router.get("/care", response_model=Care, responses=CSV_RESPONSE)
async def care(
    principal: Reader,
    service: Service,
    brand_id: BrandId,
    start: From = None,
    end: To = None,
    granularity: GranularityQuery = None,
    team: TeamQuery = None,
    agent: AgentQuery = None,
    network: Annotated[
        Network | None,
        Query(description="Care of one network's cases (times, SLA counts, resolved)."),
    ] = None,
    format: Format = "json",
) -> Response:
    """Care performance: response and resolution time percentiles, SLA, backlog, rates.

    Times (seconds): first_response, next_response, resolution, assignment and
    department_response (business time, as SLAs measure it) and case_resolution
    (wall-clock), each with count, mean, p50, p90, p95 merged from fixed-bin histograms
    (within 5 %). SLA met rate = met / (met + breached); resolution rate = resolved /
    (opened + reopened); review recovery rate = (improved + deleted) / all outcomes;
    backlog at the end of each slot. With ``team``, ``agent`` or ``network`` only the
    times, SLA counts and resolved cases are filtered; the brand-wide fields are null.
    """
    ensure_brand(principal, brand_id)
    filters: dict[FilterName, str | None] = {
        "team": team,
        "agent": agent,
        "network": network.value if network else None,
    }
    result = await _answer(
        service.care(
            brand_id=brand_id, start=start, end=end, granularity=granularity, filters=filters
        )
    )
    if format == "csv":
        header = [
            "slot",
            "opened",
            "reopened",
            "resolved",
            "backlog",
            "replies_published",
            "replies_failed",
        ]
        return csv_attachment(
            header,
            (
                [
                    p.slot,
                    p.opened,
                    p.reopened,
                    p.resolved,
                    p.backlog,
                    p.replies_published,
                    p.replies_failed,
                ]
                for p in result.points
            ),
            brand_id,
            "care",
            result.granularity,
            _stamp(result.start),
        )
    return _json(result)


@router.get("/reputation", response_model=Reputation)
async def reputation(
    principal: Reader,
    service: Service,
    brand_id: BrandId,
    start: From = None,
    end: To = None,
    granularity: GranularityQuery = None,
) -> Response:
    """The reputation index of a window (default: the last 30 days) and its components.

    score = 100 * sum(w_i * norm_i) / sum(w_i) over the components with data: net
    sentiment (40), its trend against the previous window of the same length (15), the
    median first-response time against the target (25) and the negative-review recovery
    rate (20); ``formula`` names the version (see domain/reputation.py). Each component
    gives its raw value, normalised value, weights and its points of the score.
    """
    ensure_brand(principal, brand_id)
    result = await _answer(
        service.reputation(brand_id=brand_id, start=start, end=end, granularity=granularity)
    )
    return _json(result)
