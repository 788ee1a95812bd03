"""Composition root of the ingest service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from smm_ingest.adapters.connectors_repo import ConnectorRepository
from smm_ingest.adapters.enrichment.language import LinguaDetector
from smm_ingest.adapters.enrichment.sentiment import build_sentiment
from smm_ingest.adapters.graph_fetches_repo import GraphFetchRepository
from smm_ingest.adapters.mentions_repo import MentionRepository
from smm_ingest.adapters.poll_state_repo import PollStateRepository
from smm_ingest.adapters.pollers.registry import client_factories
from smm_ingest.adapters.raw_store import RawEventStore
from smm_ingest.adapters.rules_repo import KeywordRuleRepository
from smm_ingest.api.connectors import router as connectors_router
from smm_ingest.api.mentions import router as mentions_router
from smm_ingest.api.rules import router as rules_router
from smm_ingest.api.webhooks import router as webhooks_router
from smm_ingest.services.enrichment import Enricher
from smm_ingest.services.mentions import MentionService
from smm_ingest.services.pipeline import MentionIngestor, RawProcessor
from smm_ingest.services.polling import PollerManager
from smm_ingest.services.webhooks import PARSERS, WebhookService
from smm_ingest.settings import IngestSettings
from smm_shared.secrets import SecretBox
from smm_shared.service import new_service_app, open_runtime

SERVICE = "ingest"


def create_app(settings: IngestSettings) -> FastAPI:
    """Build the ingest app; all I/O is opened in the lifespan."""
    # Models are built here (no I/O but the packaged model files) so a broken model
    # directory fails start-up with its reason instead of the first mention.
    detector = LinguaDetector(preload=settings.preload_language_models)
    sentiment = build_sentiment(settings.sentiment_models_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime:
            db = runtime.db
            mentions = MentionRepository(
                db["mentions"], db["engagement"], source=runtime.publisher.source
            )
            connectors = ConnectorRepository(db["connectors"])
            raw = RawEventStore(db["raw_deliveries"], retention_days=settings.raw_retention_days)
            rules = KeywordRuleRepository(db["keyword_rules"])
            graph_fetches = GraphFetchRepository(
                db["graph_fetches"], retention_days=settings.raw_retention_days
            )
            for repo in (mentions, connectors, raw, rules, graph_fetches):
                await repo.ensure_indexes()
            relay = runtime.outbox_relay([mentions.collection, mentions.engagement])
            enricher = Enricher(detector=detector, sentiment=sentiment, rules_for=rules.rules_for)
            ingestor = MentionIngestor(
                repository=mentions, enricher=enricher, relay=relay, fetches=graph_fetches
            )
            processor = RawProcessor(
                raw=raw, connectors=connectors, parsers=PARSERS, ingestor=ingestor
            )
            secrets = SecretBox(
                settings.secrets_key.get_secret_value() if settings.secrets_key else None
            )
            app.state.mentions = MentionService(repository=mentions, ingestor=ingestor)
            app.state.connectors = connectors
            app.state.rules = rules
            app.state.secrets = secrets
            app.state.webhooks = WebhookService(
                connectors=connectors, secrets=secrets, raw=raw, processor=processor
            )
            poll_state = PollStateRepository(db["poll_state"])
            app.state.poll_state = poll_state
            http = httpx.AsyncClient(headers={"User-Agent": "smm-platform-ingest"})

            pollers = PollerManager(
                connectors=connectors,
                state=poll_state,
                ingestor=ingestor,
                factories=client_factories(http, secrets, graph_fetches=graph_fetches),
                parsers=PARSERS,
                audit=raw,
            )
            if not settings.preload_language_models:
                # Load the language models off the request path now, so the first mentions
                # do not wait ~2.5 s for them (and start-up does not either).
                warm_up = asyncio.create_task(
                    asyncio.to_thread(detector.detect, "warming up the models")
                )
            await processor.start()
            await pollers.start()
            try:
                async with runtime.serving(app):
                    yield
            finally:
                await pollers.stop()
                await processor.stop()
                if not settings.preload_language_models:
                    await asyncio.gather(warm_up, return_exceptions=True)
                await http.aclose()

    app = new_service_app(
        service=SERVICE,
        title="SMM ingest",
        description=(
            "Hears mentions on the networks (webhooks), stores every delivery before acknowledging it, "
            "normalises, dedupes and enriches mentions and publishes them on smm.mentions.v1."
        ),
        lifespan=lifespan,
    )
    app.include_router(webhooks_router)
    app.include_router(connectors_router)
    app.include_router(rules_router)
    app.include_router(mentions_router)
    return app
