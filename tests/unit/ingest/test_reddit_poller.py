"""The Reddit poller against a fake API: token, paging, cursors, rate limits, errors."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from smm_ingest.adapters.networks import reddit
from smm_ingest.adapters.pollers.reddit import RedditPoller
from smm_ingest.domain.items import AccountContext, NewItem
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    TransientPollError,
)
from smm_shared.events import Network

pytestmark = pytest.mark.unit

UA = "server:com.acme.smm:v1.0 (by /u/acme_dev)"
BASE = 1764238560.0


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def comment(n: int, created: float, sub: str = "acme") -> dict[str, Any]:
    """A minimal documented t1 listing child named ``t1_c{n}``."""
    return {
        "kind": "t1",
        "data": {
            "id": f"c{n}",
            "name": f"t1_c{n}",
            "author": f"user{n}",
            "author_fullname": f"t2_u{n}",
            "body": f"comment {n}",
            "created_utc": created,
            "edited": False,
            "link_id": "t3_p1",
            "parent_id": "t3_p1",
            "link_author": "someone",
            "subreddit": sub,
            "permalink": f"/r/{sub}/comments/p1/title/c{n}/",
        },
    }


def post(n: int, created: float) -> dict[str, Any]:
    """A minimal documented t3 listing child named ``t3_p{n}``."""
    return {
        "kind": "t3",
        "data": {
            "id": f"p{n}",
            "name": f"t3_p{n}",
            "author": f"user{n}",
            "author_fullname": f"t2_u{n}",
            "title": f"Acme post {n}",
            "selftext": "",
            "is_self": True,
            "created_utc": created,
            "edited": False,
            "subreddit": "gadgets",
            "permalink": f"/r/gadgets/comments/p{n}/acme_post/",
        },
    }


class FakeReddit:
    """The token endpoint and listings (newest first, pages of ``page_size``), with rate headers.

    ``after`` names the last child of the previous page, as Reddit's listings do.
    """

    def __init__(self, page_size: int = 2) -> None:
        self.listings: dict[str, list[dict[str, Any]]] = {}
        self.fail: dict[str, httpx.Response] = {}
        self.requests: list[httpx.Request] = []
        self.page_size = page_size
        self.issued = 0
        self.valid: set[str] = set()
        self.expires_in = 86400
        self.token_response: httpx.Response | None = None
        self.remaining = 599.0
        self.reset = 300

    def add(self, path: str, *children: dict[str, Any]) -> None:
        """New children arrive at the top of a listing."""
        self.listings[path] = [*children, *self.listings.get(path, [])]

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "oauth.reddit.com"]

    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/api/v1/access_token"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/v1/access_token":
            if self.token_response is not None:
                return self.token_response
            self.issued += 1
            token = f"tok-{self.issued}"
            self.valid.add(token)
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "token_type": "bearer",
                    "expires_in": self.expires_in,
                    "scope": "*",
                },
            )
        if request.headers.get("authorization", "").removeprefix("bearer ") not in self.valid:
            return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
        self.remaining = max(0.0, self.remaining - 1)
        headers = {
            "x-ratelimit-used": str(600 - self.remaining),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }
        path = request.url.path
        if path in self.fail:
            failure = self.fail[path]
            return httpx.Response(
                failure.status_code, headers={**headers, **failure.headers}, content=failure.content
            )
        children = self.listings.get(path, [])
        start = 0
        after = request.url.params.get("after")
        if after is not None:
            start = [c["data"]["name"] for c in children].index(after) + 1
        page = children[start : start + self.page_size]
        more = start + self.page_size < len(children)
        body = {
            "kind": "Listing",
            "data": {
                "after": page[-1]["data"]["name"] if more else None,
                "before": None,
                "dist": len(page),
                "children": page,
            },
        }
        return httpx.Response(200, json=body, headers=headers)


def make(
    fake: FakeReddit,
    clock: Clock | None = None,
    *,
    queries: tuple[str, ...] = (),
    subreddits: tuple[str, ...] = ("acme",),
    **kwargs: Any,
) -> RedditPoller:
    return RedditPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(fake)),
        client_id="app-id",
        client_secret="app-secret",
        user_agent=UA,
        queries=list(queries),
        subreddits=list(subreddits),
        clock=clock or Clock(),
        **kwargs,
    )


def names(result: PollResult) -> list[str]:
    return [c["data"]["name"] for c in result.payloads]


def state(result: PollResult, source: str = "r/acme") -> dict[str, Any]:
    assert result.next_cursor is not None
    found: dict[str, Any] = json.loads(result.next_cursor)[source]
    return found


async def test_token_then_listings_with_the_documented_requests() -> None:
    fake = FakeReddit()
    fake.add("/search", post(1, BASE))
    fake.add("/r/acme/comments", comment(1, BASE))
    poller = make(fake, queries=("acme x200",))

    result = await poller.poll(None)

    assert names(result) == ["t3_p1", "t1_c1"]
    (token_request,) = fake.token_requests()
    assert str(token_request.url) == "https://www.reddit.com/api/v1/access_token"
    assert token_request.method == "POST"
    assert token_request.headers["authorization"] == "Basic " + base64.b64encode(
        b"app-id:app-secret"
    ).decode("ascii")
    assert parse_qs(token_request.content.decode()) == {"grant_type": ["client_credentials"]}
    assert token_request.headers["user-agent"] == UA
    search, comments = fake.api_requests()
    assert search.url.path == "/search"
    assert dict(search.url.params) == {
        "q": "acme x200",
        "sort": "new",
        "type": "link",
        "limit": "100",
        "raw_json": "1",
    }
    assert comments.url.path == "/r/acme/comments"
    assert dict(comments.url.params) == {"limit": "100", "raw_json": "1"}
    for request in (search, comments):
        assert request.headers["authorization"] == "bearer tok-1"
        assert request.headers["user-agent"] == UA
    assert json.loads(result.next_cursor or "") == {
        "r/acme": {"since": BASE},
        "search:acme x200": {"since": BASE},
    }


async def test_the_token_is_reused_then_renewed_a_minute_before_it_expires() -> None:
    fake = FakeReddit()
    fake.expires_in = 3600
    clock = Clock()
    poller = make(fake, clock)

    await poller.poll(None)
    clock.now += 3600 - 61
    await poller.poll(None)
    assert len(fake.token_requests()) == 1
    clock.now += 2  # 59 s left: renewed before the call
    await poller.poll(None)

    assert len(fake.token_requests()) == 2
    assert fake.api_requests()[-1].headers["authorization"] == "bearer tok-2"


async def test_a_401_fetches_a_new_token_and_retries_once() -> None:
    fake = FakeReddit()
    fake.add("/r/acme/comments", comment(1, BASE))
    poller = make(fake)
    await poller.poll(None)
    fake.valid.clear()  # revoked early

    result = await poller.poll(None)

    assert names(result) == ["t1_c1"]
    assert [r.headers["authorization"] for r in fake.api_requests()] == [
        "bearer tok-1",
        "bearer tok-1",
        "bearer tok-2",
    ]


async def test_a_second_401_is_permanent() -> None:
    fake = FakeReddit()
    fake.fail["/r/acme/comments"] = httpx.Response(401)

    with pytest.raises(PermanentPollError):
        await make(fake).poll(None)
    assert len(fake.api_requests()) == 2
    assert len(fake.token_requests()) == 2


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(401, json={"message": "Unauthorized", "error": 401}), PermanentPollError),
        (httpx.Response(200, json={"error": "unsupported_grant_type"}), PermanentPollError),
        (httpx.Response(429, headers={"retry-after": "7"}), RateLimitedError),
        (httpx.Response(500), TransientPollError),
        (httpx.Response(200, json={"token_type": "bearer"}), TransientPollError),
    ],
)
async def test_token_endpoint_failures(response: httpx.Response, expected: type[Exception]) -> None:
    fake = FakeReddit()
    fake.token_response = response

    with pytest.raises(expected) as caught:
        await make(fake).poll(None)
    assert "app-secret" not in str(caught.value)
    assert fake.api_requests() == []


async def test_a_caught_up_poll_pages_down_to_the_cursor_and_no_further() -> None:
    fake = FakeReddit()
    fake.add("/r/acme/comments", *(comment(n, BASE + n) for n in range(9, 0, -1)))
    cursor = json.dumps({"r/acme": BASE + 6})  # a bare number is the source's since

    result = await make(fake, max_pages=5).poll(cursor)

    # c6 sits exactly at the cursor: fetched again (dedupe absorbs it); the page after it
    # starts older than the cursor, so paging stops there.
    assert names(result) == ["t1_c9", "t1_c8", "t1_c7", "t1_c6"]
    assert [r.url.params.get("after") for r in fake.api_requests()] == [None, "t1_c8", "t1_c6"]
    assert state(result) == {"since": BASE + 9}


async def test_a_backlog_larger_than_max_pages_is_worked_off_without_a_gap() -> None:
    fake = FakeReddit()
    path = "/r/acme/comments"
    fake.add(path, comment(1, BASE + 1))
    poller = make(fake, max_pages=2)
    first = await poller.poll(None)
    fake.add(path, *(comment(n, BASE + n) for n in range(8, 1, -1)))

    second = await poller.poll(first.next_cursor)
    assert names(second) == ["t1_c8", "t1_c7", "t1_c6", "t1_c5"]
    assert state(second) == {"since": BASE + 1, "top": BASE + 8, "after": "t1_c5"}
    assert second.wait_s < 60.0

    fake.add(path, comment(9, BASE + 9))  # arrives while the backlog is read
    third = await poller.poll(second.next_cursor)
    assert names(third) == ["t1_c4", "t1_c3", "t1_c2", "t1_c1"]
    assert state(third) == {"since": BASE + 8}
    fourth = await poller.poll(third.next_cursor)
    assert names(fourth) == ["t1_c9", "t1_c8"]
    assert fourth.wait_s == 60.0

    seen = {n for r in (first, second, third, fourth) for n in names(r)}
    assert seen == {f"t1_c{n}" for n in range(1, 10)}


async def test_an_item_found_by_two_sources_is_one_payload() -> None:
    fake = FakeReddit()
    fake.add("/search", post(1, BASE))
    poller = make(fake, queries=("acme", "acme x200"), subreddits=())

    result = await poller.poll(None)

    assert names(result) == ["t3_p1"]


async def test_rate_limit_headers_space_the_polls() -> None:
    fake = FakeReddit()
    fake.remaining, fake.reset = 600.0, 300
    clock = Clock()
    poller = make(fake, clock, subreddits=("acme", "gadgets"))

    plenty = await poller.poll(None)
    assert plenty.wait_s == 60.0  # 598 left for 2 calls a poll: the interval decides

    fake.remaining = 5.0  # after two more calls: 3 left in the next 300 s
    scarce = await poller.poll(plenty.next_cursor)
    assert scarce.wait_s == pytest.approx(300 * 2 / 3)


async def test_a_spent_rate_limit_stops_paging_and_waits_for_the_period() -> None:
    fake = FakeReddit()
    fake.add("/r/acme/comments", *(comment(n, BASE + n) for n in range(9, 0, -1)))
    fake.remaining, fake.reset = 2.0, 120
    clock = Clock()
    poller = make(fake, clock, max_pages=5)
    cursor = json.dumps({"r/acme": {"since": BASE}})

    result = await poller.poll(cursor)

    assert len(fake.api_requests()) == 2  # the second answer said 0 remaining
    assert names(result) == ["t1_c9", "t1_c8", "t1_c7", "t1_c6"]
    assert state(result) == {"since": BASE, "top": BASE + 9, "after": "t1_c6"}
    assert result.wait_s == 121.0
    again = await poller.poll(result.next_cursor)
    assert again.payloads == []
    assert len(fake.api_requests()) == 2
    clock.now += 121  # a new period: paging resumes where it stopped
    fake.remaining = 600.0
    resumed = await poller.poll(again.next_cursor)
    assert names(resumed) == ["t1_c5", "t1_c4", "t1_c3", "t1_c2", "t1_c1"]


async def test_429_is_rate_limited_for_the_reported_period() -> None:
    fake = FakeReddit()
    fake.reset = 42
    fake.fail["/r/acme/comments"] = httpx.Response(429)

    with pytest.raises(RateLimitedError) as caught:
        await make(fake).poll(None)
    assert caught.value.retry_after_s == 42.0


async def test_a_refused_subreddit_is_skipped_and_keeps_its_cursor() -> None:
    fake = FakeReddit()
    fake.fail["/r/private_club/comments"] = httpx.Response(403, json={"reason": "private"})
    fake.add("/r/acme/comments", comment(1, BASE))
    cursor = json.dumps({"r/private_club": {"since": BASE - 100}})

    result = await make(fake, subreddits=("private_club", "acme")).poll(cursor)

    assert names(result) == ["t1_c1"]
    assert state(result, "r/private_club") == {"since": BASE - 100}


@pytest.mark.parametrize("status", [302, 403, 404])
async def test_every_source_refused_is_permanent(status: int) -> None:
    fake = FakeReddit()
    fake.fail["/r/acme/comments"] = httpx.Response(status, headers={"location": "/x"})

    with pytest.raises(PermanentPollError):
        await make(fake).poll(None)


@pytest.mark.parametrize(
    "response",
    [httpx.Response(500), httpx.Response(200, text="<html>"), httpx.Response(200, json=[1])],
)
async def test_server_trouble_is_transient(response: httpx.Response) -> None:
    fake = FakeReddit()
    fake.fail["/r/acme/comments"] = response

    with pytest.raises(TransientPollError):
        await make(fake).poll(None)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"user_agent": " "}, "User-Agent"),
        ({"subreddits": ["acme/../../api"]}, "not a subreddit name"),
        ({"subreddits": [], "queries": []}, "at least one"),
        ({"queries": [""]}, "1-512 characters"),
        ({"client_secret": ""}, "client_secret"),
    ],
)
def test_unusable_settings_are_refused(kwargs: dict[str, Any], match: str) -> None:
    options: dict[str, Any] = {
        "client_id": "app-id",
        "client_secret": "app-secret",
        "user_agent": UA,
        "subreddits": ["acme"],
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        RedditPoller(httpx.AsyncClient(), **options)


async def test_an_unreadable_cursor_starts_from_the_newest_page() -> None:
    fake = FakeReddit()
    fake.add("/r/acme/comments", *(comment(n, BASE + n) for n in range(4, 0, -1)))

    result = await make(fake).poll("[1, 2")

    assert names(result) == ["t1_c4", "t1_c3"]


async def test_payloads_are_what_the_parser_reads() -> None:
    fake = FakeReddit()
    fake.add("/r/acme/comments", comment(1, BASE))

    (payload,) = (await make(fake).poll(None)).payloads

    parsed = reddit.parse_listing_child(payload, AccountContext(Network.REDDIT))
    (item,) = parsed.items
    assert isinstance(item, NewItem)
    assert item.draft.native_id == "t1_c1"
    assert item.draft.url == "https://www.reddit.com/r/acme/comments/p1/title/c1/"
