"""DeliveryService: the delivery state machine against in-memory stand-ins and a scripted network.

The real service runs with a dict-backed repository (the version rule of
``ContentRepository``, and the events of every write kept), a stand-in ``AccountStore``,
``InMemoryTimerStore``, a scripted ``Deliverer`` and a ``ManualClock``: each test drives it
with ``attempt`` (or a timer firing) and checks what is stored, which events were written
with which change, which timer is armed for when, and what the network was asked.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias, cast

import pytest

from smm_publisher.adapters.accounts import Account, AccountStore, AccountUnavailableError
from smm_publisher.adapters.content_repo import ContentRepository
from smm_publisher.adapters.rate_limiter import InMemoryRateLimiter
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
from smm_publisher.domain.rate_limits import Kind, Window
from smm_publisher.services.delivery import (
    DELIVERY_TIMER,
    DeliveryPolicy,
    DeliveryService,
    DeliveryState,
    RateLimiter,
    timer_key,
)
from smm_shared.events import (
    Event,
    Network,
    PostFailed,
    PostPublished,
    ReplyFailed,
    ReplyPublished,
    ReplyRequested,
)
from smm_shared.mongo import Document, epoch_ms
from smm_shared.timers import Fired, FiredTimer, InMemoryTimerStore, ManualClock, TimerState

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 9, 20, tzinfo=UTC)
BRAND = "acme"
CONTENT = "c1"
X_ACCOUNT = Account(
    id="x-acme",
    brand_id=BRAND,
    network=Network.X,
    native_id="1001",
    name="Acme on X",
    api_base_url="http://127.0.0.1:9/x",
    token="x-user-token",
)
TG_ACCOUNT = Account(
    id="tg-acme",
    brand_id=BRAND,
    network=Network.TELEGRAM,
    native_id="@acme_channel",
    name="Acme channel",
    api_base_url=None,
    token="123456:bot-token",
)
ID = f"{CONTENT}:{X_ACCOUNT.id}"
TEXT = "Spring sale starts today https://acme.example/sale"
POSTED = Published(native_id="1888", url="https://x.example/acme/status/1888")

#: What the scripted network answers next: a post/reply/find result, or the error it raises.
Outcome: TypeAlias = Published | DeliveryError | None


# ------------------------------------------------------------------------------ stand-ins


@dataclass(frozen=True, slots=True)
class Write:
    """One write the service made: its fields and the events stored with them."""

    op: str
    delivery_id: str
    fields: Document
    events: list[Event]


class FakeRepository:
    """The delivery methods of ``ContentRepository`` on a dict, with the same version rule."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.writes: list[Write] = []

    async def add_delivery(self, doc: Document, events: Sequence[Event] = ()) -> bool:
        """Create a delivery at version 1; False when one with this key exists."""
        await asyncio.sleep(0)  # a database round trip: other tasks run meanwhile
        key = str(doc["_id"])
        if key in self.docs:
            return False
        self.docs[key] = copy.deepcopy({**doc, "version": 1})
        self.writes.append(Write("add", key, copy.deepcopy(doc), list(events)))
        return True

    async def delivery(self, delivery_id: str) -> Document | None:
        """A copy of the stored delivery, or None."""
        await asyncio.sleep(0)
        doc = self.docs.get(delivery_id)
        return None if doc is None else copy.deepcopy(doc)

    async def update_delivery(
        self,
        delivery_id: str,
        *,
        version: int,
        fields: Mapping[str, Any],
        events: Sequence[Event] = (),
    ) -> bool:
        """Apply ``fields`` (and keep ``events``) only if the delivery is still at ``version``."""
        await asyncio.sleep(0)
        doc = self.docs.get(delivery_id)
        if doc is None or doc["version"] != version:
            return False
        doc.update(copy.deepcopy(dict(fields)))
        doc["version"] = version + 1
        self.writes.append(Write("update", delivery_id, copy.deepcopy(dict(fields)), list(events)))
        return True

    def put(self, doc: Document) -> None:
        """Store a delivery as another replica (or a crash) left it."""
        self.docs[str(doc["_id"])] = copy.deepcopy(doc)

    @property
    def events(self) -> list[Event]:
        """Every event stored, in write order."""
        return [event for write in self.writes for event in write.events]


class FakeAccounts:
    """``AccountStore.resolve`` / ``for_replies`` over a few ready accounts."""

    def __init__(self, *accounts: Account) -> None:
        self.accounts = {account.id: account for account in accounts}
        self.repliers: dict[Network, Account] = {}
        self.unavailable: dict[str, AccountUnavailableError] = {}

    def mark_for_replies(self, account: Account) -> None:
        """``account`` answers on its network."""
        self.accounts[account.id] = account
        self.repliers[account.network] = account

    async def resolve(self, brand_id: str, account_id: str) -> Account:
        """The account, or AccountUnavailableError as the real store raises it."""
        if account_id in self.unavailable:
            raise self.unavailable[account_id]
        account = self.accounts.get(account_id)
        if account is None or account.brand_id != brand_id:
            raise AccountUnavailableError("account.missing", f"No account {account_id!r}.")
        return account

    async def for_replies(self, brand_id: str, network: Network) -> Account:
        """The account marked for replies on ``network``."""
        account = self.repliers.get(network)
        if account is None or account.brand_id != brand_id:
            raise AccountUnavailableError(
                "account.no_reply_account",
                f"Connect a {network.value} publishing account to reply on {network.value}.",
            )
        return account


