"""The Mastodon REST pollers and the server-sent-events stream, against httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from smm_ingest.adapters.networks import mastodon
from smm_ingest.adapters.pollers.mastodon import (
    MastodonHashtagPoller,
    MastodonNotificationsPoller,
    MastodonStream,
    SseComment,
    SseDecoder,
    SseEvent,
)
from smm_ingest.domain.items import AccountContext, NewItem
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    StalledStreamError,
    StreamBatch,
    TransientPollError,
)
from smm_ingest.services.polling import Poller, StreamSource
from smm_shared.events import Network
from smm_shared.testing.http import recording_client

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "mastodon"
INSTANCE = "https://mastodon.social"
TOKEN = "tok-SECRET-123"
NOW = datetime(2025, 11, 27, 12, 0, tzinfo=UTC)
ACCOUNT = AccountContext(Network.MASTODON, frozenset({"14715", "trwnh"}))
Handler = Callable[[httpx.Request], httpx.Response]


def clock() -> datetime:
    return NOW


def recording(handler: Handler) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    return recording_client(handler)


def idle_client() -> httpx.AsyncClient:
    """A client for tests that never send (no TLS context to build)."""
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))


def notifications(
    handler: Handler, **kwargs: Any
) -> tuple[MastodonNotificationsPoller, list[httpx.Request]]:
    client, seen = recording(handler)
    kwargs.setdefault("interval_s", 30.0)
    poller = MastodonNotificationsPoller(
        client, instance_url=INSTANCE, access_token=TOKEN, clock=clock, **kwargs
    )
    return poller, seen


def mention(notification_id: int) -> dict[str, Any]:
    return {"id": str(notification_id), "type": "mention"}


class FakeInstance:
    """Serves notifications ``first..last`` with Mastodon's id pagination and Link headers."""

    def __init__(self, first: int, last: int) -> None:
        self.ids = list(range(first, last + 1))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = int(params["limit"])
        newer = [i for i in self.ids if "min_id" not in params or i > int(params["min_id"])]
        # min_id: the page immediately newer than the cursor; no min_id: the newest page.
        page = newer[:limit] if "min_id" in params else newer[-limit:]
        body = [mention(i) for i in reversed(page)]  # newest first, as Mastodon answers
        headers = {}
        if page:
            base = f"{INSTANCE}/api/v1/notifications"
            headers["Link"] = (
                f'<{base}?max_id={page[0]}>; rel="next", <{base}?min_id={page[-1]}>; rel="prev"'
            )
        return httpx.Response(200, json=body, headers=headers)


def ids(result: PollResult) -> list[int]:
    return [int(p["payload"]["id"]) for p in result.payloads]


# --- notifications poller ---------------------------------------------------------------------


async def test_first_poll_takes_the_newest_page_with_our_token_and_types() -> None:
    poller, seen = notifications(FakeInstance(1, 100), page_size=40)

    result = await poller.poll(None)

    assert ids(result) == list(range(61, 101))  # oldest first
    assert result.next_cursor == "100"
    assert result.wait_s == 30.0
    (request,) = seen
    assert request.url.path == "/api/v1/notifications"
    assert request.url.params.get_list("types[]") == ["mention", "update"]
    assert request.url.params["limit"] == "40"
    assert "min_id" not in request.url.params
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_polls_forward_from_the_cursor_without_skipping_anything() -> None:
    poller, seen = notifications(FakeInstance(1, 190), page_size=40)

    result = await poller.poll("100")

    assert ids(result) == list(range(101, 191))
    assert result.next_cursor == "190"
    assert result.wait_s == 30.0
    assert [r.url.params["min_id"] for r in seen] == ["100", "140", "180"]
    assert all("since_id" not in r.url.params for r in seen)


async def test_payloads_are_envelopes_the_parser_reads() -> None:
    sample = json.loads((PAYLOADS / "notification_mention.json").read_text(encoding="utf-8"))
    poller, _ = notifications(lambda r: httpx.Response(200, json=[sample]))

    result = await poller.poll("1")

    assert result.payloads == [
        {
            "event": "notification",
            "payload": sample,
            "instance": "mastodon.social",
            "received_at": "2025-11-27T12:00:00+00:00",
        }
    ]
    (item,) = mastodon.parse_stream_event(result.payloads[0], ACCOUNT).items
    assert isinstance(item, NewItem)
    assert item.draft.native_id == "mastodon.social/113541234567890123"


