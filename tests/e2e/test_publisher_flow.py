"""The publisher, black box on the real stack: content from draft through a label's approval
workflow to one post per account on the fake networks (with UTM links and every lifecycle
event on ``smm.posts.v1``); a reply from the responder posted once, in the mention's thread;
another brand sees none of it.

One stack (ingest, responder, publisher as processes, with their own broker and database)
serves the whole module; the fake networks run in a thread of this process, and the
publishing accounts point their ``api_base_url`` at them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.events import new_ulid
from smm_shared.localstack import free_port
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.stack import DEFAULT_PORTS, Stack, StackConfig
from smm_shared.testing import OtlpReceiver, eventually
from smm_shared.testing.plugin import TEST_STACK_ENV

pytestmark = pytest.mark.e2e

BRAND = "brand-pub"
CARE_BRAND = "brand-pub-care"
X_USER = "1580000000000000001"
MASTODON_USER = "109000000000000001"
CARE_X_USER = "1580000000000000002"
CAMPAIGN = "spring-sale"

Issue = Callable[..., str]
Client = Callable[[str, str], httpx.AsyncClient]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_networks() -> Iterator[FakeNetworkServer]:
    """The fake networks' APIs on a local port, for the whole module."""
    with FakeNetworkServer() as server:
        yield server


@pytest.fixture(scope="module")
def publisher_stack(
    tmp_path_factory: pytest.TempPathFactory, otlp_receiver: OtlpReceiver
) -> Iterator[Stack]:
    """Ingest, responder and publisher as processes with their own broker and database."""
    config = StackConfig(
        data_dir=tmp_path_factory.mktemp("publisher-stack"),
        ports={name: free_port() for name in DEFAULT_PORTS},
        services=("ingest", "responder", "publisher"),
        persistent_mongo=False,
        env={**TEST_STACK_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint},
    )
    stack = Stack(config)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def issue(publisher_stack: Stack) -> Issue:
    """Issue a token signed with this stack's dev key."""
    key = load_signing_key(publisher_stack.config.keys_dir)

    def make(*, role: Role, brand: str = BRAND, subject: str = "e2e") -> str:
        return issue_token(
            key=key,
            subject=subject,
            roles=(role,),
            brands=(brand,),
            ttl=timedelta(minutes=30),
            issuer="smm-local",
            audience="smm-platform",
        )

    return make


@pytest.fixture
async def client(publisher_stack: Stack) -> AsyncIterator[Client]:
    """An HTTP client to one of the stack's services, as the bearer of a token."""
    opened: list[httpx.AsyncClient] = []

    def make(service: str, bearer: str) -> httpx.AsyncClient:
        made = httpx.AsyncClient(
            base_url=publisher_stack.config.url(service),
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=10,
        )
        opened.append(made)
        return made

    yield make
    for made in opened:
        await made.aclose()


# --- helpers ---------------------------------------------------------------------------------


async def connect(
    publisher: httpx.AsyncClient,
    *,
    brand: str,
    account_id: str,
    network: str,
    native_id: str,
    api_base_url: str,
    replies: bool = False,
) -> None:
    """Connect a publishing account whose token names ``native_id`` on the fake network."""
    response = await publisher.post(
        "/v1/accounts",
        json={
            "id": account_id,
            "brand_id": brand,
            "network": network,
            "native_id": native_id,
            "name": f"{network} account",
            "token": {"value": f"tok@{native_id}"},
            "api_base_url": api_base_url,
            "replies": replies,
        },
    )
    assert response.status_code == 201, response.text
    shown = response.json()
    assert shown["has_token"] is True
    assert "tok@" not in response.text  # the token is never given back


class TopicReader:
    """Every event of one content item (or case) seen on a topic, by ``ce_type``."""

    def __init__(self, consumer: AIOKafkaConsumer, key: str, value: str) -> None:
        self._consumer = consumer
        self._key = key
        self._value = value
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def read(self) -> None:
        """Take what arrived since the last read."""
        batch = await self._consumer.getmany(timeout_ms=300)
        for records in batch.values():
            for record in records:
                body = json.loads(record.value)
                if body.get(self._key) == self._value:
                    self.seen.append((dict(record.headers)["ce_type"].decode(), body))

    def of(self, ce_type: str) -> list[dict[str, Any]]:
        """The bodies of one event type, in the order read."""
        return [body for kind, body in self.seen if kind == ce_type]


# --- tests -----------------------------------------------------------------------------------


