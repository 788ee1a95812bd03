"""The X delivery client against a mock transport: request shape, answers, every error, find."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_publisher.adapters.delivery.x import XDeliverer
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

NOW = 1_764_238_500.0
USER_ID = "1580000000000000001"
TOKEN = "user-token-x"
Handler = Callable[[httpx.Request], httpx.Response]


def deliverer(handler: Handler) -> tuple[XDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return XDeliverer(http, api_base_url="https://x.test", clock=lambda: NOW), seen


def request(text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": Network.X,
        "account_id": USER_ID,
        "access_token": TOKEN,
        "text": text,
        "idempotency_key": "content-1:acct-1",
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    return lambda _: httpx.Response(status, json=body, headers=headers)


def problem(status: int, detail: str, kind: str = "about:blank") -> Handler:
    title = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
    return answer(status, {"title": title, "detail": detail, "type": kind, "status": status})


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


CREATED = {"data": {"id": "1790000000000000042", "text": "Spring sale starts today"}}


# --- post and reply -----------------------------------------------------------------------------


async def test_post_sends_the_text_with_the_user_token_and_returns_id_and_url() -> None:
    x, seen = deliverer(answer(201, CREATED))

    published = await x.post(request())

    assert published == Published(
        native_id="1790000000000000042", url="https://x.com/i/web/status/1790000000000000042"
    )
    (sent,) = seen
    assert sent.method == "POST"
    assert str(sent.url) == "https://x.test/2/tweets"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(sent.content) == {"text": "Spring sale starts today"}


async def test_reply_names_the_tweet_it_answers() -> None:
    x, seen = deliverer(answer(201, CREATED))

    await x.reply(request("@fan thanks!", in_reply_to="1790000000000000001"))

    assert json.loads(seen[0].content) == {
        "text": "@fan thanks!",
        "reply": {"in_reply_to_tweet_id": "1790000000000000001"},
    }


async def test_post_and_reply_refuse_the_wrong_kind_of_request() -> None:
    x, seen = deliverer(answer(201, CREATED))

    with pytest.raises(ValueError, match="reply"):
        await x.post(request(in_reply_to="1"))
    with pytest.raises(ValueError, match="in_reply_to"):
        await x.reply(request())
    with pytest.raises(ValueError, match="telegram"):
        await x.post(request(network=Network.TELEGRAM))
    assert seen == []


# --- media -------------------------------------------------------------------------------------

IMG_A = "https://cdn.example.com/a.jpg"
IMG_B = "https://cdn.example.com/b.png"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"png-bytes" * 10


def with_media(
    files: dict[str, httpx.Response] | None = None,
    upload: Handler | None = None,
    tweet: Handler | None = None,
) -> Handler:
    """Answers the CDN with ``files``, the upload with ids 1700..., and the tweet."""
    cdn = files or {
        IMG_A: httpx.Response(200, content=JPEG, headers={"content-type": "image/jpeg"}),
        IMG_B: httpx.Response(
            200, content=PNG, headers={"content-type": "application/octet-stream"}
        ),
    }
    uploads = iter(range(1_700_000_000_000_000_001, 1_800_000_000_000_000_000))

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example.com":
            return cdn.get(str(request.url), httpx.Response(404))
        if request.url.path == "/2/media/upload":
            if upload is not None:
                return upload(request)
            media_id = str(next(uploads))
            return httpx.Response(
                200, json={"data": {"id": media_id, "media_key": f"3_{media_id}", "size": 1}}
            )
        return (tweet or answer(201, CREATED))(request)

    return handle


def multipart_fields(request: httpx.Request) -> dict[str, bytes]:
    """The parts of a multipart request body, by name."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    fields: dict[str, bytes] = {}
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, body = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        fields[name] = body
    return fields


