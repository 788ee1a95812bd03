"""Composition root of the analytics service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from smm_analytics.adapters.buckets_repo import BucketRepository
from smm_analytics.api.metrics import router as metrics_router
from smm_analytics.consumers import mentions as mention_consumer
from smm_analytics.services.rollups import RollupService
from smm_analytics.settings import AnalyticsSettings
from smm_shared.service import new_service_app, open_runtime

SERVICE = "analytics"


def create_app(settings: AnalyticsSettings) -> FastAPI:
    """Build the analytics app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime:
            buckets = BucketRepository(runtime.db["buckets"])
            await buckets.ensure_indexes()
            rollups = RollupService(buckets=buckets)
            mention_consumer.register(runtime, rollups=rollups)
            app.state.rollups = rollups
            async with runtime.serving(app):
                yield

    app = new_service_app(
        service=SERVICE,
        title="SMM analytics",
        description="Write-time rollups, metrics, trends and alerts.",
        lifespan=lifespan,
    )
    app.include_router(metrics_router)
    return app
