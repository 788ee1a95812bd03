"""``GET /api/live``: the signed-in user's live events as Server-Sent Events.

Only events of the session's current brand, of kinds its roles may read. Each event is
``id: <instance>.<seq>`` / ``event: <kind>`` / ``data: {"type", "kind", "brand_id", "data"}``;
``event: reset`` means "events were missed: refetch". A keep-alive comment goes out every
``heartbeat_s``, and the session is checked again then: a session that ended gets
``event: session-ended`` and the stream closes; a changed brand or role set closes it
(the browser reconnects into the new view). ``Last-Event-ID`` (or ``?last_event_id=``)
resumes after an event this process still holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from smm_console.api.deps import SESSION_COOKIE, Auth, CurrentSession, user_api_error
from smm_console.domain.users import NoBrandSelectedError
from smm_console.services.auth import AuthService
from smm_console.services.live import LiveEvent, LiveHub, LiveItem, LiveView
from smm_shared.messaging import INFRA_ERRORS

logger = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_S: Final = 15.0
#: How long a browser waits before reconnecting a dropped stream (the SSE ``retry:``), ms.
RETRY_MS: Final = 3000
#: Events written in one chunk at most when many are ready.
_CHUNK_EVENTS: Final = 100
_HEADERS: Final = {
    "Cache-Control": "no-store",
    # nginx and similar proxies would otherwise buffer the stream.
    "X-Accel-Buffering": "no",
}


def get_live_hub(request: Request) -> LiveHub:
    """The LiveHub the composition root puts on ``app.state.live_hub``."""
    hub = getattr(request.app.state, "live_hub", None)
    if not isinstance(hub, LiveHub):
        raise RuntimeError("app.state.live_hub is not set; create_app must set it")
    return hub


Hub = Annotated[LiveHub, Depends(get_live_hub)]


def frame(hub: LiveHub, item: LiveItem) -> str:
    """One item as an SSE message."""
    if isinstance(item, LiveEvent):
        return f"id: {hub.event_id(item.seq)}\nevent: {item.kind}\ndata: {item.payload}\n\n"
    reason = json.dumps({"reason": item.reason})
    return f"id: {hub.event_id(item.seq)}\nevent: reset\ndata: {reason}\n\n"


def live_router(*, heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> APIRouter:
    """The router of ``GET /api/live``, with keep-alives (and session checks) every ``heartbeat_s``."""
    if heartbeat_s <= 0:
        raise ValueError("heartbeat_s must be positive")
    router = APIRouter(prefix="/api", tags=["live"])

    @router.get(
        "/live",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"}},
    )
    async def live(
        request: Request,
        user: CurrentSession,
        auth: Auth,
        hub: Hub,
        last_event_id: Annotated[str | None, Header(max_length=64)] = None,
        last_event_id_query: Annotated[
            str | None, Query(alias="last_event_id", max_length=64)
        ] = None,
    ) -> StreamingResponse:
        """Live events of the current brand (SSE); 401 auth.required, 409 auth.no_brand."""
        if user.brand is None:
            raise user_api_error(NoBrandSelectedError("Choose a brand first"))
        view = LiveView.of(user.brand, user.roles)
        resume = hub.resume_point(last_event_id or last_event_id_query)
        # Without an id, start at the current event: nothing published before the stream's
        # first write is lost.
        after_seq = hub.last_seq if resume is None else resume
        stream = _stream(
            request,
            auth=auth,
            token=request.cookies[SESSION_COOKIE],
            hub=hub,
            view=view,
            after_seq=after_seq,
            heartbeat_s=heartbeat_s,
        )
        return StreamingResponse(stream, media_type="text/event-stream", headers=_HEADERS)

    return router


async def _stream(
    request: Request,
    *,
    auth: AuthService,
    token: str,
    hub: LiveHub,
    view: LiveView,
    after_seq: int,
    heartbeat_s: float,
) -> AsyncIterator[str]:
    # Subscribed here, not in the route: the generator's ``with`` is what unsubscribes
    # when the client goes away, and a response that never starts must not leak one.
    with hub.subscribe(view, after_seq=after_seq) as subscription:
        yield f"retry: {RETRY_MS}\n\n"
        loop = asyncio.get_running_loop()
        next_check = loop.time() + heartbeat_s
        while True:
            item = subscription.next_nowait()
            if item is None:
                try:
                    async with asyncio.timeout(max(0.0, next_check - loop.time())):
                        item = await subscription.next()
                except TimeoutError:
                    item = None
            if item is not None:
                chunk = [frame(hub, item)]
                while len(chunk) < _CHUNK_EVENTS and (more := subscription.next_nowait()):
                    chunk.append(frame(hub, more))
                yield "".join(chunk)
            if loop.time() < next_check:
                continue
            if await request.is_disconnected():
                return
            state = await _session_state(auth, token, view)
            if state == "ended":
                yield "event: session-ended\ndata: {}\n\n"
                return
            if state == "changed":
                return
            yield ": ping\n\n"
            next_check = loop.time() + heartbeat_s


async def _session_state(auth: AuthService, token: str, view: LiveView) -> str:
    """``ok``, ``ended`` (signed out, expired, disabled) or ``changed`` (other brand or roles)."""
    try:
        user = await auth.session(token, touch=False)
    except INFRA_ERRORS:
        # The session cannot be checked: close (fail closed); the reconnect is checked anew.
        logger.warning("live stream closed: the session could not be checked", exc_info=True)
        return "changed"
    if user is None:
        return "ended"
    if user.brand is None or LiveView.of(user.brand, user.roles) != view:
        return "changed"
    return "ok"
