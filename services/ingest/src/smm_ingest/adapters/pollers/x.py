"""X API v2 clients (app-only bearer token): the mentions timeline, polled, and the filtered stream.

Both hand the parser (:func:`smm_ingest.adapters.networks.x.parse_tweet_envelope`) the same
envelope per tweet, ``{"data": tweet, "includes": {"users": [...], "tweets": [...]}}``: a
filtered-stream line as X sends it, or a timeline page cut into one envelope per tweet.

Mentions timeline (``GET /2/users/:id/mentions``): the cursor is the newest tweet id stored
(``since_id``). X pages from newest to oldest; a poll follows ``next_token`` for at most
``max_pages`` pages, and when the budget runs out first the cursor keeps the window open
as ``{since_id}:{newest_id}:{next_token}``, so the next poll resumes at once from that page
and moves to ``newest_id`` only when the window is read to its end (nothing in between is
skipped). Without a cursor (a new connector) only ``initial_pages`` pages are read: older
mentions are not backfilled. Rate limits depend on the access tier and are per app with a
bearer token: 450 requests per 15 minutes on Pro, 15 on Basic (one a minute, which the
default ``interval_s`` of 60 s matches when a poll needs one page). Every response says
what is left; after one that says none (``x-rate-limit-remaining: 0``) the next poll waits
for ``x-rate-limit-reset`` instead of earning a 429.

Filtered stream (``GET /2/tweets/search/stream``): ``rules`` are ``(value, tag)`` pairs
whose tags start with ``tag_prefix``, which marks the rules this connector owns. Before
each connection the rules with that prefix are made exactly ``rules`` (stale ones deleted
first, missing ones added) and others' rules are left alone; tweets that matched only
others' rules are skipped. On standard access X's stream has no resume point (backfill is
an Enterprise feature), so batches carry no cursor: tweets posted while disconnected are
not delivered, and the mentions poller is how they are caught up. X sends a ``\r\n``
keep-alive at least every 20 s; nothing for ``stall_timeout_s`` means a dead connection.

Errors follow X's documented responses: 429 carries ``x-rate-limit-reset`` (epoch seconds),
or on the stream ``connection_issue: TooManyConnections`` when the app's one streaming
connection is already open; 401 is a bad or revoked token; 403 an app without the access
level or Project the endpoint needs; other 4xx a request a person must fix; 5xx, dropped
connections and ``operational-disconnect`` lines are transient.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    StalledStreamError,
    StreamBatch,
    TransientPollError,
    check_tagged_rules,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.x.com"
#: What each tweet is requested with: its author and the tweets it refers to, expanded.
EXPANSIONS = "author_id,referenced_tweets.id"
TWEET_FIELDS = (
    "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,lang,"
    "public_metrics,entities,note_tweet"
)
USER_FIELDS = "username,name,public_metrics,verified"
#: Wait when a 429 carries no usable ``x-rate-limit-reset``.
DEFAULT_RATE_LIMIT_WAIT_S = 60.0
#: Wait after ``TooManyConnections``: the other connection may take a while to close.
TOO_MANY_CONNECTIONS_WAIT_S = 60.0
#: X promises a keep-alive (``\r\n``) at least every 20 s on a quiet stream.
KEEP_ALIVE_S = 20.0
#: A stream line longer than this is not a tweet: drop the connection rather than the memory.
MAX_LINE_BYTES = 8 * 1024 * 1024

Clock = Callable[[], float]
Json = dict[str, Any]


class _BadRequestError(PermanentPollError):
    """X answered 400: our request is wrong (an expired pagination token, say)."""


class XMentionsPoller:
    """Polls one account's mentions timeline from ``since_id``, a bounded number of pages at a time."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        bearer_token: str,
        user_id: str,
        page_size: int = 100,
        max_pages: int = 5,
        initial_pages: int = 1,
        interval_s: float = 60.0,
        clock: Clock = time.time,
    ) -> None:
        if not user_id.isdigit():
            raise ValueError("user_id must be a numeric X user id")
        if not 5 <= page_size <= 100:
            raise ValueError("page_size must be within 5..100 (X's max_results)")
        if max_pages < 1 or initial_pages < 1:
            raise ValueError("max_pages and initial_pages must be at least 1")
        self._client = client
        self._url = f"{api_base_url.rstrip('/')}/2/users/{user_id}/mentions"
        self._headers = _auth(bearer_token)
        self._page_size = page_size
        self._max_pages = max_pages
        self._initial_pages = initial_pages
        self._interval_s = interval_s
        self._clock = clock

    async def poll(self, cursor: str | None) -> PollResult:
        """Mentions newer than ``cursor``, one envelope per tweet, and the cursor after them."""
        since, newest, token = _decode_cursor(cursor)
        budget = self._max_pages if since is not None else self._initial_pages
        payloads: list[Json] = []
        headers = httpx.Headers()
        complete = False
        for _ in range(budget):
            try:
                body, headers = await self._page(since, token)
            except _BadRequestError:
                if token is None:
                    raise
                # A stored pagination token X no longer accepts: read the window again from
                # its newest end (storage dedupes what comes twice).
                logger.warning("X refused a stored pagination token; rereading the window")
                token, newest = None, None
                continue
            envelopes, page_newest = _split_page(body)
            payloads.extend(envelopes)
            newest = _newer(newest, page_newest)
            token = _next_token(body)
            if token is None:
                complete = True
                break
        if complete or since is None:
            return PollResult(
                payloads=payloads, next_cursor=newest or since, wait_s=self._wait_after(headers)
            )
        # The window is not read to its end: keep it open and come back for the rest at once.
        resume = f"{since}:{newest or since}:{token}" if token is not None else since
        return PollResult(
            payloads=payloads, next_cursor=resume, wait_s=self._wait_after(headers, interval_s=0.0)
        )

    async def _page(self, since: str | None, token: str | None) -> tuple[Json, httpx.Headers]:
        params: dict[str, str | int] = {
            "max_results": self._page_size,
            "expansions": EXPANSIONS,
            "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS,
        }
        if since is not None:
            params["since_id"] = since
        if token is not None:
            params["pagination_token"] = token
        return await _call_json(
            self._client,
            "GET",
            self._url,
            headers=self._headers,
            params=params,
            what="the mentions timeline",
            clock=self._clock,
        )

    def _wait_after(self, headers: httpx.Headers, interval_s: float | None = None) -> float:
        """The polling interval, or longer when the last response used up the rate limit."""
        interval = self._interval_s if interval_s is None else interval_s
        if headers.get("x-rate-limit-remaining") == "0":
            reset_in = _seconds_until_reset(headers, self._clock)
            if reset_in is not None:
                return max(interval, reset_in)
        return interval


