"""VK Streaming API client: sync our rules, then read the stream over a websocket.

Each connection (:meth:`VkStreamingSource.stream`) starts over: ``streaming.getServerUrl``
(a VK API method called with the app's service token) names the ``endpoint`` and ``key``;
the rules at ``https://{endpoint}/rules?key={key}`` whose tags start with ``tag_prefix`` are
made exactly ``rules`` (others' rules are left alone; VK names a rule by its tag, so a tag
whose value changed is deleted and added again); then ``wss://{endpoint}/stream?key={key}``
is opened. An endpoint given with a scheme (``http://host:port``) keeps it, plain or secure,
for local test servers; VK itself sends a bare host name.

Each event message (``code`` 100) is yielded as it came, one per :class:`StreamBatch`, for
:func:`smm_ingest.adapters.networks.vk_streaming.parse_stream_message`; events matched only
by others' rules are dropped. The stream has no resume point, so batches carry no cursor.

Keep-alive: the websockets library answers VK's pings itself and does not surface them, so
after ``min(renew_every_s, stall_timeout_s / 2)`` of silence we ping VK; a pong means the
connection is alive, no pong by ``stall_timeout_s`` of silence is a :class:`StalledStreamError`.
While the connection is alive but quiet (or carries only service messages), an empty batch at
most every ``renew_every_s`` lets the runner renew its lease. Service messages (``code``
300: a notice such as events lost because we read too slowly) are logged; when VK ends the
connection after one, the close is what makes us reconnect.

Errors: VK API error objects from ``streaming.getServerUrl``: 5 (authorisation) and 15, 28
(access) need a person (permanent); 6, 9, 29 are rate limits; the rest are transient. The rules
endpoint answers ``{"code": 400, "error": {...}}`` for a rule it refuses, which is permanent;
HTTP 429 is a rate limit and 5xx, dropped and closed connections are transient.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from smm_ingest.domain.polling import (
    PermanentPollError,
    RateLimitedError,
    StalledStreamError,
    StreamBatch,
    TransientPollError,
    check_tagged_rules,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.vk.com/method"
DEFAULT_API_VERSION = "5.199"
EVENT_CODE = 100
SERVICE_CODE = 300
#: VK API error codes that only a person can fix: authorisation failed, access denied.
PERMANENT_API_ERRORS = frozenset({5, 15, 28})
#: VK API rate limits and how long to wait: too many requests per second, flood control,
#: the method's quota reached.
RATE_LIMIT_WAIT_S = {6: 1.0, 9: 60.0, 29: 60.0}
#: Wait after HTTP 429 from the streaming endpoint, which gives no reset time.
HTTP_RATE_LIMIT_WAIT_S = 60.0
#: A stream message longer than this is not an event.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")

Json = dict[str, Any]
Connect = Callable[..., AbstractAsyncContextManager[ClientConnection]]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class StreamingServer:
    """Where this app's stream lives: the rules URL and the stream URL, both with the key."""

    rules_url: str
    stream_url: str


