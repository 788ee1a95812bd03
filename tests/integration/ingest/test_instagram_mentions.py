"""Instagram @mentions on a real MongoDB-protocol server: requested once, fetched, done after storing."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from smm_ingest.adapters.graph_fetches_repo import GraphFetchRepository
from smm_ingest.adapters.mentions_repo import MentionRepository
from smm_ingest.adapters.networks import meta
from smm_ingest.adapters.poll_state_repo import PollStateRepository
from smm_ingest.adapters.pollers.instagram import InstagramPoller
from smm_ingest.domain.connectors import Connector, ConnectorKind
from smm_ingest.domain.items import AccountContext
from smm_ingest.services.enrichment import Enricher
from smm_ingest.services.pipeline import MentionIngestor
from smm_ingest.services.polling import PollRunner
from smm_ingest.services.webhooks import PARSERS
from smm_shared.config import MongoSettings
from smm_shared.events import Network
from smm_shared.mongo import Document, OutboxRelay

pytestmark = pytest.mark.integration

PAYLOADS = Path(__file__).parents[2] / "unit" / "ingest" / "payloads"
IG = "17841405822304914"
MEDIA = "17918195224117851"
COMMENT = "17894227972186120"
BRAND = "b1"
T0 = datetime.now(UTC)  # within the retention: older requests expire (TTL)
CONNECTOR = Connector(
    id="ig-1",
    brand_id=BRAND,
    kind=ConnectorKind.INSTAGRAM,
    name="instagram",
    config={"ig_user_id": IG},
)


def webhook(name: str = "ig_mention") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / "meta" / f"{name}.json").read_text())
    return data


class Graph:
    """The IG User node answering ``mentioned_comment`` for known comments; no tagged media."""

    def __init__(self) -> None:
        self.comments: dict[str, dict[str, Any]] = {}
        self.fetches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tags"):
            return httpx.Response(200, json={"data": []})
        self.fetches += 1
        fields = request.url.params["fields"]
        for comment_id, found in self.comments.items():
            if fields.startswith(f"mentioned_comment.comment_id({comment_id})"):
                return httpx.Response(200, json={"mentioned_comment": found, "id": IG})
        error = {"message": "Unsupported get request.", "code": 100, "error_subcode": 33}
        return httpx.Response(400, json={"error": error})


@dataclass
class Setup:
    ingestor: MentionIngestor
    fetches: GraphFetchRepository
    mentions: MentionRepository
    state: PollStateRepository
    graph: Graph

    def runner(self) -> PollRunner:
        poller = InstagramPoller(
            httpx.AsyncClient(transport=httpx.MockTransport(self.graph)),
            api_base_url="https://graph.test/v21.0",
            access_token="token",
            ig_user_id=IG,
            brand_id=BRAND,
            fetches=self.fetches,
        )
        return PollRunner(
            connector=CONNECTOR,
            poller=poller,
            parser=PARSERS[ConnectorKind.INSTAGRAM.value],
            ingestor=self.ingestor,
            state=self.state,
            owner="replica-a",
            sleep=no_sleep,
            rng=random.Random(1),
        )

    async def hear(self, payload: dict[str, Any]) -> int:
        """What the raw processor does with a delivered webhook: parse, then apply."""
        parsed = meta.parse(payload, AccountContext(Network.FACEBOOK, frozenset({IG})))
        return await self.ingestor.apply(BRAND, parsed.items, received_at=T0)

    async def requests(self) -> list[Document]:
        return [d async for d in self.fetches.collection.find({})]


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def setup(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings) -> Setup:
    db = mongo_client[mongo_settings.database]
    mentions = MentionRepository(db["mentions"], db["engagement"], source="/test")
    fetches = GraphFetchRepository(db["graph_fetches"], retention_days=1)
    for repo in (mentions, fetches):
        await repo.ensure_indexes()

    async def nowhere(_: Any) -> None:
        raise AssertionError("the relay is not started in this test")

    ingestor = MentionIngestor(
        repository=mentions,
        enricher=Enricher(detector=None, sentiment=None, rules_for=None),
        relay=OutboxRelay([db["mentions"]], nowhere),
        fetches=fetches,
    )
    return Setup(ingestor, fetches, mentions, PollStateRepository(db["poll_state"]), Graph())


async def test_a_redelivered_mention_is_one_pending_fetch_done_only_after_the_next_poll(
    setup: Setup,
) -> None:
    assert await setup.hear(webhook()) == 1
    assert await setup.hear(webhook()) == 0  # Meta redelivers: nothing new
    (request,) = await setup.requests()
    assert request["_id"] == f"{BRAND}|instagram|{IG}|comment:{COMMENT}"
    assert (request["account_id"], request["media_id"], request["comment_id"]) == (
        IG,
        MEDIA,
        COMMENT,
    )
    assert "pending_ms" in request
    setup.graph.comments[COMMENT] = {
        "id": COMMENT,
        "text": "acme.store is the blue one back in stock?",
        "timestamp": "2025-11-27T11:16:40+0000",
        "username": "masha.travels",
        "media": {"id": MEDIA, "permalink": "https://www.instagram.com/p/DBx3kLmN0aQ/"},
    }
    runner = setup.runner()

    await runner.step()

    stored = await setup.mentions.by_natural_key(f"{BRAND}|instagram|{COMMENT}")
    assert stored is not None
    assert stored.mention.conversation_key == f"instagram:{MEDIA}"
    assert stored.mention.author.handle == "masha.travels"
    (request,) = await setup.requests()
    assert "pending_ms" in request  # stored, but the cursor saying so is only read next poll
    state = await setup.state.get(CONNECTOR.id)
    assert state is not None
    assert json.loads(state["cursor"])["fetched"] == [request["_id"]]

    await runner.step()

    (request,) = await setup.requests()
    assert "pending_ms" not in request
    assert "error" not in request
    assert isinstance(request["done_ms"], int)
    assert setup.graph.fetches == 1  # fetched once, not again once done

    assert await setup.hear(webhook()) == 0  # a late redelivery does not reopen it
    await runner.step()
    assert setup.graph.fetches == 1


async def test_a_mention_whose_object_is_gone_is_done_with_the_error_kept(setup: Setup) -> None:
    assert await setup.hear(webhook("ig_mention_caption")) == 1
    runner = setup.runner()

    await runner.step()
    await runner.step()

    (request,) = await setup.requests()
    assert request["_id"] == f"{BRAND}|instagram|{IG}|media:{MEDIA}"
    assert "pending_ms" not in request
    assert "code 100/33" in request["error"]
    assert setup.graph.fetches == 1  # given up, not retried forever
    assert await setup.mentions.by_natural_key(f"{BRAND}|instagram|{MEDIA}") is None


async def test_requests_are_kept_per_brand_and_taken_only_by_that_brands_connector(
    setup: Setup,
) -> None:
    parsed = meta.parse(webhook(), AccountContext(Network.FACEBOOK, frozenset({IG})))
    assert await setup.ingestor.apply("other-brand", parsed.items, received_at=T0) == 1

    await setup.runner().step()

    assert setup.graph.fetches == 0
    (request,) = await setup.requests()
    assert request["brand_id"] == "other-brand"
    assert "pending_ms" in request
