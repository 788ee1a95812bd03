"""Telegram Bot API ``getUpdates`` long polling: the alternative to the webhook.

A long poll (``timeout`` seconds) returns as soon as updates arrive. The cursor is the
next ``offset`` (last ``update_id`` + 1): Telegram forgets updates below the offset we
send, so the runner advances it only after the updates are stored. Errors follow the Bot
API: ``ok: false`` with ``error_code``; 429 carries ``parameters.retry_after`` (seconds);
401/404 mean a bad token; 409 means a webhook is set or another poller runs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    TransientPollError,
)

ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post"]


class TelegramPoller:
    """Polls one bot's updates."""

    def __init__(
        self, client: httpx.AsyncClient, *, api_base_url: str, bot_token: str, timeout_s: int = 25
    ) -> None:
        self._client = client
        self._url = f"{api_base_url.rstrip('/')}/bot{bot_token}/getUpdates"
        self._timeout_s = timeout_s

    async def poll(self, cursor: str | None) -> PollResult:
        """One ``getUpdates`` call from ``cursor`` (the offset)."""
        params: dict[str, Any] = {
            "timeout": self._timeout_s,
            "allowed_updates": json.dumps(ALLOWED_UPDATES),
        }
        if cursor is not None:
            params["offset"] = int(cursor)
        try:
            response = await self._client.get(
                self._url, params=params, timeout=self._timeout_s + 10
            )
        except httpx.HTTPError as exc:
            raise TransientPollError(f"Telegram unreachable: {type(exc).__name__}") from exc
        try:
            body = response.json()
        except ValueError:
            raise TransientPollError(
                f"Telegram answered {response.status_code} without JSON"
            ) from None
        if not isinstance(body, dict):
            raise TransientPollError("Telegram answered with something other than an object")
        if body.get("ok") is True and isinstance(body.get("result"), list):
            updates = [
                u
                for u in body["result"]
                if isinstance(u, dict) and isinstance(u.get("update_id"), int)
            ]
            next_cursor = str(max(u["update_id"] for u in updates) + 1) if updates else cursor
            return PollResult(payloads=updates, next_cursor=next_cursor, wait_s=0.0)
        code = body.get("error_code", response.status_code)
        description = str(body.get("description", "no description"))[:300]
        if code == 429:
            retry = (
                body.get("parameters", {}).get("retry_after", 5)
                if isinstance(body.get("parameters"), dict)
                else 5
            )
            raise RateLimitedError(f"Telegram rate limit: {description}", float(retry))
        if code in (401, 403, 404):
            raise PermanentPollError(
                f"Telegram refused the bot token ({code}: {description}); update the connector's bot_token"
            )
        if code == 409:
            raise TransientPollError(
                f"Telegram conflict ({description}): a webhook is set or another poller runs"
            )
        raise TransientPollError(f"Telegram error {code}: {description}")
