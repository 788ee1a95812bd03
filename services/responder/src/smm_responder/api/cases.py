"""Case routes: the first read side of the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from smm_responder.adapters.cases_repo import CaseCursor
from smm_responder.services.cases import CaseNotFoundError, CaseService
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.http import ApiError
from smm_shared.mongo import from_epoch_ms

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
    """A page of cases; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[CaseOut]
    next_cursor: str | None = None


def _service(request: Request) -> CaseService:
    service: CaseService = request.app.state.cases
    return service


Service = Annotated[CaseService, Depends(_service)]
Reader = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_READ))]


def _out(doc: dict[str, Any]) -> CaseOut:
    fields = {k: v for k, v in doc.items() if k != "_id" and k in CaseOut.model_fields}
    return CaseOut(
        id=doc["_id"],
        last_activity_at=from_epoch_ms(doc["last_activity_ms"]),
        last_mention_at=from_epoch_ms(doc["last_mention_ms"]),
        **fields,
    )


@router.get("", response_model=CasePage)
async def list_cases(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """A brand's cases, most recently active first."""
    ensure_brand(principal, brand_id)
    try:
        after = CaseCursor.decode(cursor) if cursor else None
    except ValueError:
        raise ApiError(422, "cursor.invalid", "cursor is not one this API returned") from None
    docs = await service.list(brand_id=brand_id, after=after, limit=limit)
    next_cursor = None
    if len(docs) == limit:
        next_cursor = CaseCursor(docs[-1]["last_activity_ms"], docs[-1]["_id"]).encode()
    return CasePage(items=[_out(d) for d in docs], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CaseOut)
async def get_case(case_id: str, principal: Reader, service: Service) -> CaseOut:
    """One case of a brand the caller may see."""
    try:
        return _out(await service.get(case_id=case_id, brand_ok=principal.can_access))
    except CaseNotFoundError:
        raise ApiError(404, "case.not_found", f"No case {case_id}") from None
