"""The Reddit delivery client against a mock transport: submit, comment, form errors, find."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from smm_publisher.adapters.delivery.reddit import RedditDeliverer, subreddit_of
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

TOKEN = "reddit-token"
UA = "test:smm-publisher:v1 (by /u/brand_team)"
ATTEMPT = datetime(2025, 11, 27, 10, 0, tzinfo=UTC)
ATTEMPT_TS = ATTEMPT.timestamp()
Handler = Callable[[httpx.Request], httpx.Response]


def deliverer(handler: Handler) -> tuple[RedditDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return RedditDeliverer(http, api_base_url="https://reddit.test", user_agent=UA), seen


def request(text: str = "Our spring collection is here.", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": Network.REDDIT,
        "account_id": "brand",
        "access_token": TOKEN,
        "text": text,
        "title": "Spring sale",
        "idempotency_key": "content-1:acct-1",
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    return lambda _: httpx.Response(status, json=body, headers=headers)


def refused(*errors: list[str], **extra: Any) -> Handler:
    return answer(200, {"json": {"errors": [list(e) for e in errors], **extra}})


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


SUBMITTED = {
    "json": {
        "errors": [],
        "data": {
            "url": "https://www.reddit.com/r/brand/comments/1h2x3y/spring_sale/",
            "drafts_count": 0,
            "id": "1h2x3y",
            "name": "t3_1h2x3y",
        },
    }
}
COMMENTED = {
    "json": {
        "errors": [],
        "data": {
            "things": [
                {
                    "kind": "t1",
                    "data": {
                        "id": "m1abc2",
                        "name": "t1_m1abc2",
                        "parent_id": "t1_lzz999",
                        "link_id": "t3_1h2x3y",
                        "body": "Thanks!",
                        "permalink": "/r/brand/comments/1h2x3y/spring_sale/m1abc2/",
                    },
                }
            ]
        },
    }
}


# --- posts --------------------------------------------------------------------------------------


async def test_post_submits_a_self_post_to_the_subreddit() -> None:
    reddit, seen = deliverer(answer(200, SUBMITTED))

    published = await reddit.post(request())

    assert published == Published(
        native_id="t3_1h2x3y", url="https://www.reddit.com/r/brand/comments/1h2x3y/spring_sale/"
    )
    (sent,) = seen
    assert sent.method == "POST"
    assert str(sent.url) == "https://reddit.test/api/submit"
    assert sent.headers["authorization"] == f"bearer {TOKEN}"
    assert sent.headers["user-agent"] == UA
    assert form(sent) == {
        "api_type": "json",
        "sr": "brand",
        "title": "Spring sale",
        "sendreplies": "true",
        "kind": "self",
        "text": "Our spring collection is here.",
    }


async def test_a_link_without_text_is_a_link_post() -> None:
    reddit, seen = deliverer(answer(200, SUBMITTED))

    await reddit.post(request("", link="https://shop.example.com/spring"))

    sent = form(seen[0])
    assert sent["kind"] == "link"
    assert sent["url"] == "https://shop.example.com/spring"
    assert "text" not in sent


async def test_a_self_post_with_a_link_carries_the_link_in_its_text() -> None:
    reddit, seen = deliverer(answer(200, SUBMITTED))

    await reddit.post(request("See the collection.", link="https://shop.example.com/spring"))

    sent = form(seen[0])
    assert sent["kind"] == "self"
    assert sent["text"] == "See the collection.\n\nhttps://shop.example.com/spring"


async def test_an_answer_with_only_the_id_still_names_the_post() -> None:
    reddit, _ = deliverer(answer(200, {"json": {"errors": [], "data": {"id": "1h2x3y"}}}))

    assert (await reddit.post(request())) == Published(native_id="t3_1h2x3y", url=None)


@pytest.mark.parametrize(
    ("account", "sr"),
    [
        ("brand", "brand"),
        ("r/Brand", "Brand"),
        ("/r/brand/", "brand"),
        ("u_brand_team", "u_brand_team"),
        ("u/brand_team", "u_brand_team"),
        ("/user/brand_team", "u_brand_team"),
    ],
)
def test_the_account_names_the_subreddit_or_the_profile(account: str, sr: str) -> None:
    assert subreddit_of(account) == sr


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"account_id": "r/no spaces"}, "reddit.invalid_account"),
        ({"title": None}, "reddit.title_required"),
        ({"title": "   "}, "reddit.title_required"),
        ({"media_urls": ("https://cdn.example.com/a.jpg",)}, "reddit.media_unsupported"),
    ],
)
async def test_a_post_reddit_cannot_take_is_refused_before_sending(
    fields: dict[str, Any], code: str
) -> None:
    reddit, seen = deliverer(answer(200, SUBMITTED))

    with pytest.raises(PermanentDeliveryError) as caught:
        await reddit.post(request(**fields))

    assert caught.value.code == code
    assert seen == []


async def test_wrong_kinds_of_request_are_refused() -> None:
    reddit, seen = deliverer(answer(200, SUBMITTED))

    with pytest.raises(ValueError, match="reply"):
        await reddit.post(request(in_reply_to="t3_abc"))
    with pytest.raises(ValueError, match="in_reply_to"):
        await reddit.reply(request())
    with pytest.raises(ValueError, match="telegram"):
        await reddit.post(request(network=Network.TELEGRAM, title=None))
    with pytest.raises(ValueError, match="User-Agent"):
        RedditDeliverer(httpx.AsyncClient(), user_agent=" ")
    with pytest.raises(PermanentDeliveryError) as media:
        await reddit.reply(
            request(in_reply_to="t3_abc", media_urls=("https://cdn.example.com/a.jpg",))
        )
    assert media.value.code == "reddit.media_unsupported"
    assert seen == []


# --- replies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["t1_lzz999", "t3_1h2x3y"])
async def test_reply_comments_on_the_fullname_it_answers(target: str) -> None:
    reddit, seen = deliverer(answer(200, COMMENTED))

    published = await reddit.reply(request("Thanks!", in_reply_to=target, title=None))

    assert published == Published(
        native_id="t1_m1abc2",
        url="https://www.reddit.com/r/brand/comments/1h2x3y/spring_sale/m1abc2/",
    )
    (sent,) = seen
    assert str(sent.url) == "https://reddit.test/api/comment"
    assert form(sent) == {"api_type": "json", "thing_id": target, "text": "Thanks!"}


@pytest.mark.parametrize("target", ["abc", "t2_user", "t1_ABC", "1h2x3y"])
async def test_a_reply_target_that_is_no_post_or_comment_is_refused(target: str) -> None:
    reddit, seen = deliverer(answer(200, COMMENTED))

    with pytest.raises(PermanentDeliveryError) as caught:
        await reddit.reply(request(in_reply_to=target))

    assert caught.value.code == "reddit.invalid_reply_target"
    assert seen == []


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (
            ["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"],
            "reddit.subreddit_not_found",
            "subreddit name",
        ),
        (
            ["SUBREDDIT_NOTALLOWED", "you aren't allowed to post there.", "sr"],
            "reddit.not_allowed",
            "banned",
        ),
        (
            ["ALREADY_SUB", "that link has already been submitted", "url"],
            "reddit.already_submitted",
            "already",
        ),
        (
            ["NO_SELFS", "this subreddit doesn't allow text posts", "sr"],
            "reddit.kind_not_allowed",
            "link",
        ),
        (
            ["NO_LINKS", "this subreddit only allows text posts", "sr"],
            "reddit.kind_not_allowed",
            "text",
        ),
        (["TOO_LONG", "this is too long (max: 300)", "title"], "reddit.title_too_long", "max: 300"),
        (["TOO_LONG", "this is too long (max: 40000)", "text"], "reddit.too_long", "Shorten"),
        (["NO_TEXT", "we need something here", "title"], "reddit.title_required", "title"),
        (["BAD_URL", "you should check that url", "url"], "reddit.bad_url", "URL"),
        (
            ["THREAD_LOCKED", "that thread is locked", "parent"],
            "reddit.reply_not_allowed",
            "locked",
        ),
        (
            ["TOO_OLD", "that's a piece of history now", "parent"],
            "reddit.reply_not_allowed",
            "archived",
        ),
        (
            ["DELETED_COMMENT", "that comment has been deleted", "parent"],
            "reddit.reply_target_missing",
            "deleted",
        ),
        (
            ["SUBMIT_VALIDATION_FLAIR_REQUIRED", "Your post must contain post flair.", "flair"],
            "reddit.flair_required",
            "flair",
        ),
        (["USER_REQUIRED", "Please log in to do that.", ""], "reddit.token_invalid", "Reconnect"),
        (["SOMETHING_NEW", "a rule we never saw", "text"], "reddit.rejected", "SOMETHING_NEW"),
    ],
)
async def test_form_errors_are_permanent_with_a_code(
    error: list[str], code: str, words: str
) -> None:
    reddit, _ = deliverer(refused(error))

    with pytest.raises(PermanentDeliveryError) as caught:
        await reddit.post(request())

    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("message", "extra", "wait"),
    [
        (
            "Looks like you've been doing that a lot. Take a break for 5 minutes before trying again.",
            {},
            300.0,
        ),
        ("you are doing that too much. try again in 9 minutes.", {}, 540.0),
        ("you are doing that too much. try again in 30 seconds.", {}, 30.0),
        ("you are doing that too much. try again in 1 hour.", {}, 3600.0),
        ("you are doing that too much. try again in 9 minutes.", {"ratelimit": 512.3}, 512.3),
        ("you are doing that too much.", {}, 600.0),
    ],
)
async def test_ratelimit_waits_the_break_reddit_asks_for(
    message: str, extra: dict[str, Any], wait: float
) -> None:
    reddit, _ = deliverer(refused(["RATELIMIT", message, "ratelimit"], **extra))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await reddit.reply(request("Thanks!", in_reply_to="t1_lzz999"))

    assert caught.value.retry_after_s == pytest.approx(wait)


async def test_a_refusal_next_to_a_ratelimit_is_permanent_because_waiting_cannot_help() -> None:
    reddit, _ = deliverer(
        refused(
            ["RATELIMIT", "try again in 9 minutes.", "ratelimit"],
            ["SUBREDDIT_NOTALLOWED", "you aren't allowed to post there.", "sr"],
        )
    )

    with pytest.raises(PermanentDeliveryError) as caught:
        await reddit.post(request())

    assert caught.value.code == "reddit.not_allowed"


@pytest.mark.parametrize(
    ("handler", "code"),
    [
        (answer(401, {"message": "Unauthorized", "error": 401}), "reddit.token_invalid"),
        (lambda _: httpx.Response(401, text="<html>"), "reddit.token_invalid"),
        (answer(403, {"message": "Forbidden", "error": 403}), "reddit.forbidden"),
        (answer(404, {"message": "Not Found", "error": 404}), "reddit.not_found"),
        (answer(400, {"message": "Bad Request", "error": 400}), "reddit.rejected"),
    ],
)
async def test_http_refusals_are_permanent(handler: Handler, code: str) -> None:
    reddit, _ = deliverer(handler)

    with pytest.raises(PermanentDeliveryError) as caught:
        await reddit.post(request())

    assert caught.value.code == code


@pytest.mark.parametrize(("headers", "wait"), [({"x-ratelimit-reset": "42"}, 42.0), ({}, 60.0)])
async def test_429_waits_until_the_window_resets(headers: dict[str, str], wait: float) -> None:
    reddit, _ = deliverer(answer(429, {"message": "Too Many Requests", "error": 429}, **headers))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await reddit.post(request())

    assert caught.value.retry_after_s == wait


@pytest.mark.parametrize(
    "handler",
    [answer(500, {"message": "Internal Server Error", "error": 500}), raising(httpx.ConnectError)],
)
async def test_server_errors_and_no_connection_are_transient(handler: Handler) -> None:
    reddit, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await reddit.post(request())


@pytest.mark.parametrize(
    "handler",
    [
        raising(httpx.ReadTimeout),
        raising(httpx.RemoteProtocolError),
        lambda _: httpx.Response(502, text="<html>Bad Gateway</html>"),
        # Reddit's CDN: "upstream request timeout": the origin may have posted.
        lambda _: httpx.Response(503, text="<html>Our CDN was unable to reach our servers</html>"),
        lambda _: httpx.Response(504, text="<html>Gateway Timeout</html>"),
        lambda _: httpx.Response(200, text="<html>not json</html>"),
        answer(200, {"json": {"errors": [], "data": {}}}),
        answer(200, {"jquery": []}),
    ],
)
async def test_sent_without_a_readable_answer_is_ambiguous(handler: Handler) -> None:
    reddit, _ = deliverer(handler)

    with pytest.raises(AmbiguousDeliveryError):
        await reddit.post(request())
    with pytest.raises(AmbiguousDeliveryError):
        await reddit.reply(request("Thanks!", in_reply_to="t1_lzz999"))


async def test_the_timeout_is_the_deliverers() -> None:
    http, seen = recording_client(answer(200, SUBMITTED))
    reddit = RedditDeliverer(http, timeout_s=5.0)

    await reddit.post(request())

    assert str(seen[0].url) == "https://oauth.reddit.com/api/submit"
    assert seen[0].extensions["timeout"]["read"] == 5.0


# --- find ---------------------------------------------------------------------------------------


def listing(kind: str, *things: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": None, "children": [{"kind": kind, "data": t} for t in things]},
    }


def submitted(post_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "name": f"t3_{post_id}",
        "subreddit": "brand",
        "title": "Spring sale",
        "selftext": "Our spring collection is here.",
        "is_self": True,
        "url": f"https://www.reddit.com/r/brand/comments/{post_id}/spring_sale/",
        "permalink": f"/r/brand/comments/{post_id}/spring_sale/",
        "created_utc": ATTEMPT_TS + 3,
        **fields,
    }


def commented(comment_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": comment_id,
        "name": f"t1_{comment_id}",
        "body": "Thanks!",
        "parent_id": "t1_lzz999",
        "link_id": "t3_1h2x3y",
        "permalink": f"/r/brand/comments/1h2x3y/spring_sale/{comment_id}/",
        "created_utc": ATTEMPT_TS + 3,
        **fields,
    }


def account(listing_body: dict[str, Any], name: str = "brand_team") -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/me":
            return httpx.Response(200, json={"name": name, "id": "abc12"})
        return httpx.Response(200, json=listing_body)

    return handle


async def test_find_asks_who_the_token_is_and_matches_its_newest_posts() -> None:
    reddit, seen = deliverer(
        account(
            listing(
                "t3",
                submitted("aaa111", title="Another post"),
                submitted("bbb222", subreddit="other"),
                submitted("1h2x3y", selftext="Our spring  collection is here.\n"),
            )
        )
    )

    found = await reddit.find(request(account_id="r/Brand", attempted_at=ATTEMPT))

    assert found == Published(
        native_id="t3_1h2x3y", url="https://www.reddit.com/r/brand/comments/1h2x3y/spring_sale/"
    )
    me, posts = seen
    assert me.url.path == "/api/v1/me"
    assert me.headers["user-agent"] == UA
    assert posts.url.path == "/user/brand_team/submitted"
    assert dict(posts.url.params) == {"sort": "new", "limit": "100", "raw_json": "1"}
    assert posts.headers["authorization"] == f"bearer {TOKEN}"


async def test_find_matches_a_link_post_by_its_url() -> None:
    link = "https://shop.example.com/spring"
    reddit, _ = deliverer(
        account(listing("t3", submitted("1h2x3y", selftext="", is_self=False, url=f"{link}/")))
    )

    found = await reddit.find(request("", link=link))

    assert found is not None
    assert found.native_id == "t3_1h2x3y"


@pytest.mark.parametrize(
    "listed",
    [
        submitted("1h2x3y", created_utc=ATTEMPT_TS - 3600),
        submitted("1h2x3y", selftext="Our summer collection is here."),
        submitted("1h2x3y", title="Summer sale"),
        submitted("1h2x3y", subreddit="u_brand_team"),
    ],
)
async def test_find_returns_none_when_no_recent_post_is_ours(listed: dict[str, Any]) -> None:
    reddit, _ = deliverer(account(listing("t3", listed)))

    assert await reddit.find(request(attempted_at=ATTEMPT)) is None


async def test_find_matches_a_reply_by_its_parent_and_text() -> None:
    reddit, seen = deliverer(
        account(
            listing(
                "t1",
                commented("zzz000", parent_id="t1_other"),
                commented("m1abc2"),
            )
        )
    )

    found = await reddit.find(
        request("Thanks!", in_reply_to="t1_lzz999", title=None, attempted_at=ATTEMPT)
    )

    assert found == Published(
        native_id="t1_m1abc2",
        url="https://www.reddit.com/r/brand/comments/1h2x3y/spring_sale/m1abc2/",
    )
    assert seen[1].url.path == "/user/brand_team/comments"


async def test_find_for_a_post_without_a_title_sends_nothing() -> None:
    reddit, seen = deliverer(account(listing("t3")))

    assert await reddit.find(request(title=None)) is None
    assert seen == []


@pytest.mark.parametrize(
    "handler",
    [
        account({"kind": "t3"}),
        account(listing("t3"), name="not a name!"),
        lambda _: httpx.Response(200, text="<html>"),
        raising(httpx.ReadTimeout),
        answer(503, {"message": "down"}),
    ],
)
async def test_find_failures_are_transient(handler: Handler) -> None:
    reddit, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await reddit.find(request())


async def test_find_maps_errors_like_a_post() -> None:
    reddit, _ = deliverer(answer(401, {"message": "Unauthorized", "error": 401}))

    with pytest.raises(PermanentDeliveryError) as caught:
        await reddit.find(request())

    assert caught.value.code == "reddit.token_invalid"
