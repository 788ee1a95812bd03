"""Connector routes: configure a brand's accounts on the networks. Secrets go in, never out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smm_ingest.adapters.connectors_repo import ConnectorRepository, to_connector
from smm_ingest.domain.connectors import REQUIRED_SECRETS, ConnectorKind
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.http import ApiError
from smm_shared.mongo import Document, from_epoch_ms, new_id
from smm_shared.secrets import SecretBox, SecretUnavailableError

router = APIRouter(prefix="/v1/connectors", tags=["connectors"])


class SecretIn(BaseModel):
    """A secret: its value (stored encrypted) or the environment variable that holds it."""

    model_config = ConfigDict(extra="forbid")

    value: str | None = Field(default=None, min_length=1, max_length=4096)
    env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")

    @model_validator(mode="after")
    def _one_source(self) -> SecretIn:
        if (self.value is None) == (self.env is None):
            raise ValueError("give exactly one of 'value' or 'env'")
        return self


class VkConfig(BaseModel):
    """VK Callback API: the community and the confirmation string VK expects back."""

    model_config = ConfigDict(extra="forbid")
    group_id: int = Field(gt=0)
    confirmation: str = Field(min_length=1, max_length=64)


class MetaConfig(BaseModel):
    """Meta webhooks: our Facebook pages and Instagram business accounts."""

    model_config = ConfigDict(extra="forbid")
    page_ids: list[str] = Field(default_factory=list, max_length=100)
    instagram_account_ids: list[str] = Field(default_factory=list, max_length=100)


class InstagramConfig(BaseModel):
    """An Instagram professional account: webhook @mentions fetched, tagged media polled."""

    model_config = ConfigDict(extra="forbid")
    ig_user_id: str = Field(pattern=r"^[0-9]{1,32}$")
    #: Our username, so media and comments of our own are not taken for mentions.
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._]{1,30}$")
    api_base_url: str = Field(
        default="https://graph.facebook.com/v21.0", pattern=r"^https?://[^\s]+$", max_length=300
    )
    interval_s: float = Field(default=300.0, ge=5, le=86_400)


class TelegramConfig(BaseModel):
    """Telegram bot: its id (to skip its own messages) and username."""

    model_config = ConfigDict(extra="forbid")
    bot_id: str | None = Field(default=None, max_length=32)
    bot_username: str | None = Field(default=None, max_length=64)


class TelegramPollConfig(BaseModel):
    """Telegram bot read with getUpdates; ``api_base_url`` for a self-hosted Bot API server."""

    model_config = ConfigDict(extra="forbid")
    bot_id: str | None = Field(default=None, max_length=32)
    bot_username: str | None = Field(default=None, max_length=64)
    api_base_url: str = Field(
        default="https://api.telegram.org", pattern=r"^https?://[^\s]+$", max_length=300
    )
    poll_timeout_s: int = Field(default=25, ge=1, le=50)


class XMentionsConfig(BaseModel):
    """X mentions timeline of our account, polled (app bearer token)."""

    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(pattern=r"^[0-9]{1,20}$")
    api_base_url: str = Field(
        default="https://api.x.com", pattern=r"^https?://[^\s]+$", max_length=300
    )
    interval_s: float = Field(default=60.0, ge=5, le=3600)


class XRule(BaseModel):
    """One filtered-stream rule (X's rule syntax) and its tag."""

    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=1024)
    tag: str = Field(min_length=1, max_length=100)


class XStreamConfig(BaseModel):
    """X filtered stream: the rules we keep on the app's single stream (tagged ``smm:``)."""

    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    api_base_url: str = Field(
        default="https://api.x.com", pattern=r"^https?://[^\s]+$", max_length=300
    )
    rules: list[XRule] = Field(min_length=1, max_length=1000)


class YouTubeConfig(BaseModel):
    """Our YouTube channel (and optionally some videos); the API key's daily quota share."""

    model_config = ConfigDict(extra="forbid")
    channel_id: str = Field(pattern=r"^[A-Za-z0-9_-]{10,40}$")
    video_ids: list[str] = Field(default_factory=list, max_length=200)
    api_base_url: str = Field(
        default="https://www.googleapis.com/youtube/v3",
        pattern=r"^https?://[^\s]+$",
        max_length=300,
    )
    interval_s: float = Field(default=300.0, ge=30, le=86_400)
    daily_quota: int = Field(default=10_000, ge=10, le=10_000_000)


class RedditConfig(BaseModel):
    """What to follow on Reddit: search queries and subreddits; our own usernames to skip."""

    model_config = ConfigDict(extra="forbid")
    queries: list[str] = Field(default_factory=list, max_length=50)
    subreddits: list[str] = Field(default_factory=list, max_length=50)
    own_usernames: list[str] = Field(default_factory=list, max_length=20)
    user_agent: str = Field(
        default="smm-platform/1.0 (brand monitoring)", min_length=5, max_length=200
    )
    interval_s: float = Field(default=60.0, ge=10, le=86_400)
    auth_url: str = Field(
        default="https://www.reddit.com/api/v1/access_token", pattern=r"^https?://[^\s]+$"
    )
    api_base_url: str = Field(default="https://oauth.reddit.com", pattern=r"^https?://[^\s]+$")


