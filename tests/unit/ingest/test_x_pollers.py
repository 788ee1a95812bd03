"""The X API v2 clients against a mock transport: mentions pages, stream rules, lines and errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from smm_ingest.adapters.networks.x import parse_tweet_envelope
from smm_ingest.adapters.pollers.x import XFilteredStream, XMentionsPoller
from smm_ingest.domain.items import AccountContext
from smm_ingest.domain.polling import (
    PermanentPollError,
    RateLimitedError,
    StalledStreamError,
    StreamBatch,
    TransientPollError,
)
from smm_ingest.services.polling import Poller, StreamSource
from smm_shared.events import Network
from smm_shared.testing.http import recording_client

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "x"
NOW = 1_764_238_500.0
USER_ID = "1580000000000000001"
TOKEN = "AAAA-test-bearer"
Handler = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def client(handler: Handler) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    return recording_client(handler)


def tweet(tweet_id: str, author_id: str = "2244994945") -> dict[str, Any]:
    return {
        "id": tweet_id,
        "text": f"@acme hello {tweet_id}",
        "author_id": author_id,
        "created_at": "2025-11-27T10:15:00.000Z",
        "conversation_id": tweet_id,
    }


def page(ids: Sequence[str], next_token: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"result_count": len(ids)}
    if ids:
        meta["newest_id"], meta["oldest_id"] = ids[0], ids[-1]
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if ids:
        body["data"] = [tweet(i) for i in ids]
        body["includes"] = {"users": [{"id": "2244994945", "username": "devperson"}]}
    return body


def mentions(handler: Handler, **kwargs: Any) -> tuple[XMentionsPoller, list[httpx.Request]]:
    http, seen = client(handler)
    options: dict[str, Any] = {
        "api_base_url": "https://x.test",
        "bearer_token": TOKEN,
        "user_id": USER_ID,
        "clock": lambda: NOW,
    }
    options.update(kwargs)
    return XMentionsPoller(http, **options), seen


def pages_by_token(pages: dict[str | None, dict[str, Any]]) -> Handler:
    """Answers the mentions timeline with the page for the request's pagination_token."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("pagination_token")])

    return handle


# --- mentions timeline -------------------------------------------------------------------------


async def test_first_poll_reads_one_page_without_since_id_and_starts_from_its_newest() -> None:
    poller, seen = mentions(pages_by_token({None: page(["1003", "1001"], next_token="older")}))

    result = await poller.poll(None)

    assert [p["data"]["id"] for p in result.payloads] == ["1003", "1001"]
    assert result.next_cursor == "1003"
    assert result.wait_s == 60.0
    (request,) = seen  # older mentions are not backfilled
    assert request.url.path == f"/2/users/{USER_ID}/mentions"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert dict(request.url.params) == {
        "max_results": "100",
        "expansions": "author_id,referenced_tweets.id",
        "tweet.fields": (
            "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,lang,"
            "public_metrics,entities,note_tweet"
        ),
        "user.fields": "username,name,public_metrics,verified",
    }


async def test_a_poll_follows_next_token_from_since_id_and_keeps_the_numerically_newest_id() -> (
    None
):
    poller, seen = mentions(
        pages_by_token(
            {
                None: page(["10000", "9999"], next_token="p2"),
                "p2": page(["998", "950"], next_token="p3"),
                "p3": page(["901"]),
            }
        )
    )

    result = await poller.poll("900")

    assert [p["data"]["id"] for p in result.payloads] == ["10000", "9999", "998", "950", "901"]
    assert result.next_cursor == "10000"  # "9999" > "10000" as text, not as a number
    assert [r.url.params.get("pagination_token") for r in seen] == [None, "p2", "p3"]
    assert {r.url.params["since_id"] for r in seen} == {"900"}


async def test_no_new_mentions_keeps_the_cursor() -> None:
    poller, _ = mentions(pages_by_token({None: page([])}))

    result = await poller.poll("900")

    assert result.payloads == []
    assert result.next_cursor == "900"


