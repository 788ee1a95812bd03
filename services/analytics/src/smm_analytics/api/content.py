"""Content and campaign metrics routes, and campaign spend entered by people.

Every route takes ``brand_id`` in the query and checks it against the caller's token; another
brand's campaign or spend entry is a 404. Reads need ``analytics:read``; entering and deleting
spend ``content:write``. Definitions (engagements, engagement rate, costs, best times) are in
:mod:`smm_analytics.services.content`; in short: engagements = likes + comments + shares as
reported, engagement rate = engagements / views where views are reported (no follower count
of our accounts is available), costs in minor units of the campaign's currency. Ranges cover
at most 366 days, lists at most 500 rows; ``format=csv`` on the posts and campaigns lists
answers a CSV attachment with a header row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smm_analytics.adapters.content_store import SpendConflictError, SpendEntry
from smm_analytics.api.csv_export import csv_attachment
from smm_analytics.services.content import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CampaignNotFoundError,
    ContentMetrics,
    ContentMetricsError,
    NewSpend,
    PostSort,
    SpendNotFoundError,
)
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.events import Network
from smm_shared.http import ApiError

router = APIRouter(prefix="/v1", tags=["content metrics"])

Reader = Annotated[Principal, Depends(require_permission(Permission.ANALYTICS_READ))]
Writer = Annotated[Principal, Depends(require_permission(Permission.CONTENT_WRITE))]
BrandQuery = Annotated[str, Query(min_length=1, max_length=64)]
CampaignPath = Annotated[str, Path(min_length=1, max_length=128)]
From = Annotated[datetime | None, Query(alias="from")]
To = Annotated[datetime | None, Query(alias="to")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Format = Annotated[Literal["json", "csv"], Query(alias="format")]
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}
}


def _service(request: Request) -> ContentMetrics:
    service: ContentMetrics = request.app.state.content_metrics
    return service


Service = Annotated[ContentMetrics, Depends(_service)]
T = TypeVar("T")


async def _call(action: Awaitable[T]) -> T:
    """Run a service call, mapping its domain errors to API errors."""
    try:
        return await action
    except (SpendNotFoundError, CampaignNotFoundError) as exc:
        raise ApiError(404, exc.code, exc.message) from exc
    except ContentMetricsError as exc:
        raise ApiError(422, exc.code, exc.message) from exc
    except SpendConflictError as exc:
        raise ApiError(409, "spend.conflict", str(exc)) from exc


# --- models ------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PostOut(_Out):
    """A post's newest counters (``null``: not reported), engagements and engagement rate."""

    network: str
    native_id: str
    url: str | None
    content_id: str | None
    campaign_id: str | None
    title: str | None
    account_id: str | None
    #: ``null`` for a post we never saw published (tracked by ingest).
    published_at: datetime | None
    #: When the newest snapshot was taken; ``null`` before the first one.
    observed_at: datetime | None
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    clicks: int | None
    #: likes + comments + shares, the ones the network reports.
    engagements: int | None
    #: engagements / views; ``null`` where views are not reported.
    engagement_rate: float | None


class PostList(BaseModel):
    """Posts of a range, sorted."""

    brand_id: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    sort: str
    posts: list[PostOut]


class TotalsOut(_Out):
    """Counters summed over posts (``null``: no post reports it), engagements and rate."""

    posts: int
    #: Posts with at least one engagement snapshot.
    observed: int
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    clicks: int | None
    engagements: int | None
    engagement_rate: float | None


class NetworkOut(_Out):
    """A campaign on one network, with the spend entered for that network."""

    network: str
    totals: TotalsOut
    spend_minor: int
    cost_per_engagement_minor: float | None
    cost_per_click_minor: float | None


class CampaignOut(_Out):
    """A campaign's posts, engagement, spend and costs (minor units, two decimals)."""

    campaign_id: str
    totals: TotalsOut
    spend_minor: int
    currency: str | None
    spend_unassigned_minor: int
    cost_per_engagement_minor: float | None
    cost_per_click_minor: float | None
    networks: list[NetworkOut]