class ScriptedDeliverer:
    """A network that answers each post/reply/find with the next scripted outcome."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.script: list[Outcome] = list(outcomes)
        self.calls: list[tuple[str, PostRequest]] = []

    @property
    def methods(self) -> list[str]:
        """The methods called, in order."""
        return [method for method, _ in self.calls]

    def requests(self, method: str) -> list[PostRequest]:
        """The requests one method got."""
        return [req for name, req in self.calls if name == method]

    async def _next(self, method: str, req: PostRequest) -> Published | None:
        self.calls.append((method, req))
        if not self.script:
            raise AssertionError(f"the network got an unscripted {method}")
        outcome = self.script.pop(0)
        if isinstance(outcome, DeliveryError):
            raise outcome
        return outcome

    async def post(self, req: PostRequest) -> Published:
        """The next outcome, which must be a post's."""
        published = await self._next("post", req)
        assert published is not None, "None answers find only"
        return published

    async def reply(self, req: PostRequest) -> Published:
        """The next outcome, which must be a reply's."""
        published = await self._next("reply", req)
        assert published is not None, "None answers find only"
        return published

    async def find(self, req: PostRequest) -> Published | None:
        """The next outcome: found, None (not there) or an error."""
        return await self._next("find", req)


class FakeDelivererFactory:
    """Hands out one deliverer for every network and records what it was asked for."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer
        self.built: list[tuple[Network, str | None]] = []
        self.error: PermanentDeliveryError | None = None

    def __call__(self, network: Network, api_base_url: str | None) -> Deliverer:
        """The deliverer (or the configured error, as for a network without a client)."""
        self.built.append((network, api_base_url))
        if self.error is not None:
            raise self.error
        return self.deliverer


@dataclass
class Harness:
    """The service under test and everything it talks to."""

    service: DeliveryService
    repo: FakeRepository
    accounts: FakeAccounts
    timers: InMemoryTimerStore
    network: ScriptedDeliverer
    factory: FakeDelivererFactory
    clock: ManualClock
    settled: list[str] = field(default_factory=list)

    def doc(self, delivery_id: str = ID) -> Document:
        """The stored delivery."""
        return self.repo.docs[delivery_id]

    async def timer_due(self, delivery_id: str = ID) -> datetime:
        """When the delivery's timer is armed for (it must be pending)."""
        timer = await self.timers.get(key=timer_key(delivery_id))
        assert timer is not None
        assert timer.kind == DELIVERY_TIMER
        assert timer.payload == {"delivery_id": delivery_id}
        assert timer.state is TimerState.PENDING
        return timer.due_at

    async def fire_due(self) -> int:
        """Fire the timers due now as a replica's loop would: claim, handle, complete."""
        now = self.clock.now()
        batch = await self.timers.claim_due(now=now, owner="replica-a", lease_s=60.0, limit=10)
        for claim in batch.claims:
            await self.service.on_timer(
                FiredTimer(
                    key=claim.key,
                    kind=claim.kind,
                    payload=claim.payload,
                    due_at=claim.due_at,
                    fired_at=now,
                    attempt=claim.attempts,
                    owner=claim.owner,
                )
            )
        await self.timers.complete(
            completions=[Fired(claim=claim, fired_at=now) for claim in batch.claims]
        )
        return len(batch.claims)


def build(
    *outcomes: Outcome,
    policy: DeliveryPolicy | None = None,
    limiter: RateLimiter | None = None,
) -> Harness:
    """A service whose network answers ``outcomes`` in order."""
    repo = FakeRepository()
    accounts = FakeAccounts(X_ACCOUNT, TG_ACCOUNT)
    timers = InMemoryTimerStore()
    network = ScriptedDeliverer(*outcomes)
    factory = FakeDelivererFactory(network)
    clock = ManualClock(T0)
    settled: list[str] = []

    async def on_settled(content_id: str) -> None:
        settled.append(content_id)

    service = DeliveryService(
        repository=cast(ContentRepository, repo),
        accounts=cast(AccountStore, accounts),
        timers=timers,
        deliverers=factory,
        limiter=limiter,
        clock=clock.now,
        policy=policy or DeliveryPolicy(),
        on_settled=on_settled,
        jitter=lambda: 0.0,
    )
    return Harness(service, repo, accounts, timers, network, factory, clock, settled)