async def test_a_window_longer_than_the_page_budget_is_resumed_before_moving_on() -> None:
    pages = {
        None: page(["5000", "4000"], next_token="p2"),
        "p2": page(["3000"], next_token="p3"),
        "p3": page(["2000"], next_token="p4"),
        "p4": page(["1000"]),
    }
    poller, seen = mentions(pages_by_token(pages), max_pages=2)

    first = await poller.poll("900")
    assert [p["data"]["id"] for p in first.payloads] == ["5000", "4000", "3000"]
    assert first.next_cursor == "900:5000:p3"  # still since 900: 2000 and 1000 are unread
    assert first.wait_s == 0.0

    second = await poller.poll(first.next_cursor)
    assert [p["data"]["id"] for p in second.payloads] == ["2000", "1000"]
    assert second.next_cursor == "5000"
    assert second.wait_s == 60.0
    assert [r.url.params.get("pagination_token") for r in seen] == [None, "p2", "p3", "p4"]
    assert {r.url.params["since_id"] for r in seen} == {"900"}


async def test_a_refused_stored_pagination_token_rereads_the_window() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("pagination_token") == "stale":
            return httpx.Response(400, json={"title": "Invalid Request", "detail": "bad token"})
        return httpx.Response(200, json=page(["5000", "950"]))

    poller, seen = mentions(handle)

    result = await poller.poll("900:5000:stale")

    assert [p["data"]["id"] for p in result.payloads] == ["5000", "950"]
    assert result.next_cursor == "5000"
    assert [r.url.params.get("pagination_token") for r in seen] == ["stale", None]


async def test_envelopes_carry_their_own_author_and_referenced_tweets() -> None:
    samples = [load("stream_reply_to_us"), load("retweet"), load("stream_mention")]
    body = {
        "data": [s["data"] for s in samples],
        "includes": {
            "users": [u for s in samples for u in s["includes"]["users"]],
            "tweets": [t for s in samples for t in s["includes"].get("tweets", [])],
        },
        "meta": {"result_count": 3},
    }
    poller, _ = mentions(lambda r: httpx.Response(200, json=body))

    result = await poller.poll("1")

    assert list(result.payloads) == [
        {"data": s["data"], "includes": s["includes"]} for s in samples
    ]
    # The parser reads a timeline envelope exactly as it reads the stream line.
    account = AccountContext(Network.X, frozenset({USER_ID}))
    assert [parse_tweet_envelope(p, account) for p in result.payloads] == [
        parse_tweet_envelope(s, account) for s in samples
    ]


async def test_a_used_up_rate_limit_window_delays_the_next_poll_until_its_reset() -> None:
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 420)}
    poller, _ = mentions(lambda r: httpx.Response(200, json=page(["1000"]), headers=headers))

    assert (await poller.poll("900")).wait_s == 420.0


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"x-rate-limit-reset": str(int(NOW) + 305), "x-rate-limit-remaining": "0"}, 305.0),
        ({"x-rate-limit-reset": str(int(NOW) - 30)}, 1.0),  # a reset in the past: at least 1 s
        ({}, 60.0),
        ({"x-rate-limit-reset": "soon"}, 60.0),
    ],
)
async def test_429_is_rate_limited_until_the_reset(
    headers: dict[str, str], retry_after: float
) -> None:
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    poller, _ = mentions(lambda r: httpx.Response(429, json=body, headers=headers))

    with pytest.raises(RateLimitedError) as error:
        await poller.poll("900")
    assert error.value.retry_after_s == retry_after


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (401, {"title": "Unauthorized", "status": 401}, PermanentPollError, "bearer_token"),
        (
            403,
            {"title": "Client Forbidden", "reason": "client-not-enrolled", "type": "x"},
            PermanentPollError,
            "client-not-enrolled",
        ),
        (400, {"errors": [{"message": "since_id is invalid"}]}, PermanentPollError, "since_id"),
        (404, {"title": "Not Found Error"}, PermanentPollError, "Not Found"),
        (503, {"title": "Service Unavailable"}, TransientPollError, "503"),
    ],
)
async def test_errors_are_classified_with_a_readable_reason(
    status: int, body: dict[str, Any], error: type[Exception], text: str
) -> None:
    poller, _ = mentions(lambda r: httpx.Response(status, json=body))

    with pytest.raises(error, match=text) as raised:
        await poller.poll("900")
    assert not isinstance(raised.value, RateLimitedError)


