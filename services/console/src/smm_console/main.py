"""Composition root of the console backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from smm_console.adapters.live_feed import register_live_feed
from smm_console.adapters.sessions_repo import SessionRepository
from smm_console.adapters.users_repo import UserRepository
from smm_console.api.auth import router as auth_router
from smm_console.api.auth import users_router
from smm_console.api.deps import CookiePolicy
from smm_console.api.live import live_router
from smm_console.api.proxy import router as proxy_router
from smm_console.api.status import router as status_router
from smm_console.api.web import router as web_router
from smm_console.domain.users import SessionPolicy
from smm_console.services.auth import AuthService
from smm_console.services.live import LiveHub
from smm_console.settings import ConsoleSettings
from smm_shared.auth import load_signing_key
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
            session = settings.session
            auth = AuthService(
                users=UserRepository(runtime.db["users"]),
                sessions=SessionRepository(runtime.db["sessions"]),
                issuer=settings.auth.issuer,
                audience=settings.auth.audience,
            )
            await auth.ensure_indexes()
            if session.first_admin_email and session.first_admin_password:
                brands = ("*", session.first_admin_brand) if session.first_admin_brand else ("*",)
                await auth.ensure_admin(
                    session.first_admin_email,
                    session.first_admin_password.get_secret_value(),
                    brands=brands,
                )
            app.state.auth = auth
            app.state.auth_cookies = CookiePolicy(
                secure=session.cookie_secure, max_age_s=SessionPolicy().absolute_ms // 1000
            )
            app.state.signing_key = (
                load_signing_key(session.signing_key_dir) if session.signing_key_dir else None
            )
            # Every replica reads the live topics itself; registered before the broker starts.
            live = settings.live
            hub = LiveHub(buffer_size=live.buffer_size, queue_size=live.queue_size)
            register_live_feed(runtime.broker, hub, settings=settings.kafka)
            app.state.live_hub = hub
            async with runtime.serving(app):
                yield

    app = new_service_app(
        service=SERVICE,
        title="SMM console",
        description="The SMM team's web front end and its backend-for-frontend.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service_urls = settings.services
    app.include_router(status_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(live_router(heartbeat_s=settings.live.heartbeat_s))
    app.include_router(proxy_router)  # /api/<service>/... after the console's own
    app.include_router(web_router)  # last of all: the app's index answers every other path
    return app
