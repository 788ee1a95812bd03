"""Mastodon clients: REST polling of notifications or a hashtag, and server-sent-event streams.

Every payload handed to the runner is the envelope of
:func:`smm_ingest.adapters.networks.mastodon.envelope`, so one parser reads both paths.

Polling: the cursor is the newest id seen (a notification id, or a status id for a hashtag).
We page *forward* with ``min_id`` ("results immediately newer than this id"): ``since_id``
would return the newest page and silently skip whatever lies between it and the cursor when
more than a page arrived. Each page's ``Link: rel="prev"`` carries the ``min_id`` of the next;
we take that id, never the URL, so the token only ever goes to the configured instance. A
poll reads at most ``max_pages``; when more remain it asks to be called again at once.

Rate limits (300 requests per 5 minutes per account by default, shared with anything else
using the token): ``X-RateLimit-Remaining: 0`` makes the next poll wait until
``X-RateLimit-Reset`` (an ISO 8601 time); a 429 raises :class:`RateLimitedError` with the
later of ``Retry-After`` and the reset, or returns the pages already read with that wait.
401/403 (token revoked, scope missing), 404 and 410 are permanent; 5xx, timeouts and
connection failures are transient.

Streaming: one server-sent-events connection; each ``update``, ``status.update``,
``notification`` and ``delete`` event becomes a one-envelope batch, other events are dropped.
Heartbeat comments (``:thump``) become empty batches, so the runner renews its lease while a
quiet stream stays up. Silence longer than ``heartbeat_timeout_s`` raises
:class:`StalledStreamError`. The stream has no resume cursor: what happens while it is down is
not replayed, so pair a stream with the notifications poller when nothing may be missed (the
natural key absorbs the overlap). The streaming server may live on another host: pass
``streaming_url``, or let us follow the instance's redirect (once per connection, never from
https to http).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote

import httpx

from smm_ingest.adapters.networks.mastodon import STREAM_EVENTS, envelope, instance_host
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    StalledStreamError,
    StreamBatch,
    TransientPollError,
)

Clock = Callable[[], datetime]

#: Wait on a 429 that says nothing about when to come back.
DEFAULT_RETRY_S = 60.0
#: Never wait longer than this on a server's word (a bad clock must not park a connector).
MAX_WAIT_S = 3600.0
#: Statuses that retrying cannot fix: a revoked token or missing scope, a wrong URL.
PERMANENT_STATUSES = frozenset({401, 403, 404, 410})
#: Largest event we buffer; real ones are a few kilobytes, an endless line must not fill memory.
MAX_EVENT_CHARS = 2_000_000
STREAMS: Final = ("user:notification", "hashtag", "hashtag:local")
_STREAM_PATHS: Mapping[str, str] = {
    "user:notification": "/api/v1/streaming/user/notification",
    "hashtag": "/api/v1/streaming/hashtag",
    "hashtag:local": "/api/v1/streaming/hashtag/local",
}
_ID = re.compile(r"[0-9A-Za-z_-]{1,128}")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _now() -> datetime:
    return datetime.now(UTC)


def _base_url(instance_url: str) -> str:
    instance_host(instance_url)  # fail at construction, not at the first poll
    return instance_url.strip().rstrip("/")


def _id_key(value: str) -> tuple[int, str]:
    """Order of Mastodon ids: numeric strings of varying length, compared as numbers."""
    return (len(value), value)


def _usable_id(value: object) -> str | None:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return text if isinstance(text, str) and _ID.fullmatch(text) else None


# --- REST -------------------------------------------------------------------------------------


class _TimelinePoller:
    """Forward pagination over one Mastodon list endpoint; subclasses say which and how."""

    #: The envelope event each listed entity becomes.
    event: str = ""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        instance_url: str,
        access_token: str,
        path: str,
        params: Sequence[tuple[str, str]],
        interval_s: float,
        page_size: int,
        max_pages: int,
        clock: Clock,
    ) -> None:
        if not access_token:
            raise ValueError("a Mastodon access token is required")
        if max_pages < 1 or page_size < 1:
            raise ValueError("max_pages and page_size must be at least 1")
        self._client = client
        self._url = f"{_base_url(instance_url)}{path}"
        self._host = instance_host(instance_url)
        self._headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        self._params = list(params)
        self._interval_s = interval_s
        self._page_size = page_size
        self._max_pages = max_pages
        self._clock = clock

    async def poll(self, cursor: str | None) -> PollResult:
        """What is newer than ``cursor`` (the newest id stored), oldest first."""
        payloads: list[dict[str, Any]] = []
        newest = cursor
        min_id = cursor
        wait_s = self._interval_s
        for _ in range(self._max_pages):
            try:
                response = await self._get(min_id)
            except RateLimitedError as exc:
                if not payloads:
                    raise
                # Keep what the earlier pages gave: the runner stores it and waits as asked.
                wait_s = exc.retry_after_s
                break
            page = _page(response)
            received_at = self._clock()
            entities = [e for e in page if isinstance(e, dict)]
            ids = [i for i in (_usable_id(e.get("id")) for e in entities) if i is not None]
            for entity in sorted(entities, key=lambda e: _id_key(_usable_id(e.get("id")) or "")):
                payloads.append(
                    envelope(self.event, entity, instance=self._host, received_at=received_at)
                )
            if ids:
                top = max(ids, key=_id_key)
                newest = top if newest is None or _id_key(top) > _id_key(newest) else newest
            exhausted = _until_reset(response.headers, received_at)
            if exhausted is not None:
                wait_s = max(self._interval_s, exhausted)
                break
            # The first poll of a connector starts from now: the newest page, no history.
            if cursor is None or len(page) < self._page_size:
                break
            following = _prev_min_id(response) or newest
            if following is None or (min_id is not None and _id_key(following) <= _id_key(min_id)):
                break  # a server that does not move forward must not loop us
            min_id = following
        else:
            wait_s = 0.0  # pages remain: come back at once (each poll's progress is saved)
        return PollResult(payloads=payloads, next_cursor=newest, wait_s=wait_s)

    async def _get(self, min_id: str | None) -> httpx.Response:
        params = [*self._params, ("limit", str(self._page_size))]
        if min_id is not None:
            params.append(("min_id", min_id))
        try:
            response = await self._client.get(
                self._url, params=tuple(params), headers=self._headers, timeout=30.0
            )
        except httpx.HTTPError as exc:
            raise TransientPollError(f"Mastodon unreachable: {type(exc).__name__}") from None
        _raise_for_status(response, self._clock())
        return response


class MastodonNotificationsPoller(_TimelinePoller):
    """Polls one account's mention (and edit) notifications."""

    event = "notification"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        instance_url: str,
        access_token: str,
        interval_s: float = 30.0,
        page_size: int = 40,
        max_pages: int = 5,
        clock: Clock = _now,
    ) -> None:
        super().__init__(
            client,
            instance_url=instance_url,
            access_token=access_token,
            path="/api/v1/notifications",
            # "update" is how an edit reaches us; the parser keeps only those of mentions.
            params=[("types[]", "mention"), ("types[]", "update")],
            interval_s=interval_s,
            page_size=page_size,
            max_pages=max_pages,
            clock=clock,
        )


