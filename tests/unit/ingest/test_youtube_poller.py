"""The YouTube commentThreads poller against a fake API: paging, cursors, quota, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from smm_ingest.adapters.networks import youtube
from smm_ingest.adapters.pollers.youtube import YouTubeCommentsPoller, next_quota_reset
from smm_ingest.domain.items import AccountContext
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    TransientPollError,
)
from smm_shared.events import Network

pytestmark = pytest.mark.unit

CHANNEL = "UCx7AcmeBrandChannel0001"
KEY = "AIzaSy-test-key-0123456789"
#: 12:00 PST on 27 Nov 2025; the quota resets at 08:00 UTC on the 28th, 12 hours later.
NOON_PST = datetime(2025, 11, 27, 20, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the quota day."""

    def __init__(self, now: datetime = NOON_PST) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def thread(
    n: int, published: datetime, *, video: str = "Ab3dE5fG7hI", reply_at: datetime | None = None
) -> dict[str, Any]:
    """A minimal documented commentThread with id ``T{n}`` (and one reply at ``reply_at``)."""
    found: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "id": f"T{n}",
        "snippet": {
            "channelId": CHANNEL,
            "videoId": video,
            "topLevelComment": {
                "kind": "youtube#comment",
                "id": f"T{n}",
                "snippet": {
                    "authorDisplayName": f"@viewer{n}",
                    "authorChannelId": {"value": f"UCviewer{n:016d}"},
                    "textDisplay": f"comment {n}",
                    "textOriginal": f"comment {n}",
                    "publishedAt": stamp(published),
                    "updatedAt": stamp(published),
                    "likeCount": 0,
                },
            },
            "totalReplyCount": 0,
            "canReply": True,
            "isPublic": True,
        },
    }
    if reply_at is not None:
        found["snippet"]["totalReplyCount"] = 1
        found["replies"] = {
            "comments": [
                {
                    "kind": "youtube#comment",
                    "id": f"T{n}.r1",
                    "snippet": {
                        "authorDisplayName": "@replier",
                        "authorChannelId": {"value": "UCreplier00000000000001"},
                        "textOriginal": "a reply",
                        "parentId": f"T{n}",
                        "publishedAt": stamp(reply_at),
                        "updatedAt": stamp(reply_at),
                    },
                }
            ]
        }
    return found


def error(status: int, reason: str, message: str = "error") -> httpx.Response:
    """A Google API error body as YouTube sends it."""
    return httpx.Response(
        status,
        json={
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "youtube.x", "reason": reason}],
            }
        },
    )


class FakeYouTube:
    """commentThreads.list over in-memory threads (newest first), in pages of ``page_size``.

    Page tokens name the last thread of the previous page, as a stable anchor: threads added
    at the top between calls do not shift later pages.
    """

    def __init__(self, page_size: int = 2) -> None:
        self.threads: dict[str, list[dict[str, Any]]] = {}
        self.fail: dict[str, httpx.Response] = {}
        self.requests: list[httpx.Request] = []
        self.page_size = page_size

    def add(self, source: str, *threads: dict[str, Any]) -> None:
        """New threads arrive at the top of a source."""
        self.threads[source] = [*threads, *self.threads.get(source, [])]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        if "allThreadsRelatedToChannelId" in params:
            source = f"channel:{params['allThreadsRelatedToChannelId']}"
        else:
            source = f"video:{params['videoId']}"
        if source in self.fail:
            return self.fail[source]
        items = self.threads.get(source, [])
        start = 0
        token = params.get("pageToken")
        if token is not None:
            ids = [t["id"] for t in items]
            if token not in ids:
                return error(400, "invalidPageToken")
            start = ids.index(token) + 1
        page = items[start : start + self.page_size]
        body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "items": page}
        if start + self.page_size < len(items):
            body["nextPageToken"] = page[-1]["id"]
        return httpx.Response(200, json=body)


def make(fake: FakeYouTube, clock: Clock | None = None, **kwargs: Any) -> YouTubeCommentsPoller:
    options: dict[str, Any] = {"max_pages": 2, **kwargs}
    return YouTubeCommentsPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(fake)),
        api_base_url="https://yt.test/youtube/v3",
        api_key=KEY,
        channel_id=CHANNEL,
        clock=clock or Clock(),
        **options,
    )