class VkStreamingSource:
    """Syncs our rules and yields VK Streaming API events as they arrive; no cursor."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        service_token: str,
        rules: Sequence[tuple[str, str]],
        api_base_url: str = DEFAULT_API_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        connect: Connect = connect,
        tag_prefix: str = "smm:",
        stall_timeout_s: float = 60.0,
        renew_every_s: float = 10.0,
        open_timeout_s: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not service_token:
            raise ValueError("service_token must not be empty")
        check_tagged_rules(rules, tag_prefix)
        if len({tag for _, tag in rules}) != len(rules):
            raise ValueError("rule tags must be unique (VK names a rule by its tag)")
        if stall_timeout_s <= 0 or renew_every_s <= 0:
            raise ValueError("stall_timeout_s and renew_every_s must be positive")
        self._http = http
        self._token = service_token
        self._rules = dict((tag, value) for value, tag in rules)
        self._method_url = f"{api_base_url.rstrip('/')}/streaming.getServerUrl"
        self._version = api_version
        self._connect = connect
        self._prefix = tag_prefix
        self._stall_s = stall_timeout_s
        self._renew_s = renew_every_s
        self._idle_s = min(renew_every_s, stall_timeout_s / 2)
        self._open_s = open_timeout_s
        self._clock = clock

    async def stream(self, cursor: str | None) -> AsyncIterator[StreamBatch]:
        """Find the server, sync the rules, connect, and yield events until the stream fails."""
        server = await self.server()
        await self.sync_rules(server)
        try:
            async with self._connect(
                server.stream_url,
                ping_interval=None,  # we ping ourselves, to tell a stall from a quiet stream
                open_timeout=self._open_s,
                close_timeout=self._open_s,
                max_size=MAX_MESSAGE_BYTES,
            ) as ws:
                async for batch in self._read(ws):
                    yield batch
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status == 429:
                raise RateLimitedError(
                    "VK refused the stream connection (429)", HTTP_RATE_LIMIT_WAIT_S
                ) from exc
            raise TransientPollError(f"VK refused the stream connection ({status})") from exc
        except ConnectionClosed as exc:
            raise TransientPollError(
                f"VK closed the stream ({exc.rcvd or 'no close frame'})"
            ) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise TransientPollError(f"VK stream failed: {type(exc).__name__}") from exc

    async def server(self) -> StreamingServer:
        """The stream's endpoint and key, from ``streaming.getServerUrl``."""
        try:
            response = await self._http.post(
                self._method_url,
                data={"access_token": self._token, "v": self._version},
                timeout=30.0,
            )
        except httpx.HTTPError as exc:
            raise TransientPollError(f"VK API unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientPollError(f"VK API error {response.status_code}")
        body = _json(response)
        if body is None:
            raise TransientPollError("VK API answered with something other than a JSON object")
        error = body.get("error")
        if isinstance(error, Mapping):
            raise _api_error(error)
        result = body.get("response")
        endpoint = result.get("endpoint") if isinstance(result, Mapping) else None
        key = result.get("key") if isinstance(result, Mapping) else None
        if not isinstance(endpoint, str) or not isinstance(key, str) or not key:
            raise TransientPollError("streaming.getServerUrl answered without endpoint and key")
        http_base, ws_base = _bases(endpoint)
        quoted = quote(key, safe="")
        return StreamingServer(
            rules_url=f"{http_base}/rules?key={quoted}", stream_url=f"{ws_base}/stream?key={quoted}"
        )

    async def sync_rules(self, server: StreamingServer) -> None:
        """Make the stream's rules tagged with our prefix exactly ``rules``."""
        body = await self._rules_call("GET", server.rules_url)
        present: dict[str, str] = {}
        listed = body.get("rules")
        for rule in listed if isinstance(listed, list) else ():
            if not isinstance(rule, Mapping):
                continue
            tag, value = rule.get("tag"), rule.get("value")
            if isinstance(tag, str) and isinstance(value, str) and tag.startswith(self._prefix):
                present[tag] = value
        for tag, value in present.items():
            if self._rules.get(tag) != value:
                await self._rules_call("DELETE", server.rules_url, {"tag": tag})
        for tag, value in self._rules.items():
            if present.get(tag) != value:
                await self._rules_call(
                    "POST", server.rules_url, {"rule": {"value": value, "tag": tag}}
                )

    async def _rules_call(self, method: str, url: str, body: Json | None = None) -> Json:
        try:
            response = await self._http.request(method, url, json=body, timeout=30.0)
        except httpx.HTTPError as exc:
            raise TransientPollError(f"VK stream rules unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429:
            raise RateLimitedError("VK stream rules: rate limited (429)", HTTP_RATE_LIMIT_WAIT_S)
        if status >= 500:
            raise TransientPollError(f"VK stream rules: error {status}")
        answer = _json(response)
        if answer is not None and answer.get("code") == 200 and 200 <= status < 300:
            return answer
        error = answer.get("error") if answer is not None else None
        reason = error.get("message") if isinstance(error, Mapping) else None
        code = error.get("error_code") if isinstance(error, Mapping) else None
        raise PermanentPollError(
            f"VK refused a stream rules call ({method}, HTTP {status}, error {code}: "
            f"{reason or 'no reason given'})"
        )

    async def _read(self, ws: ClientConnection) -> AsyncIterator[StreamBatch]:
        """Batches from one open connection until it closes or stalls."""
        last_batch = self._clock()
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), self._idle_s)
            except TimeoutError:
                await self._probe(ws)
            else:
                event = self._event(raw)
                if event is not None:
                    yield StreamBatch(payloads=(event,), cursor=None)
                    last_batch = self._clock()
                    continue
            if self._clock() - last_batch >= self._renew_s:
                yield StreamBatch(cursor=None)  # alive but quiet: renew the lease
                last_batch = self._clock()

    async def _probe(self, ws: ClientConnection) -> None:
        """Ping VK after a silence; no pong before the stall timeout means a dead connection."""
        pong = await ws.ping()
        try:
            await asyncio.wait_for(pong, self._stall_s - self._idle_s)
        except TimeoutError:
            # A graceful close would wait close_timeout for a peer that has stopped answering.
            ws.transport.abort()
            raise StalledStreamError(
                f"VK stream: no data and no pong for {self._stall_s:g} s"
            ) from None

    def _event(self, raw: str | bytes) -> Json | None:
        """An event message of ours; None for service messages and others' events."""
        try:
            message = json.loads(raw)
        except ValueError:  # UnicodeDecodeError is a ValueError too
            logger.warning("VK stream: skipped a message that is not JSON (%d bytes)", len(raw))
            return None
        if not isinstance(message, dict):
            logger.warning("VK stream: skipped a message that is not an object")
            return None
        code = message.get("code")
        if code == EVENT_CODE:
            return message if self._is_ours(message) else None
        if code == SERVICE_CODE:
            service = message.get("service_message")
            if isinstance(service, Mapping):
                logger.warning(
                    "VK stream service message %r: %r",
                    service.get("service_code"),
                    str(service.get("message"))[:200],
                )
            return None
        error = message.get("error")
        reason = error.get("message") if isinstance(error, Mapping) else None
        raise TransientPollError(f"VK stream sent code {code!r}: {reason or 'no reason given'}")

    def _is_ours(self, message: Json) -> bool:
        """Whether an event matched one of our rules (or VK did not say which matched)."""
        event = message.get("event")
        tags = event.get("tags") if isinstance(event, Mapping) else None
        if not isinstance(tags, list) or not tags:
            return True
        return any(isinstance(tag, str) and tag.startswith(self._prefix) for tag in tags)


def _api_error(error: Mapping[str, Any]) -> Exception:
    """The PollError for a VK API error object."""
    code = error.get("error_code")
    message = f"VK API error {code}: {str(error.get('error_msg') or 'no message')[:200]}"
    if code in PERMANENT_API_ERRORS:
        return PermanentPollError(f"{message}; check the connector's service token")
    if isinstance(code, int) and code in RATE_LIMIT_WAIT_S:
        return RateLimitedError(message, RATE_LIMIT_WAIT_S[code])
    return TransientPollError(message)


def _bases(endpoint: str) -> tuple[str, str]:
    """The rules (http) and stream (websocket) bases for an endpoint, keeping a given scheme."""
    scheme, sep, host = endpoint.partition("://")
    if not sep:
        scheme, host = "https", endpoint
    if not _HOST.match(host):
        raise TransientPollError("streaming.getServerUrl named an endpoint that is not a host")
    if scheme in ("https", "wss"):
        return f"https://{host}", f"wss://{host}"
    if scheme in ("http", "ws"):
        return f"http://{host}", f"ws://{host}"
    raise TransientPollError("streaming.getServerUrl named an endpoint with an unknown scheme")


def _json(response: httpx.Response) -> Json | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
