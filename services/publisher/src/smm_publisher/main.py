"""Composition root of the publisher service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from smm_publisher.adapters.accounts import AccountStore
from smm_publisher.adapters.content_repo import ContentRepository
from smm_publisher.adapters.contests_repo import ContestRepository
from smm_publisher.adapters.delivery._http import public_hosts_only
from smm_publisher.adapters.delivery.registry import DelivererRegistry
from smm_publisher.adapters.rate_limiter import MongoRateLimiter
from smm_publisher.api.content import router as content_router
from smm_publisher.api.contests import router as contests_router
from smm_publisher.api.settings import accounts_router, workflows_router
from smm_publisher.consumers import contest_entries
from smm_publisher.consumers import replies as reply_consumer
from smm_publisher.services.announcements import contest_announcer
from smm_publisher.services.content import PUBLISH_TIMER, ContentService
from smm_publisher.services.contests import TIMER_KIND_PREFIX, ContestService
from smm_publisher.services.delivery import DELIVERY_TIMER, DeliveryPolicy, DeliveryService
from smm_publisher.settings import PublisherSettings
from smm_shared.brand_store import BrandStore
from smm_shared.mongo import new_id
from smm_shared.secrets import SecretBox
from smm_shared.service import new_service_app, open_runtime
from smm_shared.timers import FiredTimer, MongoTimerStore, TimerLoop

SERVICE = "publisher"
logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: PublisherSettings) -> FastAPI:
    """Build the publisher app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_runtime(settings, service=SERVICE) as runtime,
            httpx.AsyncClient(timeout=settings.delivery_timeout_s) as http,
        ):
            db = runtime.db
            key = settings.secrets_key.get_secret_value() if settings.secrets_key else None
            secrets = SecretBox(key)
            accounts = AccountStore(db["accounts"], secrets)
            workflows = BrandStore(db["workflows"], sort=(("position", 1), ("_id", 1)))
            repo = ContentRepository(
                db["content"], db["deliveries"], source=runtime.publisher.source
            )
            timers = MongoTimerStore(db["timers"])
            limiter = MongoRateLimiter(db["rate_limits"])
            contests_repo = ContestRepository(db["contests"], source=runtime.publisher.source)
            for index_owner in (accounts, workflows, repo, timers, limiter, contests_repo):
                await index_owner.ensure_indexes()
            deliveries = DeliveryService(
                repository=repo,
                accounts=accounts,
                timers=timers,
                deliverers=DelivererRegistry(
                    http,
                    timeout_s=settings.delivery_timeout_s,
                    media_guard=None if settings.media_allow_private_hosts else public_hosts_only,
                ),
                limiter=limiter,
                clock=_now,
                policy=DeliveryPolicy(
                    max_attempts=settings.delivery_max_attempts,
                    max_rate_wait_s=settings.delivery_max_rate_wait_s,
                    # A call is cut at the timeout; twice that means its replica died.
                    sending_stale_s=max(60.0, 2 * settings.delivery_timeout_s),
                ),
            )
            content = ContentService(
                repository=repo,
                workflows=workflows,
                accounts=accounts,
                timers=timers,
                deliveries=deliveries,
                clock=_now,
            )
            relay = runtime.outbox_relay([*repo.collections, *contests_repo.collections])
            repo.notify = relay.notify
            contests = ContestService(
                contests_repo,
                timers,
                secrets,
                _now,
                announce=contest_announcer(content, contests_repo, accounts),
                notify=relay.notify,
            )
            reply_consumer.register(runtime, deliveries=deliveries)
            contest_entries.register(runtime, contests=contests)

            async def on_timer(fired: FiredTimer) -> None:
                if fired.kind == PUBLISH_TIMER:
                    await content.on_timer(fired)
                elif fired.kind == DELIVERY_TIMER:
                    await deliveries.on_timer(fired)
                elif fired.kind.startswith(TIMER_KIND_PREFIX):
                    await contests.on_timer(fired)
                else:
                    logger.error("timer %s of unknown kind %s ignored", fired.key, fired.kind)

            loop = TimerLoop(
                timers,
                handler=on_timer,
                owner_id=f"publisher-{new_id()}",
                lease_s=settings.timer_lease_s,
                max_idle_s=settings.timer_max_idle_s,
            )
            app.state.content = content
            app.state.deliveries = deliveries
            app.state.accounts = accounts
            app.state.workflows = workflows
            app.state.contests = contests
            app.state.timer_loop = loop
            async with runtime.serving(app):
                await loop.start()
                try:
                    yield
                finally:
                    await loop.stop()

    app = new_service_app(
        service=SERVICE,
        title="SMM publisher",
        description="Content calendar, approvals, scheduled posting and replies, contests.",
        lifespan=lifespan,
    )
    app.include_router(content_router)
    app.include_router(accounts_router)
    app.include_router(workflows_router)
    app.include_router(contests_router)
    return app