def ids(result: PollResult) -> list[str]:
    return [p["id"] for p in result.payloads]


def minute(n: int) -> datetime:
    return datetime(2025, 11, 27, 10, 0, tzinfo=UTC) + timedelta(minutes=n)


def since(result: PollResult, source: str = f"channel:{CHANNEL}") -> str | None:
    assert result.next_cursor is not None
    value: str | None = json.loads(result.next_cursor)[source].get("since")
    return value


async def test_first_poll_reads_the_newest_page_with_the_documented_parameters() -> None:
    fake = FakeYouTube()
    fake.add(f"channel:{CHANNEL}", *(thread(n, minute(n)) for n in range(9, 0, -1)))
    poller = make(fake)

    result = await poller.poll(None)

    assert ids(result) == ["T9", "T8"]
    assert since(result) == "2025-11-27T10:09:00Z"
    (request,) = fake.requests
    assert request.url.path == "/youtube/v3/commentThreads"
    assert dict(request.url.params) == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL,
        "order": "time",
        "maxResults": "100",
        "textFormat": "plainText",
        "key": KEY,
    }
    assert result.wait_s == 300.0
    assert poller.units_used_today == 1


async def test_a_caught_up_poll_stops_at_the_page_that_reaches_the_cursor() -> None:
    fake = FakeYouTube()
    fake.add(f"channel:{CHANNEL}", *(thread(n, minute(n)) for n in range(9, 0, -1)))
    poller = make(fake, max_pages=5)
    cursor = json.dumps({f"channel:{CHANNEL}": {"since": "2025-11-27T10:08:00Z"}})
    fake.add(f"channel:{CHANNEL}", thread(11, minute(11)), thread(10, minute(10)))

    result = await poller.poll(cursor)

    # T8 sits exactly at the cursor: fetched again (dedupe absorbs it), and the next page is
    # read too (another comment of the same second may follow). It starts with T7, older than
    # the cursor: T7 and T6 are dropped and paging stops there, with more pages left.
    assert ids(result) == ["T11", "T10", "T9", "T8"]
    assert len(fake.requests) == 3
    assert fake.requests[-1].url.params["pageToken"] == "T8"
    assert since(result) == "2025-11-27T10:11:00Z"


async def test_a_thread_with_a_reply_newer_than_the_cursor_counts_as_new() -> None:
    fake = FakeYouTube()
    source = f"channel:{CHANNEL}"
    fake.add(
        source,
        thread(9, minute(9)),
        thread(3, minute(3), reply_at=minute(8)),  # listed among the newest for its reply
        thread(2, minute(2)),
        thread(1, minute(1)),
    )
    cursor = json.dumps({source: {"since": "2025-11-27T10:05:00Z"}})

    result = await make(fake, max_pages=5).poll(cursor)

    assert ids(result) == ["T9", "T3"]
    assert len(fake.requests) == 2
    assert since(result) == "2025-11-27T10:09:00Z"


async def test_a_bare_rfc3339_cursor_is_the_since_of_every_source() -> None:
    fake = FakeYouTube()
    fake.add(f"channel:{CHANNEL}", thread(2, minute(2)), thread(1, minute(1)))

    result = await make(fake).poll("2025-11-27T10:02:00Z")

    assert ids(result) == ["T2"]


async def test_a_backlog_larger_than_max_pages_is_worked_off_without_a_gap() -> None:
    fake = FakeYouTube()
    source = f"channel:{CHANNEL}"
    fake.add(source, thread(1, minute(1)))
    poller = make(fake)
    first = await poller.poll(None)
    assert ids(first) == ["T1"]
    # Nine new threads: more than two pages of two.
    fake.add(source, *(thread(n, minute(n)) for n in range(10, 1, -1)))

    second = await poller.poll(first.next_cursor)
    assert ids(second) == ["T10", "T9", "T8", "T7"]
    assert since(second) == "2025-11-27T10:01:00Z"  # not moved past the unread backlog
    assert second.wait_s < 300.0  # a backlog is worked off sooner than the interval

    fake.add(source, thread(12, minute(12)), thread(11, minute(11)))  # arrive meanwhile
    third = await poller.poll(second.next_cursor)
    assert ids(third) == ["T6", "T5", "T4", "T3"]
    fourth = await poller.poll(third.next_cursor)
    assert ids(fourth) == ["T2", "T1"]
    assert since(fourth) == "2025-11-27T10:10:00Z"
    fifth = await poller.poll(fourth.next_cursor)
    assert ids(fifth) == ["T12", "T11", "T10"]
    assert fifth.wait_s == 300.0

    seen = {i for r in (first, second, third, fourth, fifth) for i in ids(r)}
    assert seen == {f"T{n}" for n in range(1, 13)}


