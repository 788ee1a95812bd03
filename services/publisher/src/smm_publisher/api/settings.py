"""Publisher settings routes: publishing accounts and approval workflows.

``GET /v1/<kind>?brand_id=`` lists, ``POST /v1/<kind>`` creates, ``GET|PUT|DELETE
/v1/<kind>/{id}?brand_id=`` reads, replaces (send the ``version`` you read; a stale one is
409) and deletes. Reading needs ``content:read``; writing needs ``settings:write`` (SMM
managers, admins). Account tokens are accepted (``{"value"}`` encrypted at rest, or
``{"env"}``) and never returned.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo.errors import DuplicateKeyError

from smm_publisher.adapters.accounts import AccountStore
from smm_publisher.domain.approvals import ApprovalError, Workflow
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.brand_store import BrandStore
from smm_shared.events import Network
from smm_shared.http import ApiError
from smm_shared.mongo import Document
from smm_shared.secrets import SecretUnavailableError

Reader = Annotated[Principal, Depends(require_permission(Permission.CONTENT_READ))]
Editor = Annotated[Principal, Depends(require_permission(Permission.SETTINGS_WRITE))]
BrandQuery = Annotated[str, Query(min_length=1, max_length=64)]
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]

accounts_router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
workflows_router = APIRouter(prefix="/v1/workflows", tags=["workflows"])


def _accounts(request: Request) -> AccountStore:
    store: AccountStore = request.app.state.accounts
    return store


def _workflows(request: Request) -> BrandStore:
    store: BrandStore = request.app.state.workflows
    return store


Accounts = Annotated[AccountStore, Depends(_accounts)]
Workflows = Annotated[BrandStore, Depends(_workflows)]


def _not_found(kind: str) -> ApiError:
    return ApiError(404, f"{kind}.not_found", f"No such {kind} for this brand.")


def _taken(kind: str, item_id: str) -> ApiError:
    # Ids are unique across brands: say it is taken without saying by whom.
    return ApiError(409, f"{kind}.exists", f"The id {item_id!r} is taken; choose another.")


def _stale(kind: str) -> ApiError:
    return ApiError(
        409, f"{kind}.conflict", f"The {kind} changed since you read it; reload and try again."
    )


# --- accounts ------------------------------------------------------------------------------


class TokenIn(BaseModel):
    """A token by value (encrypted at rest) or by environment variable name."""

    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(default=None, min_length=1, max_length=4096)
    env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")

    @model_validator(mode="after")
    def _one(self) -> TokenIn:
        if (self.value is None) == (self.env is None):
            raise ValueError("give the token as exactly one of 'value' or 'env'")
        return self

    def reference(self) -> dict[str, str]:
        """What SecretBox.seal takes."""
        return {"value": self.value} if self.value is not None else {"env": str(self.env)}


class AccountIn(BaseModel):
    """A publishing account of the brand.

    ``native_id`` is the account as its network names it: an X user id, a Telegram chat id
    or ``@channel``, a Mastodon account id, a VK owner id (``-<group id>`` for a community),
    a Facebook Page id, an Instagram professional account id, a YouTube channel id, a
    subreddit name for Reddit.
    """

    model_config = ConfigDict(extra="forbid")
    id: Slug
    brand_id: str = Field(min_length=1, max_length=64)
    network: Network
    native_id: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=200)
    token: TokenIn
    #: Another API base URL than the network's (a Mastodon instance; a local fake).
    api_base_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    #: The account that answers customers on this network.
    replies: bool = False
    enabled: bool = True


class AccountUpdateIn(AccountIn):
    """A replace; ``token`` may be left out to keep the stored one."""

    token: TokenIn | None = None  # type: ignore[assignment]
    version: int = Field(ge=1)


class AccountOut(BaseModel):
    """An account as shown: never its token."""

    id: str
    brand_id: str
    network: str
    native_id: str
    name: str
    api_base_url: str | None = None
    replies: bool
    enabled: bool
    has_token: bool
    token_source: Literal["value", "env"]
    version: int


def account_out(doc: Document) -> AccountOut:
    """The API view of a stored account."""
    token = doc.get("token") or {}
    return AccountOut(
        id=doc["_id"],
        brand_id=doc["brand_id"],
        network=doc["network"],
        native_id=doc["native_id"],
        name=doc["name"],
        api_base_url=doc.get("api_base_url"),
        replies=bool(doc.get("replies")),
        enabled=bool(doc.get("enabled", True)),
        has_token=bool(token),
        token_source="env" if "env" in token else "value",
        version=doc["version"],
    )


def _seal(store: AccountStore, token: TokenIn) -> dict[str, str]:
    try:
        return store.seal(token.reference())
    except SecretUnavailableError as exc:
        raise ApiError(422, "account.token_not_storable", str(exc)) from None


@accounts_router.get("", response_model=list[AccountOut])
async def list_accounts(
    brand_id: BrandQuery, principal: Reader, store: Accounts
) -> list[AccountOut]:
    """The brand's publishing accounts."""
    ensure_brand(principal, brand_id)
    return [account_out(d) for d in await store.store.for_brand_fresh(brand_id)]


@accounts_router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def create_account(body: AccountIn, principal: Editor, store: Accounts) -> AccountOut:
    """Connect a publishing account."""
    ensure_brand(principal, body.brand_id)
    if await store.store.get(body.brand_id, body.id) is not None:
        raise ApiError(409, "account.exists", f"Account {body.id!r} exists; replace it instead.")
    doc: Document = {
        **body.model_dump(exclude={"id", "token"}),
        "_id": body.id,
        "network": body.network.value,
        "token": _seal(store, body.token),
    }
    try:
        await store.store.insert(doc)
    except DuplicateKeyError:
        raise _taken("account", body.id) from None
    return account_out({**doc, "version": 1})