def post_doc(account: Account = X_ACCOUNT) -> Document:
    """A delivery of content item c1 from ``account``, as ContentService enqueues it."""
    return {
        "_id": f"{CONTENT}:{account.id}",
        "kind": "post",
        "brand_id": BRAND,
        "content_id": CONTENT,
        "account_id": account.id,
        "network": account.network.value,
        "request": {"text": TEXT, "media_urls": [], "link": None, "title": None},
    }


async def enqueued(*outcomes: Outcome, **options: Any) -> Harness:
    """A harness with c1's delivery from the X account stored and armed."""
    h = build(*outcomes, **options)
    assert await h.service.enqueue(post_doc()) is True
    return h


def history(doc: Document) -> list[tuple[str, int]]:
    """(what, attempt) of each history entry."""
    return [(entry["what"], entry["attempt"]) for entry in doc["history"]]


def dump(event: Event) -> dict[str, Any]:
    """An event's fields, without its random id and its wall-clock time."""
    return event.model_dump(mode="json", exclude={"event_id", "occurred_at"})


def ms(at: datetime) -> int:
    """A time as the service stores it."""
    return epoch_ms(at)


def reply_command(network: Network = Network.X, in_reply_to: str = "1777") -> ReplyRequested:
    """The responder asks for reply r1 in case k1."""
    return ReplyRequested(
        brand_id=BRAND,
        reply_id="r1",
        case_id="k1",
        network=network,
        conversation_key=f"{network.value}:thread-1",
        in_reply_to_mention_id="m1",
        in_reply_to_native_id=in_reply_to,
        thread_native_id="thread-1",
        text="Thanks, we are on it!",
        requested_by="user:anna",
    )


def published_event(**changes: Any) -> dict[str, Any]:
    """The PostPublished of c1 from the X account, with ``changes``."""
    return {
        "brand_id": BRAND,
        "schema_version": 1,
        "content_id": CONTENT,
        "actor": "system:publisher",
        "delivery_id": ID,
        "account_id": X_ACCOUNT.id,
        "network": "x",
        "attempts": 1,
        "native_id": POSTED.native_id,
        "url": POSTED.url,
        "found_after_ambiguity": False,
        **changes,
    }


def failed_event(**changes: Any) -> dict[str, Any]:
    """The PostFailed of c1 from the X account, with ``changes``."""
    return {
        "brand_id": BRAND,
        "schema_version": 1,
        "content_id": CONTENT,
        "actor": "system:publisher",
        "delivery_id": ID,
        "account_id": X_ACCOUNT.id,
        "network": "x",
        "attempts": 1,
        **changes,
    }


def one_post_an_hour(network: Network, kind: Kind) -> tuple[Window, ...]:
    """A limiter table small enough to fill in a test."""
    return (Window(name=f"test.{network.value}.{kind}", limit=1, seconds=3600),)


# ------------------------------------------------------------------------------ success


async def test_success_on_first_try_publishes_with_the_url_and_tells_the_item() -> None:
    h = await enqueued(POSTED)
    assert h.doc()["state"] == "pending"
    assert await h.timer_due() == T0

    assert await h.fire_due() == 1

    doc = h.doc()
    assert doc["state"] == DeliveryState.PUBLISHED
    assert doc["attempts"] == 1
    assert (doc["native_id"], doc["url"]) == (POSTED.native_id, POSTED.url)
    assert doc["found_after_ambiguity"] is False
    assert doc["error"] is None
    assert doc["first_attempt_ms"] == ms(T0)
    assert history(doc) == [("published", 1)]
    assert doc["history"][0]["detail"] == POSTED.native_id
    # The event is stored by the very write that records the outcome.
    last = h.repo.writes[-1]
    assert last.fields["state"] == "published"
    assert [dump(e) for e in last.events] == [published_event()]
    assert [type(e) for e in h.repo.events] == [PostPublished]
    assert h.settled == [CONTENT]
    assert h.factory.built == [(Network.X, X_ACCOUNT.api_base_url)]
    [(method, req)] = h.network.calls
    assert method == "post"
    assert req.network is Network.X
    assert req.account_id == X_ACCOUNT.native_id
    assert req.access_token == X_ACCOUNT.token
    assert req.text == TEXT
    assert req.in_reply_to is None
    assert req.idempotency_key == ID
    assert req.attempted_at == T0
    timer = await h.timers.get(key=timer_key(ID))
    assert timer is not None
    assert timer.state is TimerState.FIRED


# ------------------------------------------------------------------------------ transient


