"""The contests API over HTTP: roles, brands, error codes, and a contest from set-up to announcement.

The app holds only the contests router; behind it the real service, domain, secret box and
in-memory timer store run, over an in-memory stand-in for the Mongo repository (the
repository itself is covered by tests/integration/publisher/test_contests.py).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from smm_publisher.adapters.contests_repo import CursorError, Page, author_slot
from smm_publisher.api.contests import router
from smm_publisher.consumers.contest_entries import register
from smm_publisher.domain.contests import Certificate, Contest
from smm_publisher.services.contests import ContestService
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier, issue_token
from smm_shared.events import (
    Author,
    Event,
    Mention,
    MentionDeleted,
    MentionKind,
    MentionReceived,
    MentionUpdated,
    Network,
)
from smm_shared.events.topics import MENTIONS
from smm_shared.http import install_error_handlers
from smm_shared.secrets import SecretBox
from smm_shared.timers import InMemoryTimerStore

pytestmark = pytest.mark.unit

ISSUER, AUDIENCE = "smm-local", "smm-platform"
KEY = SigningKey.generate()
OPENS = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
POST = "1900000000000000001"


class MemoryContests:
    """The ``ContestRepository`` methods the service uses, over dictionaries."""

    def __init__(self) -> None:
        self.contests: dict[str, dict[str, Any]] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.events: list[Event] = []

    @staticmethod
    def _public(doc: Mapping[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in doc.items() if k != "sealed_seed"}

    async def insert(self, doc: dict[str, Any], events: Sequence[Event] = ()) -> None:
        assert doc["_id"] not in self.contests
        self.contests[doc["_id"]] = {k: v for k, v in copy.deepcopy(doc).items() if v is not None}
        self.events.extend(events)

    async def get(self, contest_id: str) -> dict[str, Any] | None:
        doc = self.contests.get(contest_id)
        return None if doc is None else self._public(doc)

    async def sealed_seed(self, contest_id: str) -> dict[str, str] | None:
        doc = self.contests.get(contest_id)
        return None if doc is None else doc.get("sealed_seed")

    async def apply(
        self,
        contest_id: str,
        version: int,
        *,
        fields: Mapping[str, Any],
        unset: Sequence[str] = (),
        events: Sequence[Event] = (),
    ) -> bool:
        doc = self.contests.get(contest_id)
        if doc is None or doc["version"] != version:
            return False
        for name, value in fields.items():
            if value is None:
                doc.pop(name, None)
            else:
                doc[name] = copy.deepcopy(value)
        for name in unset:
            doc.pop(name, None)
        doc["version"] = version + 1
        self.events.extend(events)
        return True

    async def matching(self, brand_id: str, network: str, native_ids: Sequence[str]) -> list[Any]:
        keys = {f"{brand_id}|{network}|{n}" for n in native_ids}
        return [
            self._public(d)
            for _, d in sorted(self.contests.items())
            if d.get("post_key") in keys or d.get("thread_key") in keys
        ]

    async def page(
        self, brand_id: str, *, status: str | None, after: str | None, limit: int
    ) -> Page:
        if after is not None and not after.startswith(f"{brand_id}|"):
            raise CursorError("foreign cursor")
        docs = sorted(
            (
                d
                for d in self.contests.values()
                if d["brand_id"] == brand_id
                and (status is None or d["status"] == status)
                and (after is None or d["list_key"] < after)
            ),
            key=lambda d: d["list_key"],
            reverse=True,
        )[:limit]
        following = docs[-1]["list_key"] if len(docs) == limit else None
        return Page([self._public(d) for d in docs], following)

    async def add_entry(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.entries:
            return False
        self.entries[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def get_entry(self, contest_id: str, mention_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.entries.get(f"{contest_id}|{mention_id}"))

    async def update_entry(
        self, entry_doc_id: str, fields: Mapping[str, Any], *, unset: Sequence[str] = ()
    ) -> None:
        self.entries[entry_doc_id].update(copy.deepcopy(dict(fields)))

    async def set_decisions(self, decisions: Mapping[str, Mapping[str, Any]]) -> None:
        for key, decision in decisions.items():
            self.entries[key]["decision"] = dict(decision)

    async def author_entries(self, contest_id: str, author_key: str) -> list[dict[str, Any]]:
        slot = author_slot(contest_id, author_key)
        return [copy.deepcopy(d) for d in self.entries.values() if d["author_slot"] == slot]

    async def entries_of_mention(self, brand_id: str, mention_id: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(d)
            for d in self.entries.values()
            if d["mention_id"] == mention_id and d["brand_id"] == brand_id
        ]

    def _of(self, contest_id: str) -> list[dict[str, Any]]:
        return sorted(
            (d for d in self.entries.values() if d["contest_id"] == contest_id),
            key=lambda d: d["entry_key"],
        )

    async def all_entries(self, contest_id: str) -> AsyncIterator[dict[str, Any]]:
        for doc in self._of(contest_id):
            yield copy.deepcopy(doc)

    async def count_entries(self, contest_id: str, *, withdrawn: bool = False) -> int:
        return sum(1 for d in self._of(contest_id) if withdrawn or not d.get("withdrawn"))

    async def entries_page(
        self, contest_id: str, *, decision: str | None = None, after: str | None, limit: int
    ) -> Page:
        if after is not None and not after.startswith(f"{contest_id}|"):
            raise CursorError("foreign cursor")
        docs = [
            d
            for d in self._of(contest_id)
            if (decision is None or d["decision"]["code"] == decision)
            and (after is None or d["entry_key"] > after)
        ][:limit]
        following = docs[-1]["entry_key"] if len(docs) == limit else None
        return Page(copy.deepcopy(docs), following)


class Clock:
    """A settable clock for the service."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Announcer:
    """Records the announcement drafts asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[Contest, Certificate, str]] = []

    async def __call__(self, contest: Contest, certificate: Certificate, actor: str) -> str:
        self.calls.append((contest, certificate, actor))
        return "content-42"


class Harness:
    """An app around the contests router, its service, and what stands behind it."""

    def __init__(self, *, secrets_key: str | None = "generate", announce: bool = True) -> None:
        key = Fernet.generate_key().decode() if secrets_key == "generate" else secrets_key
        self.repo = MemoryContests()
        self.timers = InMemoryTimerStore()
        self.clock = Clock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
        self.announcer = Announcer()
        self.service = ContestService(
            self.repo,  # type: ignore[arg-type]
            self.timers,
            SecretBox(key),
            self.clock,
            self.announcer if announce else None,
        )
        self.app = FastAPI()
        install_error_handlers(self.app)
        self.app.state.token_verifier = TokenVerifier(
            StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
        )
        self.app.state.contests = self.service
        self.app.include_router(router)

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://test")


def bearer(
    role: Role, *, brands: Sequence[str] = ("acme",), subject: str = "ann"
) -> dict[str, str]:
    token = issue_token(
        key=KEY,
        subject=subject,
        roles=[role],
        brands=list(brands),
        ttl=timedelta(minutes=5),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return {"Authorization": f"Bearer {token}"}


MANAGER = bearer(Role.SMM_MANAGER)
WRITER = bearer(Role.CONTENT_MANAGER)
VIEWER = bearer(Role.VIEWER)
GLOBEX = bearer(Role.SMM_MANAGER, brands=("globex",))


def body(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "brand_id": "acme",
        "title": "Spring giveaway",
        "network": "x",
        "post_native_id": POST,
        "opens_at": OPENS.isoformat(),
        "closes_at": CLOSES.isoformat(),
        "methods": ["hashtag", "repost"],
        "hashtag": "#AcmeGiveaway",
        "winner_count": 2,
        "blocked": ["@troll"],
        "employees": ["emp1"],
    }
    return {**fields, **changes}


def entry(
    author: str, *, text: str = "in! #AcmeGiveaway", hours: float = 24, mention_id: str = ""
) -> MentionReceived:
    return MentionReceived(
        brand_id="acme",
        mention=Mention(
            mention_id=mention_id or f"m-{author}",
            network=Network.X,
            kind=MentionKind.REPLY,
            native_id=f"n-{author}",
            conversation_key=f"x:{POST}",
            author=Author(id=author, handle=author),
            text=text,
            created_at=OPENS + timedelta(hours=hours),
            parent_native_id=POST,
        ),
    )


def code(response: httpx.Response) -> str:
    error = response.json()["error"]
    assert error["message"]
    return str(error["code"])


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    async with harness.client() as c:
        yield c


async def create(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/contests", json=body(**changes), headers=WRITER)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_contest_from_set_up_to_announcement(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    contest = await create(client)
    cid = contest["id"]
    assert contest["status"] == "draft"
    assert contest["hashtag"] == "AcmeGiveaway"
    assert contest["methods"] == ["hashtag", "repost"]
    assert contest["commitment"] is None

    # Edit the draft with the version read; a stale version is refused.
    replaced = await client.put(
        f"/v1/contests/{cid}", json=body(winner_count=3, version=1), headers=WRITER
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["winner_count"] == 3
    assert replaced.json()["version"] == 2
    stale = await client.put(f"/v1/contests/{cid}", json=body(version=1), headers=WRITER)
    assert stale.status_code == 409
    assert code(stale) == "contest.version_conflict"

    assert (await client.get(f"/v1/contests/{cid}/certificate", headers=VIEWER)).status_code == 409

    opened = await client.post(f"/v1/contests/{cid}/open", headers=WRITER)
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"
    assert len(opened.json()["commitment"]) == 64
    assert "seed" not in opened.text  # the sealed seed never leaves the service
    locked = await client.put(f"/v1/contests/{cid}", json=body(version=3), headers=WRITER)
    assert locked.status_code == 409
    assert code(locked) == "contest.not_draft"

    for author in ("alice", "bob", "carol", "dave"):
        await harness.service.on_mention(entry(author))
    await harness.service.on_mention(entry("alice", hours=30, mention_id="m-alice-2"))
    await harness.service.on_mention(entry("bob"))  # redelivered: the same entry
    await harness.service.on_mention(entry("troll"))
    await harness.service.on_mention(entry("erin", text="no tag here"))

    early = await client.post(f"/v1/contests/{cid}/draw", headers=MANAGER)
    assert early.status_code == 409
    assert code(early) == "contest.not_closed"

    harness.clock.now = CLOSES + timedelta(hours=1)
    drawn = await client.post(f"/v1/contests/{cid}/draw", headers=MANAGER)
    assert drawn.status_code == 200, drawn.text
    certificate = drawn.json()
    assert certificate["verified"] is True
    assert certificate["entries"] == ["x|alice", "x|bob", "x|carol", "x|dave"]
    assert len(certificate["winners"]) == 3
    assert certificate["commitment"] == opened.json()["commitment"]
    again = await client.post(f"/v1/contests/{cid}/draw", headers=MANAGER)
    assert again.json() == certificate
    read = await client.get(f"/v1/contests/{cid}/certificate", headers=VIEWER)
    assert read.json() == certificate
    assert (await client.get(f"/v1/contests/{cid}", headers=VIEWER)).json()[
        "winners"
    ] == certificate["winners"]

    # Entries with their decisions, page by page.
    seen: list[dict[str, Any]] = []
    url = f"/v1/contests/{cid}/entries?limit=3"
    while url:
        page = (await client.get(url, headers=VIEWER)).json()
        seen.extend(page["items"])
        url = (
            page["next_cursor"]
            and f"/v1/contests/{cid}/entries?limit=3&cursor={page['next_cursor']}"
        )
    by_mention = {e["mention_id"]: e["decision"]["code"] for e in seen}
    assert by_mention == {
        "m-alice": "eligible",
        "m-alice-2": "entry.duplicate",
        "m-bob": "eligible",
        "m-carol": "eligible",
        "m-dave": "eligible",
        "m-troll": "entry.blocked",
        "m-erin": "entry.missing_hashtag",
    }
    assert len(seen) == 7
    eligible = (
        await client.get(f"/v1/contests/{cid}/entries?decision=eligible", headers=VIEWER)
    ).json()
    assert {e["author_key"] for e in eligible["items"]} == set(certificate["entries"])
    assert all(e["decision"]["method"] == "hashtag" for e in eligible["items"])

    announced = await client.post(f"/v1/contests/{cid}/announce", headers=WRITER)
    assert announced.status_code == 200, announced.text
    assert announced.json()["status"] == "announced"
    assert announced.json()["announcement_id"] == "content-42"
    [(announced_contest, _, actor)] = harness.announcer.calls
    assert list(announced_contest.winners) == certificate["winners"]
    assert actor == "user:ann"

    listed = (
        await client.get("/v1/contests?brand_id=acme&status=announced", headers=VIEWER)
    ).json()
    assert [c["id"] for c in listed["items"]] == [cid]
    assert [type(e).__name__ for e in harness.repo.events] == [
        "ContestOpened",
        "ContestClosed",
        "ContestDrawn",
    ]


async def test_a_tampered_certificate_does_not_verify(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    cid = (await create(client))["id"]
    await client.post(f"/v1/contests/{cid}/open", headers=WRITER)
    for author in ("alice", "bob", "carol"):
        await harness.service.on_mention(entry(author))
    harness.clock.now = CLOSES
    drawn = (await client.post(f"/v1/contests/{cid}/draw", headers=MANAGER)).json()
    stored = harness.repo.contests[cid]["certificate"]
    stored["winners"] = list(reversed(stored["winners"]))
    read = (await client.get(f"/v1/contests/{cid}/certificate", headers=VIEWER)).json()
    assert read["winners"] == list(reversed(drawn["winners"]))
    assert read["verified"] is False


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        ("post", "/v1/contests", Role.VIEWER, 403),
        ("post", "/v1/contests", Role.AGENT, 403),
        ("put", "/v1/contests/{id}", Role.ANALYST, 403),
        ("post", "/v1/contests/{id}/open", Role.VIEWER, 403),
        ("post", "/v1/contests/{id}/draw", Role.CONTENT_MANAGER, 403),
        ("post", "/v1/contests/{id}/announce", Role.VIEWER, 403),
        ("get", "/v1/contests/{id}", Role.VIEWER, 200),
        ("get", "/v1/contests/{id}/entries", Role.ANALYST, 200),
    ],
)
async def test_roles(
    client: httpx.AsyncClient, method: str, path: str, role: Role, status: int
) -> None:
    cid = (await create(client))["id"]
    kwargs: dict[str, Any] = {"headers": bearer(role)}
    if method in ("post", "put"):
        kwargs["json"] = body(version=1)
        if path == "/v1/contests":
            kwargs["json"] = body()
    response = await getattr(client, method)(path.format(id=cid), **kwargs)
    assert response.status_code == status, response.text
    if status == 403:
        assert code(response) == "auth.forbidden_role"


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/contests?brand_id=acme")
    assert response.status_code == 401
    assert code(response) == "auth.missing_token"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("put", ""),
        ("post", "/open"),
        ("post", "/draw"),
        ("get", "/certificate"),
        ("get", "/entries"),
        ("post", "/announce"),
    ],
)
async def test_another_brands_contest_is_not_found(
    client: httpx.AsyncClient, method: str, suffix: str
) -> None:
    cid = (await create(client))["id"]
    kwargs: dict[str, Any] = {"headers": GLOBEX}
    if method == "put":
        kwargs["json"] = body(brand_id="globex", version=1)
    response = await getattr(client, method)(f"/v1/contests/{cid}{suffix}", **kwargs)
    assert response.status_code == 404
    assert code(response) == "contest.not_found"


async def test_another_brand_cannot_be_listed_or_written(client: httpx.AsyncClient) -> None:
    listed = await client.get("/v1/contests?brand_id=acme", headers=GLOBEX)
    assert listed.status_code == 403
    assert code(listed) == "auth.forbidden_brand"
    created = await client.post("/v1/contests", json=body(), headers=GLOBEX)
    assert created.status_code == 403
    assert code(created) == "auth.forbidden_brand"
    cid = (await create(client))["id"]
    moved = await client.put(
        f"/v1/contests/{cid}", json=body(brand_id="globex", version=1), headers=MANAGER
    )
    assert moved.status_code == 422
    assert code(moved) == "contest.brand_mismatch"


async def test_invalid_set_ups_are_422_with_the_domain_code(client: httpx.AsyncClient) -> None:
    backwards = await client.post(
        "/v1/contests", json=body(closes_at=(OPENS - timedelta(days=1)).isoformat()), headers=WRITER
    )
    assert backwards.status_code == 422
    assert code(backwards) == "contest.invalid"
    no_tag = await client.post("/v1/contests", json=body(hashtag=None), headers=WRITER)
    assert no_tag.status_code == 422
    assert code(no_tag) == "contest.invalid"
    naive = await client.post(
        "/v1/contests", json=body(opens_at="2026-03-01T09:00:00"), headers=WRITER
    )
    assert naive.status_code == 422
    assert code(naive) == "request.invalid"
    foreign = await client.get("/v1/contests?brand_id=acme&cursor=globex|1|x", headers=VIEWER)
    assert foreign.status_code == 422
    assert code(foreign) == "cursor.invalid"
    missing = await client.get("/v1/contests/nope", headers=VIEWER)
    assert missing.status_code == 404


async def test_opening_after_the_window_is_refused(
    harness: Harness, client: httpx.AsyncClient
) -> None:
    cid = (await create(client))["id"]
    harness.clock.now = CLOSES
    response = await client.post(f"/v1/contests/{cid}/open", headers=WRITER)
    assert response.status_code == 422
    assert code(response) == "contest.window_over"


async def test_without_a_secrets_key_a_contest_cannot_open() -> None:
    harness = Harness(secrets_key=None)
    async with harness.client() as client:
        cid = (await create(client))["id"]
        response = await client.post(f"/v1/contests/{cid}/open", headers=WRITER)
        assert response.status_code == 409
        assert code(response) == "contest.secrets_key_missing"
        assert "SMM_SECRETS_KEY" in response.json()["error"]["message"]
        assert (await client.get(f"/v1/contests/{cid}", headers=VIEWER)).json()["status"] == "draft"


async def test_announcing_needs_a_draw_and_an_announcer() -> None:
    harness = Harness(announce=False)
    async with harness.client() as client:
        cid = (await create(client))["id"]
        not_drawn = await client.post(f"/v1/contests/{cid}/announce", headers=WRITER)
        assert not_drawn.status_code == 409
        assert code(not_drawn) == "contest.not_drawn"
        await client.post(f"/v1/contests/{cid}/open", headers=WRITER)
        harness.clock.now = CLOSES
        assert (await client.post(f"/v1/contests/{cid}/draw", headers=MANAGER)).status_code == 200
        unavailable = await client.post(f"/v1/contests/{cid}/announce", headers=WRITER)
        assert unavailable.status_code == 503
        assert code(unavailable) == "contest.announce_unavailable"
        # An empty contest draws no winners, verifiably.
        certificate = (await client.get(f"/v1/contests/{cid}/certificate", headers=VIEWER)).json()
        assert certificate["entries"] == []
        assert certificate["winners"] == []
        assert certificate["verified"] is True


class RecordingRuntime:
    """What ``register`` needs from the runtime: ``subscribe``, recorded."""

    def __init__(self) -> None:
        self.subscriptions: list[dict[str, Any]] = []

    def subscribe(self, *, topic: Any, group_id: str, handlers: Mapping[type, Any]) -> None:
        self.subscriptions.append({"topic": topic, "group_id": group_id, "handlers": handlers})


async def test_the_consumer_feeds_mentions_to_contests(harness: Harness) -> None:
    runtime = RecordingRuntime()
    register(runtime, contests=harness.service)  # type: ignore[arg-type]
    [subscription] = runtime.subscriptions
    assert subscription["topic"] is MENTIONS
    assert subscription["group_id"] == "publisher.contests"
    assert set(subscription["handlers"]) == {MentionReceived, MentionUpdated, MentionDeleted}

    async with harness.client() as client:
        cid = (await create(client))["id"]
        await client.post(f"/v1/contests/{cid}/open", headers=WRITER)
        await subscription["handlers"][MentionReceived](entry("alice"), None)
        page = (await client.get(f"/v1/contests/{cid}/entries", headers=VIEWER)).json()
        assert [e["author_key"] for e in page["items"]] == ["x|alice"]
        deleted = MentionDeleted(
            brand_id="acme",
            mention_id="m-alice",
            network=Network.X,
            native_id="n-alice",
            conversation_key=f"x:{POST}",
            deleted_at=OPENS + timedelta(days=2),
        )
        await subscription["handlers"][MentionDeleted](deleted, None)
        page = (await client.get(f"/v1/contests/{cid}/entries", headers=VIEWER)).json()
        assert page["items"][0]["withdrawn"] is True
        assert page["items"][0]["decision"]["code"] == "entry.withdrawn"