async def test_pages_are_bounded_and_the_rest_comes_at_once_on_the_next_poll() -> None:
    poller, seen = notifications(FakeInstance(1, 300), page_size=40, max_pages=2)

    first = await poller.poll("100")
    second = await poller.poll(first.next_cursor)
    third = await poller.poll(second.next_cursor)

    assert (first.next_cursor, first.wait_s) == ("180", 0.0)
    assert (second.next_cursor, second.wait_s) == ("260", 0.0)
    assert (third.next_cursor, third.wait_s) == ("300", 30.0)
    assert ids(first) + ids(second) + ids(third) == list(range(101, 301))
    assert len(seen) == 6  # two per poll: the last one finds that nothing is left


async def test_nothing_new_keeps_the_cursor() -> None:
    poller, _ = notifications(FakeInstance(1, 100))

    result = await poller.poll("100")

    assert result == PollResult(payloads=[], next_cursor="100", wait_s=30.0)


async def test_ids_compare_as_numbers_not_as_text() -> None:
    body = [mention(1000), mention(999), {"id": None}, "junk"]
    poller, _ = notifications(lambda r: httpx.Response(200, json=body))

    result = await poller.poll("998")

    assert result.next_cursor == "1000"
    # Unreadable entries still reach the parser, which logs and skips them.
    assert [p["payload"] for p in result.payloads] == [{"id": None}, mention(999), mention(1000)]


async def test_a_server_that_does_not_move_forward_does_not_loop_us() -> None:
    def stuck(request: httpx.Request) -> httpx.Response:
        link = f'<{INSTANCE}/api/v1/notifications?min_id=5>; rel="prev"'
        return httpx.Response(200, json=[mention(5), mention(4)], headers={"Link": link})

    poller, seen = notifications(stuck, page_size=2, max_pages=5)

    result = await poller.poll("5")

    assert result.next_cursor == "5"
    assert len(seen) == 1


async def test_the_prev_link_sets_the_next_page_never_its_host() -> None:
    pages = iter(
        [
            httpx.Response(
                200,
                json=[mention(12), mention(11)],
                headers={
                    "Link": '<https://evil.example/api/v1/notifications?min_id=20>; rel="prev"'
                },
            ),
            httpx.Response(200, json=[mention(21)]),
        ]
    )
    poller, seen = notifications(lambda r: next(pages), page_size=2)

    result = await poller.poll("10")

    assert [(r.url.host, r.url.params["min_id"]) for r in seen] == [
        ("mastodon.social", "10"),
        ("mastodon.social", "20"),
    ]
    assert result.next_cursor == "21"


# --- rate limits and errors -------------------------------------------------------------------


async def test_no_requests_left_waits_until_the_reset() -> None:
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": (NOW + timedelta(seconds=170)).isoformat(),
    }
    full_page = [mention(i) for i in range(50, 10, -1)]
    poller, seen = notifications(lambda r: httpx.Response(200, json=full_page, headers=headers))

    result = await poller.poll("10")

    assert result.wait_s == 170.0
    assert len(seen) == 1  # a full page, but no request left to fetch the next
    assert result.next_cursor == "50"


async def test_no_requests_left_never_waits_less_than_the_interval() -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2025-11-27T12:00:05.000Z"}
    poller, _ = notifications(lambda r: httpx.Response(200, json=[], headers=headers))
    assert (await poller.poll("1")).wait_s == 30.0


async def test_requests_left_poll_at_the_interval() -> None:
    headers = {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "2025-11-27T12:04:00.000Z"}
    poller, _ = notifications(lambda r: httpx.Response(200, json=[], headers=headers))
    assert (await poller.poll("1")).wait_s == 30.0