@accounts_router.get("/{account_id}", response_model=AccountOut)
async def get_account(
    account_id: str, brand_id: BrandQuery, principal: Reader, store: Accounts
) -> AccountOut:
    """One account."""
    ensure_brand(principal, brand_id)
    doc = await store.store.get(brand_id, account_id)
    if doc is None:
        raise _not_found("account")
    return account_out(doc)


@accounts_router.put("/{account_id}", response_model=AccountOut)
async def replace_account(
    account_id: str, body: AccountUpdateIn, principal: Editor, store: Accounts
) -> AccountOut:
    """Replace an account (its token too, if given)."""
    ensure_brand(principal, body.brand_id)
    if body.id != account_id:
        raise ApiError(422, "account.id_mismatch", "The body's id differs from the path's.")
    current = await store.store.get(body.brand_id, account_id)
    if current is None:
        raise _not_found("account")
    token = _seal(store, body.token) if body.token is not None else current["token"]
    doc: Document = {
        **body.model_dump(exclude={"id", "token", "version"}),
        "_id": account_id,
        "network": body.network.value,
        "token": token,
    }
    if not await store.store.replace(doc, version=body.version):
        raise _stale("account")
    return account_out({**doc, "version": body.version + 1})


@accounts_router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(
    account_id: str, brand_id: BrandQuery, principal: Editor, store: Accounts
) -> Response:
    """Disconnect an account; items that target it fail with ``account.missing`` if posted."""
    ensure_brand(principal, brand_id)
    if not await store.store.delete(brand_id, account_id):
        raise _not_found("account")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- workflows ------------------------------------------------------------------------------


class StepIn(BaseModel):
    """One step: approvers by user id and by role; ``any`` one of them or ``all``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    mode: Literal["any", "all"] = "any"
    users: list[str] = Field(default=[], max_length=50)
    roles: list[str] = Field(default=[], max_length=10)


class WorkflowIn(BaseModel):
    """An approval workflow for items with one of ``labels`` (none: the brand's default)."""

    model_config = ConfigDict(extra="forbid")
    id: Slug
    brand_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    steps: list[StepIn] = Field(min_length=1, max_length=10)
    labels: list[str] = Field(default=[], max_length=30)
    position: int = Field(default=0, ge=0, le=10_000)


class WorkflowUpdateIn(WorkflowIn):
    """A replace with the ``version`` you read."""

    version: int = Field(ge=1)


def _workflow_out(doc: Document) -> Document:
    """A workflow as shown: ``id`` like every other resource."""
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


def _workflow_doc(body: WorkflowIn) -> Document:
    raw: dict[str, Any] = body.model_dump(exclude={"id", "version"})
    raw["_id"] = body.id
    try:
        return Workflow.from_doc(raw).to_doc()
    except ApprovalError as exc:
        raise ApiError(422, exc.code, exc.message) from None


@workflows_router.get("", response_model=list[dict[str, Any]])
async def list_workflows(
    brand_id: BrandQuery, principal: Reader, store: Workflows
) -> list[Document]:
    """The brand's workflows in the order they are tried."""
    ensure_brand(principal, brand_id)
    return [_workflow_out(d) for d in await store.for_brand_fresh(brand_id)]


@workflows_router.post("", status_code=status.HTTP_201_CREATED, response_model=dict[str, Any])
async def create_workflow(body: WorkflowIn, principal: Editor, store: Workflows) -> Document:
    """Add a workflow."""
    ensure_brand(principal, body.brand_id)
    if await store.get(body.brand_id, body.id) is not None:
        raise ApiError(409, "workflow.exists", f"Workflow {body.id!r} exists; replace it.")
    doc = _workflow_doc(body)
    try:
        await store.insert(doc)
    except DuplicateKeyError:
        raise _taken("workflow", body.id) from None
    return _workflow_out({**doc, "version": 1})


@workflows_router.get("/{workflow_id}", response_model=dict[str, Any])
async def get_workflow(
    workflow_id: str, brand_id: BrandQuery, principal: Reader, store: Workflows
) -> Document:
    """One workflow."""
    ensure_brand(principal, brand_id)
    doc = await store.get(brand_id, workflow_id)
    if doc is None:
        raise _not_found("workflow")
    return _workflow_out(doc)


@workflows_router.put("/{workflow_id}", response_model=dict[str, Any])
async def replace_workflow(
    workflow_id: str, body: WorkflowUpdateIn, principal: Editor, store: Workflows
) -> Document:
    """Replace a workflow; items submitted under it are checked against the new steps."""
    ensure_brand(principal, body.brand_id)
    if body.id != workflow_id:
        raise ApiError(422, "workflow.id_mismatch", "The body's id differs from the path's.")
    doc = _workflow_doc(body)
    if not await store.replace(doc, version=body.version):
        if await store.get(body.brand_id, workflow_id) is None:
            raise _not_found("workflow")
        raise _stale("workflow")
    return _workflow_out({**doc, "version": body.version + 1})


@workflows_router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workflow(
    workflow_id: str, brand_id: BrandQuery, principal: Editor, store: Workflows
) -> Response:
    """Remove a workflow; items waiting in it must be submitted again."""
    ensure_brand(principal, brand_id)
    if not await store.delete(brand_id, workflow_id):
        raise _not_found("workflow")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