async def test_connection_errors_and_non_json_answers_are_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    poller, _ = mentions(refuse)
    with pytest.raises(TransientPollError, match="ConnectError"):
        await poller.poll("900")

    poller, _ = mentions(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(TransientPollError, match="JSON"):
        await poller.poll("900")


async def test_an_unreadable_cursor_starts_over_from_the_newest_mentions() -> None:
    poller, seen = mentions(pages_by_token({None: page(["1000"])}))

    result = await poller.poll("not-a-cursor")

    assert result.next_cursor == "1000"
    assert "since_id" not in seen[0].url.params


# --- filtered stream -----------------------------------------------------------------------------

RULES = [("@acme -is:retweet", "smm:brand-1:acme"), ("to:acme", "smm:brand-1:replies")]
MENTION = load("stream_mention")
REPLY = load("stream_reply_to_us")


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def body_of(chunks: Sequence[bytes], *, then_silence: bool = False) -> AsyncIterator[bytes]:
    """A streamed HTTP body: the chunks, then the end (or, with ``then_silence``, nothing ever)."""

    async def produce() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk
        if then_silence:
            await asyncio.Event().wait()

    return produce()


class FakeX:
    """The rules and stream endpoints: rules kept in memory, the stream answered by ``connect``."""

    def __init__(
        self,
        rules: list[dict[str, str]],
        connect: Callable[[], httpx.Response],
        add_answer: dict[str, Any] | None = None,
    ) -> None:
        self.rules = rules
        self.connect = connect
        self.add_answer = add_answer
        self.changes: list[dict[str, Any]] = []
        self.connections: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/tweets/search/stream":
            self.connections.append(request)
            return self.connect()
        assert request.url.path == "/2/tweets/search/stream/rules"
        if request.method == "GET":
            body: dict[str, Any] = {"meta": {"sent": "now", "result_count": len(self.rules)}}
            if self.rules:
                body["data"] = self.rules
            return httpx.Response(200, json=body)
        change = json.loads(request.content)
        self.changes.append(change)
        if "delete" in change:
            ids = change["delete"]["ids"]
            self.rules = [r for r in self.rules if r["id"] not in ids]
            summary = {"deleted": len(ids), "not_deleted": 0}
            return httpx.Response(200, json={"meta": {"sent": "now", "summary": summary}})
        if self.add_answer is not None:
            return httpx.Response(200, json=self.add_answer)
        added = [{"id": f"new{i}", **rule} for i, rule in enumerate(change["add"])]
        self.rules.extend(added)
        summary = {"created": len(added), "not_created": 0, "valid": len(added), "invalid": 0}
        return httpx.Response(
            200, json={"data": added, "meta": {"sent": "now", "summary": summary}}
        )


def stream_source(fake: FakeX, **kwargs: Any) -> XFilteredStream:
    http, _ = client(fake)
    options: dict[str, Any] = {
        "api_base_url": "https://x.test",
        "bearer_token": TOKEN,
        "rules": RULES,
        "clock": lambda: NOW,
    }
    options.update(kwargs)
    return XFilteredStream(http, **options)


async def collect(
    source: XFilteredStream, into: list[StreamBatch] | None = None
) -> list[StreamBatch]:
    """The batches of one connection; ``into`` keeps those that came before a failure."""
    received = [] if into is None else into
    async for batch in source.stream(None):
        received.append(batch)
    return received


def ok_stream(
    chunks: Sequence[bytes], *, then_silence: bool = False
) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, content=body_of(chunks, then_silence=then_silence))