class CampaignList(BaseModel):
    """The campaigns seen in content items, posts and spend."""

    brand_id: str
    campaigns: list[CampaignOut]


class SlotOut(_Out):
    """One local weekday-hour cell (weekday 0 = Monday): posts and their engagements."""

    weekday: int
    day: str
    hour: int
    posts: int
    engagements: int
    average_engagements: float


class BestTimesOut(_Out):
    """Average engagements per post by local weekday and hour, and the best slots."""

    brand_id: str
    time_zone: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    network: str | None
    posts: int
    #: Posts a slot needs to be among the best.
    min_posts: int
    slots: list[SlotOut]
    best: list[SlotOut]


class SpendIn(BaseModel):
    """Money spent on a campaign: a positive amount in minor units (kopecks, cents)."""

    model_config = ConfigDict(extra="forbid")
    amount_minor: int = Field(gt=0, le=10**13)
    #: ISO 4217 code, three capital letters (``RUB``); one currency per campaign.
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    spent_on: date
    network: Network | None = None
    note: str | None = Field(default=None, min_length=1, max_length=500)


class SpendOut(_Out):
    """A spend entry as entered."""

    id: str
    amount_minor: int
    currency: str
    spent_on: date
    network: str | None
    note: str | None
    created_at: datetime
    created_by: str


class SpendList(BaseModel):
    """A campaign's spend entries and their total."""

    brand_id: str
    campaign_id: str
    currency: str | None
    total_minor: int
    entries: list[SpendOut]


# --- CSV ---------------------------------------------------------------------------------

POST_COLUMNS = (
    "network",
    "native_id",
    "url",
    "content_id",
    "campaign_id",
    "title",
    "account_id",
    "published_at",
    "observed_at",
    "likes",
    "comments",
    "shares",
    "views",
    "clicks",
    "engagements",
    "engagement_rate",
)
CAMPAIGN_COLUMNS = (
    "campaign_id",
    "posts",
    "observed",
    "likes",
    "comments",
    "shares",
    "views",
    "clicks",
    "engagements",
    "engagement_rate",
    "spend_minor",
    "currency",
    "spend_unassigned_minor",
    "cost_per_engagement_minor",
    "cost_per_click_minor",
)


def _campaign_row(c: CampaignOut) -> list[Any]:
    t = c.totals
    return [
        c.campaign_id,
        t.posts,
        t.observed,
        t.likes,
        t.comments,
        t.shares,
        t.views,
        t.clicks,
        t.engagements,
        t.engagement_rate,
        c.spend_minor,
        c.currency,
        c.spend_unassigned_minor,
        c.cost_per_engagement_minor,
        c.cost_per_click_minor,
    ]


# --- routes ------------------------------------------------------------------------------


@router.get("/content/posts", response_model=PostList, responses=_CSV)
async def list_posts(
    principal: Reader,
    service: Service,
    brand_id: BrandQuery,
    start: From = None,
    end: To = None,
    network: Network | None = None,
    campaign_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    sort: PostSort = "engagements",
    limit: Limit = DEFAULT_LIMIT,
    format_: Format = "json",
) -> PostList | Response:
    """Posts published in the range (default: the last 30 days) with their latest engagement."""
    ensure_brand(principal, brand_id)
    since, until, posts = await _call(
        service.posts(
            brand_id=brand_id,
            start=start,
            end=end,
            network=network.value if network else None,
            campaign_id=campaign_id,
            sort=sort,
            limit=limit,
        )
    )
    found = [PostOut.model_validate(p) for p in posts]
    if format_ == "csv":
        rows = [[getattr(p, c) for c in POST_COLUMNS] for p in found]
        return csv_attachment(POST_COLUMNS, rows, "posts", brand_id)
    return PostList(brand_id=brand_id, start=since, end=until, sort=sort, posts=found)


