"""Composition root of the responder service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from smm_responder.adapters.cases_repo import CaseRepository
from smm_responder.api.cases import router as cases_router
from smm_responder.consumers import mentions as mention_consumer
from smm_responder.services.cases import CaseService
from smm_responder.settings import ResponderSettings
from smm_shared.service import new_service_app, open_runtime

SERVICE = "responder"


def create_app(settings: ResponderSettings) -> FastAPI:
    """Build the responder app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime:
            cases_repo = CaseRepository(runtime.db["cases"], source=runtime.publisher.source)
            await cases_repo.ensure_indexes()
            relay = runtime.outbox_relay([cases_repo.collection])
            cases = CaseService(repository=cases_repo, relay=relay)
            mention_consumer.register(runtime, cases=cases)
            app.state.cases = cases
            async with runtime.serving(app):
                yield

    app = new_service_app(
        service=SERVICE,
        title="SMM responder",
        description="Cases, inbox, routing, SLAs and replies.",
        lifespan=lifespan,
    )
    app.include_router(cases_router)
    return app
