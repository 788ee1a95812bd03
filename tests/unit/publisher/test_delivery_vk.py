"""The VK delivery client against a mock transport: wall posts, comments, guid, errors, find."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from smm_publisher.adapters.delivery.vk import VkDeliverer
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

COMMUNITY = "-123456"
TOKEN = "vk-user-token"
KEY = "content-1:acct-1"
Handler = Callable[[httpx.Request], httpx.Response]


def deliverer(handler: Handler) -> tuple[VkDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return VkDeliverer(http, api_base_url="https://vk.test"), seen


def request(text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": Network.VK,
        "account_id": COMMUNITY,
        "access_token": TOKEN,
        "text": text,
        "idempotency_key": KEY,
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def form(sent: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(sent.content.decode(), keep_blank_values=True))


def ok(result: Any) -> Handler:
    return lambda _: httpx.Response(200, json={"response": result})


def vk_error(code: int, message: str = "error") -> Handler:
    body = {"error": {"error_code": code, "error_msg": message, "request_params": []}}
    return lambda _: httpx.Response(200, json=body)


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


def guid(key: str = KEY) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


# --- posts --------------------------------------------------------------------------------------


async def test_post_publishes_as_the_community_with_a_guid_and_returns_id_and_url() -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    published = await vk.post(request())

    assert published == Published(native_id="wall-123456_77", url="https://vk.com/wall-123456_77")
    (sent,) = seen
    assert sent.method == "POST"
    assert str(sent.url) == "https://vk.test/method/wall.post"  # the token is not in the URL
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(sent) == {
        "owner_id": COMMUNITY,
        "from_group": "1",
        "message": "Spring sale starts today",
        "guid": guid(),
        "v": "5.199",
    }


async def test_the_guid_is_the_same_for_one_delivery_and_differs_between_deliveries() -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    await vk.post(request())
    await vk.post(request())
    await vk.post(request(idempotency_key="content-2:acct-1"))

    guids = [form(sent)["guid"] for sent in seen]
    assert guids[0] == guids[1] != guids[2]
    assert KEY not in guids[0]  # a hash, not the key itself


async def test_a_post_on_a_users_own_wall_is_not_sent_as_a_community() -> None:
    vk, seen = deliverer(ok({"post_id": 5}))

    published = await vk.post(request(account_id="98765"))

    assert published.native_id == "wall98765_5"
    assert "from_group" not in form(seen[0])
    assert form(seen[0])["owner_id"] == "98765"


async def test_the_link_is_vks_link_attachment() -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    await vk.post(request(link="https://shop.example.com/spring"))

    assert form(seen[0])["attachments"] == "https://shop.example.com/spring"


async def test_one_image_without_a_link_is_attached_as_a_link_to_the_image() -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    await vk.post(request(media_urls=("https://cdn.example.com/a.jpg",)))

    assert form(seen[0])["attachments"] == "https://cdn.example.com/a.jpg"


@pytest.mark.parametrize(
    "extra",
    [
        {"media_urls": ("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg")},
        {"media_urls": ("https://cdn.example.com/a.jpg",), "link": "https://shop.example.com"},
    ],
)
async def test_more_than_one_link_is_refused_before_sending(extra: dict[str, Any]) -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await vk.post(request(**extra))

    assert caught.value.code == "vk.media_unsupported"
    assert seen == []


@pytest.mark.parametrize("account", ["club123456", "-0", "12a", "-", "+123", "１２３"])
async def test_an_account_id_that_is_not_a_wall_id_is_refused_before_sending(
    account: str,
) -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await vk.post(request(account_id=account))

    assert caught.value.code == "vk.invalid_account"
    assert "-123456" in caught.value.message  # says what a good id looks like
    assert seen == []


async def test_post_and_reply_refuse_the_wrong_kind_of_request() -> None:
    vk, seen = deliverer(ok({"post_id": 77}))

    with pytest.raises(ValueError, match="reply"):
        await vk.post(request(in_reply_to="wall-1_2"))
    with pytest.raises(ValueError, match="in_reply_to"):
        await vk.reply(request())
    with pytest.raises(ValueError, match="telegram"):
        await vk.post(request(network=Network.TELEGRAM))
    with pytest.raises(ValueError, match="idempotency_key"):
        await vk.post(request(idempotency_key=""))
    assert seen == []


# --- replies ------------------------------------------------------------------------------------


async def test_a_reply_to_an_ingested_comment_answers_it_as_the_community() -> None:
    vk, seen = deliverer(ok({"comment_id": 89, "parents_stack": [67]}))

    published = await vk.reply(
        request("Thanks!", in_reply_to="wall-123456_45_r67", link="https://shop.example.com")
    )

    assert published == Published(
        native_id="wall-123456_45_r89", url="https://vk.com/wall-123456_45?reply=89&thread=67"
    )
    (sent,) = seen
    assert str(sent.url) == "https://vk.test/method/wall.createComment"
    assert form(sent) == {
        "owner_id": COMMUNITY,
        "post_id": "45",
        "reply_to_comment": "67",
        "from_group": "123456",  # createComment takes the group id, unsigned
        "message": "Thanks!\n\nhttps://shop.example.com",  # a comment has no link attachment
        "guid": guid(),
        "v": "5.199",
    }


async def test_a_reply_to_a_post_is_a_top_level_comment() -> None:
    vk, seen = deliverer(ok({"comment_id": 90, "parents_stack": []}))

    published = await vk.reply(request("Thanks!", in_reply_to="wall-123456_45"))

    assert published == Published(
        native_id="wall-123456_45_r90", url="https://vk.com/wall-123456_45?reply=90"
    )
    assert "reply_to_comment" not in form(seen[0])


@pytest.mark.parametrize(
    ("target", "owner", "post", "comment"),
    [
        ("-123456_45", "-123456", "45", None),
        ("-123456_45_67", "-123456", "45", "67"),
        ("wall98765_3_r4", "98765", "3", "4"),
    ],
)
async def test_bare_vk_ids_name_a_reply_target_too(
    target: str, owner: str, post: str, comment: str | None
) -> None:
    vk, seen = deliverer(ok({"comment_id": 90}))

    await vk.reply(request("Thanks!", in_reply_to=target))

    sent = form(seen[0])
    assert (sent["owner_id"], sent["post_id"], sent.get("reply_to_comment")) == (
        owner,
        post,
        comment,
    )


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("photo-123456_7_c8", "vk.reply_unsupported"),
        ("video-123456_7_c8", "vk.reply_unsupported"),
        ("topic-123456_7_p8", "vk.reply_unsupported"),
        ("dm123456_555_m9", "vk.reply_unsupported"),
        ("1790000000000000042", "vk.invalid_reply_target"),
        ("wall-123456_0", "vk.invalid_reply_target"),
    ],
)
async def test_a_reply_target_that_is_not_a_wall_item_is_refused_before_sending(
    target: str, code: str
) -> None:
    vk, seen = deliverer(ok({"comment_id": 90}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await vk.reply(request("Thanks!", in_reply_to=target))

    assert caught.value.code == code
    assert seen == []


async def test_a_reply_with_media_is_refused_before_sending() -> None:
    vk, seen = deliverer(ok({"comment_id": 90}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await vk.reply(
            request("Look", in_reply_to="wall-1_2", media_urls=("https://cdn.example.com/a.jpg",))
        )

    assert caught.value.code == "vk.media_unsupported"
    assert seen == []


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected", "words"),
    [
        (5, "vk.token_invalid", "Reconnect"),
        (27, "vk.token_invalid", "Reconnect"),
        (7, "vk.missing_permission", "wall"),
        (15, "vk.posting_forbidden", "administrator"),
        (214, "vk.posting_forbidden", "administrator"),
        (9, "vk.flood_control", "captcha"),
        (223, "vk.flood_control", "Wait an hour"),
        (14, "vk.captcha_required", "by hand"),
        (212, "vk.reply_not_allowed", "comments are closed"),
        (219, "vk.ads_recently_published", "later"),
        (224, "vk.ads_limit", "tomorrow"),
        (222, "vk.links_forbidden", "Remove the link"),
        (100, "vk.invalid_request", "One of the parameters"),
        (18, "vk.account_blocked", "banned"),
        (3, "vk.rejected", "error 3"),
    ],
)
async def test_refusals_are_permanent_with_a_code_and_a_message_that_says_what_to_fix(
    code: int, expected: str, words: str
) -> None:
    vk, _ = deliverer(vk_error(code, "One of the parameters specified was missing or invalid"))

    with pytest.raises(PermanentDeliveryError) as caught:
        await vk.post(request())

    assert caught.value.code == expected
    assert words in caught.value.message


@pytest.mark.parametrize(("code", "wait"), [(6, 1.0), (29, 3600.0), (601, 3600.0)])
async def test_rate_limits_wait_for_the_limit_that_ran_out(code: int, wait: float) -> None:
    vk, _ = deliverer(vk_error(code, "Too many requests per second"))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await vk.post(request())

    assert caught.value.retry_after_s == wait


async def test_an_http_429_without_vks_error_waits_too() -> None:
    vk, _ = deliverer(lambda _: httpx.Response(429, text="slow down"))

    with pytest.raises(RateLimitedDeliveryError):
        await vk.post(request())


@pytest.mark.parametrize(
    "handler",
    [vk_error(10, "Internal server error"), vk_error(1, "Unknown error occurred")],
)
async def test_vks_internal_errors_are_transient(handler: Handler) -> None:
    vk, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await vk.post(request())


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_transient(status: int) -> None:
    vk, _ = deliverer(lambda _: httpx.Response(status, text="<html>oops</html>"))

    with pytest.raises(TransientDeliveryError):
        await vk.post(request())


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_that_lost_the_answer_is_ambiguous(status: int) -> None:
    vk, _ = deliverer(lambda _: httpx.Response(status, text="<html>bad gateway</html>"))

    with pytest.raises(AmbiguousDeliveryError):
        await vk.post(request())


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError])
async def test_no_answer_after_sending_is_ambiguous(exc: type[httpx.TransportError]) -> None:
    vk, seen = deliverer(raising(exc))

    with pytest.raises(AmbiguousDeliveryError, match="may have been published"):
        await vk.reply(request("Thanks!", in_reply_to="wall-1_2"))

    assert len(seen) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_no_connection_is_transient(exc: type[httpx.TransportError]) -> None:
    vk, _ = deliverer(raising(exc))

    with pytest.raises(TransientDeliveryError, match="nothing was sent"):
        await vk.post(request())


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"response": {"post": 1}}),
        httpx.Response(200, json={"something": "else"}),
        httpx.Response(200, json={"response": {"post_id": True}}),
    ],
)
async def test_a_success_we_cannot_read_is_ambiguous_never_a_crash(
    response: httpx.Response,
) -> None:
    vk, _ = deliverer(lambda _: response)

    with pytest.raises(AmbiguousDeliveryError):
        await vk.post(request())


# --- find ---------------------------------------------------------------------------------------

ATTEMPT = datetime(2025, 11, 27, 10, 0, tzinfo=UTC)
AT = int(ATTEMPT.timestamp()) + 3


def wall(*posts: dict[str, Any]) -> Handler:
    return ok({"count": len(posts), "items": list(posts)})


def post(post_id: int, text: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "owner_id": int(COMMUNITY),
        "from_id": int(COMMUNITY),
        "date": AT,
        "text": text,
        "post_type": "post",
        **fields,
    }


async def test_find_reads_the_walls_own_recent_posts_and_matches_the_text() -> None:
    text = "Sale & more: https://shop.example.com/spring?utm_source=vk"
    vk, seen = deliverer(wall(post(80, "Something else"), post(77, text)))

    found = await vk.find(request(text, attempted_at=ATTEMPT))

    assert found == Published(native_id="wall-123456_77", url="https://vk.com/wall-123456_77")
    (sent,) = seen
    assert sent.method == "GET"
    assert sent.url.path == "/method/wall.get"
    assert dict(sent.url.params) == {
        "owner_id": COMMUNITY,
        "count": "50",
        "filter": "owner",
        "v": "5.199",
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "listed",
    [
        post(77, "Spring sale starts tomorrow"),
        post(77, "Spring sale starts today", date=AT - 86_400),  # an older post
        post(77, "Spring sale starts today", from_id=42),  # someone else's
        post(77, "Spring sale starts today", copy_history=[{"id": 1}]),  # a repost
        post(77, "Spring sale starts today", post_type="suggest"),
    ],
)
async def test_find_returns_none_when_no_recent_post_is_ours(listed: dict[str, Any]) -> None:
    vk, _ = deliverer(wall(listed))

    assert await vk.find(request(attempted_at=ATTEMPT)) is None


async def test_find_matches_a_link_only_post_by_its_link() -> None:
    link = {"type": "link", "link": {"url": "https://shop.example.com/spring"}}
    vk, _ = deliverer(wall(post(70, "", attachments=[]), post(71, "", attachments=[link])))

    found = await vk.find(request("", link="https://shop.example.com/spring"))

    assert found is not None
    assert found.native_id == "wall-123456_71"


def comment(comment_id: int, text: str, **fields: Any) -> dict[str, Any]:
    return {"id": comment_id, "from_id": int(COMMUNITY), "date": AT, "text": text, **fields}


async def test_find_a_reply_to_a_post_reads_its_comments_newest_first() -> None:
    vk, seen = deliverer(
        ok(
            {
                "count": 2,
                "items": [
                    comment(91, "Thanks!", from_id=555),  # a reader's, same words
                    comment(90, "Thanks!"),
                ],
            }
        )
    )

    found = await vk.find(request("Thanks!", in_reply_to="wall-123456_45"))

    assert found == Published(
        native_id="wall-123456_45_r90", url="https://vk.com/wall-123456_45?reply=90"
    )
    (sent,) = seen
    assert sent.url.path == "/method/wall.getComments"
    assert dict(sent.url.params) == {
        "owner_id": COMMUNITY,
        "post_id": "45",
        "sort": "desc",
        "count": "100",
        "v": "5.199",
    }


async def test_find_a_reply_to_a_reply_reads_the_thread_of_its_root_comment() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/method/wall.getComment":
            return ok({"items": [comment(67, "a reader's reply", parents_stack=[60])]})(request)
        thread = [
            comment(95, "Thanks!", reply_to_comment=60),  # same words, another parent
            comment(96, "Thanks!", reply_to_comment=67),
        ]
        return ok({"count": 2, "items": thread})(request)

    vk, seen = deliverer(handle)

    found = await vk.find(request("Thanks!", in_reply_to="wall-123456_45_r67"))

    assert found == Published(
        native_id="wall-123456_45_r96", url="https://vk.com/wall-123456_45?reply=96&thread=60"
    )
    assert [s.url.path for s in seen] == ["/method/wall.getComment", "/method/wall.getComments"]
    assert seen[0].url.params["comment_id"] == "67"
    assert seen[1].url.params["comment_id"] == "60"


async def test_find_a_reply_to_a_root_comment_reads_its_own_thread() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/method/wall.getComment":
            return ok({"items": [comment(67, "a reader's comment", parents_stack=[])]})(request)
        return ok({"count": 0, "items": []})(request)

    vk, seen = deliverer(handle)

    assert await vk.find(request("Thanks!", in_reply_to="wall-123456_45_r67")) is None
    assert seen[1].url.params["comment_id"] == "67"


@pytest.mark.parametrize(
    "response",
    [httpx.Response(200, text="<html>"), httpx.Response(200, json={"response": {"items": 3}})],
)
async def test_find_with_a_malformed_answer_is_transient(response: httpx.Response) -> None:
    vk, _ = deliverer(lambda _: response)

    with pytest.raises(TransientDeliveryError):
        await vk.find(request())


async def test_a_timeout_while_finding_is_transient_because_a_lookup_posts_nothing() -> None:
    vk, _ = deliverer(raising(httpx.ReadTimeout))

    with pytest.raises(TransientDeliveryError):
        await vk.find(request())


async def test_find_maps_errors_like_a_post() -> None:
    vk, _ = deliverer(vk_error(5, "User authorization failed"))

    with pytest.raises(PermanentDeliveryError) as caught:
        await vk.find(request())

    assert caught.value.code == "vk.token_invalid"


async def test_the_timeout_is_the_deliverers_own() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        listing = request.url.path.endswith("wall.get")
        return ok({"count": 0, "items": []} if listing else {"post_id": 77})(request)

    http, seen = recording_client(handle)
    vk = VkDeliverer(http, api_base_url="https://vk.test", timeout_s=7.5)

    await vk.post(request())
    await vk.find(request())

    assert [s.extensions["timeout"]["read"] for s in seen] == [7.5, 7.5]