@pytest.mark.parametrize(
    ("headers", "retry_after_s"),
    [
        ({"X-RateLimit-Reset": "2025-11-27T12:01:30.000Z"}, 90.0),
        ({"Retry-After": "45"}, 45.0),
        ({"Retry-After": "Thu, 27 Nov 2025 12:02:00 GMT"}, 120.0),
        ({"Retry-After": "30", "X-RateLimit-Reset": "2025-11-27T12:01:30.000Z"}, 90.0),
        ({"Retry-After": "soon"}, 60.0),
        ({}, 60.0),
        ({"X-RateLimit-Reset": "2999-01-01T00:00:00Z"}, 3600.0),
        ({"X-RateLimit-Reset": "2025-11-27T11:00:00Z"}, 0.0),
    ],
)
async def test_429_is_rate_limited_for_as_long_as_the_server_says(
    headers: dict[str, str], retry_after_s: float
) -> None:
    body = {"error": "Too many requests"}
    poller, _ = notifications(lambda r: httpx.Response(429, json=body, headers=headers))

    with pytest.raises(RateLimitedError) as raised:
        await poller.poll("1")

    assert raised.value.retry_after_s == retry_after_s
    assert "Too many requests" in str(raised.value)


async def test_429_after_a_page_keeps_that_page_and_waits() -> None:
    pages = iter(
        [
            httpx.Response(200, json=[mention(i) for i in range(4, 1, -1)]),
            httpx.Response(429, headers={"Retry-After": "75"}),
        ]
    )
    poller, _ = notifications(lambda r: next(pages), page_size=3)

    result = await poller.poll("1")

    assert ids(result) == [2, 3, 4]
    assert result.next_cursor == "4"
    assert result.wait_s == 75.0


@pytest.mark.parametrize("status", [401, 403, 404, 410])
async def test_refusals_are_permanent_and_never_show_the_token(status: int) -> None:
    body = {"error": "The access token is invalid"}
    poller, _ = notifications(lambda r: httpx.Response(status, json=body))

    with pytest.raises(PermanentPollError) as raised:
        await poller.poll("1")

    assert str(status) in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="boom"),
        httpx.Response(502, text="<html>Bad gateway</html>"),
        httpx.Response(503, json={"error": "maintenance"}),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"error": "not a list"}),
    ],
)
async def test_server_failures_and_odd_answers_are_transient(response: httpx.Response) -> None:
    poller, _ = notifications(lambda r: response)
    with pytest.raises(TransientPollError):
        await poller.poll("1")


async def test_connection_failures_are_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    poller, _ = notifications(refuse)

    with pytest.raises(TransientPollError, match="ConnectError"):
        await poller.poll("1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"instance_url": "mastodon.social", "access_token": TOKEN},
        {"instance_url": INSTANCE, "access_token": ""},
        {"instance_url": INSTANCE, "access_token": TOKEN, "max_pages": 0},
    ],
)
def test_unusable_settings_fail_at_construction(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        MastodonNotificationsPoller(idle_client(), **kwargs)


# --- hashtag poller ---------------------------------------------------------------------------


async def test_hashtag_poller_reads_the_tag_timeline_as_updates() -> None:
    sample = json.loads((PAYLOADS / "status_hashtag.json").read_text(encoding="utf-8"))
    client, seen = recording(lambda r: httpx.Response(200, json=[sample]))
    poller = MastodonHashtagPoller(
        client,
        instance_url=INSTANCE + "/",
        access_token=TOKEN,
        hashtag="#Café",
        local=True,
        clock=clock,
    )

    result = await poller.poll("109348684737626800")

    (request,) = seen
    assert request.url.raw_path.split(b"?")[0] == b"/api/v1/timelines/tag/Caf%C3%A9"
    assert request.url.params["local"] == "true"
    assert request.url.params["min_id"] == "109348684737626800"
    assert result.next_cursor == "109348684737626801"
    assert result.wait_s == 60.0
    (item,) = mastodon.parse_stream_event(result.payloads[0], ACCOUNT).items
    assert isinstance(item, NewItem)
    assert item.draft.kind.value == "post"


def test_clients_are_told_apart_the_way_the_poller_manager_does() -> None:
    client = idle_client()
    poller = MastodonNotificationsPoller(client, instance_url=INSTANCE, access_token=TOKEN)
    stream = MastodonStream(client, instance_url=INSTANCE, access_token=TOKEN)

    assert isinstance(poller, Poller)
    assert not isinstance(poller, StreamSource)
    assert isinstance(stream, StreamSource)


# --- server-sent events -----------------------------------------------------------------------


def test_sse_decoder_reads_fields_comments_and_multi_line_data() -> None:
    decoder = SseDecoder()
    text = (
        ":thump\n"
        'event: update\ndata: {"a":\ndata:  1}\n\n'  # one space after the colon is dropped
        "data\n\n"  # a field without a colon: empty data
        "event: nothing\n\n"  # no data: nothing is dispatched
        "id: 1\nretry: 5\nevent:delete\ndata:7\r\n\r\n"
        "event: update\rdata: cr only\r\r"
    )

    assert decoder.feed(text) == [
        SseComment("thump"),
        SseEvent("update", '{"a":\n 1}'),
        SseEvent("message", ""),
        SseEvent("delete", "7"),
    ]
    # The final CR may be half of a CRLF: the next chunk decides, and here it is.
    assert decoder.feed("\n") == [SseEvent("update", "cr only")]


def test_sse_decoder_keeps_unicode_line_separators_inside_data() -> None:
    assert SseDecoder().feed('data: {"t": "a\u2028b\u0085c"}\n\n') == [
        SseEvent("message", '{"t": "a\u2028b\u0085c"}')
    ]


def test_sse_decoder_refuses_an_endless_line() -> None:
    decoder = SseDecoder()
    decoder.feed("data: " + "x" * 1_999_990)
    with pytest.raises(ValueError, match="exceeds"):
        decoder.feed("x" * 100)


async def body(chunks: Iterable[bytes], then_hang: bool = False) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    if then_hang:
        await asyncio.Event().wait()  # a server that stops sending without closing


def sse(chunks: Iterable[bytes], *, then_hang: bool = False, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"Content-Type": "text/event-stream; charset=utf-8"},
        content=body(chunks, then_hang),
    )


