"""The services' APIs under ``/api/<service>/v1/...``, called with the signed-in user's identity.

The browser never holds a service token: each proxied call carries a token minted here for
the session's user, its roles and **only the current brand**, valid for five minutes. The
target service authorises the call again (role and brand), so the console adds no trust of
its own. Unsafe methods need the session's CSRF token (``require_session``). Cookies and
the browser's own ``Authorization`` never reach a service; the answer's status, body and
content headers (JSON, a CSV download) come back as they are.
"""

from __future__ import annotations

from typing import Annotated, Final

import httpx
from fastapi import APIRouter, Depends, Path, Request, Response

from smm_console.api.deps import CurrentSession, get_auth, user_errors
from smm_console.services.auth import AuthService
from smm_shared.auth import SigningKey
from smm_shared.http import ApiError

router = APIRouter(prefix="/api", tags=["proxy"])

#: Services reachable through the proxy (their URLs are ``settings.services``).
SERVICES: Final = ("ingest", "responder", "publisher", "analytics")
#: Request headers passed on; everything else (cookies, Authorization...) stays here.
#: ``Idempotency-Key`` makes a double-clicked reply one reply (the responder requires it).
_FORWARDED_REQUEST: Final = ("content-type", "accept", "if-none-match", "idempotency-key")
#: Answer headers passed back.
_FORWARDED_ANSWER: Final = (
    "content-type",
    "content-disposition",
    "retry-after",
    "etag",
    "location",
    "cache-control",
)
#: A service that takes longer than this is answered with 504.
TIMEOUT_S: Final = 30.0


def _signing_key(request: Request) -> SigningKey:
    key: SigningKey | None = getattr(request.app.state, "signing_key", None)
    if key is None:
        raise ApiError(
            503,
            "proxy.unavailable",
            "The console has no signing key (SMM_SESSION__SIGNING_KEY_DIR), so it cannot "
            "call the services on your behalf",
        )
    return key


@router.api_route(
    "/{service}/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def proxy(
    request: Request,
    user: CurrentSession,
    service: Annotated[str, Path(max_length=32)],
    path: str,
    auth: Annotated[AuthService, Depends(get_auth)],
) -> Response:
    """Call ``<service>/<path>`` as the signed-in user in their current brand."""
    base = _base_url(request, service)
    parts = path.split("/")
    if not path.startswith("v1/") or any(p in ("", ".", "..") for p in parts[:-1]):
        raise ApiError(404, "proxy.not_found", "Only the services' /v1/ APIs are proxied")
    with user_errors():
        token = auth.mint_service_token(user, _signing_key(request))
    headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED_REQUEST}
    headers["authorization"] = f"Bearer {token}"
    client: httpx.AsyncClient = request.app.state.http
    try:
        answer = await client.request(
            request.method,
            f"{base}/{path}",
            params=httpx.QueryParams(request.url.query),
            content=await request.body(),
            headers=headers,
            timeout=TIMEOUT_S,
        )
    except httpx.TimeoutException as exc:
        raise ApiError(504, "proxy.timeout", f"{service} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ApiError(502, "proxy.unreachable", f"{service} cannot be reached now") from exc
    back = {k: v for k, v in answer.headers.items() if k.lower() in _FORWARDED_ANSWER}
    return Response(content=answer.content, status_code=answer.status_code, headers=back)


def _base_url(request: Request, service: str) -> str:
    if service not in SERVICES:
        raise ApiError(404, "proxy.unknown_service", f"No service named {service!r}")
    urls = request.app.state.service_urls
    return str(getattr(urls, service)).rstrip("/")