class MastodonHashtagPoller(_TimelinePoller):
    """Polls one hashtag's public timeline as seen from the instance."""

    event = "update"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        instance_url: str,
        access_token: str,
        hashtag: str,
        local: bool = False,
        interval_s: float = 60.0,
        page_size: int = 40,
        max_pages: int = 5,
        clock: Clock = _now,
    ) -> None:
        tag = _tag(hashtag)
        super().__init__(
            client,
            instance_url=instance_url,
            access_token=access_token,
            path=f"/api/v1/timelines/tag/{quote(tag, safe='')}",
            params=[("local", "true")] if local else [],
            interval_s=interval_s,
            page_size=page_size,
            max_pages=max_pages,
            clock=clock,
        )


def _tag(hashtag: str) -> str:
    tag = hashtag.strip().removeprefix("#")
    if not tag or "/" in tag or any(c.isspace() for c in tag):
        raise ValueError(f"{hashtag[:80]!r} is not a hashtag")
    return tag


def _page(response: httpx.Response) -> list[Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransientPollError(f"Mastodon answered {response.status_code} without JSON") from None
    if not isinstance(body, list):
        raise TransientPollError("Mastodon answered with something other than a list")
    return body


def _prev_min_id(response: httpx.Response) -> str | None:
    """The ``min_id`` of ``Link: <...?min_id=...>; rel="prev"``, the page after this one."""
    prev = response.links.get("prev", {}).get("url")
    if not prev:
        return None
    try:
        return _usable_id(httpx.URL(prev).params.get("min_id"))
    except httpx.InvalidURL:
        return None


# --- errors and rate limits -------------------------------------------------------------------


def _raise_for_status(response: httpx.Response, now: datetime) -> None:
    """Map a failed response onto the poll errors; return quietly on success."""
    status = response.status_code
    if response.is_success:
        return
    reason = _reason(response)
    if status == 429:
        raise RateLimitedError(
            f"Mastodon rate limit: {reason}", _retry_after(response.headers, now)
        )
    if status in PERMANENT_STATUSES:
        hint = "check the access token and its scopes" if status in (401, 403) else "check the URL"
        raise PermanentPollError(f"Mastodon refused ({status}: {reason}); {hint}")
    raise TransientPollError(f"Mastodon error {status}: {reason}")


def _reason(response: httpx.Response) -> str:
    """The ``error`` Mastodon puts in a failed response's JSON, cut short; else the phrase."""
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    text = error if isinstance(error, str) else response.reason_phrase or "no reason"
    return repr(text[:200]) if not text.isprintable() else text[:200]


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _seconds_until(moment: datetime, now: datetime) -> float:
    return min(MAX_WAIT_S, max(0.0, (moment - now).total_seconds()))


def _until_reset(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` when no request remains; None while some do."""
    if headers.get("X-RateLimit-Remaining", "").strip() != "0":
        return None
    reset = _iso(headers.get("X-RateLimit-Reset"))
    return _seconds_until(reset, now) if reset is not None else DEFAULT_RETRY_S


def _retry_after(headers: httpx.Headers, now: datetime) -> float:
    """How long a 429 asks us to wait: the later of ``Retry-After`` and the limit's reset."""
    waits: list[float] = []
    retry_after = headers.get("Retry-After", "").strip()
    if retry_after:
        try:
            waits.append(min(MAX_WAIT_S, max(0.0, float(retry_after))))
        except ValueError:
            # An unreadable date is as good as no header: the reset or the default decide.
            with contextlib.suppress(TypeError, ValueError):
                waits.append(_seconds_until(parsedate_to_datetime(retry_after), now))
    reset = _iso(headers.get("X-RateLimit-Reset"))
    if reset is not None:
        waits.append(_seconds_until(reset, now))
    return max(waits) if waits else DEFAULT_RETRY_S


# --- server-sent events -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched server-sent event: its name (``message`` by default) and data."""

    name: str
    data: str


@dataclass(frozen=True, slots=True)
class SseComment:
    """A comment line (``:thump``): the server's keep-alive."""

    text: str


class SseDecoder:
    """Server-sent events from text chunks, as the WHATWG HTML standard reads them."""

    def __init__(self) -> None:
        self._buffer = ""
        self._name = ""
        self._data: list[str] = []

    def feed(self, chunk: str) -> list[SseEvent | SseComment]:
        """Everything ``chunk`` completes; a partial line waits for the next chunk."""
        # Lines end at CRLF, LF or CR only. httpx's aiter_lines also splits at U+2028 and
        # friends (str.splitlines), which the Node streaming server leaves raw inside JSON.
        text = self._buffer + chunk
        if len(text) > MAX_EVENT_CHARS or sum(map(len, self._data)) > MAX_EVENT_CHARS:
            raise ValueError("a server-sent event exceeds the size we accept")
        # A CR that ends the chunk may be the first half of a CRLF: decide with the next chunk.
        held = "\r" if text.endswith("\r") else ""
        *lines, self._buffer = _NEWLINE.split(text[: len(text) - len(held)])
        self._buffer += held
        found = [self._line(line) for line in lines]
        return [item for item in found if item is not None]

    def _line(self, line: str) -> SseEvent | SseComment | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return SseComment(line[1:])
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._name = value
        elif field == "data":
            self._data.append(value)
        # "id" and "retry" matter only to a client that resumes; Mastodon sends neither.
        return None

    def _dispatch(self) -> SseEvent | None:
        name, data = self._name or "message", self._data
        self._name, self._data = "", []
        return SseEvent(name, "\n".join(data)) if data else None


class MastodonStream:
    """One account's notifications, or one hashtag, as a server-sent-events stream."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        instance_url: str,
        access_token: str,
        stream: str = "user:notification",
        tag: str | None = None,
        streaming_url: str | None = None,
        heartbeat_timeout_s: float = 60.0,
        clock: Clock = _now,
    ) -> None:
        if not access_token:
            raise ValueError("a Mastodon access token is required")
        if stream not in _STREAM_PATHS:
            raise ValueError(f"stream must be one of {', '.join(STREAMS)}, not {stream!r}")
        params: dict[str, str] = {}
        if stream.startswith("hashtag"):
            if tag is None:
                raise ValueError(f"the {stream} stream needs a tag")
            params["tag"] = _tag(tag)
        base = _base_url(streaming_url or instance_url)
        self._client = client
        self._host = instance_host(instance_url)
        self._target = httpx.URL(f"{base}{_STREAM_PATHS[stream]}", params=params)
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "text/event-stream",
            "Cache-Control": "no-store",
        }
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self._clock = clock

    async def stream(self, cursor: str | None) -> AsyncIterator[StreamBatch]:
        """Connect and yield batches until the server ends the stream or it fails."""
        response = await self._connect()
        try:
            chunks = response.aiter_bytes().__aiter__()
            decoder = SseDecoder()
            # utf-8-sig: the standard lets a stream start with a byte-order mark.
            utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
            while True:
                try:
                    async with asyncio.timeout(self._heartbeat_timeout_s):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    return  # the server closed the stream: the runner reconnects
                except (TimeoutError, httpx.ReadTimeout):
                    raise StalledStreamError(
                        f"Mastodon stream silent for {self._heartbeat_timeout_s:g} s"
                    ) from None
                except httpx.HTTPError as exc:
                    raise TransientPollError(
                        f"Mastodon stream broke: {type(exc).__name__}"
                    ) from None
                try:
                    items = decoder.feed(utf8.decode(chunk))
                except ValueError as exc:
                    raise TransientPollError(f"Mastodon stream: {exc}") from None
                for item in items:
                    batch = self._batch(item)
                    if batch is not None:
                        yield batch
        finally:
            await response.aclose()

    def _batch(self, item: SseEvent | SseComment) -> StreamBatch | None:
        if isinstance(item, SseComment):
            return StreamBatch()  # a heartbeat: nothing to store, but the lease is renewed
        if item.name not in STREAM_EVENTS:
            return None
        payload: object = item.data.strip()
        if item.name != "delete":
            # Unreadable JSON goes on as text: the parser rejects it and the runner logs that.
            with contextlib.suppress(ValueError):
                payload = json.loads(item.data)
        return StreamBatch(
            payloads=[envelope(item.name, payload, instance=self._host, received_at=self._clock())]
        )

    async def _connect(self) -> httpx.Response:
        """The open event-stream response; redirects to the streaming host are followed once."""
        target = self._target
        for _ in range(2):
            request = self._client.build_request(
                "GET",
                target,
                headers=self._headers,
                timeout=httpx.Timeout(10.0, read=self._heartbeat_timeout_s + 5),
            )
            try:
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as exc:
                raise TransientPollError(
                    f"Mastodon stream timed out: {type(exc).__name__}"
                ) from None
            except httpx.HTTPError as exc:
                raise TransientPollError(
                    f"Mastodon stream unreachable: {type(exc).__name__}"
                ) from None
            if not response.is_redirect:
                break
            await response.aclose()
            try:
                location = target.join(response.headers["Location"])
            except httpx.InvalidURL:
                raise PermanentPollError("Mastodon redirected the stream to a bad URL") from None
            if target.scheme == "https" and location.scheme != "https":
                raise PermanentPollError(
                    "Mastodon redirected the stream from https to http; set streaming_url"
                )
            # The instance names its streaming host this way; remember it for reconnects.
            target = self._target = location
        else:
            raise PermanentPollError("Mastodon redirected the stream more than once")
        if not response.is_success:
            try:
                await response.aread()
                _raise_for_status(response, self._clock())
            finally:
                await response.aclose()
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/event-stream"):
            await response.aclose()
            raise TransientPollError(
                f"Mastodon answered the stream with {content_type[:60] or 'no content type'}"
            )
        return response
