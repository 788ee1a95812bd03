"""The Mastodon delivery client against a mock transport: idempotency key, errors, find."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_publisher.adapters.delivery.mastodon import MastodonDeliverer, html_to_text
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

NOW = datetime(2025, 11, 27, 10, 0, tzinfo=UTC)
ACCOUNT = "109000000000000001"
TOKEN = "masto-token"
KEY = "content-1:acct-1"
Handler = Callable[[httpx.Request], httpx.Response]


def deliverer(handler: Handler) -> tuple[MastodonDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return MastodonDeliverer(http, instance_url="https://social.test/", clock=lambda: NOW), seen


def request(text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": Network.MASTODON,
        "account_id": ACCOUNT,
        "access_token": TOKEN,
        "text": text,
        "idempotency_key": KEY,
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def status(status_id: str, content: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": status_id,
        "created_at": "2025-11-27T10:00:02.000Z",
        "in_reply_to_id": None,
        "content": content,
        "url": f"https://social.test/@acme/{status_id}",
        "uri": f"https://social.test/users/acme/statuses/{status_id}",
        **fields,
    }


def answer(code: int, body: Any = None, **headers: str) -> Handler:
    return lambda _: httpx.Response(code, json=body, headers=headers)


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


CREATED = status("113000000000000042", "<p>Spring sale starts today</p>")


# --- post and reply -----------------------------------------------------------------------------


async def test_post_sends_the_status_with_the_idempotency_key_and_returns_its_url() -> None:
    masto, seen = deliverer(answer(200, CREATED))

    published = await masto.post(request())

    assert published == Published(
        native_id="113000000000000042", url="https://social.test/@acme/113000000000000042"
    )
    (sent,) = seen
    assert sent.method == "POST"
    assert str(sent.url) == "https://social.test/api/v1/statuses"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["idempotency-key"] == KEY
    assert json.loads(sent.content) == {"status": "Spring sale starts today"}


async def test_reply_sets_in_reply_to_id_and_keeps_the_key() -> None:
    masto, seen = deliverer(answer(200, CREATED))

    await masto.reply(request("@fan thanks!", in_reply_to="113000000000000001"))

    assert json.loads(seen[0].content) == {
        "status": "@fan thanks!",
        "in_reply_to_id": "113000000000000001",
    }
    assert seen[0].headers["idempotency-key"] == KEY


async def test_a_retry_sends_the_same_key_so_mastodon_answers_with_the_first_status() -> None:
    masto, seen = deliverer(answer(200, CREATED))

    first = await masto.post(request())
    again = await masto.post(request())

    assert first == again
    assert [r.headers["idempotency-key"] for r in seen] == [KEY, KEY]


async def test_a_status_without_url_falls_back_to_its_uri() -> None:
    masto, _ = deliverer(answer(200, {**CREATED, "url": None}))

    published = await masto.post(request())

    assert published.url == "https://social.test/users/acme/statuses/113000000000000042"


async def test_requests_without_a_key_are_refused_before_sending() -> None:
    masto, seen = deliverer(answer(200, CREATED))

    with pytest.raises(ValueError, match="idempotency_key"):
        await masto.post(request(idempotency_key=""))
    assert seen == []


# --- media -------------------------------------------------------------------------------------

IMG = "https://cdn.example.com/a.png"
PNG = b"\x89PNG\r\n\x1a\n" + b"png-bytes" * 10


def attachment(media_id: str, url: str | None) -> dict[str, Any]:
    return {"id": media_id, "type": "image", "url": url, "preview_url": url}


UPLOADED = answer(200, attachment("110000000000000007", "https://files.test/a.png"))


def with_media(
    upload: Handler = UPLOADED,
    media: Handler | None = None,
    cdn: httpx.Response | None = None,
) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example.com":
            return cdn or httpx.Response(200, content=PNG)
        if request.url.path == "/api/v2/media":
            return upload(request)
        if request.url.path.startswith("/api/v1/media/") and media is not None:
            return media(request)
        if request.url.path.startswith("/api/v1/accounts/"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=CREATED)

    return handle


def no_sleep() -> tuple[list[float], Any]:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    return waited, sleep


async def test_an_image_is_uploaded_then_attached_to_the_status() -> None:
    masto, seen = deliverer(with_media())

    await masto.post(request(media_urls=(IMG,)))

    assert [(r.method, r.url.host, r.url.path) for r in seen] == [
        ("GET", "cdn.example.com", "/a.png"),
        ("POST", "social.test", "/api/v2/media"),
        ("POST", "social.test", "/api/v1/statuses"),
    ]
    upload = seen[1]
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="a.png"' in upload.content
    assert b"Content-Type: image/png" in upload.content
    assert PNG in upload.content
    assert json.loads(seen[2].content) == {
        "status": "Spring sale starts today",
        "media_ids": ["110000000000000007"],
    }
    assert seen[2].headers["idempotency-key"] == KEY


async def test_an_upload_still_processing_is_polled_until_it_has_a_url() -> None:
    answers = iter(
        [
            httpx.Response(206, json=attachment("110000000000000007", None)),
            httpx.Response(200, json=attachment("110000000000000007", "https://files.test/a")),
        ]
    )
    waited, sleep = no_sleep()
    http, seen = recording_client(
        with_media(
            upload=answer(202, attachment("110000000000000007", None)),
            media=lambda _: next(answers),
        )
    )
    masto = MastodonDeliverer(
        http,
        instance_url="https://social.test",
        clock=lambda: NOW,
        sleep=sleep,
        media_poll_interval_s=0.5,
    )

    await masto.post(request(media_urls=(IMG,)))

    polls = [r for r in seen if r.url.path == "/api/v1/media/110000000000000007"]
    assert len(polls) == 2
    assert waited == [0.5, 0.5]
    assert json.loads(seen[-1].content)["media_ids"] == ["110000000000000007"]


async def test_an_upload_that_never_finishes_processing_is_transient_and_posts_nothing() -> None:
    waited, sleep = no_sleep()
    http, seen = recording_client(
        with_media(
            upload=answer(202, attachment("110000000000000007", None)),
            media=answer(206, attachment("110000000000000007", None)),
        )
    )
    masto = MastodonDeliverer(http, instance_url="https://social.test", sleep=sleep)

    with pytest.raises(TransientDeliveryError, match="still processing"):
        await masto.post(request(media_urls=(IMG,)))

    assert len(waited) == 30
    assert all(r.url.path != "/api/v1/statuses" for r in seen)


@pytest.mark.parametrize(
    ("cdn", "code"),
    [
        (httpx.Response(404), "mastodon.media_unavailable"),
        (httpx.Response(200, content=b""), "mastodon.media_unavailable"),
        (
            httpx.Response(200, content=b"%PDF-1.7", headers={"content-type": "application/pdf"}),
            "mastodon.media_unsupported",
        ),
        (
            httpx.Response(200, content=PNG, headers={"content-length": str(11 * 1024 * 1024)}),
            "mastodon.media_too_large",
        ),
    ],
)
async def test_a_file_that_cannot_be_posted_is_refused_before_uploading(
    cdn: httpx.Response, code: str
) -> None:
    masto, seen = deliverer(with_media(cdn=cdn))

    with pytest.raises(PermanentDeliveryError) as caught:
        await masto.post(request(media_urls=(IMG,)))

    assert caught.value.code == code
    assert IMG in caught.value.message
    assert [r.url.host for r in seen] == ["cdn.example.com"]


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (raising(httpx.ReadTimeout), TransientDeliveryError),
        (answer(200, {"type": "image"}), TransientDeliveryError),
        (
            answer(422, {"error": "Validation failed: File content type is invalid"}),
            PermanentDeliveryError,
        ),
        (answer(401, {"error": "The access token is invalid"}), PermanentDeliveryError),
    ],
)
async def test_a_failed_upload_stops_before_the_status(
    upload: Handler, error: type[Exception]
) -> None:
    masto, seen = deliverer(with_media(upload=upload))

    with pytest.raises(error):
        await masto.post(request(media_urls=(IMG,)))

    assert all(r.url.path != "/api/v1/statuses" for r in seen)


async def test_a_status_refused_for_unprocessed_media_is_transient() -> None:
    masto, _ = deliverer(
        answer(
            422,
            {
                "error": "Cannot attach files that have not finished processing. Try again in a moment!"
            },
        )
    )

    with pytest.raises(TransientDeliveryError):
        await masto.post(request())


async def test_the_timeout_is_the_deliverers() -> None:
    http, seen = recording_client(with_media())
    masto = MastodonDeliverer(http, instance_url="https://social.test", timeout_s=3.0)

    await masto.post(request(media_urls=(IMG,)))
    assert await masto.find(request()) is None

    assert {r.extensions["timeout"]["read"] for r in seen} == {3.0}


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code_in", "error", "code", "words"),
    [
        (401, "The access token was revoked", "mastodon.token_invalid", "Reconnect"),
        (
            403,
            "This action is outside the authorized scopes",
            "mastodon.missing_permission",
            "write:statuses",
        ),
        (403, "Your login is currently disabled", "mastodon.account_suspended", "moderators"),
        (
            422,
            "Validation failed: Text character limit of 500 exceeded",
            "mastodon.too_long",
            "Shorten",
        ),
        (422, "Validation failed: Text can't be blank", "mastodon.rejected", "can't be blank"),
        (404, "Record not found", "mastodon.not_found", "deleted"),
    ],
)
async def test_refusals_are_permanent_with_a_code_and_a_message_that_says_what_to_fix(
    code_in: int, error: str, code: str, words: str
) -> None:
    masto, _ = deliverer(answer(code_in, {"error": error}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await masto.post(request())

    assert caught.value.code == code
    assert words in caught.value.message


async def test_429_waits_until_x_ratelimit_reset() -> None:
    masto, _ = deliverer(
        answer(
            429,
            {"error": "Too many requests"},
            **{"X-RateLimit-Reset": "2025-11-27T10:02:30.000Z", "X-RateLimit-Remaining": "0"},
        )
    )

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await masto.post(request())

    assert caught.value.retry_after_s == 150.0


async def test_429_without_a_reset_waits_a_minute() -> None:
    masto, _ = deliverer(answer(429, {"error": "Too many requests"}))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await masto.post(request())

    assert caught.value.retry_after_s == 60.0


@pytest.mark.parametrize(
    "handler",
    [
        answer(500, {"error": "boom"}),
        lambda _: httpx.Response(503, text="<html>maintenance</html>"),
        raising(httpx.ConnectError),
    ],
)
async def test_server_errors_and_no_connection_are_transient(handler: Handler) -> None:
    masto, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await masto.post(request())


@pytest.mark.parametrize(
    "handler",
    [
        raising(httpx.ReadTimeout),
        raising(httpx.RemoteProtocolError),
        lambda _: httpx.Response(504, text="<html>Gateway Time-out</html>"),
        lambda _: httpx.Response(200, text="not json"),
        answer(200, {"content": "no id"}),
    ],
)
async def test_sent_without_a_readable_answer_is_ambiguous(handler: Handler) -> None:
    masto, _ = deliverer(handler)

    with pytest.raises(AmbiguousDeliveryError):
        await masto.post(request())


# --- find ---------------------------------------------------------------------------------------


async def test_find_reads_the_accounts_statuses_and_matches_the_rendered_text() -> None:
    text = "Sale & more!\nSee https://shop.example.com/spring/collection?utm_source=mastodon"
    content = (
        '<p>Sale &amp; more!<br />See <a href="https://shop.example.com/spring/collection'
        '?utm_source=mastodon" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="ellipsis">shop.example.com/spr'
        '</span><span class="invisible">ing/collection?utm_source=mastodon</span></a></p>'
    )
    masto, seen = deliverer(
        answer(
            200,
            [status("113000000000000050", "<p>Other</p>"), status("113000000000000042", content)],
        )
    )

    found = await masto.find(request(text, attempted_at=NOW))

    assert found is not None
    assert found.native_id == "113000000000000042"
    (sent,) = seen
    assert sent.method == "GET"
    assert sent.url.path == f"/api/v1/accounts/{ACCOUNT}/statuses"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.url.params["limit"] == "40"


async def test_find_matches_a_reply_by_its_parent() -> None:
    reply = status("113000000000000043", "<p>Thanks!</p>", in_reply_to_id="113000000000000001")
    masto, _ = deliverer(answer(200, [reply]))

    assert await masto.find(request("Thanks!")) is None
    found = await masto.find(request("Thanks!", in_reply_to="113000000000000001"))
    assert found is not None
    assert found.native_id == "113000000000000043"


@pytest.mark.parametrize(
    "listed",
    [
        status("113000000000000042", "<p>Spring sale starts tomorrow</p>"),
        {**CREATED, "created_at": "2025-11-20T10:00:00.000Z"},
    ],
)
async def test_find_returns_none_when_no_recent_status_is_ours(listed: dict[str, Any]) -> None:
    masto, _ = deliverer(answer(200, [listed]))

    assert await masto.find(request(attempted_at=NOW)) is None


@pytest.mark.parametrize(
    "handler",
    [
        lambda _: httpx.Response(200, text="<html>"),
        answer(200, {"error": "not a list"}),
        raising(httpx.ReadTimeout),
        answer(503, {"error": "down"}),
    ],
)
async def test_find_failures_are_transient(handler: Handler) -> None:
    masto, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await masto.find(request())


def test_html_to_text_keeps_paragraphs_and_line_breaks() -> None:
    assert html_to_text("<p>One<br>two</p><p>Three &lt;3</p>") == "One\ntwo\n\nThree <3"


def test_the_instance_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="instance_url"):
        MastodonDeliverer(httpx.AsyncClient(), instance_url="social.test")
