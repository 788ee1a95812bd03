"""Case routes: the first read side of the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from smm_responder.services.cases import CaseNotFoundError, CaseService
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.http import ApiError

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class CaseOut(BaseModel):
    """A case as the inbox shows it."""

    id: str
    brand_id: str
    conversation_key: str
    network: str
    status: str
    priority: str
    mention_ids: list[str]
    mention_count: int
    first_mention_at: datetime
    last_mention_at: datetime
    opened_at: datetime
    last_activity_at: datetime
    author: dict[str, Any]
    preview: str
    version: int


class CasePage(BaseModel):
    """A page of cases; pass ``next_before`` as ``before`` for the next page."""

    items: list[CaseOut]
    next_before: datetime | None = None


def _service(request: Request) -> CaseService:
    service: CaseService = request.app.state.cases
    return service


Service = Annotated[CaseService, Depends(_service)]
Reader = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_READ))]


def _out(doc: dict[str, Any]) -> CaseOut:
    return CaseOut(
        id=doc["_id"], **{k: v for k, v in doc.items() if k != "_id" and k in CaseOut.model_fields}
    )


@router.get("", response_model=CasePage)
async def list_cases(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """A brand's cases, most recently active first."""
    ensure_brand(principal, brand_id)
    docs = await service.list(brand_id=brand_id, before=before, limit=limit)
    items = [_out(d) for d in docs]
    return CasePage(
        items=items, next_before=items[-1].last_activity_at if len(items) == limit else None
    )


@router.get("/{case_id}", response_model=CaseOut)
async def get_case(case_id: str, principal: Reader, service: Service) -> CaseOut:
    """One case of a brand the caller may see."""
    try:
        return _out(await service.get(case_id=case_id, brand_ok=principal.can_access))
    except CaseNotFoundError:
        raise ApiError(404, "case.not_found", f"No case {case_id}") from None