async def test_an_expired_page_token_restarts_from_the_top_keeping_since() -> None:
    fake = FakeYouTube()
    source = f"channel:{CHANNEL}"
    fake.add(source, *(thread(n, minute(n)) for n in range(6, 0, -1)))
    cursor = json.dumps(
        {
            source: {
                "since": "2025-11-27T10:03:00Z",
                "top": "2025-11-27T10:06:00Z",
                "page_token": "gone",
            }
        }
    )

    result = await make(fake, max_pages=4).poll(cursor)

    assert ids(result) == ["T6", "T5", "T4", "T3"]
    assert since(result) == "2025-11-27T10:06:00Z"
    assert [r.url.params.get("pageToken") for r in fake.requests] == ["gone", None, "T5", "T3"]


async def test_quota_is_counted_per_call_and_a_spent_budget_waits_for_pacific_midnight() -> None:
    fake = FakeYouTube()
    source = f"channel:{CHANNEL}"
    fake.add(source, *(thread(n, minute(n)) for n in range(8, 0, -1)))
    clock = Clock()
    # 5 units a day keep 1 in reserve (at least one unit is): 4 calls, then nothing.
    poller = make(fake, clock, daily_quota=5, max_pages=3)
    cursor = json.dumps({source: {"since": "2025-11-27T10:00:00Z"}})

    first = await poller.poll(cursor)
    assert len(fake.requests) == 3
    second = await poller.poll(first.next_cursor)

    assert len(fake.requests) == 4
    assert poller.units_used_today == 4
    assert ids(first) + ids(second) == ["T8", "T7", "T6", "T5", "T4", "T3", "T2", "T1"]
    reset = datetime(2025, 11, 28, 8, 0, tzinfo=UTC)
    assert second.wait_s == (reset - NOON_PST).total_seconds() == 12 * 3600
    third = await poller.poll(second.next_cursor)
    assert len(fake.requests) == 4  # no call with the budget spent
    assert third.payloads == []
    assert third.next_cursor == second.next_cursor

    clock.now = reset + timedelta(seconds=1)  # a new Pacific day
    assert poller.units_used_today == 0
    await poller.poll(third.next_cursor)
    assert len(fake.requests) == 5


async def test_polls_are_spaced_so_the_budget_lasts_until_the_reset() -> None:
    fake = FakeYouTube()
    poller = make(fake, daily_quota=101)  # 95 units to spend after a 6-unit reserve

    result = await poller.poll(None)

    # 12 hours left, 94 units left, 1 unit a poll: one poll every 43200/94 s.
    assert result.wait_s == pytest.approx(43200 / 94)