async def test_transient_errors_wait_2_then_6_seconds_then_publish() -> None:
    h = await enqueued(
        TransientDeliveryError("X answered 502"),
        TransientDeliveryError("X answered 503"),
        POSTED,
    )

    assert await h.fire_due() == 1
    doc = h.doc()
    assert doc["state"] == DeliveryState.WAITING
    assert doc["attempts"] == 1
    assert doc["next_attempt_ms"] == ms(T0 + timedelta(seconds=2))
    assert await h.timer_due() == T0 + timedelta(seconds=2)
    assert doc["history"][-1]["what"] == "transient"
    assert doc["history"][-1]["detail"] == "X answered 502; next attempt in 2 s"

    h.clock.advance(1.999)
    assert await h.fire_due() == 0  # not due yet
    h.clock.advance(0.001)
    assert await h.fire_due() == 1
    second = h.clock.now()
    assert h.doc()["state"] == DeliveryState.WAITING
    assert h.doc()["attempts"] == 2
    assert await h.timer_due() == second + timedelta(seconds=6)

    h.clock.advance(6)
    assert await h.fire_due() == 1

    doc = h.doc()
    assert doc["state"] == DeliveryState.PUBLISHED
    assert doc["attempts"] == 3
    assert history(doc) == [("transient", 1), ("transient", 2), ("published", 3)]
    assert [dump(e) for e in h.repo.events] == [published_event(attempts=3)]
    assert h.network.methods == ["post", "post", "post"]
    # find (on a later ambiguity) looks from the first attempt on.
    assert {req.attempted_at for req in h.network.requests("post")} == {T0}
    # The item hears of each wait and of the end.
    assert h.settled == [CONTENT] * 3


async def test_transient_errors_up_to_max_attempts_give_up_retryably() -> None:
    h = await enqueued(
        TransientDeliveryError("X answered 502"),
        TransientDeliveryError("X answered 503"),
        TransientDeliveryError("X answered 504 from the gateway"),
        policy=DeliveryPolicy(max_attempts=3),
    )

    await h.service.attempt(ID)
    h.clock.advance(2)
    await h.service.attempt(ID)
    h.clock.advance(6)
    await h.service.attempt(ID)

    doc = h.doc()
    message = "Gave up after 3 attempts; the last error: X answered 504 from the gateway"
    assert doc["state"] == DeliveryState.FAILED
    assert doc["attempts"] == 3
    assert doc["error"] == {"code": "delivery.gave_up", "message": message, "retryable": True}
    assert history(doc) == [("transient", 1), ("transient", 2), ("failed", 3)]
    assert [dump(e) for e in h.repo.events] == [
        failed_event(attempts=3, code="delivery.gave_up", message=message, retryable=True)
    ]
    assert h.network.methods == ["post"] * 3
    # No further wait was armed after the last attempt.
    assert await h.timer_due() == h.clock.now()


# ------------------------------------------------------------------------------ rate limits


async def test_network_rate_limit_waits_its_retry_after_and_counts_as_an_attempt() -> None:
    h = await enqueued(
        RateLimitedDeliveryError("X: too many requests", retry_after_s=120),
        TransientDeliveryError("X answered 503"),
    )

    await h.service.attempt(ID)

    doc = h.doc()
    assert doc["state"] == DeliveryState.WAITING
    assert doc["next_attempt_ms"] == ms(T0 + timedelta(seconds=120))
    assert await h.timer_due() == T0 + timedelta(seconds=120)
    assert doc["history"][-1]["what"] == "rate_limited"
    assert doc["history"][-1]["detail"] == "X: too many requests; next attempt in 120 s"
    assert h.repo.events == []
    # What the code does: the claim counted the rate-limited attempt, so it uses up one of
    # max_attempts and the next transient error waits the second step of the backoff.
    assert doc["attempts"] == 1

    h.clock.advance(120)
    await h.service.attempt(ID)

    assert h.doc()["attempts"] == 2
    assert await h.timer_due() == h.clock.now() + timedelta(seconds=6)


async def test_network_rate_limit_longer_than_max_rate_wait_fails_exhausted() -> None:
    h = await enqueued(
        RateLimitedDeliveryError("X: daily limit", retry_after_s=7200),
        policy=DeliveryPolicy(max_rate_wait_s=3600),
    )

    await h.service.attempt(ID)

    doc = h.doc()
    assert doc["state"] == DeliveryState.FAILED
    assert doc["error"]["code"] == "rate_limit.exhausted"
    assert doc["error"]["retryable"] is True
    assert "next 2.0 h" in doc["error"]["message"]
    [event] = h.repo.events
    assert isinstance(event, PostFailed)
    assert (event.code, event.retryable, event.attempts) == ("rate_limit.exhausted", True, 1)
    assert await h.timer_due() == T0  # no wait armed


async def test_network_rate_limit_of_exactly_max_rate_wait_still_waits() -> None:
    h = await enqueued(
        RateLimitedDeliveryError("X: slow down", retry_after_s=3600),
        policy=DeliveryPolicy(max_rate_wait_s=3600),
    )

    await h.service.attempt(ID)

    assert h.doc()["state"] == DeliveryState.WAITING
    assert await h.timer_due() == T0 + timedelta(hours=1)


