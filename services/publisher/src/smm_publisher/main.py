"""Composition root of the publisher service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from smm_publisher.settings import PublisherSettings
from smm_shared.service import new_service_app, open_runtime

SERVICE = "publisher"


def create_app(settings: PublisherSettings) -> FastAPI:
    """Build the publisher app; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, service=SERVICE) as runtime, runtime.serving(app):
            yield

    return new_service_app(
        service=SERVICE,
        title="SMM publisher",
        description="Content calendar, approvals, scheduled posting and replies, contests.",
        lifespan=lifespan,
    )