@router.get("/content/best-times", response_model=BestTimesOut)
async def best_times(
    principal: Reader,
    service: Service,
    brand_id: BrandQuery,
    tz: Annotated[str, Query(min_length=1, max_length=64)] = "UTC",
    network: Network | None = None,
    start: From = None,
    end: To = None,
) -> BestTimesOut:
    """Average engagements per post by weekday and hour of publication in ``tz``."""
    ensure_brand(principal, brand_id)
    found = await _call(
        service.best_times(
            brand_id=brand_id,
            time_zone=tz,
            network=network.value if network else None,
            start=start,
            end=end,
        )
    )
    return BestTimesOut(
        brand_id=brand_id,
        time_zone=found.time_zone,
        start=found.start,
        end=found.end,
        network=found.network,
        posts=found.posts,
        min_posts=found.min_posts,
        slots=[SlotOut.model_validate(s) for s in found.slots],
        best=[SlotOut.model_validate(s) for s in found.best],
    )


@router.get("/campaigns", response_model=CampaignList, responses=_CSV)
async def list_campaigns(
    principal: Reader,
    service: Service,
    brand_id: BrandQuery,
    limit: Limit = DEFAULT_LIMIT,
    format_: Format = "json",
) -> CampaignList | Response:
    """Every campaign seen, with its figures, by campaign id."""
    ensure_brand(principal, brand_id)
    found = [
        CampaignOut.model_validate(c)
        for c in await _call(service.campaigns(brand_id=brand_id, limit=limit))
    ]
    if format_ == "csv":
        rows = [_campaign_row(c) for c in found]
        return csv_attachment(CAMPAIGN_COLUMNS, rows, "campaigns", brand_id)
    return CampaignList(brand_id=brand_id, campaigns=found)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(
    principal: Reader, service: Service, campaign_id: CampaignPath, brand_id: BrandQuery
) -> CampaignOut:
    """A campaign's posts, engagement, spend, cost per engagement and click, per network."""
    ensure_brand(principal, brand_id)
    found = await _call(service.campaign(brand_id=brand_id, campaign_id=campaign_id))
    return CampaignOut.model_validate(found)


def _spend_list(
    brand_id: str, campaign_id: str, currency: str | None, total: int, entries: Iterable[SpendEntry]
) -> SpendList:
    return SpendList(
        brand_id=brand_id,
        campaign_id=campaign_id,
        currency=currency,
        total_minor=total,
        entries=[SpendOut.model_validate(e) for e in entries],
    )


@router.get("/campaigns/{campaign_id}/spend", response_model=SpendList)
async def list_spend(
    principal: Reader, service: Service, campaign_id: CampaignPath, brand_id: BrandQuery
) -> SpendList:
    """The campaign's spend entries in the order they were entered, and their total."""
    ensure_brand(principal, brand_id)
    found = await _call(service.spend(brand_id=brand_id, campaign_id=campaign_id))
    return _spend_list(brand_id, campaign_id, found.currency, found.total_minor, found.entries)


@router.post(
    "/campaigns/{campaign_id}/spend", response_model=SpendOut, status_code=status.HTTP_201_CREATED
)
async def add_spend(
    principal: Writer,
    service: Service,
    campaign_id: CampaignPath,
    brand_id: BrandQuery,
    body: SpendIn,
) -> SpendOut:
    """Enter spend on a campaign (422 spend.currency_mismatch in another currency)."""
    ensure_brand(principal, brand_id)
    spend = NewSpend(
        amount_minor=body.amount_minor,
        currency=body.currency,
        spent_on=body.spent_on,
        network=body.network.value if body.network else None,
        note=body.note,
    )
    entry = await _call(
        service.add_spend(
            brand_id=brand_id, campaign_id=campaign_id, spend=spend, actor=principal.subject
        )
    )
    return SpendOut.model_validate(entry)


@router.delete("/campaigns/{campaign_id}/spend/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_spend(
    principal: Writer,
    service: Service,
    campaign_id: CampaignPath,
    entry_id: Annotated[str, Path(min_length=1, max_length=64)],
    brand_id: BrandQuery,
) -> Response:
    """Delete a spend entry (404 when this brand's campaign has no such entry)."""
    ensure_brand(principal, brand_id)
    await _call(service.delete_spend(brand_id=brand_id, campaign_id=campaign_id, entry_id=entry_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
