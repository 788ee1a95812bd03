"""The Facebook and Instagram delivery clients against a mock transport.

Request shapes, the Instagram container flow, every error mapping, ambiguity only where a
post can have been created, and ``find``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_publisher.adapters.delivery.meta import FacebookDeliverer, InstagramDeliverer
from smm_publisher.domain.delivery import (
    AmbiguousDeliveryError,
    PermanentDeliveryError,
    PostRequest,
    Published,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)
from smm_shared.events import Network
from smm_shared.testing.http import recording_client

pytestmark = pytest.mark.unit

BASE = "https://graph.test/v21.0"
PAGE = "104000000000001"
IG_USER = "17841400000000001"
TOKEN = "page-token"
IMG = "https://cdn.example.com/a.jpg"
IMG2 = "https://cdn.example.com/b.jpg"
LINK = "https://shop.example.com/spring"
Handler = Callable[[httpx.Request], httpx.Response]


def facebook(handler: Handler) -> tuple[FacebookDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return FacebookDeliverer(http, api_base_url=BASE), seen


def instagram(
    handler: Handler, *, max_polls: int = 5
) -> tuple[InstagramDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return InstagramDeliverer(http, api_base_url=BASE, poll_interval_s=0, max_polls=max_polls), seen


def request(
    network: Network = Network.FACEBOOK, text: str = "Spring sale starts today", **kwargs: Any
) -> PostRequest:
    fields: dict[str, Any] = {
        "network": network,
        "account_id": PAGE if network is Network.FACEBOOK else IG_USER,
        "access_token": TOKEN,
        "text": text,
        "idempotency_key": "content-1:acct-1",
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def ig_request(text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    kwargs.setdefault("media_urls", (IMG,))
    return request(Network.INSTAGRAM, text, **kwargs)


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    return lambda _: httpx.Response(status, json=body, headers=headers)


def graph_error(
    code: int, subcode: int | None = None, status: int = 400, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"error {code}", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


def body(sent: httpx.Request) -> Any:
    return json.loads(sent.content)


def routes(table: dict[tuple[str, str], Any]) -> Handler:
    """Answer by method and path; a list value answers its items in turn (the last repeats)."""

    def handle(request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path.removeprefix("/v21.0"))
        found = table[key]
        if isinstance(found, list):
            found = found.pop(0) if len(found) > 1 else found[0]
        return found(request) if callable(found) else httpx.Response(200, json=found)

    return handle


# --- Facebook: posts ----------------------------------------------------------------------------


async def test_facebook_post_sends_message_and_link_to_the_page_feed() -> None:
    fb, seen = facebook(answer(200, {"id": f"{PAGE}_555"}))

    published = await fb.post(request(link=LINK))

    assert published == Published(
        native_id=f"{PAGE}_555", url=f"https://www.facebook.com/{PAGE}_555"
    )
    (sent,) = seen
    assert sent.method == "POST"
    assert str(sent.url) == f"{BASE}/{PAGE}/feed"  # the token is not in the URL
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert body(sent) == {"message": "Spring sale starts today", "link": LINK}


async def test_facebook_one_image_is_a_photo_post_with_the_link_in_the_caption() -> None:
    fb, seen = facebook(answer(200, {"id": "900", "post_id": f"{PAGE}_556"}))

    published = await fb.post(request(media_urls=(IMG,), link=LINK))

    assert published.native_id == f"{PAGE}_556"  # the feed story, as ingest names threads
    (sent,) = seen
    assert str(sent.url) == f"{BASE}/{PAGE}/photos"
    assert body(sent) == {"url": IMG, "caption": f"Spring sale starts today\n\n{LINK}"}


async def test_facebook_several_images_are_uploaded_unpublished_then_attached() -> None:
    photo_ids = iter(["901", "902"])
    fb, seen = facebook(
        routes(
            {
                ("POST", f"/{PAGE}/photos"): lambda _: httpx.Response(
                    200, json={"id": next(photo_ids)}
                ),
                ("POST", f"/{PAGE}/feed"): {"id": f"{PAGE}_557"},
            }
        )
    )

    published = await fb.post(request(media_urls=(IMG, IMG2)))

    assert published.native_id == f"{PAGE}_557"
    assert [body(s) for s in seen] == [
        {"url": IMG, "published": False},
        {"url": IMG2, "published": False},
        {
            "message": "Spring sale starts today",
            "attached_media": [{"media_fbid": "901"}, {"media_fbid": "902"}],
        },
    ]


async def test_facebook_a_lost_answer_to_an_unpublished_upload_is_only_transient() -> None:
    fb, seen = facebook(raising(httpx.ReadTimeout))

    with pytest.raises(TransientDeliveryError):
        await fb.post(request(media_urls=(IMG, IMG2)))

    assert len(seen) == 1  # stopped before the post itself


async def test_facebook_reply_comments_on_the_post_or_comment() -> None:
    fb, seen = facebook(answer(200, {"id": "556_777"}))

    published = await fb.reply(
        request(text="Thanks!", in_reply_to=f"{PAGE}_556", media_urls=(IMG,), link=LINK)
    )

    assert published == Published(native_id="556_777", url=None)
    (sent,) = seen
    assert str(sent.url) == f"{BASE}/{PAGE}_556/comments"
    assert body(sent) == {"message": f"Thanks!\n\n{LINK}", "attachment_url": IMG}


@pytest.mark.parametrize(
    ("req", "code"),
    [
        (request(account_id="my-page"), "facebook.invalid_account"),
        (request(in_reply_to="../me/feed"), "facebook.invalid_reply_target"),
        (
            request(in_reply_to=f"{PAGE}_556", media_urls=(IMG, IMG2)),
            "facebook.media_unsupported",
        ),
    ],
)
async def test_facebook_refuses_what_it_cannot_send_before_sending(
    req: PostRequest, code: str
) -> None:
    fb, seen = facebook(answer(200, {"id": "1"}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await (fb.reply(req) if req.in_reply_to else fb.post(req))

    assert caught.value.code == code
    assert seen == []


async def test_facebook_post_and_reply_refuse_the_wrong_kind_of_request() -> None:
    fb, seen = facebook(answer(200, {"id": "1"}))

    with pytest.raises(ValueError, match="reply"):
        await fb.post(request(in_reply_to="1_2"))
    with pytest.raises(ValueError, match="in_reply_to"):
        await fb.reply(request())
    with pytest.raises(ValueError, match="instagram"):
        await fb.post(ig_request())
    assert seen == []


# --- errors (both) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (graph_error(190, 463), "facebook.token_invalid", "Reconnect"),
        (graph_error(102), "facebook.token_invalid", "Reconnect"),
        (graph_error(200), "facebook.missing_permission", "pages_manage_posts"),
        (graph_error(10), "facebook.missing_permission", "pages_manage_posts"),
        (graph_error(368), "facebook.policy_blocked", "policy"),
        (graph_error(506), "facebook.duplicate", "Change the wording"),
        (graph_error(100, 33), "facebook.not_found", "deleted"),
        (graph_error(100), "facebook.rejected", "error 100"),
    ],
)
async def test_facebook_refusals_are_permanent_with_a_code_and_a_message(
    error: dict[str, Any], code: str, words: str
) -> None:
    fb, _ = facebook(answer(400, error))

    with pytest.raises(PermanentDeliveryError) as caught:
        await fb.post(request())

    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (graph_error(190), "instagram.token_invalid", "Reconnect"),
        (graph_error(10), "instagram.missing_permission", "instagram_content_publish"),
        (graph_error(4, 2207051), "instagram.spam_restricted", "spam"),
        (graph_error(25, 2207050), "instagram.account_restricted", "restricted"),
        (graph_error(9004, 2207052), "instagram.media_invalid", "JPEG"),
        (graph_error(36000, 2207004), "instagram.media_invalid", "JPEG"),
        (graph_error(36004, 2207010), "instagram.too_long", "2,200"),
    ],
)
async def test_instagram_refusals_are_permanent_with_a_code_and_a_message(
    error: dict[str, Any], code: str, words: str
) -> None:
    ig, _ = instagram(answer(400, error))

    with pytest.raises(PermanentDeliveryError) as caught:
        await ig.post(ig_request())

    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("error", "headers", "wait"),
    [
        (
            graph_error(32),
            {
                "x-business-use-case-usage": json.dumps(
                    {PAGE: [{"type": "pages", "estimated_time_to_regain_access": 7}]}
                )
            },
            420.0,
        ),
        (graph_error(4), {"x-app-usage": json.dumps({"call_count": 100})}, 300.0),
        (graph_error(613), {}, 300.0),
        (graph_error(80001), {"x-business-use-case-usage": "not json"}, 300.0),
        (graph_error(17), {"x-app-usage": '{"estimated_time_to_regain_access": true}'}, 300.0),
    ],
)
async def test_rate_limits_wait_as_meta_estimates(
    error: dict[str, Any], headers: dict[str, str], wait: float
) -> None:
    fb, _ = facebook(answer(400, error, **headers))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await fb.post(request())

    assert caught.value.retry_after_s == wait


async def test_instagrams_daily_publishing_cap_waits_an_hour() -> None:
    ig, _ = instagram(answer(400, graph_error(9, 2207042)))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await ig.post(ig_request())

    assert caught.value.retry_after_s == 3600.0


async def test_http_429_is_a_rate_limit() -> None:
    fb, _ = facebook(lambda _: httpx.Response(429, text="slow down"))

    with pytest.raises(RateLimitedDeliveryError):
        await fb.post(request())


@pytest.mark.parametrize(
    "handler",
    [
        answer(500, graph_error(1)),
        answer(400, graph_error(2)),
        answer(400, graph_error(100, is_transient=True)),
        answer(400, graph_error(-2, 2207003)),
        answer(400, graph_error(9007, 2207027)),
        lambda _: httpx.Response(503, text="<html>"),
    ],
)
async def test_temporary_failures_are_transient(handler: Handler) -> None:
    fb, _ = facebook(handler)

    with pytest.raises(TransientDeliveryError):
        await fb.post(request())


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_that_lost_the_answer_to_a_post_is_ambiguous(status: int) -> None:
    fb, _ = facebook(lambda _: httpx.Response(status, text="<html>bad gateway</html>"))

    with pytest.raises(AmbiguousDeliveryError):
        await fb.post(request())


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_no_answer_after_sending_a_post_or_reply_is_ambiguous(
    exc: type[httpx.TransportError],
) -> None:
    fb, _ = facebook(raising(exc))

    with pytest.raises(AmbiguousDeliveryError):
        await fb.post(request())
    with pytest.raises(AmbiguousDeliveryError):
        await fb.reply(request(in_reply_to=f"{PAGE}_556"))


async def test_no_connection_is_transient() -> None:
    fb, _ = facebook(raising(httpx.ConnectError))

    with pytest.raises(TransientDeliveryError, match="nothing was sent"):
        await fb.post(request())


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"success": True}),
        httpx.Response(200, json={"id": 42}),
    ],
)
async def test_a_success_we_cannot_read_is_ambiguous(response: httpx.Response) -> None:
    fb, _ = facebook(lambda _: response)

    with pytest.raises(AmbiguousDeliveryError):
        await fb.post(request())


# --- Facebook: find -----------------------------------------------------------------------------

ATTEMPT = datetime(2025, 11, 27, 10, 0, tzinfo=UTC)
AT = "2025-11-27T10:00:03+0000"


def item(
    item_id: str, text: str, *, key: str = "message", author: str | None = None, **fields: Any
) -> dict[str, Any]:
    found = {"id": item_id, key: text, "created_time": AT, "timestamp": AT, **fields}
    if author is not None:
        found["from"] = {"id": author}
    return found


async def test_facebook_find_reads_the_page_feed_and_matches_text_author_and_time() -> None:
    fb, seen = facebook(
        answer(
            200,
            {
                "data": [
                    item(f"{PAGE}_9", "Spring sale starts today", author="42"),
                    item(
                        f"{PAGE}_8",
                        "Spring sale starts today",
                        created_time="2025-11-01T10:00:00+0000",
                    ),
                    item(f"{PAGE}_7", "Spring sale starts today", author=PAGE),
                ]
            },
        )
    )

    found = await fb.find(request(attempted_at=ATTEMPT))

    assert found == Published(native_id=f"{PAGE}_7", url=f"https://www.facebook.com/{PAGE}_7")
    (sent,) = seen
    assert sent.method == "GET"
    assert sent.url.path == f"/v21.0/{PAGE}/feed"
    assert sent.url.params["fields"] == "id,message,created_time,from"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


async def test_facebook_find_matches_a_photo_post_by_its_caption_with_the_link() -> None:
    fb, _ = facebook(
        answer(200, {"data": [item(f"{PAGE}_7", f"Spring sale starts today\n\n{LINK}")]})
    )

    found = await fb.find(request(media_urls=(IMG,), link=LINK))

    assert found is not None
    assert found.native_id == f"{PAGE}_7"


async def test_facebook_find_a_reply_reads_the_parents_comments_newest_first() -> None:
    fb, seen = facebook(answer(200, {"data": [item("556_1", "Other"), item("556_2", "Thanks!")]}))

    found = await fb.find(request(text="Thanks!", in_reply_to=f"{PAGE}_556"))

    assert found == Published(native_id="556_2", url=None)
    assert seen[0].url.path == f"/v21.0/{PAGE}_556/comments"
    assert seen[0].url.params["order"] == "reverse_chronological"


async def test_facebook_find_returns_none_when_nothing_matches() -> None:
    fb, _ = facebook(answer(200, {"data": [item(f"{PAGE}_7", "Another post")]}))

    assert await fb.find(request()) is None


@pytest.mark.parametrize(
    "response",
    [httpx.Response(200, text="<html>"), httpx.Response(200, json={"data": "nope"})],
)
async def test_find_with_a_malformed_answer_is_transient(response: httpx.Response) -> None:
    fb, _ = facebook(lambda _: response)

    with pytest.raises(TransientDeliveryError):
        await fb.find(request())


async def test_a_timeout_while_finding_is_transient() -> None:
    fb, _ = facebook(raising(httpx.ReadTimeout))

    with pytest.raises(TransientDeliveryError):
        await fb.find(request())


# --- Instagram: posts ---------------------------------------------------------------------------

PERMALINK = "https://www.instagram.com/p/AbC123/"


def ig_flow(statuses: list[str]) -> dict[tuple[str, str], Any]:
    """A container flow whose containers answer ``statuses`` in turn."""
    container_ids = iter(["18001", "18002", "18003"])
    table: dict[tuple[str, str], Any] = {
        ("POST", f"/{IG_USER}/media"): lambda _: httpx.Response(
            200, json={"id": next(container_ids)}
        ),
        ("POST", f"/{IG_USER}/media_publish"): {"id": "17900000000000001"},
        ("GET", "/17900000000000001"): {"id": "17900000000000001", "permalink": PERMALINK},
    }
    for container in ("18001", "18002", "18003"):
        table[("GET", f"/{container}")] = [
            {"id": container, "status_code": status, "status": f"{status}: detail"}
            for status in statuses
        ]
    return table


async def test_instagram_post_makes_a_container_waits_until_ready_and_publishes() -> None:
    ig, seen = instagram(routes(ig_flow(["IN_PROGRESS", "IN_PROGRESS", "FINISHED"])))

    published = await ig.post(ig_request(link=LINK))

    assert published == Published(native_id="17900000000000001", url=PERMALINK)
    calls = [(s.method, s.url.path.removeprefix("/v21.0")) for s in seen]
    assert calls == [
        ("POST", f"/{IG_USER}/media"),
        ("GET", "/18001"),
        ("GET", "/18001"),
        ("GET", "/18001"),
        ("POST", f"/{IG_USER}/media_publish"),
        ("GET", "/17900000000000001"),
    ]
    assert body(seen[0]) == {"image_url": IMG, "caption": f"Spring sale starts today\n\n{LINK}"}
    assert seen[1].url.params["fields"] == "status_code,status"
    assert body(seen[4]) == {"creation_id": "18001"}
    assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in seen)


async def test_instagram_several_images_are_a_carousel_of_child_containers() -> None:
    ig, seen = instagram(routes(ig_flow(["FINISHED"])))

    await ig.post(ig_request(media_urls=(IMG, IMG2)))

    containers = [body(s) for s in seen if s.url.path.endswith("/media")]
    assert containers == [
        {"image_url": IMG, "is_carousel_item": True},
        {"image_url": IMG2, "is_carousel_item": True},
        {
            "media_type": "CAROUSEL",
            "children": ["18001", "18002"],
            "caption": "Spring sale starts today",
        },
    ]
    assert body(seen[-2]) == {"creation_id": "18003"}


@pytest.mark.parametrize(
    ("status", "code"),
    [("ERROR", "instagram.media_failed"), ("EXPIRED", "instagram.media_expired")],
)
async def test_instagram_a_container_that_fails_is_permanent_and_never_published(
    status: str, code: str
) -> None:
    ig, seen = instagram(routes(ig_flow(["IN_PROGRESS", status])))

    with pytest.raises(PermanentDeliveryError) as caught:
        await ig.post(ig_request())

    assert caught.value.code == code
    assert "detail" in caught.value.message
    assert not any(s.url.path.endswith("media_publish") for s in seen)


async def test_instagram_a_container_still_processing_after_max_polls_is_transient() -> None:
    ig, seen = instagram(routes(ig_flow(["IN_PROGRESS"])), max_polls=3)

    with pytest.raises(TransientDeliveryError, match="nothing was published"):
        await ig.post(ig_request())

    assert sum(s.method == "GET" for s in seen) == 3
    assert not any(s.url.path.endswith("media_publish") for s in seen)


async def test_instagram_only_a_lost_answer_to_media_publish_is_ambiguous() -> None:
    ig, _ = instagram(
        routes(ig_flow(["FINISHED"]) | {("POST", f"/{IG_USER}/media"): raising(httpx.ReadTimeout)})
    )
    with pytest.raises(TransientDeliveryError):
        await ig.post(ig_request())

    ig, _ = instagram(
        routes(
            ig_flow(["FINISHED"])
            | {("POST", f"/{IG_USER}/media_publish"): raising(httpx.ReadTimeout)}
        )
    )
    with pytest.raises(AmbiguousDeliveryError):
        await ig.post(ig_request())


async def test_instagram_a_failed_permalink_read_still_reports_the_post() -> None:
    ig, _ = instagram(
        routes(ig_flow(["FINISHED"]) | {("GET", "/17900000000000001"): answer(500, graph_error(2))})
    )

    published = await ig.post(ig_request())

    assert published == Published(native_id="17900000000000001", url=None)


@pytest.mark.parametrize(
    ("req", "code"),
    [
        (ig_request(media_urls=()), "instagram.media_required"),
        (
            ig_request(media_urls=("https://cdn.example.com/clip.MP4",)),
            "instagram.video_unsupported",
        ),
        (ig_request(account_id="brand_official"), "instagram.invalid_account"),
        (ig_request(in_reply_to="179000", media_urls=(IMG,)), "instagram.media_unsupported"),
    ],
)
async def test_instagram_refuses_what_it_cannot_send_before_sending(
    req: PostRequest, code: str
) -> None:
    ig, seen = instagram(answer(200, {"id": "1"}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await (ig.reply(req) if req.in_reply_to else ig.post(req))

    assert caught.value.code == code
    assert seen == []


async def test_instagram_reply_answers_the_comment() -> None:
    ig, seen = instagram(answer(200, {"id": "17800000000000002"}))

    published = await ig.reply(
        ig_request("Thanks!", media_urls=(), in_reply_to="17800000000000001")
    )

    assert published == Published(native_id="17800000000000002", url=None)
    (sent,) = seen
    assert str(sent.url) == f"{BASE}/17800000000000001/replies"
    assert body(sent) == {"message": "Thanks!"}


async def test_instagram_rejects_bad_poll_settings() -> None:
    http, _ = recording_client(answer(200, {}))

    with pytest.raises(ValueError, match="max_polls"):
        InstagramDeliverer(http, max_polls=0)


# --- Instagram: find ----------------------------------------------------------------------------


async def test_instagram_find_reads_recent_media_and_matches_the_caption() -> None:
    ig, seen = instagram(
        answer(
            200,
            {
                "data": [
                    item("17900000000000003", "Another caption", key="caption"),
                    item(
                        "17900000000000002",
                        f"Spring sale starts today\n\n{LINK}",
                        key="caption",
                        permalink=PERMALINK,
                    ),
                ]
            },
        )
    )

    found = await ig.find(ig_request(link=LINK, attempted_at=ATTEMPT))

    assert found == Published(native_id="17900000000000002", url=PERMALINK)
    assert seen[0].url.path == f"/v21.0/{IG_USER}/media"
    assert seen[0].url.params["fields"] == "id,caption,timestamp,permalink"


async def test_instagram_find_ignores_an_older_post_with_the_same_caption() -> None:
    old = item("1", "Spring sale starts today", key="caption", timestamp="2025-11-01T10:00:00+0000")
    ig, _ = instagram(answer(200, {"data": [old]}))

    assert await ig.find(ig_request(attempted_at=ATTEMPT)) is None


async def test_instagram_find_a_reply_reads_the_comments_replies() -> None:
    ig, seen = instagram(answer(200, {"data": [item("17800000000000002", "Thanks!", key="text")]}))

    found = await ig.find(ig_request("Thanks!", media_urls=(), in_reply_to="17800000000000001"))

    assert found == Published(native_id="17800000000000002", url=None)
    assert seen[0].url.path == "/v21.0/17800000000000001/replies"


async def test_the_timeout_is_the_deliverers_own() -> None:
    http, seen = recording_client(answer(200, {"id": f"{PAGE}_1"}))
    fb = FacebookDeliverer(http, api_base_url=BASE, timeout_s=7.5)
    ig = InstagramDeliverer(http, api_base_url=BASE, timeout_s=7.5)

    await fb.post(request())
    await ig.reply(ig_request("Thanks!", media_urls=(), in_reply_to="17800000000000001"))

    assert [s.extensions["timeout"]["read"] for s in seen] == [7.5, 7.5]
