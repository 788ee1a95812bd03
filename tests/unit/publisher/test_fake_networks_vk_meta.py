"""The VK, Facebook and Instagram deliverers against the fake networks, in process (no ports).

Each test drives a real deliverer through the fake's HTTP API and checks what the fake stored:
posts and replies land with the ids the deliverer reports, a fault shows as the right delivery
error with nothing stored, and a post the gateway "lost" is found by ``find`` afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from smm_publisher.adapters.delivery.meta import FacebookDeliverer, InstagramDeliverer
from smm_publisher.adapters.delivery.vk import VkDeliverer
from smm_publisher.domain.delivery import (
    AmbiguousDeliveryError,
    DeliveryError,
    PermanentDeliveryError,
    PostRequest,
    Published,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)
from smm_shared.events import Network
from smm_shared.simulator.networks import FakeNetworks, Fault, create_app, meta, vk

pytestmark = pytest.mark.unit

BASE = "http://fake.test"
COMMUNITY = "-123456"
PAGE = "104000000000001"
IG_USER = "17841400000000001"
IMG = "https://cdn.example.com/a.jpg"
IMG2 = "https://cdn.example.com/b.jpg"
LINK = "https://shop.example.com/spring"


@pytest.fixture
def state() -> FakeNetworks:
    return FakeNetworks()


@pytest.fixture
async def http(state: FakeNetworks) -> AsyncIterator[httpx.AsyncClient]:
    # Only these routers: create_app also mounts networks written elsewhere.
    app = FastAPI()
    app.include_router(vk.router(state), prefix="/vk")
    app.include_router(meta.router(state), prefix="/graph")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


def request(network: Network, text: str = "Spring sale starts today", **kwargs: Any) -> PostRequest:
    account = {Network.VK: COMMUNITY, Network.FACEBOOK: PAGE, Network.INSTAGRAM: IG_USER}
    fields: dict[str, Any] = {
        "network": network,
        "account_id": account[network],
        "access_token": "token-1",
        "text": text,
        "idempotency_key": "content-1:acct-1",
        "attempted_at": datetime.now(UTC),
    }
    if network is Network.INSTAGRAM and "in_reply_to" not in kwargs:
        fields["media_urls"] = (IMG,)
    fields.update(kwargs)
    return PostRequest(**fields)


# --- VK -----------------------------------------------------------------------------------------


@pytest.fixture
def vk_deliverer(http: httpx.AsyncClient) -> VkDeliverer:
    return VkDeliverer(http, api_base_url=f"{BASE}/vk")


async def test_vk_post_is_stored_as_the_community_with_the_id_the_deliverer_reports(
    vk_deliverer: VkDeliverer, state: FakeNetworks
) -> None:
    published = await vk_deliverer.post(request(Network.VK, link=LINK))

    (stored,) = state.posts("vk")
    assert published == Published(native_id=stored.native_id, url=stored.url)
    assert stored.native_id.startswith(f"wall{COMMUNITY}_")
    assert stored.account == COMMUNITY
    assert stored.text == "Spring sale starts today"
    assert stored.extra["attachments"] == [LINK]
    assert await vk_deliverer.find(request(Network.VK)) == published


async def test_vk_a_repeated_guid_answers_with_the_first_post_instead_of_posting_again(
    vk_deliverer: VkDeliverer, state: FakeNetworks
) -> None:
    first = await vk_deliverer.post(request(Network.VK))
    again = await vk_deliverer.post(request(Network.VK))
    other = await vk_deliverer.post(request(Network.VK, idempotency_key="content-2:acct-1"))

    assert again == first != other
    assert len(state.posts("vk")) == 2


async def test_vk_replies_thread_like_vk_and_find_finds_a_reply_to_a_reply(
    vk_deliverer: VkDeliverer, state: FakeNetworks
) -> None:
    post = await vk_deliverer.post(request(Network.VK))
    top = await vk_deliverer.reply(
        request(Network.VK, "First!", in_reply_to=post.native_id, idempotency_key="r1")
    )
    nested = await vk_deliverer.reply(
        request(Network.VK, "Second", in_reply_to=top.native_id, idempotency_key="r2")
    )
    deeper = await vk_deliverer.reply(
        request(Network.VK, "Third", in_reply_to=nested.native_id, idempotency_key="r3")
    )

    stored = {p.native_id: p for p in state.posts("vk")}
    assert stored[top.native_id].in_reply_to == post.native_id
    root = stored[top.native_id].extra["comment_id"]
    # A reply to a reply joins the thread of the root comment.
    assert stored[deeper.native_id].extra["parents_stack"] == [root]
    assert deeper.url is not None
    assert deeper.url.endswith(f"&thread={root}")
    found = await vk_deliverer.find(request(Network.VK, "Third", in_reply_to=nested.native_id))
    assert found == deeper
    assert await vk_deliverer.find(request(Network.VK, "First!", in_reply_to=post.native_id)) == top
    assert await vk_deliverer.find(request(Network.VK, "Nope", in_reply_to=post.native_id)) is None


async def test_vk_a_reply_to_an_ingested_comment_the_fake_never_saw(
    vk_deliverer: VkDeliverer, state: FakeNetworks
) -> None:
    published = await vk_deliverer.reply(
        request(Network.VK, "Thanks!", in_reply_to=f"wall{COMMUNITY}_45_r67")
    )

    (stored,) = state.posts("vk")
    assert stored.in_reply_to == f"wall{COMMUNITY}_45_r67"
    assert stored.account == COMMUNITY
    found = await vk_deliverer.find(
        request(Network.VK, "Thanks!", in_reply_to=f"wall{COMMUNITY}_45_r67")
    )
    assert found == published


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.EXPIRED_TOKEN, PermanentDeliveryError, "vk.token_invalid"),
        (Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
        (Fault.SERVER_ERROR, TransientDeliveryError, None),
        (Fault.REJECT_CONTENT, PermanentDeliveryError, "vk.flood_control"),
    ],
)
async def test_vk_faults_are_the_delivery_errors_they_mean_and_post_nothing(
    vk_deliverer: VkDeliverer,
    state: FakeNetworks,
    fault: Fault,
    error: type[DeliveryError],
    code: str | None,
) -> None:
    state.inject("vk", fault)

    with pytest.raises(error) as caught:
        await vk_deliverer.post(request(Network.VK))

    assert getattr(caught.value, "code", None) == code
    assert state.posts("vk") == []
    await vk_deliverer.post(request(Network.VK))  # the fault was for one request only
    assert len(state.posts("vk")) == 1


async def test_vk_an_expired_token_is_refused_on_every_call(vk_deliverer: VkDeliverer) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await vk_deliverer.find(request(Network.VK, access_token="expired-1"))

    assert caught.value.code == "vk.token_invalid"


async def test_vk_a_dropped_answer_is_ambiguous_then_find_and_the_guid_both_resolve_it(
    vk_deliverer: VkDeliverer, state: FakeNetworks
) -> None:
    state.inject("vk", Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await vk_deliverer.post(request(Network.VK))

    (stored,) = state.posts("vk")
    found = await vk_deliverer.find(request(Network.VK))
    assert found is not None
    assert found.native_id == stored.native_id
    retried = await vk_deliverer.post(request(Network.VK))  # same guid: no second post
    assert retried == found
    assert len(state.posts("vk")) == 1


async def test_vk_a_dropped_reply_is_found(vk_deliverer: VkDeliverer, state: FakeNetworks) -> None:
    state.inject("vk", Fault.DROP_AFTER_ACCEPT)
    target = f"wall{COMMUNITY}_45"

    with pytest.raises(AmbiguousDeliveryError):
        await vk_deliverer.reply(request(Network.VK, "Thanks!", in_reply_to=target))

    found = await vk_deliverer.find(request(Network.VK, "Thanks!", in_reply_to=target))
    assert found is not None
    assert found.native_id == state.posts("vk")[0].native_id


# --- Facebook -----------------------------------------------------------------------------------


@pytest.fixture
def fb(http: httpx.AsyncClient) -> FacebookDeliverer:
    return FacebookDeliverer(http, api_base_url=f"{BASE}/graph")


async def test_facebook_posts_text_photo_and_album_and_finds_them(
    fb: FacebookDeliverer, state: FakeNetworks
) -> None:
    text_post = await fb.post(request(Network.FACEBOOK, "Text", link=LINK))
    photo_post = await fb.post(request(Network.FACEBOOK, "Photo", media_urls=(IMG,), link=LINK))
    album = await fb.post(request(Network.FACEBOOK, "Album", media_urls=(IMG, IMG2)))

    stored = {p.native_id: p for p in state.posts("facebook")}
    assert list(stored) == [text_post.native_id, photo_post.native_id, album.native_id]
    assert stored[text_post.native_id].extra["link"] == LINK
    assert stored[photo_post.native_id].text == f"Photo\n\n{LINK}"
    assert stored[album.native_id].media_urls == (IMG, IMG2)
    assert all(p.account == PAGE for p in stored.values())
    assert text_post.url == f"https://www.facebook.com/{text_post.native_id}"
    found = await fb.find(request(Network.FACEBOOK, "Photo", media_urls=(IMG,), link=LINK))
    assert found == photo_post


async def test_facebook_reply_is_stored_under_its_parent_and_found(
    fb: FacebookDeliverer, state: FakeNetworks
) -> None:
    post = await fb.post(request(Network.FACEBOOK))
    page_token = f"secret@{PAGE}"  # the fake's way to say whose token it is
    reply = await fb.reply(
        request(Network.FACEBOOK, "Thanks!", in_reply_to=post.native_id, access_token=page_token)
    )

    stored = state.find("facebook", reply.native_id)
    assert stored is not None
    assert stored.in_reply_to == post.native_id
    assert stored.account == PAGE
    found = await fb.find(request(Network.FACEBOOK, "Thanks!", in_reply_to=post.native_id))
    assert found == reply


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.EXPIRED_TOKEN, PermanentDeliveryError, "facebook.token_invalid"),
        (Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
        (Fault.SERVER_ERROR, TransientDeliveryError, None),
        (Fault.REJECT_CONTENT, PermanentDeliveryError, "facebook.duplicate"),
    ],
)
async def test_facebook_faults_are_the_delivery_errors_they_mean_and_post_nothing(
    fb: FacebookDeliverer,
    state: FakeNetworks,
    fault: Fault,
    error: type[DeliveryError],
    code: str | None,
) -> None:
    state.inject("facebook", fault)

    with pytest.raises(error) as caught:
        await fb.post(request(Network.FACEBOOK))

    assert getattr(caught.value, "code", None) == code
    if isinstance(caught.value, RateLimitedDeliveryError):
        assert caught.value.retry_after_s == 300.0  # the fake's 5-minute estimate
    assert state.posts("facebook") == []


async def test_facebook_a_dropped_answer_is_ambiguous_then_find_returns_the_post(
    fb: FacebookDeliverer, state: FakeNetworks
) -> None:
    state.inject("facebook", Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await fb.post(request(Network.FACEBOOK))

    (stored,) = state.posts("facebook")
    found = await fb.find(request(Network.FACEBOOK))
    assert found == Published(native_id=stored.native_id, url=stored.url)


# --- Instagram ----------------------------------------------------------------------------------


@pytest.fixture
def ig(http: httpx.AsyncClient) -> InstagramDeliverer:
    return InstagramDeliverer(http, api_base_url=f"{BASE}/graph", poll_interval_s=0)


async def test_instagram_publishes_an_image_and_a_carousel_with_their_permalinks(
    ig: InstagramDeliverer, state: FakeNetworks
) -> None:
    single = await ig.post(request(Network.INSTAGRAM, "One"))
    carousel = await ig.post(request(Network.INSTAGRAM, "Two", media_urls=(IMG, IMG2)))

    stored = {p.native_id: p for p in state.posts("instagram")}
    assert list(stored) == [single.native_id, carousel.native_id]
    assert single.url == stored[single.native_id].url
    assert single.url is not None
    assert single.url.startswith("https://www.instagram.com/p/")
    assert stored[carousel.native_id].media_urls == (IMG, IMG2)
    assert stored[carousel.native_id].text == "Two"
    assert await ig.find(request(Network.INSTAGRAM, "Two")) == carousel


async def test_instagram_reply_is_stored_and_found(
    ig: InstagramDeliverer, state: FakeNetworks
) -> None:
    reply = await ig.reply(
        request(
            Network.INSTAGRAM,
            "Thanks!",
            in_reply_to="17800000000000001",
            access_token=f"secret@{IG_USER}",
        )
    )

    (stored,) = state.posts("instagram")
    assert stored.native_id == reply.native_id
    assert stored.account == IG_USER
    assert stored.in_reply_to == "17800000000000001"
    found = await ig.find(request(Network.INSTAGRAM, "Thanks!", in_reply_to="17800000000000001"))
    assert found == reply


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.EXPIRED_TOKEN, PermanentDeliveryError, "instagram.token_invalid"),
        (Fault.RATE_LIMITED, RateLimitedDeliveryError, None),
        (Fault.SERVER_ERROR, TransientDeliveryError, None),
        (Fault.REJECT_CONTENT, PermanentDeliveryError, "instagram.spam_restricted"),
    ],
)
async def test_instagram_faults_at_publish_are_the_delivery_errors_they_mean(
    ig: InstagramDeliverer,
    state: FakeNetworks,
    fault: Fault,
    error: type[DeliveryError],
    code: str | None,
) -> None:
    state.inject("instagram", fault)

    with pytest.raises(error) as caught:
        await ig.post(request(Network.INSTAGRAM))

    assert getattr(caught.value, "code", None) == code
    assert state.posts("instagram") == []


async def test_instagram_a_dropped_publish_is_ambiguous_then_find_returns_the_post(
    ig: InstagramDeliverer, state: FakeNetworks
) -> None:
    state.inject("instagram", Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await ig.post(request(Network.INSTAGRAM))

    (stored,) = state.posts("instagram")
    found = await ig.find(request(Network.INSTAGRAM))
    assert found == Published(native_id=stored.native_id, url=stored.url)


async def test_instagram_a_dropped_reply_is_found(
    ig: InstagramDeliverer, state: FakeNetworks
) -> None:
    state.inject("instagram", Fault.DROP_AFTER_ACCEPT)

    with pytest.raises(AmbiguousDeliveryError):
        await ig.reply(request(Network.INSTAGRAM, "Thanks!", in_reply_to="17800000000000001"))

    found = await ig.find(request(Network.INSTAGRAM, "Thanks!", in_reply_to="17800000000000001"))
    assert found is not None
    assert found.native_id == state.posts("instagram")[0].native_id


async def test_instagram_an_image_url_the_fake_cannot_fetch_is_refused(
    ig: InstagramDeliverer, state: FakeNetworks
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await ig.post(request(Network.INSTAGRAM, media_urls=("ftp://cdn.example.com/a.jpg",)))

    assert caught.value.code == "instagram.media_invalid"
    assert state.posts("instagram") == []


async def test_the_whole_fake_app_serves_vk_and_graph_under_their_prefixes() -> None:
    state = FakeNetworks()
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        vk_post = await VkDeliverer(client, api_base_url=f"{BASE}/vk").post(request(Network.VK))
        fb_post = await FacebookDeliverer(client, api_base_url=f"{BASE}/graph").post(
            request(Network.FACEBOOK)
        )
        listed = (await client.get("/_fake/posts")).json()

    assert [(p["network"], p["native_id"]) for p in listed] == [
        ("vk", vk_post.native_id),
        ("facebook", fb_post.native_id),
    ]