async def test_images_are_downloaded_uploaded_and_attached_to_the_tweet() -> None:
    x, seen = deliverer(with_media())

    published = await x.post(request(media_urls=(IMG_A, IMG_B)))

    assert published.native_id == "1790000000000000042"
    assert [(r.method, r.url.host, r.url.path) for r in seen] == [
        ("GET", "cdn.example.com", "/a.jpg"),
        ("GET", "cdn.example.com", "/b.png"),
        ("POST", "x.test", "/2/media/upload"),
        ("POST", "x.test", "/2/media/upload"),
        ("POST", "x.test", "/2/tweets"),
    ]
    assert "authorization" not in seen[0].headers  # the CDN never sees the user's token
    first, second = seen[2], seen[3]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert multipart_fields(first) == {
        "media_category": b"tweet_image",
        "media_type": b"image/jpeg",
        "media": JPEG,
    }
    # The CDN said octet-stream; the bytes say PNG, and X is told what they are.
    assert multipart_fields(second)["media_type"] == b"image/png"
    assert json.loads(seen[4].content) == {
        "text": "Spring sale starts today",
        "media": {"media_ids": ["1700000000000000001", "1700000000000000002"]},
    }


async def test_a_reply_can_carry_an_image() -> None:
    x, seen = deliverer(with_media())

    await x.reply(request("Here it is", in_reply_to="1790000000000000001", media_urls=(IMG_A,)))

    assert json.loads(seen[-1].content) == {
        "text": "Here it is",
        "reply": {"in_reply_to_tweet_id": "1790000000000000001"},
        "media": {"media_ids": ["1700000000000000001"]},
    }


@pytest.mark.parametrize(
    "cdn_answer",
    [httpx.Response(404, text="Not Found"), httpx.Response(503, text="down")],
)
async def test_an_image_that_cannot_be_downloaded_is_named_and_nothing_reaches_x(
    cdn_answer: httpx.Response,
) -> None:
    x, seen = deliverer(with_media({IMG_A: cdn_answer}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request(media_urls=(IMG_A,)))

    assert caught.value.code == "x.media_unavailable"
    assert IMG_A in caught.value.message
    assert str(cdn_answer.status_code) in caught.value.message
    assert [r.url.host for r in seen] == ["cdn.example.com"]


async def test_an_image_host_that_cannot_be_reached_is_named() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    x, _ = deliverer(handle)

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request(media_urls=(IMG_A,)))

    assert caught.value.code == "x.media_unavailable"
    assert IMG_A in caught.value.message


@pytest.mark.parametrize(
    "cdn_answer",
    [
        # Declared too large: refused without reading it.
        httpx.Response(200, content=JPEG, headers={"content-length": str(6 * 1024 * 1024)}),
        # Not declared, and more than 5 MB arrive.
        httpx.Response(200, content=b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)),
    ],
)
async def test_an_image_over_5_mb_is_refused_before_uploading(cdn_answer: httpx.Response) -> None:
    x, seen = deliverer(with_media({IMG_A: cdn_answer}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request(media_urls=(IMG_A,)))

    assert caught.value.code == "x.media_too_large"
    assert "5 MB" in caught.value.message
    assert [r.url.host for r in seen] == ["cdn.example.com"]


async def test_a_file_that_is_no_image_x_takes_is_refused() -> None:
    page = httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"})
    x, seen = deliverer(with_media({IMG_A: page}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request(media_urls=(IMG_A,)))

    assert caught.value.code == "x.media_unsupported"
    assert "text/html" in caught.value.message
    assert len(seen) == 1


async def test_an_upload_forbidden_for_the_token_asks_for_media_write() -> None:
    x, seen = deliverer(with_media(upload=problem(403, "Forbidden")))

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request(media_urls=(IMG_A,)))

    assert caught.value.code == "x.missing_permission"
    assert "media.write" in caught.value.message
    assert all(r.url.path != "/2/tweets" for r in seen)


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (raising(httpx.ReadTimeout), TransientDeliveryError),  # an upload posts nothing
        (answer(200, {"data": {}}), TransientDeliveryError),
        (problem(401, "Unauthorized"), PermanentDeliveryError),
        (answer(429, {"title": "Too Many Requests"}), RateLimitedDeliveryError),
    ],
)
async def test_a_failed_upload_stops_before_the_tweet(
    upload: Handler, error: type[Exception]
) -> None:
    x, seen = deliverer(with_media(upload=upload))

    with pytest.raises(error):
        await x.post(request(media_urls=(IMG_A,)))

    assert all(r.url.path != "/2/tweets" for r in seen)


