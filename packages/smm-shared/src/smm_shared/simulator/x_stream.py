"""The simulated X API: the filtered-stream endpoints of X API v2 on a local port.

``XStreamServer`` serves what ingest's ``x_stream`` connector calls, as X documents it:

* ``GET /2/tweets/search/stream/rules`` (``ids``, ``max_results``, ``pagination_token``) and
  ``POST /2/tweets/search/stream/rules`` (``{"add": [{value, tag}]}`` answered 201,
  ``{"delete": {"ids" | "values": [...]}}`` answered 200, ``dry_run``, ``delete_all``); rules
  are checked (``x_rules``), a value already there is a ``DuplicateRule`` error, an invalid
  rule makes the whole request a 400 with nothing created.
* ``GET /2/tweets/search/stream`` (``expansions``, ``tweet.fields``, ``user.fields``; unknown
  values are a 400): a chunked HTTP/1.1 response of ``\\r\\n``-terminated JSON lines, one per
  post, with ``matching_rules``, and a ``\\r\\n`` keep-alive whenever ``keep_alive_s`` pass
  without one (X promises one at least every 20 s). One connection at a time: a second one is
  refused with 429 ``TooManyConnections``, as X allows one stream per app.
* Every request needs ``Authorization: Bearer <token>``; anything else is X's 401.

``publish`` queues a post; the connected client gets it, matched against the rules in force
when it is handed over. Where this differs from X on purpose: X delivers only to a client
connected when the post is made (standard access has no backfill); here posts wait, up to
``queue_limit`` (the oldest are dropped beyond it), so a run that starts before ingest
connects loses nothing. A post counts as delivered once it is written to the connected
client's socket; one that matches none of the rules is counted as unmatched.

HTTP/1.1 is spoken by hand on asyncio streams, just enough for these endpoints (keep-alive,
``Content-Length`` bodies, a chunked stream): uvicorn, the server the workspace has, replaces
the process's SIGINT/SIGTERM handlers while it serves, and the simulator needs its own for a
graceful Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from smm_shared.simulator.payloads import (
    Tweet,
    XFields,
    XFieldsError,
    x_stream_envelope,
    x_stream_line,
)
from smm_shared.simulator.x_rules import Rule, RuleError, matches, parse_rule

LOCALHOST: Final = "127.0.0.1"
STREAM_PATH: Final = "/2/tweets/search/stream"
RULES_PATH: Final = "/2/tweets/search/stream/rules"
#: X sends a keep-alive at least every 20 s; sooner here, so a client's 20 s stall check
#: never races it.
KEEP_ALIVE_S: Final = 10.0
QUEUE_LIMIT: Final = 10_000
#: Rules per stream on Pro access.
MAX_RULES: Final = 1000
KEEP_ALIVE: Final = b"\r\n"
MAX_HEAD_BYTES: Final = 64 * 1024
MAX_BODY_BYTES: Final = 1024 * 1024
STREAM_PARAMETERS: Final = frozenset(
    {
        "expansions",
        "tweet.fields",
        "user.fields",
        "media.fields",
        "poll.fields",
        "place.fields",
        "backfill_minutes",
    }
)
#: Rule ids look like X's (19-digit snowflakes) and grow as rules are added.
_RULE_ID_BASE: Final = 1_862_000_000_000_000_000
_JSON: Final = "application/json; charset=utf-8"
_PROBLEMS: Final = "https://api.twitter.com/2/problems"


@dataclass(slots=True)
class StreamCounts:
    """What became of the posts given to the stream."""

    published: int = 0
    delivered: int = 0  # written to a connected client
    unmatched: int = 0  # matched none of the rules when handed over
    dropped: int = 0  # pushed out of a full queue before anyone read them
    waiting: int = 0  # queued now
    connected: bool = False  # a client reads the stream now
    connections: int = 0  # stream connections accepted so far

    @property
    def undelivered(self) -> int:
        """Posts published but not delivered (waiting, dropped or unmatched)."""
        return self.published - self.delivered


@dataclass(frozen=True, slots=True)
class StreamRule:
    """A rule on the stream: X's id, the value, its tag (None when given without)."""

    id: str
    value: str
    tag: str | None
    parsed: Rule = field(compare=False, repr=False)

    def json(self) -> dict[str, str]:
        """The rule as X lists it."""
        out = {"id": self.id, "value": self.value}
        if self.tag is not None:
            out["tag"] = self.tag
        return out


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: Mapping[str, Any]