def streamer(handler: Handler, **kwargs: Any) -> tuple[MastodonStream, list[httpx.Request]]:
    client, seen = recording(handler)
    kwargs.setdefault("heartbeat_timeout_s", 5.0)
    stream = MastodonStream(
        client, instance_url=INSTANCE, access_token=TOKEN, clock=clock, **kwargs
    )
    return stream, seen


async def collect(stream: MastodonStream) -> list[StreamBatch]:
    return [batch async for batch in stream.stream(None)]


def event_payloads(batches: list[StreamBatch]) -> list[tuple[str, Any]]:
    return [(p["event"], p["payload"]) for b in batches for p in b.payloads]


async def test_stream_yields_one_envelope_per_event_and_empty_batches_on_heartbeats() -> None:
    status = {"id": "1", "content": "<p>hi\u2028there</p>"}
    notification = {"id": "9", "type": "mention", "status": status}
    wire = (
        b":)\n\n"
        + b"event: update\ndata: "
        + json.dumps(status, ensure_ascii=False).encode()
        + b"\n\n:thump\n\nevent: notification\n"
        + b"".join(
            b"data: " + line.encode() + b"\n"
            for line in json.dumps(notification, indent=1).splitlines()
        )
        + b"\nevent: filters_changed\ndata: undefined\n\n"
        + b'event: status.update\ndata: {"id": "1", "edited_at": null}\n\n'
        + b"event: delete\ndata: 1\n\n"
    )
    # Cut the wire at awkward places: inside a UTF-8 character, inside a line, between CR/LF.
    cut = wire.index("\u2028".encode()) + 1
    stream, seen = streamer(lambda r: sse([wire[:7], wire[7:cut], wire[cut:]]))

    batches = await collect(stream)

    assert event_payloads(batches) == [
        ("update", status),
        ("notification", notification),
        ("status.update", {"id": "1", "edited_at": None}),
        ("delete", "1"),
    ]
    heartbeats = [b for b in batches if not b.payloads]
    assert heartbeats == [StreamBatch(), StreamBatch()]
    assert all(b.cursor is None for b in batches)
    assert batches[1].payloads[0]["instance"] == "mastodon.social"
    assert batches[1].payloads[0]["received_at"] == "2025-11-27T12:00:00+00:00"
    (request,) = seen
    assert request.url == "https://mastodon.social/api/v1/streaming/user/notification"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "text/event-stream"


