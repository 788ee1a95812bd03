"""The Telegram delivery client against a mock transport: messages, photos, errors, no lookup."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from smm_publisher.adapters.delivery.telegram import TelegramDeliverer
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

BOT_TOKEN = "123456:ABC-test"
CHANNEL = "-1001234567890"
IMG = "https://cdn.example.com/a.jpg"
Handler = Callable[[httpx.Request], httpx.Response]


def deliverer(handler: Handler) -> tuple[TelegramDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return TelegramDeliverer(http, api_base_url="https://tg.test"), seen


def request(text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": Network.TELEGRAM,
        "account_id": CHANNEL,
        "access_token": BOT_TOKEN,
        "text": text,
        "idempotency_key": "content-1:acct-1",
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def sent(message_id: int = 77, chat_id: int = int(CHANNEL), **chat: Any) -> Handler:
    result = {"message_id": message_id, "date": 1, "chat": {"id": chat_id, **chat}}
    return lambda _: httpx.Response(200, json={"ok": True, "result": result})


def failed(code: int, description: str, **parameters: Any) -> Handler:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return lambda _: httpx.Response(code, json=body)


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


# --- sending ------------------------------------------------------------------------------------


async def test_post_sends_a_message_to_the_chat_and_links_a_public_channel_post() -> None:
    tg, seen = deliverer(sent(77, type="channel", username="acme_news"))

    published = await tg.post(request())

    assert published == Published(native_id=f"{CHANNEL}_77", url="https://t.me/acme_news/77")
    (call,) = seen
    assert call.method == "POST"
    assert str(call.url) == f"https://tg.test/bot{BOT_TOKEN}/sendMessage"
    assert json.loads(call.content) == {"chat_id": int(CHANNEL), "text": "Spring sale starts today"}


async def test_a_channel_username_is_sent_as_it_is() -> None:
    tg, seen = deliverer(sent(5, type="channel", username="acme_news"))

    await tg.post(request(account_id="@acme_news"))

    assert json.loads(seen[0].content)["chat_id"] == "@acme_news"


@pytest.mark.parametrize(
    ("chat", "url"),
    [
        ({"type": "channel"}, "https://t.me/c/1234567890/77"),
        ({"type": "supergroup"}, "https://t.me/c/1234567890/77"),
    ],
)
async def test_a_private_channel_post_links_for_members(chat: dict[str, Any], url: str) -> None:
    tg, _ = deliverer(sent(77, **chat))

    assert (await tg.post(request())).url == url


async def test_a_private_chat_has_no_public_url() -> None:
    tg, _ = deliverer(sent(9, chat_id=42, type="private", username="someone"))

    published = await tg.post(request(account_id="42"))

    assert published == Published(native_id="42_9", url=None)


async def test_one_image_goes_with_sendphoto_and_the_text_as_its_caption() -> None:
    tg, seen = deliverer(sent(78, type="channel", username="acme_news"))

    await tg.post(request(media_urls=(IMG,)))

    assert seen[0].url.path == f"/bot{BOT_TOKEN}/sendPhoto"
    assert json.loads(seen[0].content) == {
        "chat_id": int(CHANNEL),
        "photo": IMG,
        "caption": "Spring sale starts today",
    }


async def test_a_caption_over_1024_characters_is_refused_before_sending() -> None:
    tg, seen = deliverer(sent())

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.post(request("a" * 1025, media_urls=(IMG,)))

    assert caught.value.code == "telegram.caption_too_long"
    assert "Shorten it by 1" in caught.value.message
    assert seen == []


IMG_2 = "https://cdn.example.com/b.jpg"


def album(*message_ids: int, chat_id: int = int(CHANNEL), **chat: Any) -> Handler:
    result = [
        {"message_id": m, "date": 1, "media_group_id": "1", "chat": {"id": chat_id, **chat}}
        for m in message_ids
    ]
    return lambda _: httpx.Response(200, json={"ok": True, "result": result})


async def test_several_images_go_as_an_album_with_the_caption_on_the_first() -> None:
    tg, seen = deliverer(album(80, 81, type="channel", username="acme_news"))

    published = await tg.post(request(media_urls=(IMG, IMG_2)))

    assert published == Published(native_id=f"{CHANNEL}_80", url="https://t.me/acme_news/80")
    (call,) = seen
    assert call.url.path == f"/bot{BOT_TOKEN}/sendMediaGroup"
    assert json.loads(call.content) == {
        "chat_id": int(CHANNEL),
        "media": [
            {"type": "photo", "media": IMG, "caption": "Spring sale starts today"},
            {"type": "photo", "media": IMG_2},
        ],
    }


async def test_an_album_can_answer_a_message() -> None:
    tg, seen = deliverer(album(80, 81))

    await tg.reply(request("", media_urls=(IMG, IMG_2), in_reply_to=f"{CHANNEL}_55"))

    body = json.loads(seen[0].content)
    assert body["reply_parameters"] == {"message_id": 55}
    assert body["media"] == [{"type": "photo", "media": IMG}, {"type": "photo", "media": IMG_2}]


async def test_more_than_ten_images_are_refused_before_sending() -> None:
    tg, seen = deliverer(album(80))

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.post(request(media_urls=tuple(f"{IMG}?{i}" for i in range(11))))

    assert caught.value.code == "telegram.too_many_media"
    assert "Remove 1" in caught.value.message
    assert seen == []


async def test_an_album_caption_over_1024_characters_is_refused_before_sending() -> None:
    tg, seen = deliverer(album(80, 81))

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.post(request("a" * 1030, media_urls=(IMG, IMG_2)))

    assert caught.value.code == "telegram.caption_too_long"
    assert seen == []


@pytest.mark.parametrize(
    "handler",
    [
        lambda _: httpx.Response(200, json={"ok": True, "result": []}),
        lambda _: httpx.Response(200, json={"ok": True, "result": {"message_id": 1}}),
    ],
)
async def test_an_album_answer_without_its_messages_is_ambiguous(handler: Handler) -> None:
    tg, _ = deliverer(handler)

    with pytest.raises(AmbiguousDeliveryError):
        await tg.post(request(media_urls=(IMG, IMG_2)))


async def test_an_album_image_telegram_cannot_fetch_names_the_images() -> None:
    tg, _ = deliverer(
        failed(
            400,
            'Bad Request: failed to send message #2 with the error message "WEBPAGE_CURL_FAILED"',
        )
    )

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.post(request(media_urls=(IMG, IMG_2)))

    assert caught.value.code == "telegram.media_unreachable"
    assert IMG in caught.value.message
    assert IMG_2 in caught.value.message


async def test_the_timeout_is_the_deliverers() -> None:
    http, seen = recording_client(sent())
    tg = TelegramDeliverer(http, api_base_url="https://tg.test", timeout_s=1.5)

    await tg.post(request())

    assert seen[0].extensions["timeout"]["read"] == 1.5


@pytest.mark.parametrize("native", [f"{CHANNEL}_55", "55"])
async def test_reply_names_the_message_it_answers(native: str) -> None:
    tg, seen = deliverer(sent(78))

    await tg.reply(request("Thanks!", in_reply_to=native))

    assert json.loads(seen[0].content)["reply_parameters"] == {"message_id": 55}


async def test_a_reply_target_that_is_no_message_id_is_refused() -> None:
    tg, seen = deliverer(sent())

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.reply(request(in_reply_to="abc"))

    assert caught.value.code == "telegram.invalid_reply_target"
    assert seen == []


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "code", "words"),
    [
        (failed(400, "Bad Request: chat not found"), "telegram.chat_not_found", "@username"),
        (failed(400, "Bad Request: message is too long"), "telegram.too_long", "shorten"),
        (
            failed(400, "Bad Request: message to be replied not found"),
            "telegram.reply_target_missing",
            "gone",
        ),
        (
            failed(400, "Bad Request: need administrator rights in the channel chat"),
            "telegram.missing_permission",
            "administrator",
        ),
        (
            failed(400, "Bad Request: can't parse entities: something"),
            "telegram.bad_request",
            "can't parse entities",
        ),
        (failed(401, "Unauthorized"), "telegram.token_invalid", "BotFather"),
        (failed(404, "Not Found"), "telegram.token_invalid", "token"),
        (failed(403, "Forbidden: bot was blocked by the user"), "telegram.blocked", "blocked"),
        (
            failed(403, "Forbidden: bot is not a member of the channel chat"),
            "telegram.not_member",
            "Add the bot",
        ),
    ],
)
async def test_refusals_are_permanent_with_a_code_and_a_message_that_says_what_to_fix(
    handler: Handler, code: str, words: str
) -> None:
    tg, _ = deliverer(handler)

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.post(request())

    assert caught.value.code == code
    assert words in caught.value.message


async def test_an_image_telegram_cannot_fetch_is_named() -> None:
    tg, _ = deliverer(failed(400, "Bad Request: wrong file identifier/HTTP URL specified"))

    with pytest.raises(PermanentDeliveryError) as caught:
        await tg.post(request(media_urls=(IMG,)))

    assert caught.value.code == "telegram.media_unreachable"
    assert IMG in caught.value.message


async def test_429_waits_retry_after() -> None:
    tg, _ = deliverer(failed(429, "Too Many Requests: retry after 17", retry_after=17))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await tg.post(request())

    assert caught.value.retry_after_s == 17.0


@pytest.mark.parametrize(
    "handler",
    [
        failed(500, "Internal Server Error"),
        lambda _: httpx.Response(500, text="<html>oops</html>"),
        raising(httpx.ConnectError),
    ],
)
async def test_server_errors_and_no_connection_are_transient(handler: Handler) -> None:
    tg, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await tg.post(request())


@pytest.mark.parametrize(
    "handler",
    [
        raising(httpx.ReadTimeout),
        raising(httpx.RemoteProtocolError),
        lambda _: httpx.Response(502, text="<html>Bad Gateway</html>"),
        lambda _: httpx.Response(200, text="not json"),
        lambda _: httpx.Response(200, json={"ok": True, "result": {"chat": {}}}),
        lambda _: httpx.Response(200, json={"result": "?"}),
    ],
)
async def test_sent_without_a_readable_answer_is_ambiguous(handler: Handler) -> None:
    tg, _ = deliverer(handler)

    with pytest.raises(AmbiguousDeliveryError):
        await tg.post(request())


async def test_find_cannot_look_anything_up_and_sends_nothing() -> None:
    tg, seen = deliverer(sent())

    assert await tg.find(request()) is None
    assert seen == []