class _HttpError(Exception):
    """A request that cannot be read: answered with ``status`` and the connection closed."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


class XStreamServer:
    """A local X API v2 filtered stream: rules, the stream, bearer-token auth; see the module."""

    def __init__(
        self,
        *,
        bearer_token: str,
        host: str = LOCALHOST,
        port: int = 0,
        keep_alive_s: float = KEEP_ALIVE_S,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        if not bearer_token:
            raise ValueError("bearer_token must not be empty")
        if not 0 < keep_alive_s <= 20:
            raise ValueError("keep_alive_s must be within (0, 20]: X promises one every 20 s")
        if queue_limit < 1:
            raise ValueError("queue_limit must be at least 1")
        self._token = bearer_token
        self._host = host
        self._port = port
        self._keep_alive_s = keep_alive_s
        self.counts = StreamCounts()
        self._queue: deque[Tweet] = deque()
        self._queue_limit = queue_limit
        self._rules: dict[str, StreamRule] = {}
        self._rule_ids = itertools.count(_RULE_ID_BASE + 1)
        self._arrived = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._streams: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (port 0: a free one the system picks)."""
        self._server = await asyncio.start_server(
            self._connection, self._host, self._port, limit=MAX_HEAD_BYTES
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """End the stream (a clean end of the chunked body) and stop listening."""
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            if writer not in self._streams:
                writer.close()  # idle keep-alive connections; streams end themselves
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=5.0)
        for task in list(self._handlers):
            task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> XStreamServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """The API's base URL (what ingest's connector takes as ``api_base_url``)."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def rules(self) -> list[StreamRule]:
        """The rules on the stream, oldest first."""
        return list(self._rules.values())

    # -- posts -------------------------------------------------------------------------------

    def publish(self, post: Tweet) -> None:
        """Queue a post for the stream; never waits (a full queue drops its oldest post)."""
        self.counts.published += 1
        if len(self._queue) >= self._queue_limit:
            self._queue.popleft()
            self.counts.dropped += 1
        self._queue.append(post)
        self.counts.waiting = len(self._queue)
        self._drained.clear()
        self._arrived.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait until no post waits, at most ``timeout_s``; whether the queue is empty."""
        if not self._queue:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained.wait(), timeout_s)
        return not self._queue

    def _matching(self, post: Tweet) -> list[tuple[str, str | None]]:
        return [(r.id, r.tag) for r in self._rules.values() if matches(r.parsed, post)]

    # -- HTTP --------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._writers.add(writer)
        try:
            while not self._closing.is_set():
                try:
                    request = await _read_request(reader)
                except _HttpError as exc:
                    problem = {"title": exc.status.phrase, "status": exc.status.value}
                    writer.write(_response(_Answer(exc.status.value, problem), keep_alive=False))
                    await writer.drain()
                    break
                if request is None:
                    break
                if request.path == STREAM_PATH and request.method == "GET":
                    answer = self._stream_refusal(request)
                    if answer is None:
                        await self._stream(request, reader, writer)
                        break
                else:
                    answer = self._answer(request)
                writer.write(_response(answer, keep_alive=request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._handlers.discard(task)

    def _answer(self, request: _Request) -> _Answer:
        unauthorized = self._check_token(request)
        if unauthorized is not None:
            return unauthorized
        if request.path == RULES_PATH:
            if request.method == "GET":
                return self._list_rules(request.query)
            if request.method == "POST":
                return self._change_rules(request)
            return _problem(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed")
        if request.path == STREAM_PATH:
            return _problem(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed")
        return _problem(HTTPStatus.NOT_FOUND, "Not Found Error", f"{request.path} is not here")

    def _check_token(self, request: _Request) -> _Answer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        return _Answer(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        )

    # -- rules -------------------------------------------------------------------------------

    def _list_rules(self, query: Mapping[str, str]) -> _Answer:
        rules = self.rules
        if query.get("ids"):
            wanted = set(query["ids"].split(","))
            rules = [r for r in rules if r.id in wanted]
        try:
            size = int(query.get("max_results", MAX_RULES))
            start = int(query.get("pagination_token") or 0)
        except ValueError:
            return _invalid("max_results and pagination_token must be numbers")
        if not 1 <= size <= MAX_RULES or start < 0:
            return _invalid(f"max_results must be within [1, {MAX_RULES}]")
        page = rules[start : start + size]
        meta: dict[str, Any] = {"sent": _now(), "result_count": len(page)}
        if start + size < len(rules):
            meta["next_token"] = str(start + size)
        body: dict[str, Any] = {"data": [r.json() for r in page]} if page else {}
        return _Answer(200, body | {"meta": meta})

    def _change_rules(self, request: _Request) -> _Answer:
        dry_run = request.query.get("dry_run") == "true"
        if request.query.get("delete_all") == "true":
            if request.body.strip():
                return _invalid("delete_all takes no body")
            return self._delete(list(self._rules), dry_run=dry_run)
        try:
            body = json.loads(request.body)
        except ValueError:
            return _invalid("The body is not JSON")
        if not isinstance(body, dict) or len(body) != 1 or not {"add", "delete"} & set(body):
            return _invalid("The body must have exactly one of 'add' or 'delete'")
        if "add" in body:
            return self._add(body["add"], dry_run=dry_run)
        change = body["delete"]
        if isinstance(change, dict) and _strings(change.get("ids")):
            return self._delete(change["ids"], dry_run=dry_run)
        if isinstance(change, dict) and _strings(change.get("values")):
            by_value = {r.value: r.id for r in self._rules.values()}
            ids = [by_value.get(v, v) for v in change["values"]]
            return self._delete(ids, dry_run=dry_run)
        return _invalid("'delete' must be {'ids': [...]} or {'values': [...]}")

    def _add(self, adds: object, *, dry_run: bool) -> _Answer:
        if not isinstance(adds, list) or not adds:
            return _invalid("'add' must be a non-empty list of rules")
        invalid: list[dict[str, Any]] = []
        wanted: list[tuple[str, str | None, Rule]] = []
        for rule in adds:
            value = rule.get("value") if isinstance(rule, dict) else None
            tag = rule.get("tag") if isinstance(rule, dict) else None
            if not isinstance(value, str) or not (tag is None or isinstance(tag, str)):
                return _invalid("Each rule needs a string 'value' and an optional string 'tag'")
            try:
                wanted.append((value, tag, parse_rule(value)))
            except RuleError as exc:
                invalid.append(
                    {
                        "value": value,
                        "details": [str(exc)],
                        "title": "UnprocessableEntity",
                        "type": f"{_PROBLEMS}/invalid-rules",
                    }
                )
        if invalid:
            # X creates nothing when any rule of the request is invalid.
            summary = {
                "created": 0,
                "not_created": len(adds),
                "valid": len(wanted),
                "invalid": len(invalid),
            }
            return _Answer(400, {"errors": invalid, "meta": {"sent": _now(), "summary": summary}})
        existing = {r.value: r.id for r in self._rules.values()}
        duplicates: list[dict[str, Any]] = []
        created: list[StreamRule] = []
        for value, tag, parsed in wanted:
            if value in existing:
                duplicates.append(
                    {
                        "value": value,
                        "id": existing[value],
                        "title": "DuplicateRule",
                        "type": f"{_PROBLEMS}/duplicate-rules",
                    }
                )
                continue
            if len(self._rules) + len(created) >= MAX_RULES:
                return _Answer(
                    403,
                    {
                        "title": "RulesCapExceeded",
                        "detail": f"This stream already has {MAX_RULES} rules.",
                        "type": f"{_PROBLEMS}/rule-cap",
                    },
                )
            rule = StreamRule(str(next(self._rule_ids)), value, tag, parsed)
            existing[value] = rule.id
            created.append(rule)
        if not dry_run:
            self._rules.update((r.id, r) for r in created)
        out: dict[str, Any] = {}
        if created:
            out["data"] = [r.json() for r in created]
        if duplicates:
            out["errors"] = duplicates
        out["meta"] = {
            "sent": _now(),
            "summary": {
                "created": len(created),
                "not_created": len(duplicates),
                "valid": len(wanted),
                "invalid": 0,
            },
        }
        return _Answer(201, out)

    def _delete(self, ids: list[str], *, dry_run: bool) -> _Answer:
        found = [i for i in dict.fromkeys(ids) if i in self._rules]
        missing = [i for i in dict.fromkeys(ids) if i not in self._rules]
        if not dry_run:
            for rule_id in found:
                del self._rules[rule_id]
        out: dict[str, Any] = {
            "meta": {
                "sent": _now(),
                "summary": {"deleted": len(found), "not_deleted": len(missing)},
            }
        }
        if missing:
            out["errors"] = [
                {
                    "value": rule_id,
                    "title": "Not Found Error",
                    "detail": f"Could not find a rule with id {rule_id}",
                    "type": f"{_PROBLEMS}/resource-not-found",
                }
                for rule_id in missing
            ]
        return _Answer(200, out)

    # -- the stream --------------------------------------------------------------------------

    def _stream_refusal(self, request: _Request) -> _Answer | None:
        """Why a stream request is refused (None: it is not)."""
        unauthorized = self._check_token(request)
        if unauthorized is not None:
            return unauthorized
        unknown = sorted(set(request.query) - STREAM_PARAMETERS)
        if unknown:
            return _invalid(
                f"The query parameters [{','.join(unknown)}] are not one of"
                f" [{','.join(sorted(STREAM_PARAMETERS))}]",
                parameters={name: [request.query[name]] for name in unknown},
            )
        try:
            XFields.from_query(request.query)
        except XFieldsError as exc:
            return _invalid(str(exc), parameters={exc.parameter: exc.unknown})
        if self.counts.connected:
            return _Answer(
                429,
                {
                    "title": "ConnectionException",
                    "detail": "This stream is currently at the maximum allowed connection limit.",
                    "connection_issue": "TooManyConnections",
                    "type": f"{_PROBLEMS}/streaming-connection",
                },
            )
        return None

    async def _stream(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one stream connection until the client leaves or the server closes."""
        fields = XFields.from_query(request.query)
        self.counts.connected = True
        self.counts.connections += 1
        self._streams.add(writer)
        # The client sends nothing more; reading tells us when it hangs up.
        hangup = asyncio.create_task(_until_eof(reader))
        closing = asyncio.create_task(self._closing.wait())
        try:
            writer.write(
                b"HTTP/1.1 200 OK\r\n"
                + _header_lines({"Content-Type": _JSON, "Transfer-Encoding": "chunked"})
                + b"\r\n"
            )
            await writer.drain()
            while not hangup.done():
                await self._hand_over(fields, writer, hangup)
                if self._closing.is_set():
                    writer.write(b"0\r\n\r\n")  # a clean end of the body
                    await writer.drain()
                    return
                self._arrived.clear()
                arrived = asyncio.create_task(self._arrived.wait())
                done, _ = await asyncio.wait(
                    {hangup, closing, arrived},
                    timeout=self._keep_alive_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                arrived.cancel()
                if not done:
                    writer.write(_chunk(KEEP_ALIVE))
                    await writer.drain()
        except ConnectionError:
            pass  # the client went away mid-write; its post stays queued
        finally:
            hangup.cancel()
            closing.cancel()
            self._streams.discard(writer)
            self.counts.connected = False

    async def _hand_over(
        self, fields: XFields, writer: asyncio.StreamWriter, hangup: asyncio.Task[None]
    ) -> None:
        """Write every queued post to the client, oldest first, while it is there."""
        while self._queue and not hangup.done():
            post = self._queue[0]
            rules = self._matching(post)
            if rules:
                writer.write(_chunk(x_stream_line(x_stream_envelope(post, fields, rules))))
                await writer.drain()  # a ConnectionError leaves the post queued
                self.counts.delivered += 1
            else:
                self.counts.unmatched += 1
            self._queue.popleft()
            self.counts.waiting = len(self._queue)
        if not self._queue:
            self._drained.set()


# -- HTTP/1.1 ------------------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """The next request on a connection; None when the client closed it between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise _HttpError(HTTPStatus.BAD_REQUEST) from None
    except asyncio.LimitOverrunError:
        raise _HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE) from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise _HttpError(HTTPStatus.BAD_REQUEST) from None
    if not version.startswith("HTTP/1."):
        raise _HttpError(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, colon, value = line.partition(":")
            if not colon:
                raise _HttpError(HTTPStatus.BAD_REQUEST)
            headers[name.strip().lower()] = value.strip()
    if "transfer-encoding" in headers:
        raise _HttpError(HTTPStatus.LENGTH_REQUIRED)  # X's clients send a Content-Length
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise _HttpError(HTTPStatus.BAD_REQUEST) from None
    if not 0 <= length <= MAX_BODY_BYTES:
        raise _HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    body = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
    return _Request(method.upper(), url.path, query, headers, body)


async def _until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(4096):
        pass


def _response(answer: _Answer, *, keep_alive: bool) -> bytes:
    body = json.dumps(answer.body, separators=(",", ":")).encode()
    status = HTTPStatus(answer.status)
    headers = {
        "Content-Type": _JSON,
        "Content-Length": str(len(body)),
        "Connection": "keep-alive" if keep_alive else "close",
    }
    return (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()
        + _header_lines(headers)
        + b"\r\n"
        + body
    )


def _header_lines(headers: Mapping[str, str]) -> bytes:
    lines = {"Date": formatdate(usegmt=True), **headers}
    return "".join(f"{name}: {value}\r\n" for name, value in lines.items()).encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _problem(status: HTTPStatus, title: str, detail: str | None = None) -> _Answer:
    return _Answer(
        status.value,
        {
            "title": title,
            "detail": detail or status.phrase,
            "type": "about:blank",
            "status": status.value,
        },
    )


def _invalid(message: str, *, parameters: Mapping[str, list[str]] | None = None) -> _Answer:
    """X's 400 for a request it cannot take."""
    error: dict[str, Any] = {"message": message}
    if parameters:
        error["parameters"] = dict(parameters)
    return _Answer(
        400,
        {
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": f"{_PROBLEMS}/invalid-request",
        },
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
