"""The X, Telegram, Mastodon, YouTube and Reddit deliverers against the fake networks, in process.

Each test drives a real deliverer through the fake's HTTP API (an ASGI transport, no ports)
and checks what the fake stored: posts and replies land with the ids the deliverer reports,
a fault shows as the right delivery error with nothing stored, and a post whose answer the
gateway "lost" (``drop_after_accept``) is found by ``find`` afterwards, so it is not posted
twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from smm_publisher.adapters.delivery.mastodon import MastodonDeliverer
from smm_publisher.adapters.delivery.reddit import RedditDeliverer
from smm_publisher.adapters.delivery.telegram import TelegramDeliverer
from smm_publisher.adapters.delivery.x import XDeliverer
from smm_publisher.adapters.delivery.youtube import YouTubeDeliverer, video_target
from smm_publisher.domain.delivery import (
    AmbiguousDeliveryError,
    Deliverer,
    DeliveryError,
    PermanentDeliveryError,
    PostRequest,
    Published,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)
from smm_shared.events import Network
from smm_shared.simulator.networks import (
    FakeNetworks,
    Fault,
    mastodon,
    reddit,
    telegram,
    x,
    youtube,
)
from smm_shared.simulator.networks._common import token_owner

pytestmark = pytest.mark.unit

BASE = "http://fake.test"
IMG = f"{BASE}/cdn/a.jpg"
IMG2 = f"{BASE}/cdn/b.png"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"png" * 100
X_USER = "1580000000000000001"
MASTO_ACCOUNT = "109000000000000001"
CHANNEL = "UCbrandChannel0000000001"
VIDEO = "dQw4w9WgXcQ"
REDDIT_USER = "brand_team"
#: Each token names its account (``secret@account``), as the fakes read tokens.
TOKENS = {
    Network.X: f"x-secret@{X_USER}",
    Network.TELEGRAM: "123456:bot-token",
    Network.MASTODON: f"m-secret@{MASTO_ACCOUNT}",
    Network.YOUTUBE: f"ya29.secret@{CHANNEL}",
    Network.REDDIT: f"r-secret@{REDDIT_USER}",
}
ACCOUNTS = {
    Network.X: X_USER,
    Network.TELEGRAM: "@acme_news",
    Network.MASTODON: MASTO_ACCOUNT,
    Network.YOUTUBE: CHANNEL,
    Network.REDDIT: "brand",
}


class Clock:
    """The fakes' clock: now, shifted by ``offset`` (to post something "earlier")."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> FakeNetworks:
    return FakeNetworks(clock=clock)


@pytest.fixture
async def http(state: FakeNetworks) -> AsyncIterator[httpx.AsyncClient]:
    # Only these routers: create_app also mounts the networks another module serves.
    app = FastAPI()
    for prefix, module in (
        ("x", x),
        ("telegram", telegram),
        ("mastodon", mastodon),
        ("youtube", youtube),
        ("reddit", reddit),
    ):
        app.include_router(module.router(state), prefix=f"/{prefix}")

    @app.get("/cdn/{name}")
    async def cdn(name: str) -> Response:  # the media files X and Mastodon download
        if name == "a.jpg":
            return Response(JPEG, media_type="image/jpeg")
        if name == "b.png":
            return Response(PNG, media_type="application/octet-stream")
        return Response("Not Found", status_code=404)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


@pytest.fixture
def deliverers(http: httpx.AsyncClient) -> dict[Network, Deliverer]:
    return {
        Network.X: XDeliverer(http, api_base_url=f"{BASE}/x", timeout_s=5),
        Network.TELEGRAM: TelegramDeliverer(http, api_base_url=f"{BASE}/telegram", timeout_s=5),
        Network.MASTODON: MastodonDeliverer(http, instance_url=f"{BASE}/mastodon", timeout_s=5),
        Network.YOUTUBE: YouTubeDeliverer(http, api_base_url=f"{BASE}/youtube", timeout_s=5),
        Network.REDDIT: RedditDeliverer(http, api_base_url=f"{BASE}/reddit", timeout_s=5),
    }