async def test_rules_sync_deletes_our_stale_rules_adds_missing_ones_and_leaves_others() -> None:
    fake = FakeX(
        rules=[
            {"id": "1", "value": "@acme -is:retweet", "tag": "smm:brand-1:acme"},  # kept
            {"id": "2", "value": "acme sale", "tag": "smm:brand-1:old"},  # stale: ours
            {"id": "3", "value": "@acme", "tag": "smm:brand-1:acme-v0"},  # stale: ours
            {"id": "4", "value": "cats", "tag": "someone else"},  # not ours
            {"id": "5", "value": "dogs"},  # not ours, untagged
        ],
        connect=ok_stream([]),
    )

    await stream_source(fake).sync_rules()

    assert fake.changes == [
        {"delete": {"ids": ["2", "3"]}},
        {"add": [{"value": "to:acme", "tag": "smm:brand-1:replies"}]},
    ]
    assert sorted((r["value"], r.get("tag")) for r in fake.rules) == [
        ("@acme -is:retweet", "smm:brand-1:acme"),
        ("cats", "someone else"),
        ("dogs", None),
        ("to:acme", "smm:brand-1:replies"),
    ]


async def test_rules_already_in_place_are_not_touched() -> None:
    fake = FakeX(
        rules=[{"id": str(i), "value": v, "tag": t} for i, (v, t) in enumerate(RULES)],
        connect=ok_stream([]),
    )

    await stream_source(fake).sync_rules()

    assert fake.changes == []


async def test_rules_x_refuses_to_create_are_a_permanent_error() -> None:
    refused = {
        "errors": [{"value": "to:acme", "id": "9", "title": "DuplicateRule", "type": "https://x"}],
        "meta": {"sent": "now", "summary": {"created": 0, "not_created": 1}},
    }
    fake = FakeX(rules=[], connect=ok_stream([]), add_answer=refused)

    with pytest.raises(PermanentPollError, match="DuplicateRule"):
        await collect(stream_source(fake))
    assert fake.connections == []  # never connected with rules we did not want


async def test_stream_syncs_rules_then_yields_one_batch_per_tweet_skipping_keep_alives() -> None:
    reply = line(REPLY)
    others_only = {**MENTION, "matching_rules": [{"id": "4", "tag": "someone else"}]}
    fake = FakeX(
        rules=[],
        connect=ok_stream(
            [
                b"\r\n",
                line(MENTION),
                b"\r\n\r\n",
                reply[:40],  # one tweet split across chunks
                reply[40:],
                b"not json\r\n",
                line(others_only),
                b"\r\n",
            ]
        ),
    )

    batches = await collect(stream_source(fake))

    assert batches == [
        StreamBatch(payloads=(MENTION,), cursor=None),
        StreamBatch(payloads=(REPLY,), cursor=None),
    ]
    assert [list(change) for change in fake.changes] == [["add"]]  # rules before connecting
    (connection,) = fake.connections
    assert connection.headers["authorization"] == f"Bearer {TOKEN}"
    assert connection.url.params["expansions"] == "author_id,referenced_tweets.id"
    assert "note_tweet" in connection.url.params["tweet.fields"]
    assert connection.url.params["user.fields"] == "username,name,public_metrics,verified"


async def test_silence_past_the_stall_timeout_raises_stalled_after_what_arrived() -> None:
    fake = FakeX(rules=[], connect=ok_stream([line(MENTION), b"\r\n"], then_silence=True))
    source = stream_source(fake, stall_timeout_s=0.2)
    received: list[StreamBatch] = []

    # The outer deadline only keeps a broken stall check from hanging the suite.
    async with asyncio.timeout(5):
        with pytest.raises(StalledStreamError, match="keep-alive"):
            await collect(source, received)
    assert received == [StreamBatch(payloads=(MENTION,), cursor=None)]


