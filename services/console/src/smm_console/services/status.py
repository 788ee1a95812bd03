"""The stack's health as the console shows it: every service's readiness, asked live."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service's answer to ``/health/ready``."""

    name: str
    url: str
    ready: bool
    detail: str


async def _probe(client: httpx.AsyncClient, name: str, url: str) -> ServiceStatus:
    try:
        response = await client.get(f"{url}/health/ready")
    except httpx.HTTPError as exc:
        return ServiceStatus(name, url, False, f"unreachable: {type(exc).__name__}")
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    checks = body.get("checks", {})
    detail = (
        ", ".join(f"{k} {'ok' if v else 'down'}" for k, v in checks.items())
        or response.reason_phrase
    )
    return ServiceStatus(name, url, response.status_code == 200, detail)


async def stack_status(client: httpx.AsyncClient, services: dict[str, str]) -> list[ServiceStatus]:
    """Ask every service at once."""
    return list(await asyncio.gather(*(_probe(client, n, u) for n, u in services.items())))
