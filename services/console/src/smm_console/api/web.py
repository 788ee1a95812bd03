"""The single-page app: built files from ``web/dist``, and its index for every app route.

Hashed assets (``/assets/*``) are cached for a year; the index is never cached, so a new
build reaches every browser on its next load. Every answer carries a strict content
security policy: scripts and connections only from this origin, no framing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: https:; "
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: Paths that are never the app: a miss there is a 404, not the index.
NOT_APP: Final = ("api/", "v1/", "assets/", "docs", "openapi.json", "health", "metrics", "status")

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SMM console</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem;max-width:40rem">
<h1>The console app is not built</h1>
<p>Run <code>make run</code> (it builds the app), or <code>make web</code> to build it alone, then
reload this page. The services' state is at <a href="/status">/status</a>.</p></body></html>"""


@router.get("/{path:path}")
def app_file(path: str, request: Request) -> Response:
    """A built file when one exists at ``path``, else the app's index (client-side routes).

    A plain function: FastAPI runs it in its thread pool, so the file checks never block the
    event loop.
    """
    web_dir: Path = request.app.state.settings.web_dir
    dist = web_dir.resolve()
    index = dist / "index.html"
    if path:
        candidate = (dist / path).resolve()
        if candidate.is_relative_to(dist) and candidate.is_file():
            immutable = candidate.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(candidate, headers={**SECURITY_HEADERS, "Cache-Control": cache})
        if path.startswith(NOT_APP) or "." in path.rsplit("/", 1)[-1]:
            return Response(status_code=404, headers=SECURITY_HEADERS)
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=SECURITY_HEADERS)
    return FileResponse(index, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