def request(network: Network, text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    fields: dict[str, Any] = {
        "network": network,
        "account_id": ACCOUNTS[network],
        "access_token": TOKENS[network],
        "text": text,
        "idempotency_key": "content-1:acct-1",
        "attempted_at": datetime.now(UTC),
    }
    if network is Network.REDDIT and "in_reply_to" not in kwargs:
        fields["title"] = "Spring sale"
    if network is Network.YOUTUBE and "in_reply_to" not in kwargs:
        fields["in_reply_to"] = video_target(VIDEO)
    fields.update(kwargs)
    return PostRequest(**fields)


async def publish(deliverer: Deliverer, req: PostRequest) -> Published:
    """A new post, or on YouTube (no posts in the API) a new comment on the video."""
    if req.in_reply_to is not None:
        return await deliverer.reply(req)
    return await deliverer.post(req)


# --- posts and replies --------------------------------------------------------------------------


async def test_x_posts_a_tweet_with_images_and_replies(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.X]

    post = await deliverer.post(request(Network.X, media_urls=(IMG, IMG2)))
    reply = await deliverer.reply(request(Network.X, "Thanks!", in_reply_to=post.native_id))

    first, second = state.posts("x")
    assert (first.native_id, first.account, first.text) == (
        post.native_id,
        X_USER,
        "Spring sale starts today",
    )
    assert post.url == f"https://x.com/i/web/status/{post.native_id}"
    assert first.extra["media_sha256"] == [
        hashlib.sha256(JPEG).hexdigest(),
        hashlib.sha256(PNG).hexdigest(),
    ]
    assert (second.native_id, second.in_reply_to) == (reply.native_id, post.native_id)


async def test_x_refuses_an_image_the_cdn_does_not_have(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    missing = f"{BASE}/cdn/gone.jpg"

    with pytest.raises(PermanentDeliveryError) as caught:
        await deliverers[Network.X].post(request(Network.X, media_urls=(missing,)))

    assert caught.value.code == "x.media_unavailable"
    assert missing in caught.value.message
    assert state.posts("x") == []


async def test_telegram_sends_a_message_a_photo_and_an_album(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.TELEGRAM]

    message = await deliverer.post(request(Network.TELEGRAM))
    photo = await deliverer.post(request(Network.TELEGRAM, media_urls=(IMG,)))
    album = await deliverer.reply(
        request(Network.TELEGRAM, "Both", media_urls=(IMG, IMG2), in_reply_to=message.native_id)
    )

    stored = state.posts("telegram")
    assert [p.native_id for p in stored] == [message.native_id, photo.native_id, album.native_id]
    assert all(p.account == "@acme_news" for p in stored)
    assert message.url == f"https://t.me/acme_news/{message.native_id.rpartition('_')[2]}"
    assert stored[1].media_urls == (IMG,)
    assert stored[1].extra["method"] == "sendPhoto"
    assert stored[2].media_urls == (IMG, IMG2)
    assert stored[2].extra["method"] == "sendMediaGroup"
    assert stored[2].in_reply_to == message.native_id
    assert stored[2].text == "Both"


async def test_mastodon_posts_a_status_with_an_image_and_a_reply(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.MASTODON]

    post = await deliverer.post(request(Network.MASTODON, media_urls=(IMG2,)))
    reply = await deliverer.reply(
        request(Network.MASTODON, "Thanks!", in_reply_to=post.native_id, idempotency_key="reply-1")
    )

    first, second = state.posts("mastodon")
    assert first.native_id == post.native_id
    assert first.account == MASTO_ACCOUNT
    assert post.url == f"{BASE}/mastodon/@user000001/{post.native_id}"
    assert len(first.media_urls) == 1
    assert (second.native_id, second.in_reply_to) == (reply.native_id, post.native_id)


async def test_mastodon_answers_a_repeated_idempotency_key_with_the_first_status(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.MASTODON]

    first = await deliverer.post(request(Network.MASTODON))
    again = await deliverer.post(request(Network.MASTODON))
    other = await deliverer.post(request(Network.MASTODON, idempotency_key="content-2:acct-1"))

    assert again == first
    assert other.native_id != first.native_id
    assert len(state.posts("mastodon")) == 2


async def test_youtube_comments_on_a_video_and_replies_in_its_thread(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.YOUTUBE]
    link = f"https://www.youtube.com/watch?v={VIDEO}"

    top = await deliverer.post(
        request(Network.YOUTUBE, f"New video! {link}", link=link, in_reply_to=None)
    )
    reply = await deliverer.reply(request(Network.YOUTUBE, "Thanks!", in_reply_to=top.native_id))

    first, second = state.posts("youtube")
    assert (first.native_id, first.account, first.in_reply_to) == (
        top.native_id,
        CHANNEL,
        f"video:{VIDEO}",
    )
    assert top.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={top.native_id}"
    assert reply.native_id.startswith(f"{top.native_id}.")
    assert second.in_reply_to == top.native_id
    assert reply.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={reply.native_id}"


async def test_reddit_submits_self_and_link_posts_and_comments(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.REDDIT]

    self_post = await deliverer.post(request(Network.REDDIT))
    link_post = await deliverer.post(
        request(Network.REDDIT, "", link="https://shop.example.com/spring", account_id="r/brand")
    )
    comment = await deliverer.reply(
        request(Network.REDDIT, "Details inside", in_reply_to=self_post.native_id)
    )
    answer = await deliverer.reply(
        request(Network.REDDIT, "Thanks!", in_reply_to=comment.native_id)
    )

    stored = {p.native_id: p for p in state.posts("reddit")}
    assert set(stored) == {
        self_post.native_id,
        link_post.native_id,
        comment.native_id,
        answer.native_id,
    }
    assert stored[self_post.native_id].extra["subreddit"] == "brand"
    assert stored[self_post.native_id].account == REDDIT_USER
    assert stored[link_post.native_id].extra["link"] == "https://shop.example.com/spring"
    assert stored[answer.native_id].in_reply_to == comment.native_id
    assert stored[answer.native_id].extra["link_id"] == self_post.native_id
    assert self_post.url is not None
    assert self_post.url.startswith("https://www.reddit.com/r/brand/comments/")
    assert answer.url == stored[answer.native_id].url


# --- faults -------------------------------------------------------------------------------------

FAULTS: list[tuple[Network, Fault, type[DeliveryError], str | None]] = [
    (Network.X, Fault.EXPIRED_TOKEN, PermanentDeliveryError, "x.token_invalid"),
    (Network.X, Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
    (Network.X, Fault.SERVER_ERROR, TransientDeliveryError, None),
    (Network.X, Fault.REJECT_CONTENT, PermanentDeliveryError, "x.duplicate"),
    (Network.TELEGRAM, Fault.EXPIRED_TOKEN, PermanentDeliveryError, "telegram.token_invalid"),
    (Network.TELEGRAM, Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
    (Network.TELEGRAM, Fault.SERVER_ERROR, TransientDeliveryError, None),
    (Network.TELEGRAM, Fault.REJECT_CONTENT, PermanentDeliveryError, "telegram.too_long"),
    (Network.MASTODON, Fault.EXPIRED_TOKEN, PermanentDeliveryError, "mastodon.token_invalid"),
    (Network.MASTODON, Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
    (Network.MASTODON, Fault.SERVER_ERROR, TransientDeliveryError, None),
    (Network.MASTODON, Fault.REJECT_CONTENT, PermanentDeliveryError, "mastodon.rejected"),
    (Network.YOUTUBE, Fault.EXPIRED_TOKEN, PermanentDeliveryError, "youtube.token_invalid"),
    (Network.YOUTUBE, Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
    (Network.YOUTUBE, Fault.SERVER_ERROR, TransientDeliveryError, None),
    (Network.YOUTUBE, Fault.REJECT_CONTENT, PermanentDeliveryError, "youtube.rejected"),
    (Network.REDDIT, Fault.EXPIRED_TOKEN, PermanentDeliveryError, "reddit.token_invalid"),
    (Network.REDDIT, Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
    (Network.REDDIT, Fault.SERVER_ERROR, TransientDeliveryError, None),
    (Network.REDDIT, Fault.REJECT_CONTENT, PermanentDeliveryError, "reddit.rejected"),
]
#: The wait each fake's rate-limit answer asks for, in seconds (X and Mastodon: a reset time).
WAITS = {Network.X: 900.0, Network.TELEGRAM: 7.0, Network.MASTODON: 300.0, Network.REDDIT: 180.0}


@pytest.mark.parametrize(
    ("network", "fault", "error", "code"),
    FAULTS,
    ids=[f"{n.value}-{f.value}" for n, f, *_ in FAULTS],
)
async def test_a_fault_is_the_delivery_error_it_stands_for_and_nothing_is_stored(
    state: FakeNetworks,
    deliverers: dict[Network, Deliverer],
    network: Network,
    fault: Fault,
    error: type[DeliveryError],
    code: str | None,
) -> None:
    state.inject(network.value, fault)

    with pytest.raises(error) as caught:
        await publish(deliverers[network], request(network))

    assert state.posts(network.value) == []
    if code is not None:
        assert isinstance(caught.value, PermanentDeliveryError)
        assert caught.value.code == code
    if isinstance(caught.value, RateLimitedDeliveryError) and network in WAITS:
        assert caught.value.retry_after_s == pytest.approx(WAITS[network], abs=2)
    if isinstance(caught.value, RateLimitedDeliveryError) and network is Network.YOUTUBE:
        assert "midnight Pacific" in caught.value.message
        assert 0 < caught.value.retry_after_s <= 25 * 3600
    # The fault was for one request: the next one goes through.
    await publish(deliverers[network], request(network))
    assert len(state.posts(network.value)) == 1


async def test_reddit_refuses_a_link_posted_before(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    state.inject("reddit", Fault.REJECT_CONTENT)

    with pytest.raises(PermanentDeliveryError) as caught:
        await deliverers[Network.REDDIT].post(
            request(Network.REDDIT, "", link="https://shop.example.com/spring")
        )

    assert caught.value.code == "reddit.already_submitted"


async def test_a_bad_token_is_refused_without_a_fault(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    for network, deliverer in deliverers.items():
        with pytest.raises(PermanentDeliveryError) as caught:
            await publish(deliverer, request(network, access_token="expired-token"))
        assert caught.value.code == f"{network.value}.token_invalid"
    assert state.posts() == []


# --- the lost answer ----------------------------------------------------------------------------

FINDABLE: list[tuple[Network, dict[str, Any]]] = [
    (Network.X, {}),
    (Network.X, {"media_urls": (IMG,)}),
    (Network.MASTODON, {"media_urls": (IMG,)}),
    (Network.YOUTUBE, {}),
    (Network.YOUTUBE, {"in_reply_to": "UgzSomeonesComment0AaABAg"}),
    (Network.REDDIT, {}),
    (Network.REDDIT, {"text": "", "link": "https://shop.example.com/spring"}),
    (Network.REDDIT, {"in_reply_to": "t3_abc123", "title": None}),
]


@pytest.mark.parametrize(
    ("network", "fields"), FINDABLE, ids=[f"{n.value}-{i}" for i, (n, _) in enumerate(FINDABLE)]
)
async def test_a_post_whose_answer_was_lost_is_found_instead_of_posted_twice(
    state: FakeNetworks,
    clock: Clock,
    deliverers: dict[Network, Deliverer],
    network: Network,
    fields: dict[str, Any],
) -> None:
    deliverer = deliverers[network]
    # The same text posted two hours ago: find must not take it for this attempt's post.
    clock.offset = -timedelta(hours=2)
    await publish(deliverer, request(network, **{**fields, "idempotency_key": "older:acct-1"}))
    clock.offset = timedelta(0)
    req = request(network, **fields)
    assert await deliverer.find(req) is None  # had this attempt not landed: safe to retry
    state.inject(network.value, Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await publish(deliverer, req)

    older, stored = state.posts(network.value)
    found = await deliverer.find(req)
    assert found is not None
    assert found.native_id == stored.native_id != older.native_id
    # A different text from the same account is not this attempt's post.
    other = {k: v for k, v in fields.items() if k != "text"}
    assert await deliverer.find(request(network, "Something else entirely", **other)) is None


async def test_find_after_nothing_was_posted_is_none_so_a_retry_is_safe(
    deliverers: dict[Network, Deliverer],
) -> None:
    for network in (Network.X, Network.MASTODON, Network.YOUTUBE, Network.REDDIT):
        assert await deliverers[network].find(request(network)) is None


async def test_mastodon_after_a_lost_answer_finds_the_status_and_a_retry_posts_nothing_new(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.MASTODON]
    req = request(Network.MASTODON)
    state.inject("mastodon", Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await deliverer.post(req)
    found = await deliverer.find(req)
    retried = await deliverer.post(req)  # same Idempotency-Key: Mastodon answers the first

    (stored,) = state.posts("mastodon")
    assert found is not None
    assert found.native_id == retried.native_id == stored.native_id


async def test_telegram_cannot_look_a_lost_message_up(
    state: FakeNetworks, deliverers: dict[Network, Deliverer]
) -> None:
    deliverer = deliverers[Network.TELEGRAM]
    req = request(Network.TELEGRAM)
    state.inject("telegram", Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await deliverer.post(req)

    # The message is in the chat, but the Bot API has no lookup: a person must check.
    assert len(state.posts("telegram")) == 1
    assert await deliverer.find(req) is None


# --- tokens -------------------------------------------------------------------------------------


def test_a_token_names_its_account_or_gets_a_stable_one() -> None:
    assert token_owner("secret@1234") == "1234"
    assert token_owner("a@b@UCchannel") == "UCchannel"
    derived = token_owner("plain-token", numeric=True)
    assert derived.isdigit()
    assert derived == token_owner("plain-token", numeric=True)
    assert token_owner("plain-token", prefix="user_").startswith("user_")
    assert token_owner("other-token", numeric=True) != derived
