"""The YouTube delivery client against a mock transport: comments, replies, errors, find."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_publisher.adapters.delivery.youtube import (
    YouTubeDeliverer,
    seconds_until_quota_reset,
    video_id_of_url,
    video_target,
)
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

NOW = datetime(2025, 11, 27, 10, 0, tzinfo=UTC)  # 02:00 in Los Angeles (PST, UTC-8)
CHANNEL = "UCbrand0000000000000000a"
TOKEN = "ya29.token"
VIDEO = "dQw4w9WgXcQ"
TOP = "UgzTopLevelComment4AaABAg"
Handler = Callable[[httpx.Request], httpx.Response]


def deliverer(handler: Handler) -> tuple[YouTubeDeliverer, list[httpx.Request]]:
    http, seen = recording_client(handler)
    return YouTubeDeliverer(
        http, api_base_url="https://yt.test/youtube/v3", clock=lambda: NOW
    ), seen


def request(text: str = "Thanks for watching!", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": Network.YOUTUBE,
        "account_id": CHANNEL,
        "access_token": TOKEN,
        "text": text,
        "idempotency_key": "content-1:acct-1",
    }
    fields.update(kwargs)
    return PostRequest(**fields)


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    return lambda _: httpx.Response(status, json=body, headers=headers)


def google_error(status: int, reason: str, message: str = "Something happened.") -> Handler:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "youtube.comment", "reason": reason}],
        }
    }
    return answer(status, body)


def raising(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


def comment(
    comment_id: str,
    text: str,
    *,
    author: str = CHANNEL,
    published: str = "2025-11-27T10:00:02Z",
    **snippet: Any,
) -> dict[str, Any]:
    return {
        "kind": "youtube#comment",
        "id": comment_id,
        "snippet": {
            "authorDisplayName": "@brand",
            "authorChannelId": {"value": author},
            "textDisplay": text,
            "textOriginal": text,
            "publishedAt": published,
            "updatedAt": published,
            **snippet,
        },
    }


def thread(top: dict[str, Any], video: str = VIDEO) -> dict[str, Any]:
    return {
        "kind": "youtube#commentThread",
        "id": top["id"],
        "snippet": {"videoId": video, "topLevelComment": top, "canReply": True},
    }


REPLY = comment(f"{TOP}.9zReplyAbc", "Thanks for watching!", parentId=TOP, videoId=VIDEO)
NEW_THREAD = thread(comment("UgxNewTopLevel000AaABAg", "Thanks for watching!"))


# --- replies and comments -----------------------------------------------------------------------


async def test_reply_posts_a_comment_under_its_parent_and_links_to_it() -> None:
    yt, seen = deliverer(answer(200, REPLY))

    published = await yt.reply(request(in_reply_to=TOP))

    assert published == Published(
        native_id=f"{TOP}.9zReplyAbc",
        url=f"https://www.youtube.com/watch?v={VIDEO}&lc={TOP}.9zReplyAbc",
    )
    (sent,) = seen
    assert sent.method == "POST"
    assert sent.url.path == "/youtube/v3/comments"
    assert sent.url.params["part"] == "snippet"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(sent.content) == {
        "snippet": {"parentId": TOP, "textOriginal": "Thanks for watching!"}
    }


async def test_a_reply_to_a_reply_answers_the_threads_top_level_comment() -> None:
    yt, seen = deliverer(answer(200, REPLY))

    await yt.reply(request(in_reply_to=f"{TOP}.8yOtherReply"))

    assert json.loads(seen[0].content)["snippet"]["parentId"] == TOP


async def test_a_reply_without_a_video_in_the_answer_has_no_url() -> None:
    yt, _ = deliverer(answer(200, comment(f"{TOP}.9z", "Thanks for watching!")))

    assert (await yt.reply(request(in_reply_to=TOP))).url is None


async def test_a_video_target_starts_a_new_comment_thread() -> None:
    yt, seen = deliverer(answer(200, NEW_THREAD))

    published = await yt.reply(request(in_reply_to=video_target(VIDEO)))

    assert published == Published(
        native_id="UgxNewTopLevel000AaABAg",
        url=f"https://www.youtube.com/watch?v={VIDEO}&lc=UgxNewTopLevel000AaABAg",
    )
    (sent,) = seen
    assert sent.url.path == "/youtube/v3/commentThreads"
    assert sent.url.params["part"] == "snippet"
    assert json.loads(sent.content) == {
        "snippet": {
            "videoId": VIDEO,
            "topLevelComment": {"snippet": {"textOriginal": "Thanks for watching!"}},
        }
    }


async def test_a_post_comments_on_the_video_its_link_names() -> None:
    link = f"https://youtu.be/{VIDEO}"
    yt, seen = deliverer(answer(200, NEW_THREAD))

    published = await yt.post(request(f"New video!\n\n{link}", link=link))

    assert published.native_id == "UgxNewTopLevel000AaABAg"
    body = json.loads(seen[0].content)
    assert body["snippet"]["videoId"] == VIDEO
    # The text is posted as it is: from_variant put the link in it.
    assert body["snippet"]["topLevelComment"]["snippet"]["textOriginal"].endswith(link)


@pytest.mark.parametrize(
    "link", [None, "https://shop.example.com/spring", "https://www.youtube.com/@brand"]
)
async def test_a_post_without_a_video_is_refused_because_the_api_has_no_community_posts(
    link: str | None,
) -> None:
    yt, seen = deliverer(answer(200, NEW_THREAD))
    text = f"Hello {link}" if link else "Hello"

    with pytest.raises(PermanentDeliveryError) as caught:
        await yt.post(request(text, link=link))

    assert caught.value.code == "youtube.unsupported"
    assert "community posts" in caught.value.message
    assert seen == []


@pytest.mark.parametrize(
    ("url", "video"),
    [
        (f"https://www.youtube.com/watch?v={VIDEO}", VIDEO),
        (f"https://m.youtube.com/watch?feature=share&v={VIDEO}", VIDEO),
        (f"https://youtu.be/{VIDEO}?t=42", VIDEO),
        (f"https://www.youtube.com/shorts/{VIDEO}", VIDEO),
        (f"https://www.youtube.com/live/{VIDEO}", VIDEO),
        ("https://www.youtube.com/watch?v=short", None),
        (f"https://notyoutube.com/watch?v={VIDEO}", None),
        ("https://www.youtube.com/channel/UCxyz", None),
        ("not a url", None),
    ],
)
def test_video_id_of_url(url: str, video: str | None) -> None:
    assert video_id_of_url(url) == video


async def test_wrong_kinds_of_request_are_refused_before_sending() -> None:
    yt, seen = deliverer(answer(200, REPLY))

    with pytest.raises(ValueError, match="reply"):
        await yt.post(request(in_reply_to=TOP))
    with pytest.raises(ValueError, match="in_reply_to"):
        await yt.reply(request())
    with pytest.raises(ValueError, match="telegram"):
        await yt.reply(request(network=Network.TELEGRAM, in_reply_to=TOP))
    with pytest.raises(PermanentDeliveryError) as media:
        await yt.reply(request(in_reply_to=TOP, media_urls=("https://cdn.example.com/a.jpg",)))
    assert media.value.code == "youtube.media_unsupported"
    for target in ("video:short", "not a comment id", "t1_abc:def"):
        with pytest.raises(PermanentDeliveryError) as bad:
            await yt.reply(request(in_reply_to=target))
        assert bad.value.code == "youtube.invalid_reply_target"
    assert seen == []


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "code", "words"),
    [
        (
            google_error(401, "authError", "Invalid Credentials"),
            "youtube.token_invalid",
            "Reconnect",
        ),
        (lambda _: httpx.Response(401, text="<html>"), "youtube.token_invalid", "Reconnect"),
        (google_error(403, "commentsDisabled"), "youtube.comments_disabled", "turned off"),
        (google_error(403, "forbidden"), "youtube.forbidden", "refused"),
        (google_error(403, "ineligibleAccount"), "youtube.ineligible_account", "channel"),
        (
            google_error(403, "insufficientPermissions"),
            "youtube.missing_permission",
            "youtube.force-ssl",
        ),
        (
            google_error(403, "authenticatedUserAccountSuspended"),
            "youtube.account_suspended",
            "suspended",
        ),
        (google_error(404, "videoNotFound"), "youtube.not_found", "deleted"),
        (google_error(404, "commentNotFound"), "youtube.not_found", "deleted"),
        (google_error(400, "commentTextTooLong"), "youtube.too_long", "10,000"),
        (google_error(400, "operationNotSupported"), "youtube.reply_not_allowed", "reply"),
        (google_error(400, "parentCommentIsPrivate"), "youtube.reply_not_allowed", "reply"),
        (google_error(400, "processingFailure"), "youtube.rejected", "processingFailure"),
    ],
)
async def test_refusals_are_permanent_with_a_code_and_a_message_that_says_what_to_fix(
    handler: Handler, code: str, words: str
) -> None:
    yt, _ = deliverer(handler)

    with pytest.raises(PermanentDeliveryError) as caught:
        await yt.reply(request(in_reply_to=TOP))

    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.parametrize("reason", ["quotaExceeded", "dailyLimitExceeded"])
async def test_a_spent_quota_waits_until_midnight_pacific(reason: str) -> None:
    yt, _ = deliverer(google_error(403, reason, "The request cannot be completed: quota."))

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await yt.reply(request(in_reply_to=TOP))

    # 10:00 UTC is 02:00 PST; the quota resets at 00:00 PST = 08:00 UTC the next day.
    assert caught.value.retry_after_s == 22 * 3600
    assert "midnight Pacific" in caught.value.message


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (datetime(2025, 11, 27, 10, 0, tzinfo=UTC), 22 * 3600.0),
        # Summer: Los Angeles is UTC-7, so midnight there is 07:00 UTC.
        (datetime(2025, 7, 1, 6, 30, tzinfo=UTC), 30 * 60.0),
        (datetime(2025, 7, 1, 7, 0, tzinfo=UTC), 24 * 3600.0),
        # The night the clocks go back (2 Nov 2025): that day has 25 hours.
        (datetime(2025, 11, 2, 7, 0, tzinfo=UTC), 25 * 3600.0),
    ],
)
def test_seconds_until_quota_reset(now: datetime, seconds: float) -> None:
    assert seconds_until_quota_reset(now) == seconds


@pytest.mark.parametrize(
    ("handler", "wait"),
    [
        (
            lambda _: httpx.Response(
                403,
                json={"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}},
                headers={"retry-after": "30"},
            ),
            30.0,
        ),
        (google_error(403, "rateLimitExceeded"), 60.0),
        (google_error(429, "userRateLimitExceeded"), 60.0),
    ],
)
async def test_a_short_term_rate_limit_waits_retry_after_or_a_minute(
    handler: Handler, wait: float
) -> None:
    yt, _ = deliverer(handler)

    with pytest.raises(RateLimitedDeliveryError) as caught:
        await yt.reply(request(in_reply_to=TOP))

    assert caught.value.retry_after_s == wait


@pytest.mark.parametrize(
    "handler",
    [
        google_error(500, "backendError"),
        lambda _: httpx.Response(503, text="<html>unavailable</html>"),
        raising(httpx.ConnectError),
    ],
)
async def test_server_errors_and_no_connection_are_transient(handler: Handler) -> None:
    yt, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await yt.reply(request(in_reply_to=TOP))


@pytest.mark.parametrize(
    "handler",
    [
        raising(httpx.ReadTimeout),
        raising(httpx.RemoteProtocolError),
        lambda _: httpx.Response(502, text="<html>Bad Gateway</html>"),
        lambda _: httpx.Response(504, text="<html>Gateway Timeout</html>"),
        lambda _: httpx.Response(200, text="not json"),
        answer(200, {"kind": "youtube#comment"}),
    ],
)
async def test_sent_without_a_readable_answer_is_ambiguous(handler: Handler) -> None:
    yt, _ = deliverer(handler)

    with pytest.raises(AmbiguousDeliveryError):
        await yt.reply(request(in_reply_to=TOP))
    with pytest.raises(AmbiguousDeliveryError):
        await yt.reply(request(in_reply_to=video_target(VIDEO)))


async def test_the_timeout_is_the_deliverers() -> None:
    http, seen = recording_client(answer(200, REPLY))
    yt = YouTubeDeliverer(http, timeout_s=4.0)

    await yt.reply(request(in_reply_to=TOP))

    assert str(seen[0].url).startswith("https://www.googleapis.com/youtube/v3/comments")
    assert seen[0].extensions["timeout"]["read"] == 4.0


# --- find ---------------------------------------------------------------------------------------


def listing(*items: dict[str, Any], next_page: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "youtube#commentListResponse", "items": list(items)}
    if next_page:
        body["nextPageToken"] = next_page
    return body


async def test_find_lists_the_replies_and_matches_our_channel_and_text() -> None:
    yt, seen = deliverer(
        answer(
            200,
            listing(
                comment(f"{TOP}.1", "Thanks for watching!", author="UCsomeoneElse0000000000a"),
                comment(f"{TOP}.2", "Something else"),
                comment(f"{TOP}.3", "Thanks  for watching!\n", videoId=VIDEO),
            ),
        )
    )

    found = await yt.find(request(in_reply_to=f"{TOP}.0fan", attempted_at=NOW))

    assert found == Published(
        native_id=f"{TOP}.3", url=f"https://www.youtube.com/watch?v={VIDEO}&lc={TOP}.3"
    )
    (sent,) = seen
    assert sent.method == "GET"
    assert sent.url.path == "/youtube/v3/comments"
    assert dict(sent.url.params) == {
        "part": "snippet",
        "parentId": TOP,
        "maxResults": "100",
        "textFormat": "plainText",
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


async def test_find_reads_further_pages_of_replies() -> None:
    pages = {
        None: listing(comment(f"{TOP}.1", "Other"), next_page="p2"),
        "p2": listing(comment(f"{TOP}.2", "Thanks for watching!")),
    }
    yt, seen = deliverer(lambda r: httpx.Response(200, json=pages[r.url.params.get("pageToken")]))

    found = await yt.find(request(in_reply_to=TOP))

    assert found is not None
    assert found.native_id == f"{TOP}.2"
    assert [r.url.params.get("pageToken") for r in seen] == [None, "p2"]


@pytest.mark.parametrize(
    "listed",
    [
        comment(f"{TOP}.1", "Thanks for watching!", published="2025-11-20T10:00:00Z"),
        comment(f"{TOP}.1", "Thanks for watching!", author="UCsomeoneElse0000000000a"),
        comment(f"{TOP}.1", "Thanks for reading!"),
    ],
)
async def test_find_returns_none_when_no_reply_is_ours(listed: dict[str, Any]) -> None:
    yt, _ = deliverer(answer(200, listing(listed)))

    assert await yt.find(request(in_reply_to=TOP, attempted_at=NOW)) is None


async def test_find_for_a_video_comment_reads_the_newest_threads() -> None:
    ours = comment("UgxOurs", "Thanks for watching!")
    yt, seen = deliverer(answer(200, listing(thread(comment("UgxOther", "Hi")), thread(ours))))

    found = await yt.find(request(in_reply_to=video_target(VIDEO), attempted_at=NOW))

    assert found == Published(
        native_id="UgxOurs", url=f"https://www.youtube.com/watch?v={VIDEO}&lc=UgxOurs"
    )
    (sent,) = seen
    assert sent.url.path == "/youtube/v3/commentThreads"
    assert sent.url.params["videoId"] == VIDEO
    assert sent.url.params["order"] == "time"


async def test_find_for_a_post_uses_the_video_of_its_link() -> None:
    link = f"https://www.youtube.com/watch?v={VIDEO}"
    yt, seen = deliverer(answer(200, listing(thread(comment("UgxOurs", f"New! {link}")))))

    found = await yt.find(request(f"New! {link}", link=link))

    assert found is not None
    assert seen[0].url.params["videoId"] == VIDEO


async def test_find_stops_paging_threads_once_they_are_older_than_the_attempt() -> None:
    old = thread(comment("UgxOld", "Hi", published="2025-11-01T00:00:00Z"))
    yt, seen = deliverer(answer(200, listing(old, next_page="more")))

    assert await yt.find(request(in_reply_to=video_target(VIDEO), attempted_at=NOW)) is None
    assert len(seen) == 1


async def test_find_for_a_post_without_a_video_sends_nothing() -> None:
    yt, seen = deliverer(answer(200, listing()))

    assert await yt.find(request()) is None
    assert seen == []


@pytest.mark.parametrize(
    "handler",
    [
        lambda _: httpx.Response(200, text="<html>"),
        answer(200, {"items": "nope"}),
        raising(httpx.ReadTimeout),
        google_error(503, "backendError"),
    ],
)
async def test_find_failures_are_transient(handler: Handler) -> None:
    yt, _ = deliverer(handler)

    with pytest.raises(TransientDeliveryError):
        await yt.find(request(in_reply_to=TOP))


async def test_find_maps_errors_like_a_post() -> None:
    yt, _ = deliverer(google_error(401, "authError"))

    with pytest.raises(PermanentDeliveryError) as caught:
        await yt.find(request(in_reply_to=TOP))

    assert caught.value.code == "youtube.token_invalid"
