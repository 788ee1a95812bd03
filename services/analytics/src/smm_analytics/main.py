"""Composition root of the analytics service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from smm_analytics.adapters.alerts_repo import AlertRepository
from smm_analytics.adapters.content_store import ContentStore
from smm_analytics.adapters.rollup_store import RollupStore
from smm_analytics.adapters.samples import SampleStore
from smm_analytics.api.alerts import router as alerts_router
from smm_analytics.api.content import router as content_router
from smm_analytics.api.metrics import router as metrics_router
from smm_analytics.consumers import events as event_consumers
from smm_analytics.services.alerts import AlertService, AlertTicker
from smm_analytics.services.content import ContentMetrics
from smm_analytics.services.folding import FoldService, RollupMaintenance
from smm_analytics.services.queries import QueryService
from smm_analytics.settings import AnalyticsSettings
from smm_shared.mongo import new_id
from smm_shared.service import new_service_app, open_runtime
from smm_shared.timers import MongoTimerStore

SERVICE = "analytics"


def create_app(settings: AnalyticsSettings) -> FastAPI:
    """Build the analytics app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime:
            db = runtime.db
            rollups = settings.rollups
            store = RollupStore(
                db["buckets"],
                db["ledger"],
                db["buckets_day"],
                batches=db["ledger_batches"],
                ledger_retention=timedelta(days=rollups.ledger_retention_days),
            )
            content = ContentStore(db["content_items"], db["content_posts"], db["campaign_spend"])
            samples = SampleStore(db["alert_samples"])
            alert_repo = AlertRepository(
                db["alerts"], source=runtime.publisher.source, brands=db["brands"]
            )
            timers = MongoTimerStore(db["alert_timers"])
            for owner in (store, content, samples, alert_repo, timers):
                await owner.ensure_indexes()
            # Batches a crashed process committed but did not finish: complete them now.
            await store.recover_pending()

            fold = FoldService(store=store, brands=db["brands"], content=content, samples=samples)
            event_consumers.register(runtime, fold=fold, max_records=rollups.batch_max_records)
            maintenance = RollupMaintenance(
                store, roll_every_s=rollups.roll_every_s, sweep_every_s=rollups.sweep_every_s
            )
            alerts = AlertService(
                rollups=store,
                samples=samples,
                repository=alert_repo,
                tick_lag=timedelta(seconds=settings.alerts.evaluation_lag_s),
            )
            relay = runtime.outbox_relay(list(alert_repo.collections))
            alert_repo.notify = relay.notify
            ticker = AlertTicker(alerts, timers, owner_id=f"analytics-{new_id()}")

            app.state.queries = QueryService(store)
            app.state.content_metrics = ContentMetrics(store=content)
            app.state.alerts = alerts
            async with runtime.serving(app):
                await maintenance.start()
                await ticker.start()
                try:
                    yield
                finally:
                    await ticker.stop()
                    await maintenance.stop()

    app = new_service_app(
        service=SERVICE,
        title="SMM analytics",
        description=(
            "Write-time rollups of mentions, cases, SLAs and posts; listening, content and "
            "care metrics; the reputation index; trend and crisis alerts."
        ),
        lifespan=lifespan,
    )
    app.include_router(metrics_router)
    app.include_router(content_router)
    app.include_router(alerts_router)
    return app