class XFilteredStream:
    """Consumes the filtered stream after syncing our rules; X gives no resume point, so no cursor."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        bearer_token: str,
        rules: Sequence[tuple[str, str]],
        tag_prefix: str = "smm:",
        stall_timeout_s: float = KEEP_ALIVE_S,
        connect_timeout_s: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        check_tagged_rules(rules, tag_prefix)
        if len({value for value, _ in rules}) != len(rules):
            raise ValueError("rule values must be unique (X refuses duplicates)")
        base = api_base_url.rstrip("/")
        self._client = client
        self._stream_url = f"{base}/2/tweets/search/stream"
        self._rules_url = f"{base}/2/tweets/search/stream/rules"
        self._headers = _auth(bearer_token)
        self._rules = list(rules)
        self._prefix = tag_prefix
        self._stall_s = stall_timeout_s
        self._connect_s = connect_timeout_s
        self._clock = clock

    async def sync_rules(self) -> None:
        """Make the stream's rules tagged with our prefix exactly ``rules``."""
        ours = [rule for rule in await self._list_rules() if rule[2].startswith(self._prefix)]
        wanted = set(self._rules)
        stale = [rule_id for rule_id, value, tag in ours if (value, tag) not in wanted]
        present = {(value, tag) for _, value, tag in ours}
        missing = [rule for rule in self._rules if rule not in present]
        if stale:
            await self._post_rules({"delete": {"ids": stale}})
        if missing:
            body = await self._post_rules(
                {"add": [{"value": value, "tag": tag} for value, tag in missing]}
            )
            _check_added(body, len(missing))

    async def stream(self, cursor: str | None) -> AsyncIterator[StreamBatch]:
        """Sync the rules, connect, and yield one batch per tweet until the stream fails."""
        await self.sync_rules()
        params = {
            "expansions": EXPANSIONS,
            "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS,
        }
        # httpx's own read timeout backs up the stall check below on a real socket.
        timeout = httpx.Timeout(self._connect_s, read=self._stall_s * 2)
        try:
            async with self._client.stream(
                "GET", self._stream_url, params=params, headers=self._headers, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    _raise_for_status(response, "the filtered stream", self._clock)
                chunks = response.aiter_bytes()
                buffer = b""
                while True:
                    chunk = await self._next_chunk(chunks)
                    if chunk is None:
                        break
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    if len(buffer) > MAX_LINE_BYTES:
                        raise TransientPollError("X sent a stream line too long to be a tweet")
                    for line in lines:
                        envelope = self._envelope(line)
                        if envelope is not None:
                            yield StreamBatch(payloads=(envelope,), cursor=None)
        except httpx.ReadTimeout as exc:
            raise StalledStreamError("X filtered stream: the read timed out") from exc
        except httpx.HTTPError as exc:
            raise TransientPollError(f"X filtered stream dropped: {type(exc).__name__}") from exc
        logger.info("X closed the filtered stream")

    async def _next_chunk(self, chunks: AsyncIterator[bytes]) -> bytes | None:
        """The next bytes of the stream (None at its end); silence past the stall timeout raises."""
        try:
            return await asyncio.wait_for(anext(chunks), self._stall_s)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise StalledStreamError(
                f"X sent nothing, not even a keep-alive, for {self._stall_s:g} s"
            ) from None

    def _envelope(self, line: bytes) -> Json | None:
        """A tweet envelope; None for keep-alives and lines that are not ours or not tweets."""
        if not line.strip():
            return None  # the "\r\n" keep-alive
        try:
            message = json.loads(line)
        except ValueError:  # UnicodeDecodeError is a ValueError too
            logger.warning("X stream: skipped a line that is not JSON (%d bytes)", len(line))
            return None
        if not isinstance(message, dict):
            logger.warning("X stream: skipped a line that is not an object")
            return None
        if "data" in message:
            return message if self._is_ours(message) else None
        if "errors" in message:
            # Error lines without data end the connection (operational-disconnect): reconnect.
            raise TransientPollError(f"X disconnected the stream: {_reason(message)}")
        logger.warning("X stream: skipped a line without data (keys %s)", sorted(message)[:5])
        return None

    def _is_ours(self, message: Json) -> bool:
        """Whether a tweet matched one of our rules (or X did not say which matched)."""
        matched = message.get("matching_rules")
        if not isinstance(matched, list) or not matched:
            return True
        return any(
            isinstance(rule, dict)
            and isinstance(rule.get("tag"), str)
            and rule["tag"].startswith(self._prefix)
            for rule in matched
        )

    async def _list_rules(self) -> list[tuple[str, str, str]]:
        """Every rule of the app's stream as ``(id, value, tag)`` (tag "" when it has none)."""
        found: list[tuple[str, str, str]] = []
        token: str | None = None
        for _ in range(10):  # 1,000 rules per page; projects hold at most a few thousand
            params: dict[str, str | int] = {"max_results": 1000}
            if token is not None:
                params["pagination_token"] = token
            body, _ = await _call_json(
                self._client,
                "GET",
                self._rules_url,
                headers=self._headers,
                params=params,
                what="the stream rules",
                clock=self._clock,
            )
            for rule in _list(body.get("data"), "stream rules"):
                rule_id, value, tag = rule.get("id"), rule.get("value"), rule.get("tag")
                if not isinstance(rule_id, str) or not isinstance(value, str):
                    raise TransientPollError("X listed a stream rule without an id or value")
                found.append((rule_id, value, tag if isinstance(tag, str) else ""))
            token = _next_token(body)
            if token is None:
                break
        return found

    async def _post_rules(self, change: Json) -> Json:
        body, _ = await _call_json(
            self._client,
            "POST",
            self._rules_url,
            headers=self._headers,
            json_body=change,
            what="the stream rules",
            clock=self._clock,
        )
        return body


# --- shared ----------------------------------------------------------------------------------


def _auth(bearer_token: str) -> dict[str, str]:
    if not bearer_token:
        raise ValueError("bearer_token must not be empty")
    return {"Authorization": f"Bearer {bearer_token}"}


async def _call_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    what: str,
    clock: Clock,
    params: Mapping[str, str | int] | None = None,
    json_body: Json | None = None,
) -> tuple[Json, httpx.Headers]:
    """One JSON request; X's error answers raised as the matching PollError."""
    try:
        response = await client.request(
            method, url, headers=headers, params=params, json=json_body, timeout=30.0
        )
    except httpx.HTTPError as exc:
        raise TransientPollError(f"X unreachable for {what}: {type(exc).__name__}") from exc
    _raise_for_status(response, what, clock)
    body = _json(response)
    if body is None:
        raise TransientPollError(f"X answered {what} with something other than a JSON object")
    return body, response.headers


