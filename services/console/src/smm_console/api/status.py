"""Stack status: a page for people, JSON for scripts. No secrets, no brand data."""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from smm_console.services.status import stack_status

router = APIRouter(tags=["status"])


async def _status(request: Request) -> list[Any]:
    settings = request.app.state.settings
    return await stack_status(request.app.state.http, settings.services.model_dump())


@router.get("/api/status")
async def status_json(request: Request) -> dict[str, Any]:
    """Readiness of every service of the stack."""
    rows = await _status(request)
    return {"services": [asdict(r) for r in rows], "ready": all(r.ready for r in rows)}


@router.get("/status", response_class=HTMLResponse, include_in_schema=False)
async def status_page(request: Request) -> HTMLResponse:
    """What runs and where, for people starting the stack (the app itself is at /)."""
    rows = await _status(request)
    body = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td><a href='{html.escape(r.url)}/docs'>{html.escape(r.url)}</a></td>"
        f"<td class={'ok' if r.ready else 'down'}>{'ready' if r.ready else 'not ready'}</td>"
        f"<td>{html.escape(r.detail)}</td></tr>"
        for r in rows
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SMM platform</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}td,th{{padding:.3rem .8rem;text-align:left}}
.ok{{color:#137333}}.down{{color:#b3261e;font-weight:bold}}</style></head><body>
<h1>SMM platform: local stack</h1>
<p>Whether every service is ready. The console app is at <a href="/">/</a>; for the APIs,
get a token with <code>.venv/bin/smm token --role admin --brand demo</code>.</p>
<table><thead><tr><th>service</th><th>API docs</th><th>state</th><th>checks</th></tr></thead>
<tbody>{body}</tbody></table></body></html>"""
    return HTMLResponse(page)
