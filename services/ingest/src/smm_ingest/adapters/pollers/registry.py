"""Which client polls or streams each connector kind, built from its config and secrets."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from smm_ingest.adapters.graph_fetches_repo import GraphFetchRepository
from smm_ingest.adapters.pollers.instagram import InstagramPoller
from smm_ingest.adapters.pollers.mastodon import (
    MastodonHashtagPoller,
    MastodonNotificationsPoller,
    MastodonStream,
)
from smm_ingest.adapters.pollers.reddit import RedditPoller
from smm_ingest.adapters.pollers.telegram import TelegramPoller
from smm_ingest.adapters.pollers.vk_streaming import VkStreamingSource
from smm_ingest.adapters.pollers.x import XFilteredStream, XMentionsPoller
from smm_ingest.adapters.pollers.youtube import YouTubeCommentsPoller
from smm_ingest.domain.connectors import Connector, ConnectorKind
from smm_ingest.services.polling import Poller, PollerFactory, StreamSource
from smm_shared.mongo import Document
from smm_shared.secrets import SecretBox


def client_factories(
    http: httpx.AsyncClient, secrets: SecretBox, *, graph_fetches: GraphFetchRepository
) -> Mapping[str, PollerFactory]:
    """A factory per poll or stream kind; secrets are opened only when a runner starts."""

    def secret(doc: Document, name: str) -> str:
        return secrets.open(name, doc["secrets"][name])

    async def telegram(connector: Connector, doc: Document) -> Poller | StreamSource:
        return TelegramPoller(
            http,
            api_base_url=str(connector.config.get("api_base_url", "https://api.telegram.org")),
            bot_token=secret(doc, "bot_token"),
            timeout_s=int(connector.config.get("poll_timeout_s", 25)),
        )

    async def instagram(connector: Connector, doc: Document) -> Poller | StreamSource:
        config = connector.config
        return InstagramPoller(
            http,
            api_base_url=str(config.get("api_base_url", "https://graph.facebook.com/v21.0")),
            access_token=secret(doc, "access_token"),
            ig_user_id=str(config["ig_user_id"]),
            brand_id=connector.brand_id,
            fetches=graph_fetches,
            interval_s=float(config.get("interval_s", 300.0)),
        )

    async def x_mentions(connector: Connector, doc: Document) -> Poller | StreamSource:
        return XMentionsPoller(
            http,
            api_base_url=str(connector.config.get("api_base_url", "https://api.x.com")),
            bearer_token=secret(doc, "bearer_token"),
            user_id=str(connector.config["user_id"]),
            interval_s=float(connector.config.get("interval_s", 60.0)),
        )

    async def x_stream(connector: Connector, doc: Document) -> Poller | StreamSource:
        return XFilteredStream(
            http,
            api_base_url=str(connector.config.get("api_base_url", "https://api.x.com")),
            bearer_token=secret(doc, "bearer_token"),
            rules=[(r["value"], f"smm:{r['tag']}") for r in connector.config["rules"]],
        )

    async def youtube(connector: Connector, doc: Document) -> Poller | StreamSource:
        config = connector.config
        return YouTubeCommentsPoller(
            http,
            api_base_url=str(config.get("api_base_url", "https://www.googleapis.com/youtube/v3")),
            api_key=secret(doc, "api_key"),
            channel_id=str(config["channel_id"]),
            video_ids=tuple(config.get("video_ids", ())),
            interval_s=float(config.get("interval_s", 300.0)),
            daily_quota=int(config.get("daily_quota", 10_000)),
        )

    async def reddit(connector: Connector, doc: Document) -> Poller | StreamSource:
        config = connector.config
        return RedditPoller(
            http,
            client_id=secret(doc, "client_id"),
            client_secret=secret(doc, "client_secret"),
            user_agent=str(config.get("user_agent", "smm-platform/1.0 (brand monitoring)")),
            queries=tuple(config.get("queries", ())),
            subreddits=tuple(config.get("subreddits", ())),
            interval_s=float(config.get("interval_s", 60.0)),
            auth_url=str(config.get("auth_url", "https://www.reddit.com/api/v1/access_token")),
            api_base_url=str(config.get("api_base_url", "https://oauth.reddit.com")),
        )

    async def mastodon(connector: Connector, doc: Document) -> Poller | StreamSource:
        config = connector.config
        if config.get("hashtag"):
            return MastodonHashtagPoller(
                http,
                instance_url=str(config["instance_url"]),
                access_token=secret(doc, "access_token"),
                hashtag=str(config["hashtag"]),
                interval_s=float(config.get("interval_s", 60.0)),
            )
        return MastodonNotificationsPoller(
            http,
            instance_url=str(config["instance_url"]),
            access_token=secret(doc, "access_token"),
            interval_s=float(config.get("interval_s", 30.0)),
        )

    async def mastodon_stream(connector: Connector, doc: Document) -> Poller | StreamSource:
        config = connector.config
        return MastodonStream(
            http,
            instance_url=str(config["instance_url"]),
            access_token=secret(doc, "access_token"),
            stream=str(config.get("stream", "user:notification")),
            tag=config.get("tag"),
            streaming_url=config.get("streaming_url"),
        )

    async def vk_streaming(connector: Connector, doc: Document) -> Poller | StreamSource:
        config = connector.config
        return VkStreamingSource(
            http=http,
            service_token=secret(doc, "service_token"),
            rules=[(r["value"], f"smm:{r['tag']}") for r in config["rules"]],
            api_base_url=str(config.get("api_base_url", "https://api.vk.com/method")),
        )

    return {
        ConnectorKind.VK_STREAMING.value: vk_streaming,
        ConnectorKind.MASTODON.value: mastodon,
        ConnectorKind.MASTODON_STREAM.value: mastodon_stream,
        ConnectorKind.YOUTUBE.value: youtube,
        ConnectorKind.REDDIT.value: reddit,
        ConnectorKind.TELEGRAM_POLL.value: telegram,
        ConnectorKind.INSTAGRAM.value: instagram,
        ConnectorKind.X_MENTIONS.value: x_mentions,
        ConnectorKind.X_STREAM.value: x_stream,
    }