def _raise_for_status(response: httpx.Response, what: str, clock: Clock) -> None:
    """Nothing for a 2xx; otherwise the PollError that says whether and when to retry."""
    status = response.status_code
    if 200 <= status < 300:
        return
    body = _json(response) or {}
    reason = _reason(body) or response.reason_phrase or "no reason given"
    if status == 429:
        if body.get("connection_issue") == "TooManyConnections":
            raise RateLimitedError(
                "X allows one filtered-stream connection per app and one is already open "
                "(TooManyConnections)",
                TOO_MANY_CONNECTIONS_WAIT_S,
            )
        wait = _seconds_until_reset(response.headers, clock)
        raise RateLimitedError(
            f"X rate limit on {what}: {reason}",
            DEFAULT_RATE_LIMIT_WAIT_S if wait is None else wait,
        )
    if status == 401:
        raise PermanentPollError(
            f"X rejected the bearer token for {what} (401: {reason}); "
            "update the connector's bearer_token"
        )
    if status == 403:
        raise PermanentPollError(
            f"X refused {what} (403: {reason}); the app needs the access level this "
            "endpoint requires and must belong to a Project"
        )
    if status >= 500:
        raise TransientPollError(f"X error {status} on {what}: {reason}")
    if status == 400:
        raise _BadRequestError(f"X refused the request for {what} (400: {reason})")
    raise PermanentPollError(f"X refused the request for {what} ({status}: {reason})")