async def test_content_goes_through_its_workflow_and_posts_once_per_account(
    client: Client, issue: Issue, publisher_stack: Stack, fake_networks: FakeNetworkServer
) -> None:
    manager = client("publisher", issue(role=Role.SMM_MANAGER, subject="maria"))
    writer = client("publisher", issue(role=Role.CONTENT_MANAGER, subject="carl"))
    await connect(
        manager,
        brand=BRAND,
        account_id="x-main",
        network="x",
        native_id=X_USER,
        api_base_url=f"{fake_networks.url}/x",
    )
    await connect(
        manager,
        brand=BRAND,
        account_id="mastodon-main",
        network="mastodon",
        native_id=MASTODON_USER,
        api_base_url=f"{fake_networks.url}/mastodon",
    )
    workflow = await manager.post(
        "/v1/workflows",
        json={
            "id": "promo-review",
            "brand_id": BRAND,
            "name": "Promotions",
            "steps": [{"name": "SMM manager", "roles": ["smm_manager"], "mode": "any"}],
            "labels": ["promo"],
        },
    )
    assert workflow.status_code == 201, workflow.text

    link = "https://shop.example.com/spring?ref=feed"
    publish_at = datetime.now(UTC) + timedelta(seconds=3)
    created = await writer.post(
        "/v1/content",
        json={
            "brand_id": BRAND,
            "title": "Spring sale",
            "variants": [
                {"network": "x", "text": "Spring sale: 20% off everything", "link": link},
                {"network": "mastodon", "text": "Our spring sale has started", "link": link},
            ],
            "targets": ["x-main", "mastodon-main"],
            "campaign_id": CAMPAIGN,
            "labels": ["promo"],
            "schedule": {"at": publish_at.isoformat()},
        },
    )
    assert created.status_code == 201, created.text
    content_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    params = {"brand_id": BRAND}

    submitted = await writer.post(f"/v1/content/{content_id}/submit", params=params)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["approval"]["workflow_id"] == "promo-review"
    # The writer drafts and submits; approving is the manager's.
    self_approval = await writer.post(f"/v1/content/{content_id}/approve", params=params)
    assert self_approval.status_code == 403, self_approval.text

    approved = await manager.post(f"/v1/content/{content_id}/approve", params=params)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "scheduled"  # approved with a time: on the calendar
    scheduled_at = datetime.fromisoformat(approved.json()["publish_at"])

    async def published() -> dict[str, Any] | None:
        response = await manager.get(f"/v1/content/{content_id}", params=params)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        assert body["status"] not in ("failed", "cancelled"), body
        return body if body["status"] == "published" else None

    item = await eventually(published, timeout_s=30, what="the item published")
    deliveries = item["deliveries"]
    assert set(deliveries) == {"x-main", "mastodon-main"}
    assert all(d["state"] == "published" for d in deliveries.values()), deliveries

    x_posts = [p for p in fake_networks.networks.posts("x") if p.account == X_USER]
    mastodon_posts = [
        p for p in fake_networks.networks.posts("mastodon") if p.account == MASTODON_USER
    ]
    assert len(x_posts) == 1, x_posts
    assert len(mastodon_posts) == 1, mastodon_posts
    tweet, status = x_posts[0], mastodon_posts[0]
    assert deliveries["x-main"]["native_id"] == tweet.native_id
    assert deliveries["x-main"]["url"] == f"https://x.com/i/web/status/{tweet.native_id}"
    assert deliveries["mastodon-main"]["native_id"] == status.native_id
    assert deliveries["mastodon-main"]["url"] == status.url
    assert status.url is not None
    assert status.url.startswith(f"{fake_networks.url}/mastodon/@")
    # Not before its time.
    assert tweet.created_at >= scheduled_at
    assert status.created_at >= scheduled_at

    assert tweet.text.startswith("Spring sale: 20% off everything")
    x_link = tweet.text.split()[-1]
    assert x_link.startswith(link + "&")
    for param in ("utm_source=x", "utm_medium=social", f"utm_campaign={CAMPAIGN}"):
        assert param in x_link, tweet.text
    assert "utm_source=mastodon" in status.text
    assert f"utm_campaign={CAMPAIGN}" in status.text

    consumer = AIOKafkaConsumer(
        "smm.posts.v1",
        bootstrap_servers=publisher_stack.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        events = TopicReader(consumer, "content_id", content_id)

        async def all_events() -> bool:
            await events.read()
            return len(events.of("smm.post.published")) >= 2

        await eventually(all_events, timeout_s=20, what="two post.published events")
        await events.read()  # one more read: a duplicate would show here
    finally:
        await consumer.stop()
    lifecycle = [
        "smm.content.created",
        "smm.content.submitted",
        "smm.content.approved",
        "smm.content.scheduled",
    ]
    for ce_type in lifecycle:
        assert len(events.of(ce_type)) == 1, (ce_type, events.seen)
    assert [kind for kind, _ in events.seen][:4] == lifecycle  # one item's events keep order
    assert events.of("smm.content.created")[0]["campaign_id"] == CAMPAIGN
    assert events.of("smm.content.submitted")[0]["workflow_id"] == "promo-review"
    assert events.of("smm.content.approved")[0]["actor"] == "maria"
    posted = {e["account_id"]: e for e in events.of("smm.post.published")}
    assert len(events.of("smm.post.published")) == 2
    assert posted["x-main"]["url"] == deliveries["x-main"]["url"]
    assert posted["x-main"]["native_id"] == tweet.native_id
    assert posted["mastodon-main"]["url"] == status.url
    assert posted["mastodon-main"]["native_id"] == status.native_id


async def test_a_reply_from_a_case_is_posted_once_in_the_mentions_thread(
    client: Client, issue: Issue, fake_networks: FakeNetworkServer
) -> None:
    bearer = issue(role=Role.SMM_MANAGER, brand=CARE_BRAND, subject="maria")
    # X ingest writes tweet ids (digits), which the X deliverer and fake take as they are.
    mention_native_id = str(1_790_000_000_000_000_000 + time.time_ns() % 10**12)
    thread = f"t-{new_ulid()}"
    await connect(
        client("publisher", bearer),
        brand=CARE_BRAND,
        account_id="x-care",
        network="x",
        native_id=CARE_X_USER,
        api_base_url=f"{fake_networks.url}/x",
        replies=True,
    )
    mention = await client("ingest", bearer).post(
        "/v1/mentions",
        json={
            "brand_id": CARE_BRAND,
            "network": "x",
            "kind": "reply",
            "native_id": mention_native_id,
            "thread_id": thread,
            "author": {"id": "cust-7", "handle": "kim", "display_name": "Kim"},
            "text": "my order never arrived",
            "language": "en",
            "created_at": datetime.now(UTC).isoformat(),
        },
    )
    assert mention.status_code == 201, mention.text
    responder = client("responder", bearer)

    async def case_opened() -> dict[str, Any] | None:
        page = await responder.get("/v1/cases", params={"brand_id": CARE_BRAND, "limit": 200})
        page.raise_for_status()
        found = [c for c in page.json()["items"] if c["conversation_key"] == f"x:{thread}"]
        return found[0] if found else None

    case = await eventually(case_opened, timeout_s=20, what="the case of the mention")
    text = "Sorry Kim, we are checking with the courier now."
    sent = await responder.post(
        f"/v1/cases/{case['id']}/replies",
        json={"text": text, "then": "pending_customer"},
        headers={"Idempotency-Key": f"click-{new_ulid()}"},
    )
    assert sent.status_code == 201, sent.text
    reply_id = sent.json()["reply_id"]

    async def reply_published() -> dict[str, Any] | None:
        detail = (await responder.get(f"/v1/cases/{case['id']}")).json()
        replies = [r for r in detail["replies"] if r["id"] == reply_id]
        assert replies, detail["replies"]
        assert replies[0]["state"] != "failed", replies[0]
        return replies[0] if replies[0]["state"] == "published" else None

    reply = await eventually(reply_published, timeout_s=30, what="the reply shown as published")
    answers = [p for p in fake_networks.networks.posts("x") if p.in_reply_to == mention_native_id]
    assert len(answers) == 1, answers
    answer = answers[0]
    assert answer.account == CARE_X_USER  # from the account marked for replies
    assert answer.text == text
    assert reply["native_id"] == answer.native_id
    assert reply["url"] == f"https://x.com/i/web/status/{answer.native_id}"


async def test_another_brand_sees_none_of_the_content(client: Client, issue: Issue) -> None:
    owner = client("publisher", issue(role=Role.CONTENT_MANAGER, subject="carl"))
    outsider = client(
        "publisher", issue(role=Role.SMM_MANAGER, brand="brand-elsewhere", subject="eve")
    )
    draft = await owner.post(
        "/v1/content",
        json={
            "brand_id": BRAND,
            "title": "Unreleased launch",
            "variants": [{"network": "x", "text": "Something new is coming"}],
        },
    )
    assert draft.status_code == 201, draft.text
    content_id = draft.json()["id"]
    mine = await owner.get(f"/v1/content/{content_id}", params={"brand_id": BRAND})
    assert mine.status_code == 200
    assert mine.json()["title"] == "Unreleased launch"

    listed = await outsider.get("/v1/content", params={"brand_id": BRAND})
    assert listed.status_code == 403
    assert listed.json()["error"]["code"] == "auth.forbidden_brand"
    peek = await outsider.get(f"/v1/content/{content_id}", params={"brand_id": "brand-elsewhere"})
    assert peek.status_code == 404  # another brand's item does not exist for you
    assert peek.json()["error"]["code"] == "content.not_found"
    own_list = await outsider.get("/v1/content", params={"brand_id": "brand-elsewhere"})
    assert own_list.status_code == 200
    assert content_id not in [c["id"] for c in own_list.json()]