async def test_the_timeout_is_the_deliverers() -> None:
    http, seen = recording_client(with_media())
    x = XDeliverer(http, api_base_url="https://x.test", clock=lambda: NOW, timeout_s=2.5)

    await x.post(request(media_urls=(IMG_A,)))

    assert {r.extensions["timeout"]["read"] for r in seen} == {2.5}


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "code", "words"),
    [
        (problem(401, "Unauthorized"), "x.token_invalid", "Reconnect"),
        (
            problem(403, "You are not allowed to create a Tweet with duplicate content."),
            "x.duplicate",
            "Change the wording",
        ),
        (
            problem(403, "Your Tweet text is too long."),
            "x.too_long",
            "Shorten",
        ),
        (
            problem(403, "Your account is suspended and is not permitted to access this feature"),
            "x.account_suspended",
            "suspended",
        ),
        (
            problem(
                403,
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            ),
            "x.missing_permission",
            "tweet.write",
        ),
        (
            problem(
                403,
                "Reply to this conversation is not allowed because you have not been mentioned.",
            ),
            "x.reply_not_allowed",
            "reply",
        ),
        (problem(403, "You are not permitted to perform this action."), "x.forbidden", "403"),
        (
            answer(
                400,
                {
                    "errors": [{"message": "$.text: must not be blank"}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            ),
            "x.rejected",
            "must not be blank",
        ),
    ],
)
async def test_refusals_are_permanent_with_a_code_and_a_message_that_says_what_to_fix(
    handler: Handler, code: str, words: str
) -> None:
    x, _ = deliverer(handler)

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request())

    assert caught.value.code == code
    assert words in caught.value.message


async def test_429_waits_until_x_rate_limit_reset() -> None:
    x, _ = deliverer(
        answer(429, {"title": "Too Many Requests"}, **{"x-rate-limit-reset": str(int(NOW) + 90)})
    )

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await x.post(request())

    assert caught.value.retry_after_s == 90.0


async def test_429_waits_for_the_daily_cap_when_that_is_what_ran_out() -> None:
    headers = {
        "x-rate-limit-reset": str(int(NOW) + 90),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(int(NOW) + 7200),
    }
    x, _ = deliverer(answer(429, {"title": "Too Many Requests"}, **headers))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await x.post(request())

    assert caught.value.retry_after_s == 7200.0


async def test_429_without_a_reset_header_waits_a_minute() -> None:
    x, _ = deliverer(answer(429, {"title": "Too Many Requests"}))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await x.post(request())

    assert caught.value.retry_after_s == 60.0


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_transient(status: int) -> None:
    x, _ = deliverer(lambda _: httpx.Response(status, text="<html>oops</html>"))

    with pytest.raises(TransientDeliveryError):
        await x.post(request())


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_that_lost_the_answer_is_ambiguous(status: int) -> None:
    x, _ = deliverer(lambda _: httpx.Response(status, text="<html>bad gateway</html>"))

    with pytest.raises(AmbiguousDeliveryError):
        await x.post(request())


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
async def test_no_answer_after_sending_is_ambiguous(exc: type[httpx.TransportError]) -> None:
    x, seen = deliverer(raising(exc))

    with pytest.raises(AmbiguousDeliveryError, match="may have been published"):
        await x.post(request())

    assert len(seen) == 1  # the request was built and handed over: it may have arrived


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_no_connection_is_transient(exc: type[httpx.TransportError]) -> None:
    x, _ = deliverer(raising(exc))

    with pytest.raises(TransientDeliveryError, match="nothing was sent"):
        await x.post(request())


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(201, text="not json"),
        httpx.Response(201, json=["a list"]),
        httpx.Response(201, json={"data": {"text": "no id"}}),
    ],
)
async def test_a_success_we_cannot_read_is_ambiguous_never_a_crash(
    response: httpx.Response,
) -> None:
    x, _ = deliverer(lambda _: response)

    with pytest.raises(AmbiguousDeliveryError):
        await x.post(request())


async def test_an_unreadable_error_answer_is_classified_by_its_status() -> None:
    x, _ = deliverer(lambda _: httpx.Response(401, text="<html>nope</html>"))

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.post(request())

    assert caught.value.code == "x.token_invalid"