def _seconds_until_reset(headers: httpx.Headers, clock: Clock) -> float | None:
    """Seconds until ``x-rate-limit-reset`` (epoch seconds), at least 1; None without it."""
    try:
        reset = float(headers.get("x-rate-limit-reset", ""))
    except ValueError:
        return None
    if not math.isfinite(reset):
        return None
    return max(1.0, reset - clock())


def _json(response: httpx.Response) -> Json | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _reason(body: Mapping[str, Any]) -> str:
    """A short readable reason from an X problem or ``errors`` object."""
    parts: list[str] = []
    errors = body.get("errors")
    problems: Iterable[Any] = errors if isinstance(errors, list) else [body]
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        text = ": ".join(
            str(problem[key])
            for key in ("title", "reason", "detail", "message")
            if isinstance(problem.get(key), str | int)
        )
        if text:
            parts.append(text)
    return "; ".join(parts)[:300]


def _list(value: object, what: str) -> list[Json]:
    """A JSON array of objects (empty when absent); anything else is an unexpected answer."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TransientPollError(f"X answered with malformed {what}")
    return value


def _next_token(body: Json) -> str | None:
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def _check_added(body: Json, asked: int) -> None:
    """Rules X did not create are a configuration a person must fix (invalid or duplicate)."""
    meta = body.get("meta")
    summary = meta.get("summary") if isinstance(meta, dict) else None
    created = summary.get("created") if isinstance(summary, dict) else None
    if isinstance(created, int) and created >= asked:
        return
    if created is None and not body.get("errors"):
        return  # nothing says a rule failed
    raise PermanentPollError(
        f"X refused stream rules ({_reason(body) or 'no reason given'}); fix the connector's rules"
    )


def _is_id(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _newer(a: str | None, b: str | None) -> str | None:
    """The newer of two tweet ids (ids grow with time; compared as numbers)."""
    if a is None or b is None:
        return a or b
    return a if int(a) >= int(b) else b


def _decode_cursor(cursor: str | None) -> tuple[str | None, str | None, str | None]:
    """``(since_id, newest_id, pagination_token)`` from a stored cursor."""
    if not cursor:
        return None, None, None
    parts = cursor.split(":", 2)
    if len(parts) == 1 and _is_id(parts[0]):
        return parts[0], None, None
    if len(parts) == 3 and _is_id(parts[0]) and _is_id(parts[1]) and parts[2]:
        return parts[0], parts[1], parts[2]
    logger.warning("X mentions: unreadable cursor %r; starting from the newest mentions", cursor)
    return None, None, None


def _split_page(body: Json) -> tuple[list[Json], str | None]:
    """One envelope per tweet of a timeline page, with its author and referenced tweets."""
    data = body.get("data")
    if data is not None and not isinstance(data, list):
        raise TransientPollError("X answered the mentions timeline with malformed data")
    includes = body.get("includes")
    includes = includes if isinstance(includes, dict) else {}
    users = _by_id(includes.get("users"))
    referenced = _by_id(includes.get("tweets"))
    envelopes: list[Json] = []
    newest: str | None = None
    for tweet in data or []:
        if not isinstance(tweet, dict):
            logger.warning("X mentions: skipped a timeline entry that is not an object")
            continue
        subset: dict[str, list[Json]] = {}
        author = users.get(str(tweet.get("author_id")))
        if author is not None:
            subset["users"] = [author]
        refs = tweet.get("referenced_tweets")
        linked = [
            referenced[ref["id"]]
            for ref in (refs if isinstance(refs, list) else [])
            if isinstance(ref, dict) and isinstance(ref.get("id"), str) and ref["id"] in referenced
        ]
        if linked:
            subset["tweets"] = linked
        envelopes.append({"data": tweet, "includes": subset})
        tweet_id = tweet.get("id")
        if _is_id(tweet_id):
            newest = _newer(newest, str(tweet_id))
    return envelopes, newest


def _by_id(objects: object) -> dict[str, Json]:
    if not isinstance(objects, list):
        return {}
    return {o["id"]: o for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)}