class MastodonConfig(BaseModel):
    """A Mastodon account: its mention notifications, or a hashtag's timeline when ``hashtag`` is set."""

    model_config = ConfigDict(extra="forbid")
    instance_url: str = Field(pattern=r"^https?://[^\s/]+/?$", max_length=300)
    account_id: str | None = Field(default=None, max_length=64)
    acct: str | None = Field(default=None, max_length=300)
    hashtag: str | None = Field(default=None, pattern=r"^[^\s#]{1,100}$")
    interval_s: float = Field(default=30.0, ge=5, le=86_400)


class MastodonStreamConfig(BaseModel):
    """The Mastodon streaming API: ``user:notification``, or ``hashtag`` with ``tag``."""

    model_config = ConfigDict(extra="forbid")
    instance_url: str = Field(pattern=r"^https?://[^\s/]+/?$", max_length=300)
    account_id: str | None = Field(default=None, max_length=64)
    acct: str | None = Field(default=None, max_length=300)
    stream: Literal["user:notification", "hashtag", "hashtag:local"] = "user:notification"
    tag: str | None = Field(default=None, pattern=r"^[^\s#]{1,100}$")
    streaming_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=300)

    @model_validator(mode="after")
    def _tag_for_hashtags(self) -> MastodonStreamConfig:
        if self.stream.startswith("hashtag") and not self.tag:
            raise ValueError("a hashtag stream needs 'tag'")
        return self


class VkStreamingRule(BaseModel):
    """One VK Streaming API rule (keywords, phrases, -exclusions) and its tag."""

    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=4096)
    tag: str = Field(pattern=r"^[A-Za-z0-9_-]{1,200}$")


class VkStreamingConfig(BaseModel):
    """VK Streaming API: public posts and comments anywhere on VK that match our rules."""

    model_config = ConfigDict(extra="forbid")
    group_id: int | None = Field(default=None, gt=0)
    rules: list[VkStreamingRule] = Field(min_length=1, max_length=300)
    api_base_url: str = Field(
        default="https://api.vk.com/method", pattern=r"^https?://[^\s]+$", max_length=300
    )


CONFIGS: dict[ConnectorKind, type[BaseModel]] = {
    ConnectorKind.VK: VkConfig,
    ConnectorKind.META: MetaConfig,
    ConnectorKind.INSTAGRAM: InstagramConfig,
    ConnectorKind.TELEGRAM: TelegramConfig,
    ConnectorKind.TELEGRAM_POLL: TelegramPollConfig,
    ConnectorKind.X_MENTIONS: XMentionsConfig,
    ConnectorKind.X_STREAM: XStreamConfig,
    ConnectorKind.YOUTUBE: YouTubeConfig,
    ConnectorKind.REDDIT: RedditConfig,
    ConnectorKind.MASTODON: MastodonConfig,
    ConnectorKind.MASTODON_STREAM: MastodonStreamConfig,
    ConnectorKind.VK_STREAMING: VkStreamingConfig,
}


class ConnectorIn(BaseModel):
    """A new connector."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=64)
    kind: ConnectorKind
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, SecretIn] = Field(default_factory=dict)
    enabled: bool = True


class ConnectorPatch(BaseModel):
    """Changes to a connector; secrets given here replace those of the same name."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    secrets: dict[str, SecretIn] | None = None
    enabled: bool | None = None


class SecretOut(BaseModel):
    """Where a secret comes from; never its value."""

    source: str
    env: str | None = None


class ConnectorOut(BaseModel):
    """A connector as the API shows it."""

    id: str
    brand_id: str
    kind: ConnectorKind
    name: str
    config: dict[str, Any]
    secrets: dict[str, SecretOut]
    missing_secrets: list[str]
    enabled: bool
    #: Where the network delivers (webhook kinds); None for kinds that poll.
    webhook_path: str | None
    #: How polling goes (poll kinds): state, last error, last success, items so far.
    poll_status: dict[str, Any] | None = None


def _repo(request: Request) -> ConnectorRepository:
    repo: ConnectorRepository = request.app.state.connectors
    return repo


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secrets
    return box


Repo = Annotated[ConnectorRepository, Depends(_repo)]
Box = Annotated[SecretBox, Depends(_box)]
Admin = Annotated[Principal, Depends(require_permission(Permission.SETTINGS_WRITE))]