# --- find ---------------------------------------------------------------------------------------

ATTEMPT = datetime(2025, 11, 27, 10, 0, tzinfo=UTC)


def timeline(*tweets: dict[str, Any]) -> Handler:
    return answer(200, {"data": list(tweets), "meta": {"result_count": len(tweets)}})


def tweet(tweet_id: str, text: str, **fields: Any) -> dict[str, Any]:
    return {"id": tweet_id, "text": text, "created_at": "2025-11-27T10:00:03.000Z", **fields}


async def test_find_reads_recent_tweets_since_the_attempt_and_matches_the_text() -> None:
    text = "Sale & more: https://shop.example.com/spring?utm_source=x"
    x, seen = deliverer(
        timeline(
            tweet("1790000000000000050", "Something else"),
            tweet("1790000000000000042", "Sale &amp; more: https://t.co/AbCdEf123"),
        )
    )

    found = await x.find(request(text, attempted_at=ATTEMPT))

    assert found == Published(
        native_id="1790000000000000042", url="https://x.com/i/web/status/1790000000000000042"
    )
    (sent,) = seen
    assert sent.method == "GET"
    assert sent.url.path == f"/2/users/{USER_ID}/tweets"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.url.params["start_time"] == "2025-11-27T09:55:00Z"
    assert sent.url.params["exclude"] == "retweets"


async def test_find_matches_a_reply_by_parent_and_text_without_the_leading_mentions() -> None:
    reply = tweet(
        "1790000000000000043",
        "@fan @other thanks for asking!",
        referenced_tweets=[{"type": "replied_to", "id": "1790000000000000001"}],
    )
    x, _ = deliverer(timeline(reply))

    found = await x.find(request("thanks for asking!", in_reply_to="1790000000000000001"))

    assert found is not None
    assert found.native_id == "1790000000000000043"


@pytest.mark.parametrize(
    "listed",
    [
        tweet("1790000000000000042", "Spring sale starts tomorrow"),
        # Same text, but published before this attempt: an older post, not ours.
        {
            **tweet("1790000000000000001", "Spring sale starts today"),
            "created_at": "2025-11-20T10:00:00Z",
        },
        # Same text as a reply: not the new post we look for.
        tweet(
            "1790000000000000042",
            "Spring sale starts today",
            referenced_tweets=[{"type": "replied_to", "id": "17"}],
        ),
    ],
)
async def test_find_returns_none_when_no_recent_tweet_is_ours(listed: dict[str, Any]) -> None:
    x, _ = deliverer(timeline(listed))

    assert await x.find(request(attempted_at=ATTEMPT)) is None


async def test_find_allows_for_the_media_link_x_appends_to_a_tweet_with_images() -> None:
    listed = tweet("1790000000000000042", "Spring sale starts today https://t.co/MeDiA123")
    x, _ = deliverer(timeline(listed))

    found = await x.find(request(media_urls=(IMG_A,), attempted_at=ATTEMPT))

    assert found is not None
    assert found.native_id == "1790000000000000042"
    # Without media the same tweet is not a match: the link is part of some other text.
    assert await x.find(request(attempted_at=ATTEMPT)) is None


async def test_find_on_an_empty_timeline_returns_none() -> None:
    x, _ = deliverer(answer(200, {"meta": {"result_count": 0}}))

    assert await x.find(request()) is None


@pytest.mark.parametrize(
    "response",
    [httpx.Response(200, text="<html>"), httpx.Response(200, json={"data": "nope"})],
)
async def test_find_with_a_malformed_answer_is_transient(response: httpx.Response) -> None:
    x, _ = deliverer(lambda _: response)

    with pytest.raises(TransientDeliveryError):
        await x.find(request())


async def test_a_timeout_while_finding_is_transient_because_a_lookup_posts_nothing() -> None:
    x, _ = deliverer(raising(httpx.ReadTimeout))

    with pytest.raises(TransientDeliveryError):
        await x.find(request())


async def test_find_maps_errors_like_a_post() -> None:
    x, _ = deliverer(problem(401, "Unauthorized"))

    with pytest.raises(PermanentDeliveryError) as caught:
        await x.find(request())

    assert caught.value.code == "x.token_invalid"
