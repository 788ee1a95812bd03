"""Mention routes: accept a normalised mention, read one back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

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


@router.get("/{mention_id}", response_model=MentionOut)
async def get_mention(mention_id: str, principal: Reader, service: Service) -> MentionOut:
    """One mention of a brand the caller may see."""
    try:
        brand_id, mention = await service.get(mention_id=mention_id, brands=None)
    except MentionNotFoundError:
        raise ApiError(404, "mention.not_found", f"No mention {mention_id}") from None
    if not principal.can_access(brand_id):
        # Same answer as a missing one: do not reveal other brands' ids.
        raise ApiError(404, "mention.not_found", f"No mention {mention_id}")
    return MentionOut(brand_id=brand_id, mention=mention)
