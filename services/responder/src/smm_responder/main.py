"""Composition root of the responder service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from smm_responder.adapters.agents_repo import AgentRepository
from smm_responder.adapters.cases_repo import CaseRepository
from smm_responder.api.cases import router as cases_router
from smm_responder.api.settings import routers as settings_routers
from smm_responder.consumers import mentions as mention_consumer
from smm_responder.consumers import replies as reply_consumer
from smm_responder.services.cases import CaseService
from smm_responder.services.settings import SettingsService
from smm_responder.settings import ResponderSettings
from smm_shared.mongo import new_id
from smm_shared.service import new_service_app, open_runtime
from smm_shared.timers import MongoTimerStore, TimerLoop

SERVICE = "responder"
logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


async def _recount_forever(cases: CaseService, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await cases.recount_all()
        except Exception:
            logger.warning("inbox counters not recounted; trying again later", exc_info=True)


def create_app(settings: ResponderSettings) -> FastAPI:
    """Build the responder app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime:
            db = runtime.db
            cases_repo = CaseRepository(db["cases"], source=runtime.publisher.source)
            agents = AgentRepository(db["agents"], db["assignment_pointers"])
            config = SettingsService.for_database(db)
            timers = MongoTimerStore(db["timers"])
            await cases_repo.ensure_indexes()
            await agents.ensure_indexes()
            await timers.ensure_indexes()
            for store in config.stores():
                await store.ensure_indexes()
            relay = runtime.outbox_relay([cases_repo.collection])
            cases = CaseService(
                repository=cases_repo,
                relay=relay,
                settings=config,
                agents=agents,
                timers=timers,
                clock=_now,
            )
            mention_consumer.register(runtime, cases=cases)
            reply_consumer.register(runtime, cases=cases)
            loop = TimerLoop(
                timers,
                handler=cases.on_timer,
                owner_id=f"responder-{new_id()}",
                lease_s=settings.timer_lease_s,
                max_idle_s=settings.timer_max_idle_s,
            )
            app.state.cases = cases
            app.state.config = config
            app.state.agents = agents
            app.state.timer_loop = loop
            async with runtime.serving(app):
                await loop.start()
                recount = asyncio.create_task(_recount_forever(cases, settings.recount_interval_s))
                try:
                    yield
                finally:
                    recount.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await recount
                    await loop.stop()

    app = new_service_app(
        service=SERVICE,
        title="SMM responder",
        description="Cases, inbox, routing, assignment, SLAs, escalation, replies and handoffs.",
        lifespan=lifespan,
    )
    app.include_router(cases_router)
    for router in settings_routers:
        app.include_router(router)
    return app
