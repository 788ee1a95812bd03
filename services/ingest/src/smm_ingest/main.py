"""Composition root of the ingest service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from smm_ingest.adapters.mentions_repo import MentionRepository
from smm_ingest.api.mentions import router as mentions_router
from smm_ingest.services.mentions import MentionService
from smm_ingest.settings import IngestSettings
from smm_shared.service import new_service_app, open_runtime

SERVICE = "ingest"


def create_app(settings: IngestSettings) -> FastAPI:
    """Build the ingest app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime:
            mentions = MentionRepository(runtime.db["mentions"], source=runtime.publisher.source)
            await mentions.ensure_indexes()
            relay = runtime.outbox_relay([mentions.collection])
            app.state.mentions = MentionService(repository=mentions, relay=relay)
            async with runtime.serving(app):
                yield

    app = new_service_app(
        service=SERVICE,
        title="SMM ingest",
        description="Hears mentions on the networks, normalises, dedupes and publishes them.",
        lifespan=lifespan,
    )
    app.include_router(mentions_router)
    return app
