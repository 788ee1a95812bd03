"""Mention routes: accept a normalised mention, read one back."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smm_ingest.adapters.mentions_repo import MentionCursor
from smm_ingest.domain.mentions import MentionDraft
from smm_ingest.services.mentions import MentionNotFoundError, MentionService
from smm_shared.auth import (
    Permission,
    Principal,
    Role,
    ensure_brand,
    require_permission,
    require_roles,
)
from smm_shared.events import Attachment, Author, Mention, MentionKind, Network
from smm_shared.http import ApiError
from smm_shared.mongo import epoch_ms

router = APIRouter(prefix="/v1/mentions", tags=["mentions"])


class MentionIn(BaseModel):
    """A mention handed in by a connector or an integration, already in our vocabulary."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=64)
    network: Network
    kind: MentionKind
    native_id: str = Field(min_length=1, max_length=256)
    thread_id: str | None = Field(
        default=None, max_length=256, description="Defaults to the parent, else the item"
    )
    url: str | None = Field(default=None, max_length=2048)
    author: Author
    text: str = Field(max_length=100_000)
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime
    parent_native_id: str | None = Field(default=None, max_length=256)
    on_own_post: bool = False
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)


class MentionOut(BaseModel):
    """A stored mention."""

    brand_id: str
    duplicate: bool = False
    mention: Mention


def _service(request: Request) -> MentionService:
    service: MentionService = request.app.state.mentions
    return service


Service = Annotated[MentionService, Depends(_service)]
Ingestor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SMM_MANAGER))]
Reader = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_READ))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MentionOut)
async def accept_mention(
    body: MentionIn, principal: Ingestor, service: Service, response: Response
) -> MentionOut:
    """Store a mention durably and publish it; the same native item again returns the stored one (200)."""
    ensure_brand(principal, body.brand_id)
    if body.created_at.tzinfo is None:
        raise ApiError(422, "request.invalid", "created_at must carry a time zone")
    draft = MentionDraft(
        network=body.network,
        kind=body.kind,
        native_id=body.native_id,
        author=body.author,
        text=body.text,
        created_at=body.created_at,
        thread_id=body.thread_id,
        url=body.url,
        language=body.language,
        parent_native_id=body.parent_native_id,
        on_own_post=body.on_own_post,
        attachments=tuple(body.attachments),
    )
    try:
        accepted = await service.accept(brand_id=body.brand_id, draft=draft)
    except ValueError as exc:  # the contract refused a value (e.g. a malformed URL)
        raise ApiError(422, "mention.invalid", str(exc)) from exc
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return MentionOut(
        brand_id=body.brand_id, duplicate=not accepted.created, mention=accepted.mention
    )


class StoredMentionOut(BaseModel):
    """A stored mention with its state on the network."""

    brand_id: str
    deleted: bool
    mention: Mention


class MentionPage(BaseModel):
    """A page of mentions, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[StoredMentionOut]
    next_cursor: str | None = None


@router.get("", response_model=MentionPage)
async def list_mentions(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
    network: Network | None = None,
    kind: MentionKind | None = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    sentiment: Annotated[
        str | None, Query(pattern="^(positive|neutral|negative|mixed|unknown)$")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MentionPage:
    """A brand's mentions, newest first, filtered by network, kind, language, sentiment and time."""
    ensure_brand(principal, brand_id)
    filters: dict[str, Any] = {}
    for name, value in (
        ("network", network),
        ("kind", kind),
        ("language", language),
        ("sentiment", sentiment),
    ):
        if value is not None:
            filters[name] = value.value if isinstance(value, Enum) else value
    window: dict[str, int] = {}
    if since is not None:
        window["$gte"] = epoch_ms(_aware(since))
    if until is not None:
        window["$lt"] = epoch_ms(_aware(until))
    if window:
        filters["created_ms"] = window
    try:
        after = MentionCursor.decode(cursor) if cursor else None
    except ValueError:
        raise ApiError(422, "cursor.invalid", "cursor is not one this API returned") from None
    found = await service.list(brand_id=brand_id, filters=filters, after=after, limit=limit)
    next_cursor = None
    if len(found) == limit:
        last = found[-1].mention
        next_cursor = MentionCursor(epoch_ms(last.created_at), last.mention_id).encode()
    return MentionPage(
        items=[
            StoredMentionOut(brand_id=m.brand_id, deleted=m.deleted, mention=m.mention)
            for m in found
        ],
        next_cursor=next_cursor,
    )


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ApiError(
            422, "request.invalid", "times must carry a time zone (e.g. 2026-11-27T10:00:00Z)"
        )
    return value


@router.get("/{mention_id}", response_model=StoredMentionOut)
async def get_mention(mention_id: str, principal: Reader, service: Service) -> StoredMentionOut:
    """One mention of a brand the caller may see."""
    try:
        found = await service.get(mention_id=mention_id)
    except MentionNotFoundError:
        raise ApiError(404, "mention.not_found", f"No mention {mention_id}") from None
    if not principal.can_access(found.brand_id):
        # Same answer as a missing one: do not reveal other brands' ids.
        raise ApiError(404, "mention.not_found", f"No mention {mention_id}")
    return StoredMentionOut(brand_id=found.brand_id, deleted=found.deleted, mention=found.mention)