async def test_our_limiter_full_waits_until_its_retry_time_without_calling_the_network() -> None:
    limiter = InMemoryRateLimiter(windows=one_post_an_hour)
    taken = await limiter.acquire(account_key=X_ACCOUNT.id, network=Network.X, kind="post", now=T0)
    assert taken is None  # another item used this hour's only slot
    h = await enqueued(POSTED, limiter=limiter)
    opens = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    await h.service.attempt(ID)

    doc = h.doc()
    assert h.network.calls == []
    assert doc["state"] == DeliveryState.WAITING
    assert doc["attempts"] == 0
    assert doc["next_attempt_ms"] == ms(opens)
    assert await h.timer_due() == opens
    assert doc["history"][-1]["what"] == "rate_limited"
    assert doc["history"][-1]["detail"] == "our per-account limit; next attempt in 2400 s"

    h.clock.advance_to(opens)
    await h.service.attempt(ID)

    assert h.doc()["state"] == DeliveryState.PUBLISHED
    assert h.doc()["attempts"] == 1
    assert h.network.methods == ["post"]


# ------------------------------------------------------------------------------ permanent


async def test_permanent_error_fails_at_once_with_the_network_code() -> None:
    h = await enqueued(PermanentDeliveryError("x.duplicate", "X refused a duplicate post."))

    await h.service.attempt(ID)
    await h.service.attempt(ID)  # a re-fired timer changes nothing

    doc = h.doc()
    assert doc["state"] == DeliveryState.FAILED
    assert doc["attempts"] == 1
    assert doc["error"] == {
        "code": "x.duplicate",
        "message": "X refused a duplicate post.",
        "retryable": False,
    }
    assert history(doc) == [("failed", 1)]
    assert [dump(e) for e in h.repo.events] == [
        failed_event(code="x.duplicate", message="X refused a duplicate post.", retryable=False)
    ]
    assert h.network.methods == ["post"]
    assert await h.timer_due() == T0


async def test_account_unavailable_fails_with_its_code_without_calling_the_network() -> None:
    h = await enqueued()
    h.accounts.unavailable[X_ACCOUNT.id] = AccountUnavailableError(
        "account.disabled", "The publishing account 'x-acme' is switched off."
    )

    await h.service.attempt(ID)

    doc = h.doc()
    assert doc["state"] == DeliveryState.FAILED
    assert doc["error"] == {
        "code": "account.disabled",
        "message": "The publishing account 'x-acme' is switched off.",
        "retryable": True,
    }
    assert [dump(e) for e in h.repo.events] == [
        failed_event(
            code="account.disabled",
            message="The publishing account 'x-acme' is switched off.",
            retryable=True,
        )
    ]
    assert h.factory.built == []
    assert h.network.calls == []
    assert h.settled == [CONTENT]


async def test_network_without_a_client_fails_retryably_with_its_code() -> None:
    h = await enqueued()
    h.factory.error = PermanentDeliveryError("delivery.no_client", "No client for X.")

    await h.service.attempt(ID)

    assert h.doc()["state"] == DeliveryState.FAILED
    assert h.doc()["error"]["code"] == "delivery.no_client"
    assert h.doc()["error"]["retryable"] is True
    assert h.network.calls == []


# ------------------------------------------------------------------------------ ambiguity


async def test_ambiguous_stays_sending_then_find_resolves_it_as_published() -> None:
    h = await enqueued(AmbiguousDeliveryError("read timeout after 10 s"), POSTED)

    await h.service.attempt(ID)

    doc = h.doc()
    assert doc["state"] == DeliveryState.SENDING
    assert doc["attempts"] == 1
    assert doc["next_attempt_ms"] == ms(T0 + timedelta(seconds=3))
    assert await h.timer_due() == T0 + timedelta(seconds=3)
    assert doc["history"][-1] == {
        "at_ms": ms(T0),
        "attempt": 1,
        "what": "ambiguous",
        "detail": "read timeout after 10 s",
    }
    assert h.repo.events == []
    assert h.settled == []

    h.clock.advance(3)
    await h.service.attempt(ID)

    assert h.network.methods == ["post", "find"]
    [look] = h.network.requests("find")
    assert look.idempotency_key == ID
    assert look.attempted_at == T0  # posts from the first attempt on
    doc = h.doc()
    assert doc["state"] == DeliveryState.PUBLISHED
    assert doc["attempts"] == 1
    assert doc["found_after_ambiguity"] is True
    assert history(doc) == [("ambiguous", 1), ("published", 1)]
    assert doc["history"][-1]["detail"] == "found on the network after an unanswered request"
    assert [dump(e) for e in h.repo.events] == [published_event(found_after_ambiguity=True)]
    assert h.settled == [CONTENT]


