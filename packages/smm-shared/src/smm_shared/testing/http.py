"""An HTTP client for unit tests of network clients: answers from a function, records requests."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


def recording_client(handler: Handler) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client whose requests ``handler`` answers (no network), and the requests it saw."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(record)), seen