async def test_stream_events_parse_into_items() -> None:
    sample = (PAYLOADS / "status_hashtag.json").read_bytes().replace(b"\n", b"")
    stream, _ = streamer(
        lambda r: sse([b"event: update\ndata: " + sample + b"\n\nevent: delete\ndata: 7\n\n"])
    )

    batches = await collect(stream)

    parsed = [mastodon.parse_stream_event(b.payloads[0], ACCOUNT).items for b in batches]
    assert [type(item).__name__ for items in parsed for item in items] == ["NewItem", "DeletedItem"]


async def test_hashtag_stream_asks_for_the_tag() -> None:
    stream, seen = streamer(lambda r: sse([]), stream="hashtag:local", tag="#OurBrand")

    assert await collect(stream) == []

    assert seen[0].url.path == "/api/v1/streaming/hashtag/local"
    assert seen[0].url.params["tag"] == "OurBrand"


async def test_a_silent_stream_stalls() -> None:
    stream, _ = streamer(lambda r: sse([b":thump\n"], then_hang=True), heartbeat_timeout_s=0.2)
    batches = stream.stream(None)

    assert await anext(batches) == StreamBatch()  # the heartbeat came; then nothing did
    with pytest.raises(StalledStreamError, match=r"silent for 0\.2 s"):
        await anext(batches)


async def test_a_byte_order_mark_and_unreadable_data_do_not_break_the_stream() -> None:
    stream, _ = streamer(
        lambda r: sse(
            [b"\xef\xbb\xbfevent: update\ndata: {not json\n\nevent: update\ndata: \xff\n\n"]
        )
    )

    batches = await collect(stream)

    # Passed on as text: the parser rejects each one, and the runner logs and goes on.
    assert event_payloads(batches) == [("update", "{not json"), ("update", "\ufffd")]


async def test_stream_follows_the_instance_redirect_to_its_streaming_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "mastodon.social":
            location = "https://streaming.mastodon.social/api/v1/streaming/user/notification"
            return httpx.Response(302, headers={"Location": location})
        return sse([b"event: delete\ndata: 3\n\n"])

    stream, seen = streamer(handler)

    assert event_payloads(await collect(stream)) == [("delete", "3")]
    assert event_payloads(await collect(stream)) == [("delete", "3")]

    assert [r.url.host for r in seen] == [
        "mastodon.social",
        "streaming.mastodon.social",
        "streaming.mastodon.social",  # remembered for the reconnect
    ]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in seen)


async def test_stream_refuses_a_redirect_to_plain_http() -> None:
    redirect = httpx.Response(301, headers={"Location": "http://streaming.example/stream"})
    stream, seen = streamer(lambda r: redirect)

    with pytest.raises(PermanentPollError, match="https to http"):
        await collect(stream)

    assert len(seen) == 1


async def test_configured_streaming_url_is_used() -> None:
    stream, seen = streamer(lambda r: sse([]), streaming_url="https://stream.example/")
    await collect(stream)
    assert seen[0].url == "https://stream.example/api/v1/streaming/user/notification"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401, json={"error": "The access token is invalid"}), PermanentPollError),
        (httpx.Response(404, text="Not Found"), PermanentPollError),
        (httpx.Response(429, headers={"Retry-After": "12"}), RateLimitedError),
        (httpx.Response(503, text="unavailable"), TransientPollError),
        (httpx.Response(200, html="<html>maintenance</html>"), TransientPollError),
    ],
)
async def test_stream_connection_failures_map_to_poll_errors(
    response: httpx.Response, error: type[Exception]
) -> None:
    stream, _ = streamer(lambda r: response)

    with pytest.raises(error) as raised:
        await collect(stream)

    assert TOKEN not in str(raised.value)


async def test_stream_connect_failure_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    stream, _ = streamer(refuse)

    with pytest.raises(TransientPollError, match="ConnectTimeout"):
        await collect(stream)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stream": "user"},
        {"stream": "public"},
        {"stream": "hashtag"},
        {"tag": "x y", "stream": "hashtag"},
    ],
)
def test_unusable_stream_settings_fail_at_construction(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        MastodonStream(idle_client(), instance_url=INSTANCE, access_token=TOKEN, **kwargs)