async def test_ambiguous_then_not_found_sends_again_under_a_second_claim() -> None:
    h = await enqueued(AmbiguousDeliveryError("connection reset"), None, POSTED)

    await h.service.attempt(ID)
    h.clock.advance(3)
    await h.service.attempt(ID)

    doc = h.doc()
    assert h.network.methods == ["post", "find", "post"]
    assert doc["state"] == DeliveryState.PUBLISHED
    assert doc["attempts"] == 2
    assert history(doc) == [("ambiguous", 1), ("not_found", 1), ("published", 2)]
    assert [dump(e) for e in h.repo.events] == [published_event(attempts=2)]


async def test_ambiguous_on_telegram_fails_unverified_without_asking_or_resending() -> None:
    h = build(AmbiguousDeliveryError("read timeout"))
    tg_id = f"{CONTENT}:{TG_ACCOUNT.id}"
    await h.service.enqueue(post_doc(TG_ACCOUNT))

    await h.service.attempt(tg_id)
    assert h.doc(tg_id)["state"] == DeliveryState.SENDING
    h.clock.advance(3)
    await h.service.attempt(tg_id)

    doc = h.doc(tg_id)
    assert h.network.methods == ["post"]
    assert doc["state"] == DeliveryState.FAILED
    assert doc["error"]["code"] == "delivery.unverified"
    assert doc["error"]["retryable"] is True
    [event] = h.repo.events
    assert isinstance(event, PostFailed)
    assert (event.code, event.network, event.delivery_id) == (
        "delivery.unverified",
        Network.TELEGRAM,
        tg_id,
    )


async def test_lookup_failing_transiently_never_resends_and_asks_again_later() -> None:
    h = await enqueued(
        AmbiguousDeliveryError("read timeout"),
        TransientDeliveryError("X search answered 503"),
        POSTED,
    )
    await h.service.attempt(ID)
    h.clock.advance(3)

    await h.service.attempt(ID)

    doc = h.doc()
    assert h.network.methods == ["post", "find"]
    assert doc["state"] == DeliveryState.SENDING
    assert doc["attempts"] == 1
    assert await h.timer_due() == h.clock.now() + timedelta(seconds=2)
    assert history(doc) == [("ambiguous", 1), ("lookup_failed", 1)]
    assert h.repo.events == []

    h.clock.advance(2)
    await h.service.attempt(ID)

    assert h.network.methods == ["post", "find", "find"]
    assert h.doc()["state"] == DeliveryState.PUBLISHED
    assert h.doc()["found_after_ambiguity"] is True


async def test_lookup_rate_limited_waits_what_the_network_says() -> None:
    h = await enqueued(
        AmbiguousDeliveryError("read timeout"),
        RateLimitedDeliveryError("X search: too many requests", retry_after_s=120),
    )
    await h.service.attempt(ID)
    h.clock.advance(3)

    await h.service.attempt(ID)

    assert h.doc()["state"] == DeliveryState.SENDING
    assert h.network.methods == ["post", "find"]
    assert await h.timer_due() == h.clock.now() + timedelta(seconds=120)


async def test_lookup_refused_permanently_fails_for_a_person_to_check() -> None:
    h = await enqueued(
        AmbiguousDeliveryError("read timeout"),
        PermanentDeliveryError("x.token_invalid", "The X token was revoked."),
    )
    await h.service.attempt(ID)
    h.clock.advance(3)

    await h.service.attempt(ID)

    assert h.network.methods == ["post", "find"]
    assert h.doc()["state"] == DeliveryState.FAILED
    assert h.doc()["error"] == {
        "code": "x.token_invalid",
        "message": "The X token was revoked.",
        "retryable": True,
    }


@pytest.mark.parametrize(
    ("found", "methods", "attempts"),
    [
        pytest.param(POSTED, ["find"], 1, id="found"),
        pytest.param(None, ["find", "post"], 2, id="not-found"),
    ],
)
async def test_delivery_left_sending_by_a_crashed_replica_is_looked_up_before_any_send(
    found: Published | None, methods: list[str], attempts: int
) -> None:
    h = build(found, POSTED) if found is None else build(found)
    first = T0 - timedelta(minutes=5)
    h.repo.put(
        {
            **post_doc(),
            "state": "sending",
            "attempts": 1,
            "created_ms": ms(first),
            "first_attempt_ms": ms(first),
            "sending_since_ms": ms(first),
            "history": [],
            "version": 2,
        }
    )

    await h.service.attempt(ID)

    assert h.network.methods == methods
    [look] = h.network.requests("find")
    assert look.attempted_at == first
    doc = h.doc()
    assert doc["state"] == DeliveryState.PUBLISHED
    assert doc["attempts"] == attempts
    [event] = h.repo.events
    assert isinstance(event, PostPublished)
    assert event.found_after_ambiguity is (found is not None)