async def test_an_operational_disconnect_line_is_transient() -> None:
    disconnect = {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }
    fake = FakeX(rules=[], connect=ok_stream([line(MENTION), line(disconnect)]))
    received: list[StreamBatch] = []

    with pytest.raises(TransientPollError, match="operational-disconnect") as error:
        await collect(stream_source(fake), received)
    assert not isinstance(error.value, StalledStreamError)
    assert len(received) == 1


async def test_a_second_connection_is_rate_limited_for_a_minute() -> None:
    too_many = {
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections",
        "type": "https://api.twitter.com/2/problems/streaming-connection",
    }
    fake = FakeX(rules=[], connect=lambda: httpx.Response(429, json=too_many))

    with pytest.raises(RateLimitedError, match="TooManyConnections") as error:
        await collect(stream_source(fake))
    assert error.value.retry_after_s == 60.0


async def test_connecting_too_often_is_rate_limited_until_the_reset() -> None:
    headers = {"x-rate-limit-reset": str(int(NOW) + 90), "x-rate-limit-remaining": "0"}
    fake = FakeX(rules=[], connect=lambda: httpx.Response(429, json={}, headers=headers))

    with pytest.raises(RateLimitedError) as error:
        await collect(stream_source(fake))
    assert error.value.retry_after_s == 90.0


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, PermanentPollError), (403, PermanentPollError), (503, TransientPollError)],
)
async def test_stream_connection_errors_are_classified(status: int, error: type[Exception]) -> None:
    fake = FakeX(rules=[], connect=lambda: httpx.Response(status, json={"title": "nope"}))

    with pytest.raises(error, match=str(status)):
        await collect(stream_source(fake))


async def test_a_bad_token_fails_at_the_rules_before_connecting() -> None:
    http, seen = client(lambda r: httpx.Response(401, json={"title": "Unauthorized"}))
    source = XFilteredStream(http, bearer_token="revoked", rules=RULES)

    with pytest.raises(PermanentPollError, match="bearer_token"):
        await collect(source)
    assert [(r.method, r.url.path) for r in seen] == [("GET", "/2/tweets/search/stream/rules")]


async def test_a_dropped_connection_is_transient() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield line(MENTION)
        raise httpx.ReadError("connection reset")

    fake = FakeX(rules=[], connect=lambda: httpx.Response(200, content=broken()))

    with pytest.raises(TransientPollError, match="ReadError"):
        await collect(stream_source(fake))


@pytest.mark.parametrize(
    ("rules", "prefix", "reason"),
    [
        # A tag outside our prefix could not be found again to update or delete it.
        ([("@acme", "other:acme")], "smm:", "must start with"),
        ([("@acme", "acme")], "", "must not be empty"),  # it would claim everyone's rules
        ([], "smm:", "at least one rule"),
        ([("@acme", "smm:a"), ("@acme", "smm:b")], "smm:", "unique"),
    ],
)
def test_rules_that_cannot_be_kept_in_sync_are_refused(
    rules: list[tuple[str, str]], prefix: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        XFilteredStream(httpx.AsyncClient(), bearer_token=TOKEN, rules=rules, tag_prefix=prefix)


def test_the_runners_tell_the_stream_from_the_poller() -> None:
    """The manager picks a StreamRunner for what has ``stream`` and a PollRunner otherwise."""
    http = httpx.AsyncClient()
    poller = XMentionsPoller(http, bearer_token=TOKEN, user_id=USER_ID)
    source = XFilteredStream(http, bearer_token=TOKEN, rules=RULES)

    assert isinstance(poller, Poller)
    assert not isinstance(poller, StreamSource)
    assert isinstance(source, StreamSource)
