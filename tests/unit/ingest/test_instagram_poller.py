"""The Instagram poller against a fake Graph API: fetch requests, tagged-media paging, limits, errors."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from smm_ingest.adapters.graph_fetches_repo import PendingFetch
from smm_ingest.adapters.networks import instagram_graph
from smm_ingest.adapters.networks.meta_limits import MetaAccessError
from smm_ingest.adapters.pollers.instagram import BACKLOG_WAIT_S, InstagramPoller
from smm_ingest.domain.items import AccountContext, NewItem
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    TransientPollError,
)
from smm_shared.events import MentionKind, Network

pytestmark = pytest.mark.unit

IG = "17841405822304914"
BRAND = "brand-ig"
TOKEN = "EAAG-test-token"
BASE = "https://graph.test/v21.0"
FETCH = re.compile(
    r"^(mentioned_comment)\.comment_id\((\d+)\)|^(mentioned_media)\.media_id\((\d+)\)"
)


def media(n: int, *, user: str = "someone") -> dict[str, Any]:
    return {
        "id": f"1803{n:08d}",
        "caption": f"tagged #{n}",
        "media_type": "IMAGE",
        "timestamp": f"2025-11-27T10:{n % 60:02d}:00+0000",
        "username": user,
        "permalink": f"https://www.instagram.com/p/M{n}/",
    }


def comment(comment_id: str, media_id: str = "17918195224117851") -> dict[str, Any]:
    return {
        "id": comment_id,
        "text": "acme.store where is my order?",
        "timestamp": "2025-11-27T11:16:40+0000",
        "username": "masha.travels",
        "like_count": 0,
        "media": {"id": media_id, "permalink": "https://www.instagram.com/p/DBx3kLmN0aQ/"},
    }


def graph_error(status: int, code: int, subcode: int | None = None) -> httpx.Response:
    error: dict[str, Any] = {"message": "An error", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


class FakeGraph:
    """The IG User node (mentioned_comment, mentioned_media) and its tags edge, over memory."""

    def __init__(self, page_size: int = 2) -> None:
        self.tagged: list[dict[str, Any]] = []  # newest first
        self.comments: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, httpx.Response] = {}
        self.usage: dict[str, str] = {}
        self.requests: list[httpx.Request] = []
        self.page_size = page_size

    def tag(self, *items: dict[str, Any]) -> None:
        """New tagged media arrive at the top."""
        self.tagged = [*items, *self.tagged]

    def calls(self, kind: str) -> list[httpx.Request]:
        if kind == "tags":
            return [r for r in self.requests if r.url.path.endswith("/tags")]
        return [r for r in self.requests if r.url.params.get("fields", "").startswith(kind)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self._answer(request)
        response.headers.update(self.usage)
        return response

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return graph_error(400, 190)
        path = request.url.path
        if path in self.fail:
            return self.fail[path]
        if path == f"/v21.0/{IG}/tags":
            return self._tags(request.url.params)
        if path == f"/v21.0/{IG}":
            match = FETCH.match(request.url.params.get("fields", ""))
            assert match is not None, request.url
            if match.group(1):
                found = self.comments.get(match.group(2))
                key = "mentioned_comment"
            else:
                found = self.media.get(match.group(4))
                key = "mentioned_media"
            if found is None:
                return graph_error(400, 100, 33)
            return httpx.Response(200, json={key: found, "id": IG})
        return graph_error(400, 100)

    def _tags(self, params: httpx.QueryParams) -> httpx.Response:
        assert params["fields"] == "id,caption,media_type,timestamp,username,permalink"
        ids = [m["id"] for m in self.tagged]
        start = ids.index(params["after"]) + 1 if "after" in params else 0
        page = self.tagged[start : start + self.page_size]
        body: dict[str, Any] = {"data": page}
        if page:
            body["paging"] = {"cursors": {"before": page[0]["id"], "after": page[-1]["id"]}}
            if start + self.page_size < len(self.tagged):
                body["paging"]["next"] = f"{BASE}/{IG}/tags?after={page[-1]['id']}"
        return httpx.Response(200, json=body)


class FakeQueue:
    """Fetch requests in memory, as the repository keeps them."""

    def __init__(self, *requests: PendingFetch, brand_id: str = BRAND) -> None:
        self.pending_requests = {r.id: r for r in requests}
        self.brand_id = brand_id
        self.done: list[str] = []
        self.errors: dict[str, str] = {}
        self.log: list[str] = []

    async def pending(
        self, *, brand_id: str, network: Network, account_id: str, limit: int
    ) -> list[PendingFetch]:
        assert (brand_id, network, account_id) == (self.brand_id, Network.INSTAGRAM, IG)
        self.log.append("pending")
        return list(self.pending_requests.values())[:limit]

    async def complete(self, fetch_ids: Sequence[str], *, now_ms: int) -> None:
        self.log.append(f"complete {list(fetch_ids)}")
        for fetch_id in fetch_ids:
            if self.pending_requests.pop(fetch_id, None) is not None:
                self.done.append(fetch_id)

    async def give_up(self, fetch_id: str, *, error: str, now_ms: int) -> None:
        del self.pending_requests[fetch_id]
        self.errors[fetch_id] = error


def make(fake: FakeGraph, queue: FakeQueue | None = None, **kwargs: Any) -> InstagramPoller:
    options: dict[str, Any] = {"max_pages": 2, "interval_s": 300.0, **kwargs}
    return InstagramPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(fake)),
        api_base_url=BASE,
        access_token=TOKEN,
        ig_user_id=IG,
        brand_id=BRAND,
        fetches=queue or FakeQueue(),
        clock=lambda: 1_764_242_000.0,
        **options,
    )


def ids(result: PollResult) -> list[str]:
    return [p["value"]["id"] for p in result.payloads]


def cursor_of(result: PollResult) -> dict[str, Any]:
    assert result.next_cursor is not None
    state: dict[str, Any] = json.loads(result.next_cursor)
    return state


def on_comment(n: int) -> PendingFetch:
    return PendingFetch(
        id=f"{BRAND}|instagram|{IG}|comment:{n}", media_id="17918195224117851", comment_id=str(n)
    )


# --- tagged media ----------------------------------------------------------------------------


async def test_first_poll_reads_the_newest_page_with_the_documented_request() -> None:
    fake = FakeGraph()
    fake.tag(*(media(n) for n in range(9, 0, -1)))

    result = await make(fake).poll(None)

    assert ids(result) == [media(9)["id"], media(8)["id"]]  # history is not backfilled
    assert cursor_of(result) == {"tags": {"known": [media(9)["id"], media(8)["id"]]}, "fetched": []}
    assert result.wait_s == 300.0
    (request,) = fake.requests
    assert str(request.url).startswith(f"{BASE}/{IG}/tags?")
    assert dict(request.url.params) == {
        "fields": "id,caption,media_type,timestamp,username,permalink",
        "limit": "50",
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(request.url)  # never in a URL that could reach a log


async def test_a_caught_up_poll_stops_at_what_is_stored() -> None:
    fake = FakeGraph(page_size=3)
    fake.tag(*(media(n) for n in range(5, 0, -1)))
    poller = make(fake)
    first = await poller.poll(None)
    fake.tag(media(7), media(6))
    fake.requests.clear()

    second = await poller.poll(first.next_cursor)

    assert ids(second) == [media(7)["id"], media(6)["id"]]
    assert len(fake.requests) == 1  # media 5 is known: no second page
    assert cursor_of(second)["tags"] == {"known": [media(n)["id"] for n in (7, 6, 5, 4, 3)]}
    third = await poller.poll(second.next_cursor)
    assert ids(third) == []


async def test_a_backlog_longer_than_the_page_budget_is_continued_before_moving_up() -> None:
    fake = FakeGraph(page_size=2)
    fake.tag(media(1))
    poller = make(fake, max_pages=2)
    first = await poller.poll(None)
    fake.tag(*(media(n) for n in range(7, 1, -1)))  # six new: three pages of two

    second = await poller.poll(first.next_cursor)

    assert ids(second) == [media(n)["id"] for n in (7, 6, 5, 4)]
    tags = cursor_of(second)["tags"]
    assert tags["known"] == [media(1)["id"]]  # not moved up until the backlog is read
    assert tags["top"] == [media(7)["id"], media(6)["id"]]
    assert tags["after"] == media(4)["id"]
    assert second.wait_s == BACKLOG_WAIT_S
    fake.tag(media(8))  # arrives meanwhile: read by the next sweep from the top

    third = await poller.poll(second.next_cursor)

    assert ids(third) == [media(3)["id"], media(2)["id"]]
    assert cursor_of(third)["tags"] == {"known": [media(7)["id"], media(6)["id"], media(1)["id"]]}
    assert third.wait_s == 300.0
    fourth = await poller.poll(third.next_cursor)
    assert ids(fourth) == [media(8)["id"]]


async def test_a_known_media_that_disappeared_is_not_needed_to_stop() -> None:
    fake = FakeGraph(page_size=2)
    fake.tag(*(media(n) for n in range(4, 0, -1)))
    poller = make(fake)
    first = await poller.poll(None)  # knows 4 and 3
    fake.tagged = [m for m in fake.tagged if m["id"] != media(4)["id"]]  # untagged
    fake.tag(media(5))
    fake.requests.clear()

    second = await poller.poll(first.next_cursor)

    assert ids(second) == [media(5)["id"]]
    assert len(fake.requests) == 1


async def test_a_paging_token_that_does_not_move_ends_the_sweep() -> None:
    fake = FakeGraph()

    def stuck(request: httpx.Request) -> httpx.Response:
        fake.requests.append(request)
        return httpx.Response(
            200,
            json={
                "data": [media(1)],
                "paging": {"cursors": {"after": "SAME"}, "next": f"{BASE}/{IG}/tags?after=SAME"},
            },
        )

    poller = InstagramPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(stuck)),
        api_base_url=BASE,
        access_token=TOKEN,
        ig_user_id=IG,
        brand_id=BRAND,
        fetches=FakeQueue(),
        max_pages=10,
    )
    result = await poller.poll(json.dumps({"tags": {"known": [], "after": "SAME"}}))

    assert len(fake.requests) == 1
    assert "after" not in cursor_of(result)["tags"]


@pytest.mark.parametrize("cursor", ["not json", "[]", '{"tags": []}', '{"fetched": "x"}'])
async def test_an_unreadable_cursor_starts_from_the_newest_page(cursor: str) -> None:
    fake = FakeGraph()
    fake.tag(media(2), media(1))

    result = await make(fake).poll(cursor)

    assert ids(result) == [media(2)["id"], media(1)["id"]]
    assert len(fake.requests) == 1


# --- fetch requests --------------------------------------------------------------------------


async def test_pending_mentions_are_fetched_and_completed_only_at_the_next_poll() -> None:
    fake = FakeGraph()
    fake.comments["17894227972186120"] = comment("17894227972186120")
    fake.media["17918195224117851"] = {**media(3), "id": "17918195224117851"}
    in_comment = on_comment(17894227972186120)
    in_caption = PendingFetch(
        id=f"{BRAND}|instagram|{IG}|media:17918195224117851", media_id="17918195224117851"
    )
    queue = FakeQueue(in_comment, in_caption)
    poller = make(fake, queue)

    first = await poller.poll(None)

    assert [p["field"] for p in first.payloads] == ["mentioned_comment", "mentioned_media"]
    assert ids(first) == ["17894227972186120", "17918195224117851"]
    (by_comment,) = fake.calls("mentioned_comment")
    assert by_comment.url.params["fields"] == (
        "mentioned_comment.comment_id(17894227972186120)"
        "{id,text,timestamp,username,like_count,media{id,permalink}}"
    )
    assert str(by_comment.url).startswith(f"{BASE}/{IG}?")
    (by_media,) = fake.calls("mentioned_media")
    assert by_media.url.params["fields"] == (
        "mentioned_media.media_id(17918195224117851)"
        "{id,caption,media_type,timestamp,username,permalink,comments_count,like_count}"
    )
    # Not done yet: the runner has not stored them. The cursor says what to complete.
    assert queue.done == []
    assert cursor_of(first)["fetched"] == [in_comment.id, in_caption.id]

    second = await poller.poll(first.next_cursor)

    # Completed first, so the same requests are not taken again as pending.
    assert queue.log == [
        "complete []",
        "pending",
        f"complete {[in_comment.id, in_caption.id]}",
        "pending",
    ]
    assert queue.done == [in_comment.id, in_caption.id]
    assert list(second.payloads) == []
    assert len(fake.calls("mentioned_")) == 2  # nothing fetched twice
    assert cursor_of(second)["fetched"] == []


async def test_a_poll_whose_results_were_not_stored_fetches_them_again() -> None:
    fake = FakeGraph()
    fake.comments["5"] = comment("5")
    queue = FakeQueue(on_comment(5))
    poller = make(fake, queue)

    first = await poller.poll(None)
    again = await poller.poll(None)  # the runner crashed before saving first.next_cursor

    assert ids(first) == ids(again) == ["5"]
    assert queue.done == []
    assert len(fake.calls("mentioned_comment")) == 2


async def test_the_fetched_payloads_parse_into_the_mention_the_webhook_announced() -> None:
    fake = FakeGraph()
    fake.comments["17894227972186120"] = comment("17894227972186120")
    result = await make(fake, FakeQueue(on_comment(17894227972186120))).poll(None)

    (payload,) = result.payloads
    (item,) = instagram_graph.parse_graph_item(
        payload, AccountContext(Network.INSTAGRAM, frozenset({IG}))
    ).items

    assert isinstance(item, NewItem)
    assert item.draft.kind is MentionKind.COMMENT
    assert item.draft.native_id == "17894227972186120"
    assert item.draft.thread_id == "17918195224117851"


async def test_a_mention_that_is_gone_is_given_up_with_the_reason_and_the_rest_go_on() -> None:
    fake = FakeGraph()
    fake.comments["2"] = comment("2")
    queue = FakeQueue(on_comment(1), on_comment(2))
    poller = make(fake, queue)

    result = await poller.poll(None)

    assert ids(result) == ["2"]
    assert list(queue.errors) == [on_comment(1).id]
    assert "code 100/33" in queue.errors[on_comment(1).id]
    assert cursor_of(result)["fetched"] == [on_comment(2).id]
    await poller.poll(result.next_cursor)
    assert len(fake.calls("mentioned_comment")) == 2  # the gone one is not asked for again


async def test_an_answer_without_the_mention_is_given_up() -> None:
    fake = FakeGraph()

    def empty(request: httpx.Request) -> httpx.Response:
        fake.requests.append(request)
        if request.url.path.endswith("/tags"):
            return httpx.Response(200, json={"data": []})
        return httpx.Response(200, json={"id": IG})

    queue = FakeQueue(on_comment(7))
    poller = InstagramPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(empty)),
        api_base_url=BASE,
        access_token=TOKEN,
        ig_user_id=IG,
        brand_id=BRAND,
        fetches=queue,
    )

    result = await poller.poll(None)

    assert list(result.payloads) == []
    assert "without it" in queue.errors[on_comment(7).id]


async def test_an_id_that_is_not_a_graph_id_is_given_up_without_a_call() -> None:
    queue = FakeQueue(PendingFetch(id="x", media_id="1", comment_id="1){id}"))
    fake = FakeGraph()

    await make(fake, queue).poll(None)

    assert fake.calls("mentioned_") == []
    assert "not a Graph API id" in queue.errors["x"]


async def test_more_pending_than_one_poll_takes_brings_the_next_poll_forward() -> None:
    fake = FakeGraph()
    for n in range(1, 4):
        fake.comments[str(n)] = comment(str(n))
    queue = FakeQueue(*(on_comment(n) for n in range(1, 4)))
    poller = make(fake, queue, max_fetches=2)

    first = await poller.poll(None)
    second = await poller.poll(first.next_cursor)

    assert ids(first) == ["1", "2"]
    assert first.wait_s == BACKLOG_WAIT_S
    assert ids(second) == ["3"]
    assert second.wait_s == 300.0


# --- limits and errors -----------------------------------------------------------------------


async def test_a_token_refusal_stops_the_poll_and_gives_nothing_up() -> None:
    fake = FakeGraph()
    fake.fail[f"/v21.0/{IG}"] = graph_error(400, 190, 463)
    queue = FakeQueue(on_comment(1))

    with pytest.raises(MetaAccessError) as caught:
        await make(fake, queue).poll(None)

    assert "access_token" in str(caught.value)
    assert queue.errors == {}
    assert list(queue.pending_requests) == [on_comment(1).id]


async def test_exhausted_usage_after_a_fetch_returns_it_and_waits_as_meta_says() -> None:
    fake = FakeGraph()
    fake.comments["1"] = comment("1")
    fake.tag(media(1))
    fake.usage = {
        "X-Business-Use-Case-Usage": json.dumps(
            {IG: [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 9}]}
        )
    }
    queue = FakeQueue(on_comment(1), on_comment(2))

    result = await make(fake, queue).poll(None)

    assert ids(result) == ["1"]
    assert len(fake.requests) == 1  # no call after Meta said to stop
    assert result.wait_s == 540.0
    assert cursor_of(result) == {"tags": {}, "fetched": [on_comment(1).id]}


async def test_throttling_with_nothing_read_is_a_rate_limit() -> None:
    fake = FakeGraph()
    fake.fail[f"/v21.0/{IG}/tags"] = graph_error(400, 80002)

    with pytest.raises(RateLimitedError) as caught:
        await make(fake).poll(None)

    assert caught.value.retry_after_s == 300.0


async def test_high_usage_stretches_the_wait_before_the_next_poll() -> None:
    fake = FakeGraph()
    fake.usage = {
        "X-App-Usage": json.dumps({"call_count": 87.5, "total_cputime": 10, "total_time": 5})
    }

    result = await make(fake, interval_s=60.0).poll(None)

    assert result.wait_s == pytest.approx(150.0)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (graph_error(500, 2), TransientPollError),
        (httpx.Response(502, text="<html>bad gateway</html>"), TransientPollError),
        (httpx.Response(200, text="not json"), TransientPollError),
        (httpx.Response(200, json={"data": "x"}), TransientPollError),
        (graph_error(403, 10), MetaAccessError),
        (graph_error(400, 4), RateLimitedError),
    ],
)
async def test_tag_listing_failures_map_onto_poll_errors(
    answer: httpx.Response, error: type[Exception]
) -> None:
    fake = FakeGraph()
    fake.fail[f"/v21.0/{IG}/tags"] = answer

    with pytest.raises(error):
        await make(fake).poll(None)


async def test_a_wrong_account_id_says_what_to_fix() -> None:
    fake = FakeGraph()
    fake.fail[f"/v21.0/{IG}/tags"] = graph_error(400, 100, 33)

    with pytest.raises(PermanentPollError) as caught:
        await make(fake).poll(None)

    assert "check the connector's ig_user_id" in str(caught.value)


async def test_an_unreachable_api_is_transient_and_keeps_the_token_out_of_the_message() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}")

    poller = InstagramPoller(
        httpx.AsyncClient(transport=httpx.MockTransport(down)),
        api_base_url=BASE,
        access_token=TOKEN,
        ig_user_id=IG,
        brand_id=BRAND,
        fetches=FakeQueue(),
    )

    with pytest.raises(TransientPollError) as caught:
        await poller.poll(None)

    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"ig_user_id": "acme"}, "numeric id"),
        ({"access_token": ""}, "access token is required"),
        ({"page_size": 101}, "page_size"),
        ({"max_fetches": 0}, "max_fetches"),
    ],
)
def test_unusable_configuration_is_refused(options: dict[str, Any], reason: str) -> None:
    settings: dict[str, Any] = {
        "access_token": TOKEN,
        "ig_user_id": IG,
        "brand_id": BRAND,
        "fetches": FakeQueue(),
        **options,
    }
    with pytest.raises(ValueError, match=reason):
        InstagramPoller(httpx.AsyncClient(), **settings)