class GatedNetwork:
    """A network whose first post hangs until ``gate`` opens; find sees what it holds."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.first_post_sent = asyncio.Event()
        self.methods: list[str] = []
        self.posts: list[Published] = []

    async def post(self, req: PostRequest) -> Published:
        """Post; the first one waits for the gate (a slow network)."""
        self.methods.append("post")
        if self.methods.count("post") == 1:
            self.first_post_sent.set()
            await self.gate.wait()
        published = Published(native_id=f"n{len(self.posts) + 1}", url=None)
        self.posts.append(published)
        return published

    async def reply(self, req: PostRequest) -> Published:
        """Not used: these are posts."""
        raise AssertionError("unexpected reply")

    async def find(self, req: PostRequest) -> Published | None:
        """The first post if it has been made."""
        self.methods.append("find")
        return self.posts[0] if self.posts else None


async def test_two_concurrent_attempts_on_one_pending_delivery_post_once() -> None:
    h = await enqueued()
    network = GatedNetwork()
    h.factory.deliverer = network

    first = asyncio.create_task(h.service.attempt(ID))
    second = asyncio.create_task(h.service.attempt(ID))
    await network.first_post_sent.wait()
    # The firing that did not win the claim must finish without the winner's post done.
    await asyncio.wait({first, second}, return_when=asyncio.FIRST_COMPLETED)
    network.gate.set()
    await asyncio.gather(first, second)

    assert network.methods.count("post") == 1
    assert h.doc()["state"] == DeliveryState.PUBLISHED
    assert h.doc()["attempts"] == 1
    assert len(h.repo.events) == 1


async def test_attempt_of_a_published_delivery_calls_nothing_and_tells_the_item() -> None:
    h = await enqueued(POSTED)
    await h.service.attempt(ID)
    writes = len(h.repo.writes)

    await h.service.attempt(ID)

    assert h.network.methods == ["post"]
    assert len(h.repo.writes) == writes
    assert h.settled == [CONTENT, CONTENT]


async def test_attempt_of_an_unknown_delivery_does_nothing() -> None:
    h = build()

    await h.service.attempt("c9:nobody")

    assert h.repo.docs == {}
    assert h.network.calls == []


# ------------------------------------------------------------------------------ replies


async def test_reply_is_stored_once_and_sent_once_whatever_the_redeliveries() -> None:
    h = build(Published(native_id="1999", url="https://x.example/acme/status/1999"))
    h.accounts.mark_for_replies(X_ACCOUNT)
    command = reply_command()

    await h.service.request_reply(command)
    await h.service.request_reply(command)  # redelivered before the first firing

    assert list(h.repo.docs) == ["reply:r1"]
    doc = h.doc("reply:r1")
    assert doc["kind"] == "reply"
    assert doc["account_id"] == X_ACCOUNT.id
    assert doc["state"] == DeliveryState.PENDING
    assert doc["request"] == {
        "text": "Thanks, we are on it!",
        "in_reply_to": "1777",
        "thread": "thread-1",
        "conversation_key": "x:thread-1",
    }
    assert await h.timer_due("reply:r1") == T0

    await h.service.attempt("reply:r1")
    h.clock.advance(30)
    await h.service.request_reply(command)  # redelivered after it was sent
    await h.service.attempt("reply:r1")

    assert h.network.methods == ["reply"]
    [req] = h.network.requests("reply")
    assert (req.account_id, req.in_reply_to, req.text) == (
        X_ACCOUNT.native_id,
        "1777",
        "Thanks, we are on it!",
    )
    assert req.idempotency_key == "reply:r1"
    assert [w.op for w in h.repo.writes].count("add") == 1
    assert h.doc("reply:r1")["state"] == DeliveryState.PUBLISHED
    assert await h.timer_due("reply:r1") == T0  # the redelivery armed nothing new
    [event] = h.repo.events
    assert isinstance(event, ReplyPublished)
    assert dump(event) == {
        "brand_id": BRAND,
        "schema_version": 1,
        "reply_id": "r1",
        "case_id": "k1",
        "network": "x",
        "native_id": "1999",
        "url": "https://x.example/acme/status/1999",
    }
    assert h.settled == []  # replies have no content item to tell


async def test_reply_without_a_reply_account_fails_at_once() -> None:
    h = build()

    await h.service.request_reply(reply_command())
    await h.service.request_reply(reply_command())  # redelivered

    doc = h.doc("reply:r1")
    assert doc["state"] == DeliveryState.FAILED
    assert doc["account_id"] is None
    assert doc["error"]["code"] == "account.no_reply_account"
    assert doc["error"]["retryable"] is True
    [add] = h.repo.writes
    assert add.op == "add"
    [event] = add.events
    assert isinstance(event, ReplyFailed)
    assert (event.code, event.reply_id, event.case_id, event.network, event.retryable) == (
        "account.no_reply_account",
        "r1",
        "k1",
        Network.X,
        True,
    )
    assert event.message == "Connect a x publishing account to reply on x."
    assert await h.timers.get(key=timer_key("reply:r1")) is None
    assert h.network.calls == []


async def test_telegram_reply_goes_to_the_chat_the_message_came_from() -> None:
    h = build(Published(native_id="-100777_56", url=None))
    h.accounts.mark_for_replies(TG_ACCOUNT)

    await h.service.request_reply(reply_command(Network.TELEGRAM, in_reply_to="-100777_55"))
    await h.service.attempt("reply:r1")

    [(method, req)] = h.network.calls
    assert method == "reply"
    assert req.network is Network.TELEGRAM
    assert req.account_id == "-100777"
    assert req.in_reply_to == "-100777_55"
    assert req.access_token == TG_ACCOUNT.token
    assert h.doc("reply:r1")["state"] == DeliveryState.PUBLISHED


async def test_a_failed_reply_fails_with_reply_failed() -> None:
    h = build(PermanentDeliveryError("x.reply_restricted", "The author limits who can reply."))
    h.accounts.mark_for_replies(X_ACCOUNT)
    await h.service.request_reply(reply_command())

    await h.service.attempt("reply:r1")

    [event] = h.repo.events
    assert isinstance(event, ReplyFailed)
    assert (event.code, event.retryable) == ("x.reply_restricted", False)
    assert h.doc("reply:r1")["state"] == DeliveryState.FAILED


async def test_reply_without_an_account_can_be_retried_once_one_is_connected() -> None:
    h = build(Published(native_id="1999", url=None))
    await h.service.request_reply(reply_command())
    assert h.doc("reply:r1")["error"]["retryable"] is True
    h.accounts.mark_for_replies(X_ACCOUNT)

    assert await h.service.retry("reply:r1", actor="user:anna") is True
    await h.service.attempt("reply:r1")

    assert h.doc("reply:r1")["state"] == DeliveryState.PUBLISHED
    assert h.network.methods == ["reply"]


# ------------------------------------------------------------------------------ people, enqueue


async def test_retry_moves_only_a_failed_delivery() -> None:
    h = await enqueued(POSTED)
    await h.service.attempt(ID)
    before = copy.deepcopy(h.doc())

    assert await h.service.retry(ID, actor="user:anna") is False
    assert await h.service.retry("c9:nobody", actor="user:anna") is False

    assert h.doc() == before
    waiting = await enqueued(TransientDeliveryError("X answered 502"))
    await waiting.service.attempt(ID)
    assert await waiting.service.retry(ID, actor="user:anna") is False
    assert waiting.doc()["state"] == DeliveryState.WAITING
    assert await waiting.timer_due() == T0 + timedelta(seconds=2)


async def test_retry_of_a_failed_delivery_resets_attempts_and_fires_now() -> None:
    h = await enqueued(
        TransientDeliveryError("X answered 502"),
        TransientDeliveryError("X answered 503"),
        POSTED,
        policy=DeliveryPolicy(max_attempts=2),
    )
    assert await h.fire_due() == 1
    h.clock.advance(2)
    assert await h.fire_due() == 1
    assert h.doc()["state"] == DeliveryState.FAILED
    timer = await h.timers.get(key=timer_key(ID))
    assert timer is not None
    assert timer.state is TimerState.FIRED  # nothing would fire it again by itself
    h.clock.advance(3600)
    later = h.clock.now()

    assert await h.service.retry(ID, actor="user:anna") is True

    doc = h.doc()
    assert doc["state"] == DeliveryState.PENDING
    assert doc["attempts"] == 0
    assert doc["error"] is None
    assert doc["history"][-1] == {
        "at_ms": ms(later),
        "attempt": 0,  # each entry shows the count after it: the retry starts afresh
        "what": "retried",
        "detail": "by user:anna",
    }
    assert await h.timer_due() == later

    assert await h.fire_due() == 1

    assert h.doc()["state"] == DeliveryState.PUBLISHED
    assert h.doc()["attempts"] == 1
    assert [type(e).__name__ for e in h.repo.events] == ["PostFailed", "PostPublished"]
    assert dump(h.repo.events[-1]) == published_event(attempts=1)


async def test_enqueue_of_a_delivery_under_way_keeps_its_wait() -> None:
    h = await enqueued(TransientDeliveryError("X answered 502"))
    await h.service.attempt(ID)
    assert await h.timer_due() == T0 + timedelta(seconds=2)
    h.clock.advance(1)

    assert await h.service.enqueue(post_doc()) is False  # a re-fired publish timer

    assert await h.timer_due() == T0 + timedelta(seconds=2)
    assert h.doc()["state"] == DeliveryState.WAITING
    assert h.doc()["attempts"] == 1
    assert list(h.repo.docs) == [ID]


async def test_enqueue_arms_a_stored_delivery_that_never_started() -> None:
    h = build()
    # A crash between storing the delivery and arming its timer.
    h.repo.put({**post_doc(), "state": "pending", "attempts": 0, "history": [], "version": 1})
    due = T0 + timedelta(minutes=10)

    assert await h.service.enqueue(post_doc(), due_at=due) is False

    assert await h.timer_due() == due
    assert h.doc()["version"] == 1