def _poll_status(state: Document | None) -> dict[str, Any]:
    if state is None:
        return {"state": "starting"}
    out: dict[str, Any] = {"state": state.get("state", "starting"), "items": state.get("items", 0)}
    if "last_error" in state:
        out["last_error"] = state["last_error"]
    if "last_success_ms" in state:
        out["last_success_at"] = from_epoch_ms(state["last_success_ms"]).isoformat()
    return out


def _out(doc: Document, state: Document | None = None) -> ConnectorOut:
    connector = to_connector(doc)
    secrets = {
        name: SecretOut(source="env", env=stored["env"])
        if "env" in stored
        else SecretOut(source="encrypted")
        for name, stored in doc.get("secrets", {}).items()
    }
    return ConnectorOut(
        id=connector.id,
        brand_id=connector.brand_id,
        kind=connector.kind,
        name=connector.name,
        config=dict(connector.config),
        secrets=secrets,
        missing_secrets=sorted(connector.missing_secrets()),
        enabled=connector.enabled,
        webhook_path=None
        if connector.polls
        else f"/v1/webhooks/{connector.kind.value}/{connector.id}",
        poll_status=_poll_status(state) if connector.polls else None,
    )


def _config(kind: ConnectorKind, config: dict[str, Any]) -> dict[str, Any]:
    try:
        return CONFIGS[kind].model_validate(config).model_dump(exclude_none=True)
    except ValidationError as exc:
        details = [{"loc": ["config", *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        raise ApiError(
            422, "connector.invalid_config", f"Invalid {kind.value} configuration", details=details
        ) from None


def _seal(box: Box, kind: ConnectorKind, secrets: dict[str, SecretIn]) -> dict[str, dict[str, str]]:
    unknown = set(secrets) - REQUIRED_SECRETS[kind]
    if unknown:
        raise ApiError(
            422,
            "connector.unknown_secret",
            f"{kind.value} connectors take no secret named {sorted(unknown)}",
        )
    try:
        return {name: box.seal(s.model_dump(exclude_none=True)) for name, s in secrets.items()}
    except SecretUnavailableError as exc:
        raise ApiError(422, "connector.secret_not_storable", str(exc)) from None


async def _owned(repo: Repo, principal: Principal, connector_id: str) -> Document:
    doc = await repo.get_doc(connector_id)
    if doc is None or not principal.can_access(doc["brand_id"]):
        raise ApiError(404, "connector.not_found", f"No connector {connector_id}")
    return doc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConnectorOut)
async def create_connector(
    body: ConnectorIn, principal: Admin, repo: Repo, box: Box
) -> ConnectorOut:
    """Configure a connector; its ``webhook_path`` is where the network must deliver."""
    ensure_brand(principal, body.brand_id)
    doc: Document = {
        "_id": new_id(),
        "brand_id": body.brand_id,
        "kind": body.kind.value,
        "name": body.name,
        "config": _config(body.kind, body.config),
        "secrets": _seal(box, body.kind, body.secrets),
        "enabled": body.enabled,
        "created_at": datetime.now(UTC),
    }
    await repo.insert(doc)
    return _out(doc)


@router.get("", response_model=list[ConnectorOut])
async def list_connectors(
    principal: Admin, repo: Repo, brand_id: Annotated[str, Query(min_length=1, max_length=64)]
) -> list[ConnectorOut]:
    """A brand's connectors."""
    ensure_brand(principal, brand_id)
    return [_out(d) for d in await repo.list_for_brand(brand_id)]


@router.get("/{connector_id}", response_model=ConnectorOut)
async def get_connector(
    connector_id: str, principal: Admin, repo: Repo, request: Request
) -> ConnectorOut:
    """One connector, with how its polling goes."""
    doc = await _owned(repo, principal, connector_id)
    state = await request.app.state.poll_state.get(connector_id)
    return _out(doc, state)


@router.patch("/{connector_id}", response_model=ConnectorOut)
async def update_connector(
    connector_id: str, body: ConnectorPatch, principal: Admin, repo: Repo, box: Box
) -> ConnectorOut:
    """Rename, reconfigure, rotate secrets, enable or disable a connector."""
    doc = await _owned(repo, principal, connector_id)
    kind = ConnectorKind(doc["kind"])
    changes: Document = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.enabled is not None:
        changes["enabled"] = body.enabled
    if body.config is not None:
        changes["config"] = _config(kind, body.config)
    if body.secrets:
        changes["secrets"] = {**doc.get("secrets", {}), **_seal(box, kind, body.secrets)}
    updated = await repo.update(connector_id, changes) if changes else doc
    if updated is None:
        raise ApiError(404, "connector.not_found", f"No connector {connector_id}")
    return _out(updated)


@router.delete("/{connector_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_connector(connector_id: str, principal: Admin, repo: Repo) -> Response:
    """Remove a connector; deliveries to its webhook are then refused with 404."""
    await _owned(repo, principal, connector_id)
    await repo.delete(connector_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
