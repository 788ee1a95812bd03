"""Composition root of the console backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from smm_console.api.status import router as status_router
from smm_console.settings import ConsoleSettings
from smm_shared.service import new_service_app, open_runtime

SERVICE = "console"


def create_app(settings: ConsoleSettings) -> FastAPI:
    """Build the console backend; all I/O is opened in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_runtime(settings, service=SERVICE) as runtime,
            httpx.AsyncClient(timeout=2.0) as http,
        ):
            app.state.http = http
            async with runtime.serving(app):
                yield

    app = new_service_app(
        service=SERVICE,
        title="SMM console",
        description="The SMM team's web front end and its backend-for-frontend.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(status_router)
    return app
