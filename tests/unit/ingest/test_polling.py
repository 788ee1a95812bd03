"""The Telegram getUpdates client and the backoff rules, without a network."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from smm_ingest.adapters.pollers.telegram import TelegramPoller
from smm_ingest.domain.polling import (
    Backoff,
    PermanentPollError,
    RateLimitedError,
    TransientPollError,
    rate_limit_delay,
)

pytestmark = pytest.mark.unit


def poller(handler: Any) -> tuple[TelegramPoller, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result: httpx.Response = handler(request)
        return result

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return TelegramPoller(
        client, api_base_url="https://tg.test", bot_token="123:ABC", timeout_s=5
    ), seen


async def test_updates_and_the_next_offset() -> None:
    updates = [{"update_id": 10, "message": {}}, {"update_id": 12, "message": {}}, {"bogus": True}]
    p, seen = poller(lambda r: httpx.Response(200, json={"ok": True, "result": updates}))
    result = await p.poll("10")
    assert [u["update_id"] for u in result.payloads] == [10, 12]
    assert result.next_cursor == "13"
    assert result.wait_s == 0
    assert seen[0].url.path == "/bot123:ABC/getUpdates"
    assert seen[0].url.params["offset"] == "10"
    assert seen[0].url.params["timeout"] == "5"
    assert json.loads(seen[0].url.params["allowed_updates"]) == [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
    ]


async def test_no_updates_keeps_the_cursor() -> None:
    p, seen = poller(lambda r: httpx.Response(200, json={"ok": True, "result": []}))
    assert (await p.poll(None)).next_cursor is None
    assert "offset" not in seen[0].url.params
    assert (await p.poll("77")).next_cursor == "77"


@pytest.mark.parametrize(
    ("response", "error", "text"),
    [
        (
            httpx.Response(
                429,
                json={
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": 17},
                },
            ),
            RateLimitedError,
            "rate limit",
        ),
        (
            httpx.Response(
                401, json={"ok": False, "error_code": 401, "description": "Unauthorized"}
            ),
            PermanentPollError,
            "bot token",
        ),
        (
            httpx.Response(
                409,
                json={"ok": False, "error_code": 409, "description": "Conflict: webhook is active"},
            ),
            TransientPollError,
            "webhook",
        ),
        (httpx.Response(502, text="<html>bad gateway</html>"), TransientPollError, "without JSON"),
        (
            httpx.Response(500, json={"ok": False, "error_code": 500, "description": "Internal"}),
            TransientPollError,
            "500",
        ),
    ],
)
async def test_errors_are_classified(
    response: httpx.Response, error: type[Exception], text: str
) -> None:
    p, _ = poller(lambda r: response)
    with pytest.raises(error, match=text) as caught:
        await p.poll(None)
    if isinstance(caught.value, RateLimitedError):
        assert caught.value.retry_after_s == 17


async def test_connection_errors_are_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    p, _ = poller(refuse)
    with pytest.raises(TransientPollError, match="unreachable"):
        await p.poll(None)


def test_backoff_grows_with_full_jitter_and_resets() -> None:
    backoff = Backoff(base_s=1, max_s=8, rng=random.Random(7))
    ceilings = [1, 2, 4, 8, 8, 8]
    delays = [backoff.next_delay() for _ in ceilings]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[3:]) > 1  # it does grow beyond the first ceiling
    backoff.reset()
    assert backoff.next_delay() <= 1


def test_rate_limit_delay_never_shortens_what_the_network_asked() -> None:
    rng = random.Random(1)
    for asked in (0.0, 1.0, 17.0, 300.0):
        delays = [rate_limit_delay(asked, rng) for _ in range(50)]
        assert min(delays) >= asked
        assert max(delays) <= asked + 1.0
