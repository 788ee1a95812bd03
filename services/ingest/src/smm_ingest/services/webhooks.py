"""Webhook deliveries: check who sent it, check we can read it, store it durably, then acknowledge."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter

from smm_ingest.adapters.connectors_repo import ConnectorRepository, to_connector
from smm_ingest.adapters.networks import (
    instagram_graph,
    mastodon,
    meta,
    reddit,
    telegram,
    vk,
    vk_streaming,
    x,
    youtube,
)
from smm_ingest.adapters.raw_store import RawEventStore
from smm_ingest.domain.connectors import Connector, ConnectorKind
from smm_ingest.domain.items import ParsedPayload, PayloadError
from smm_ingest.services.pipeline import Parser, RawProcessor
from smm_shared.events import Network
from smm_shared.secrets import SecretBox, SecretUnavailableError

WEBHOOKS = Counter(
    "smm_ingest_webhooks_total",
    "Webhook deliveries by connector kind and outcome",
    ["kind", "outcome"],
)


class WebhookRejectedError(Exception):
    """A delivery we refuse: HTTP status, stable code and reason. Nothing of it is stored."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _parse_vk(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return vk.parse(payload, connector.account_context(Network.VK))


def _parse_meta(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return meta.parse(payload, connector.account_context(Network.FACEBOOK))


def _parse_instagram(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return instagram_graph.parse_graph_item(payload, connector.account_context(Network.INSTAGRAM))


def _parse_telegram(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return telegram.parse(payload, connector.account_context(Network.TELEGRAM))


def _parse_x(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return x.parse_tweet_envelope(payload, connector.account_context(Network.X))


def _parse_youtube(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return youtube.parse_comment_thread(payload, connector.account_context(Network.YOUTUBE))


def _parse_reddit(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return reddit.parse_listing_child(payload, connector.account_context(Network.REDDIT))


def _parse_mastodon(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return mastodon.parse_stream_event(payload, connector.account_context(Network.MASTODON))


def _parse_vk_streaming(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    return vk_streaming.parse_stream_message(payload, connector.account_context(Network.VK))


#: How each connector kind's deliveries are read (the processor re-reads stored bodies).
PARSERS: Mapping[str, Parser] = {
    ConnectorKind.VK.value: _parse_vk,
    ConnectorKind.META.value: _parse_meta,
    ConnectorKind.INSTAGRAM.value: _parse_instagram,
    ConnectorKind.TELEGRAM.value: _parse_telegram,
    # getUpdates returns the same Update objects the webhook receives.
    ConnectorKind.TELEGRAM_POLL.value: _parse_telegram,
    ConnectorKind.X_MENTIONS.value: _parse_x,
    ConnectorKind.X_STREAM.value: _parse_x,
    ConnectorKind.YOUTUBE.value: _parse_youtube,
    ConnectorKind.REDDIT.value: _parse_reddit,
    ConnectorKind.MASTODON.value: _parse_mastodon,
    ConnectorKind.MASTODON_STREAM.value: _parse_mastodon,
    ConnectorKind.VK_STREAMING.value: _parse_vk_streaming,
}


class WebhookService:
    """The rules every network's webhook follows; the API layer only maps HTTP to these calls."""

    def __init__(
        self,
        *,
        connectors: ConnectorRepository,
        secrets: SecretBox,
        raw: RawEventStore,
        processor: RawProcessor,
    ) -> None:
        self._connectors = connectors
        self._secrets = secrets
        self._raw = raw
        self._processor = processor

    async def connector(self, connector_id: str, kind: ConnectorKind) -> Connector:
        """The enabled connector of this kind, or a 404 (never say more to an unknown caller)."""
        doc = await self._connectors.cached(connector_id)
        if doc is None or doc.get("kind") != kind.value or not doc.get("enabled", True):
            WEBHOOKS.labels(kind.value, "unknown_connector").inc()
            raise WebhookRejectedError(404, "connector.not_found", "No such webhook")
        return to_connector(doc)

    async def secret(self, connector: Connector, name: str) -> str:
        """A connector secret's value; 503 when it is configured but cannot be read now."""
        doc = await self._connectors.cached(connector.id)
        stored = (doc or {}).get("secrets", {}).get(name)
        if stored is None:
            raise WebhookRejectedError(
                503, "connector.misconfigured", f"The connector has no {name} secret"
            )
        try:
            return self._secrets.open(name, stored)
        except SecretUnavailableError as exc:
            raise WebhookRejectedError(503, "connector.secret_unavailable", str(exc)) from exc

    @staticmethod
    def decode(body: bytes) -> dict[str, Any]:
        """The JSON object of a delivery, or a 400."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WebhookRejectedError(
                400, "payload.invalid_json", f"The body is not JSON: {exc}"
            ) from exc
        if not isinstance(payload, dict):
            raise WebhookRejectedError(
                400, "payload.not_an_object", "The body must be a JSON object"
            )
        return payload

    async def accept(self, connector: Connector, payload: dict[str, Any], body: bytes) -> str:
        """Validate the delivery's content, store it durably, and queue its processing."""
        try:
            parsed = PARSERS[connector.kind.value](payload, connector)
        except PayloadError as exc:
            WEBHOOKS.labels(connector.kind.value, "invalid").inc()
            raise WebhookRejectedError(400, exc.code, exc.message) from exc
        raw_id = await self._raw.store(
            connector_id=connector.id,
            brand_id=connector.brand_id,
            kind=connector.kind.value,
            body=body.decode(),
            received_at=datetime.now(UTC),
        )
        self._processor.notify()
        WEBHOOKS.labels(connector.kind.value, "stored" if parsed.items else "stored_empty").inc()
        return raw_id

    def reject(
        self, connector: Connector, code: str, message: str, status: int = 401
    ) -> WebhookRejectedError:
        """Count and build a refusal of an unauthenticated delivery."""
        WEBHOOKS.labels(connector.kind.value, code).inc()
        return WebhookRejectedError(status, code, message)