def test_the_quota_day_follows_pacific_time_through_daylight_saving() -> None:
    summer = datetime(2025, 7, 1, 20, 0, tzinfo=UTC)  # 13:00 PDT
    winter = datetime(2025, 12, 1, 7, 59, tzinfo=UTC)  # 23:59 PST

    assert next_quota_reset(summer) == datetime(2025, 7, 2, 7, 0, tzinfo=UTC)
    assert next_quota_reset(winter) == datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
    assert next_quota_reset(datetime(2025, 12, 1, 8, 0, tzinfo=UTC)) == datetime(
        2025, 12, 2, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("reason", ["quotaExceeded", "dailyLimitExceeded"])
async def test_quota_exceeded_is_rate_limited_until_pacific_midnight(reason: str) -> None:
    fake = FakeYouTube()
    fake.fail[f"channel:{CHANNEL}"] = error(403, reason, "The request cannot be completed")
    poller = make(fake)

    with pytest.raises(RateLimitedError) as caught:
        await poller.poll(None)

    assert caught.value.retry_after_s == 12 * 3600
    again = await poller.poll(None)  # our count now knows the day is spent: no call
    assert len(fake.requests) == 1
    assert again.wait_s == 12 * 3600


async def test_comments_disabled_on_a_video_skips_it_and_keeps_its_cursor() -> None:
    fake = FakeYouTube()
    fake.add(f"channel:{CHANNEL}", thread(1, minute(1)))
    fake.add("video:Zz9yX8wV7uT", thread(2, minute(2), video="Zz9yX8wV7uT"))
    fake.fail["video:Vv0disabled"] = error(403, "commentsDisabled")
    poller = make(fake, video_ids=["Vv0disabled", "Zz9yX8wV7uT"])
    cursor = json.dumps({"video:Vv0disabled": {"since": "2025-11-27T09:00:00Z"}})

    result = await poller.poll(cursor)

    assert ids(result) == ["T1", "T2"]
    assert since(result, "video:Vv0disabled") == "2025-11-27T09:00:00Z"
    assert since(result, "video:Zz9yX8wV7uT") == "2025-11-27T10:02:00Z"
    assert [r.url.params.get("videoId") for r in fake.requests] == [
        None,
        "Vv0disabled",
        "Zz9yX8wV7uT",
    ]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (error(403, "forbidden"), PermanentPollError),
        (error(403, "insufficientPermissions"), PermanentPollError),
        (error(404, "channelNotFound"), PermanentPollError),
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [{"reason": "API_KEY_INVALID", "domain": "googleapis.com"}],
                    }
                },
            ),
            PermanentPollError,
        ),
        (error(403, "rateLimitExceeded"), RateLimitedError),
        (httpx.Response(429, text="Too Many Requests"), RateLimitedError),
        (error(500, "backendError"), TransientPollError),
        (httpx.Response(503, text="<html>unavailable</html>"), TransientPollError),
        (
            httpx.Response(200, json={"kind": "youtube#commentThreadListResponse"}),
            TransientPollError,
        ),
    ],
)
async def test_errors_are_told_apart(response: httpx.Response, expected: type[Exception]) -> None:
    fake = FakeYouTube()
    fake.fail[f"channel:{CHANNEL}"] = response

    with pytest.raises(expected) as caught:
        await make(fake).poll(None)
    assert KEY not in str(caught.value)


async def test_network_errors_are_transient_and_do_not_leak_the_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    poller = YouTubeCommentsPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(refuse)), api_key=KEY, channel_id=CHANNEL
    )
    with pytest.raises(TransientPollError) as caught:
        await poller.poll(None)
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_an_unreadable_cursor_starts_from_the_newest_page() -> None:
    fake = FakeYouTube()
    fake.add(f"channel:{CHANNEL}", *(thread(n, minute(n)) for n in range(4, 0, -1)))

    result = await make(fake).poll("{not json")

    assert ids(result) == ["T4", "T3"]
    assert len(fake.requests) == 1


async def test_an_empty_channel_then_comments_all_count_as_new() -> None:
    fake = FakeYouTube()
    poller = make(fake, max_pages=5)
    first = await poller.poll(None)
    assert first.payloads == []
    fake.add(f"channel:{CHANNEL}", *(thread(n, minute(n)) for n in range(5, 0, -1)))

    second = await poller.poll(first.next_cursor)

    assert ids(second) == ["T5", "T4", "T3", "T2", "T1"]


async def test_payloads_are_what_the_parser_reads() -> None:
    fake = FakeYouTube()
    fake.add(f"channel:{CHANNEL}", thread(1, minute(1)))

    result = await make(fake).poll(None)

    account = AccountContext(Network.YOUTUBE, frozenset({CHANNEL}))
    (payload,) = result.payloads
    (item,) = youtube.parse_comment_thread(payload, account).items
    assert item.draft.native_id == "T1"  # type: ignore[union-attr]
    assert item.draft.on_own_post  # type: ignore[union-attr]
