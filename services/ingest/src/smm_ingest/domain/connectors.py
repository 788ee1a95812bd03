"""Connectors: one brand's account on one network, and what each kind needs. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from smm_ingest.domain.items import AccountContext
from smm_shared.events import Network


class ConnectorKind(StrEnum):
    """How we hear a network: the webhook families implemented so far."""

    VK = "vk"  # VK Callback API
    VK_STREAMING = "vk_streaming"  # VK Streaming API: rules + websocket, beyond our pages
    META = "meta"  # Facebook Pages and Instagram webhooks
    INSTAGRAM = "instagram"  # Instagram Graph API: webhook @mentions fetched, tagged media polled
    TELEGRAM = "telegram"  # Telegram Bot API webhook
    TELEGRAM_POLL = "telegram_poll"  # Telegram Bot API getUpdates long polling
    X_MENTIONS = "x_mentions"  # X API v2 mentions timeline, polled
    X_STREAM = "x_stream"  # X API v2 filtered stream (one per app)
    YOUTUBE = "youtube"  # YouTube Data API comment threads, polled (daily quota)
    REDDIT = "reddit"  # Reddit search and subreddit comments, polled (OAuth)
    MASTODON = "mastodon"  # Mastodon mention notifications (or a hashtag timeline), polled
    MASTODON_STREAM = "mastodon_stream"  # Mastodon streaming API (server-sent events)


#: Secrets each kind needs before it can accept a delivery.
REQUIRED_SECRETS: Mapping[ConnectorKind, frozenset[str]] = {
    ConnectorKind.VK: frozenset({"secret"}),
    ConnectorKind.META: frozenset({"app_secret", "verify_token"}),
    ConnectorKind.INSTAGRAM: frozenset({"access_token"}),
    ConnectorKind.TELEGRAM: frozenset({"secret_token"}),
    ConnectorKind.TELEGRAM_POLL: frozenset({"bot_token"}),
    ConnectorKind.X_MENTIONS: frozenset({"bearer_token"}),
    ConnectorKind.X_STREAM: frozenset({"bearer_token"}),
    ConnectorKind.YOUTUBE: frozenset({"api_key"}),
    ConnectorKind.REDDIT: frozenset({"client_id", "client_secret"}),
    ConnectorKind.MASTODON: frozenset({"access_token"}),
    ConnectorKind.MASTODON_STREAM: frozenset({"access_token"}),
    ConnectorKind.VK_STREAMING: frozenset({"service_token"}),
}

#: Kinds that poll the network instead of receiving webhooks.
POLL_KINDS: frozenset[str] = frozenset(
    {
        ConnectorKind.TELEGRAM_POLL.value,
        ConnectorKind.INSTAGRAM.value,
        ConnectorKind.X_MENTIONS.value,
        ConnectorKind.X_STREAM.value,
        ConnectorKind.YOUTUBE.value,
        ConnectorKind.REDDIT.value,
        ConnectorKind.MASTODON.value,
        ConnectorKind.MASTODON_STREAM.value,
        ConnectorKind.VK_STREAMING.value,
    }
)


class ConnectorError(ValueError):
    """A connector is not usable as configured; ``code`` is stable for APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Connector:
    """A configured connector (secrets are references, never values)."""

    id: str
    brand_id: str
    kind: ConnectorKind
    name: str
    config: Mapping[str, Any]
    secret_names: frozenset[str] = field(default_factory=frozenset)
    enabled: bool = True

    @property
    def polls(self) -> bool:
        """Whether this connector polls the network (no webhook)."""
        return self.kind.value in POLL_KINDS

    def missing_secrets(self) -> frozenset[str]:
        """Secrets this kind requires that are not configured."""
        return REQUIRED_SECRETS[self.kind] - self.secret_names

    def account_context(self, network: Network) -> AccountContext:
        """Our own ids on ``network``, so parsers can tell our posts from mentions."""
        own: set[str] = set()
        if self.kind in (ConnectorKind.VK, ConnectorKind.VK_STREAMING):
            group = str(self.config.get("group_id", "")).lstrip("-")
            if group:
                own |= {group, f"-{group}"}
        elif self.kind is ConnectorKind.META:
            own |= {str(i) for i in self.config.get("page_ids", [])}
            own |= {str(i) for i in self.config.get("instagram_account_ids", [])}
        elif self.kind is ConnectorKind.INSTAGRAM:
            own |= {str(self.config[k]) for k in ("ig_user_id", "username") if self.config.get(k)}
        elif self.kind in (ConnectorKind.TELEGRAM, ConnectorKind.TELEGRAM_POLL) and self.config.get(
            "bot_id"
        ):
            own.add(str(self.config["bot_id"]))
        elif self.kind in (ConnectorKind.X_MENTIONS, ConnectorKind.X_STREAM) and self.config.get(
            "user_id"
        ):
            own.add(str(self.config["user_id"]))
        elif self.kind is ConnectorKind.YOUTUBE and self.config.get("channel_id"):
            own.add(str(self.config["channel_id"]))
        elif self.kind is ConnectorKind.REDDIT:
            own |= {str(u) for u in self.config.get("own_usernames", [])}
        elif self.kind in (ConnectorKind.MASTODON, ConnectorKind.MASTODON_STREAM):
            own |= {str(self.config[k]) for k in ("account_id", "acct") if self.config.get(k)}
        return AccountContext(network=network, own_ids=frozenset(own))
