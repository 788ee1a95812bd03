"""Deliveries: one post or reply from one account, made once, retried safely, never silent.

A delivery document (``content_repo``) is created once per idempotency key
(``{content id}:{account id}`` for a post, ``reply:{reply id}`` for a reply) and driven by
a durable timer ``deliver|{delivery id}`` that every replica's timer loop may fire, one at a
time. States::

    pending ──▶ sending ──▶ published
       ▲           │ └────▶ failed (a person can retry)
       └─ waiting ◀┘

* Before a network call the delivery is claimed (``sending``, attempt n+1) with a version
  check, so two firings never both send.
* A delivery found in ``sending`` has an outcome nobody saw (the request timed out after
  it was sent, or the replica died mid-call): it is resolved with the network's ``find``
  before anything else. Found: published. Not found: sent again. On a network that cannot
  look posts up (Telegram) it fails as ``delivery.unverified`` for a person to check.
* Transient errors wait ``retry_delay_s`` (2 s growing to 10 min) up to
  ``max_attempts``; a rate limit waits what the network (or our own per-account limiter)
  says, unless that is longer than ``max_rate_wait_s``: then it fails as
  ``rate_limit.exhausted``. Permanent errors fail at once with the network's code.
* Every end is an event in the same update: ``post.published`` / ``post.failed`` for a
  content item's post, ``reply.published`` / ``reply.failed`` for a reply.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol

from smm_publisher.adapters.accounts import Account, AccountStore, AccountUnavailableError
from smm_publisher.adapters.content_repo import ContentRepository
from smm_publisher.domain.delivery import (
    NO_LOOKUP,
    AmbiguousDeliveryError,
    Deliverer,
    DeliveryError,
    PermanentDeliveryError,
    PostRequest,
    Published,
    RateLimitedDeliveryError,
    retry_delay_s,
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
from smm_shared.mongo import Document, epoch_ms, from_epoch_ms
from smm_shared.timers import FiredTimer, TimerStore

logger = logging.getLogger(__name__)

DELIVERY_TIMER: Final = "delivery.attempt"
SYSTEM: Final = "system:publisher"
#: How long after an ambiguous failure the network is asked whether the post exists.
RESOLVE_AFTER_S: Final = 3.0
HISTORY_LIMIT: Final = 30


class DeliveryState(StrEnum):
    """Where a delivery is (module docstring)."""

    PENDING = "pending"
    SENDING = "sending"
    WAITING = "waiting"
    PUBLISHED = "published"
    FAILED = "failed"


FINAL: Final = frozenset({DeliveryState.PUBLISHED.value, DeliveryState.FAILED.value})


class DelivererFactory(Protocol):
    """Builds the client of a network, pointed at an account's API base URL if it has one."""

    def __call__(self, network: Network, api_base_url: str | None) -> Deliverer: ...


class RateLimiter(Protocol):
    """Per-account posting limits shared by the replicas (``adapters.rate_limiter``)."""

    async def acquire(
        self, *, account_key: str, network: Network, kind: str, now: datetime
    ) -> datetime | None: ...


def _never_started(doc: Document) -> bool:
    """Stored but never attempted: its timer may not have been armed."""
    return doc["state"] == DeliveryState.PENDING.value and not doc.get("attempts")


def timer_key(delivery_id: str) -> str:
    """The durable timer that drives one delivery."""
    return f"deliver|{delivery_id}"


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard to try."""

    max_attempts: int = 8
    max_rate_wait_s: float = 6 * 3600.0
    #: A delivery "sending" for longer than this lost its replica mid-call (keep it above
    #: the network timeout: a live call is never taken for a dead one).
    sending_stale_s: float = 60.0


class DeliveryService:
    """Creates deliveries and makes their attempts (module docstring)."""

    def __init__(
        self,
        *,
        repository: ContentRepository,
        accounts: AccountStore,
        timers: TimerStore,
        deliverers: DelivererFactory,
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime],
        policy: DeliveryPolicy = DeliveryPolicy(),
        on_settled: Callable[[str], Awaitable[None]] | None = None,
        jitter: Callable[[], float] = lambda: random.uniform(-1.0, 1.0),
    ) -> None:
        self._repo = repository
        self._accounts = accounts
        self._timers = timers
        self._deliverers = deliverers
        self._limiter = limiter
        self._now = clock
        self._policy = policy
        self.on_settled = on_settled
        self._jitter = jitter

    # --- creating ------------------------------------------------------------------------

    async def enqueue(self, doc: Document, *, due_at: datetime | None = None) -> bool:
        """Create a delivery (or find the one with its key) and make sure its timer is armed.

        Returns False when the delivery already existed (a replayed command, a re-fired
        publish timer). An existing delivery that never started (a crash between storing it
        and arming its timer) is armed; one under way keeps its own timer (a retry's wait is
        not cut short).
        """
        now = self._now()
        created = await self._repo.add_delivery(
            {
                **doc,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "created_ms": epoch_ms(now),
                "history": [],
            }
        )
        if not created:
            existing = await self._repo.delivery(str(doc["_id"]))
            if existing is None or not _never_started(existing):
                return False
        await self._arm(str(doc["_id"]), due_at or now)
        return created

    async def request_reply(self, command: ReplyRequested) -> None:
        """A reply command from the responder: post it once, whatever the redeliveries."""
        delivery_id = f"reply:{command.reply_id}"
        existing = await self._repo.delivery(delivery_id)
        if existing is not None:
            if _never_started(existing):
                await self._arm(delivery_id, self._now())
            return
        doc: Document = {
            "_id": delivery_id,
            "kind": "reply",
            "brand_id": command.brand_id,
            "case_id": command.case_id,
            "reply_id": command.reply_id,
            "network": command.network.value,
            "requested_by": command.requested_by,
            "request": {
                "text": command.text,
                "in_reply_to": command.in_reply_to_native_id,
                "thread": command.thread_native_id,
                "conversation_key": command.conversation_key,
            },
        }
        try:
            account = await self._accounts.for_replies(command.brand_id, command.network)
        except AccountUnavailableError as exc:
            doc["account_id"] = None
            await self._repo.add_delivery(
                {
                    **doc,
                    "state": DeliveryState.FAILED.value,
                    "attempts": 0,
                    "created_ms": epoch_ms(self._now()),
                    "error": {"code": exc.code, "message": exc.message, "retryable": True},
                    "history": [],
                },
                [self._failure_event(doc, exc.code, exc.message, retryable=True, attempts=1)],
            )
            return
        doc["account_id"] = account.id
        await self.enqueue(doc)

    # --- attempts ------------------------------------------------------------------------

    async def on_timer(self, fired: FiredTimer) -> None:
        """The delivery's timer came due: make one attempt (or resolve the last one)."""
        await self.attempt(str(fired.payload["delivery_id"]))

    async def attempt(self, delivery_id: str) -> None:
        """One step of a delivery: resolve an unknown outcome, wait, or send.

        Losing a race (another firing changed the delivery first) ends this step: the
        winner carries on, and the delivery's timer covers a winner that dies.
        """
        doc = await self._repo.delivery(delivery_id)
        if doc is None:
            logger.warning("delivery %s fired but does not exist", delivery_id)
            return
        if doc["state"] in FINAL:
            await self._settled(doc)
            return
        if doc["state"] == DeliveryState.SENDING.value and not doc.get("outcome_unknown"):
            started = from_epoch_ms(int(doc.get("sending_since_ms") or 0))
            if self._now() - started < timedelta(seconds=self._policy.sending_stale_s):
                # Another firing is sending right now: look again when it must have ended.
                await self._arm(
                    delivery_id, started + timedelta(seconds=self._policy.sending_stale_s)
                )
                return
            # Still "sending" long after: the replica died mid-call; the outcome is unknown.
        try:
            account = await self._account(doc)
        except AccountUnavailableError as exc:
            await self._fail(doc, exc.code, exc.message, retryable=True)
            return
        try:
            deliverer = self._deliverers(account.network, account.api_base_url)
        except PermanentDeliveryError as exc:
            await self._fail(doc, exc.code, exc.message, retryable=True)
            return
        request = self._request(doc, account)
        if doc["state"] == DeliveryState.SENDING.value:
            resolved = await self._resolve(doc, deliverer, request)
            if resolved is None:
                return
            doc = resolved
        await self._send(doc, account, deliverer, request)

    async def _account(self, doc: Document) -> Account:
        account_id = doc.get("account_id")
        if not account_id:
            raise AccountUnavailableError(
                "account.no_reply_account", "No publishing account was chosen for this reply."
            )
        return await self._accounts.resolve(str(doc["brand_id"]), str(account_id))

    def _request(self, doc: Document, account: Account) -> PostRequest:
        req: Mapping[str, Any] = doc["request"]
        target = account.native_id
        in_reply_to = req.get("in_reply_to")
        if account.network is Network.TELEGRAM and doc.get("kind") == "reply" and in_reply_to:
            # A bot answers in the chat the message came from: "{chat id}_{message id}".
            chat, sep, _ = str(in_reply_to).rpartition("_")
            if sep and chat:
                target = chat
        first = doc.get("first_attempt_ms")
        return PostRequest(
            network=account.network,
            account_id=target,
            access_token=account.token,
            text=str(req.get("text") or ""),
            media_urls=tuple(req.get("media_urls") or ()),
            link=req.get("link"),
            title=req.get("title"),
            in_reply_to=in_reply_to,
            idempotency_key=str(doc["_id"]),
            attempted_at=from_epoch_ms(int(first)) if first else self._now(),
        )

    async def _resolve(
        self, doc: Document, deliverer: Deliverer, request: PostRequest
    ) -> Document | None:
        """The last send's outcome is unknown: ask the network. None: handled (or lost a race)."""
        network = Network(doc["network"])
        if network in NO_LOOKUP:
            await self._fail(
                doc,
                "delivery.unverified",
                f"{network.value} did not confirm the post and cannot be asked whether it "
                "arrived. Check the chat: if the message is not there, retry it.",
                retryable=True,
            )
            return None
        try:
            found = await deliverer.find(request)
        except PermanentDeliveryError as exc:
            await self._fail(doc, exc.code, exc.message, retryable=True)
            return None
        except DeliveryError as exc:
            # Cannot tell yet: ask again later, never resend meanwhile.
            lookups = int(doc.get("lookups") or 0) + 1
            if lookups >= self._policy.max_attempts:
                await self._fail(
                    doc,
                    "delivery.unverified",
                    f"{network.value} could not be asked {lookups} times whether the post "
                    f"arrived (last: {exc.message}). Check the account: if the post is not "
                    "there, retry it.",
                    retryable=True,
                )
                return None
            wait = (
                exc.retry_after_s
                if isinstance(exc, RateLimitedDeliveryError)
                else retry_delay_s(lookups, jitter=self._jitter())
            )
            await self._note(doc, "lookup_failed", exc.message, wait_s=wait, lookups=lookups)
            return None
        if found is not None:
            await self._published(doc, found, after_ambiguity=True)
            return None
        moved = await self._update(
            doc,
            {"state": DeliveryState.PENDING.value, "outcome_unknown": False, "lookups": 0},
            history=("not_found", "the network has no such post; sending again"),
        )
        return moved

    async def _send(
        self, doc: Document, account: Account, deliverer: Deliverer, request: PostRequest
    ) -> bool:
        """Wait for a rate-limit slot, claim, send, record. False: lost a race, read again."""
        now = self._now()
        kind = "reply" if doc.get("kind") == "reply" else "post"
        if self._limiter is not None:
            retry_at = await self._limiter.acquire(
                account_key=account.id, network=account.network, kind=kind, now=now
            )
            if retry_at is not None:
                await self._rate_limited(doc, (retry_at - now).total_seconds(), ours=True)
                return True
        attempts = int(doc.get("attempts", 0)) + 1
        claimed = await self._update(
            doc,
            {
                "state": DeliveryState.SENDING.value,
                "attempts": attempts,
                "sending_since_ms": epoch_ms(now),
                "outcome_unknown": False,
                "first_attempt_ms": doc.get("first_attempt_ms") or epoch_ms(now),
            },
        )
        if claimed is None:
            return False
        request = self._request(claimed, account)
        try:
            if request.in_reply_to:
                published = await deliverer.reply(request)
            else:
                published = await deliverer.post(request)
        except AmbiguousDeliveryError as exc:
            # Stay "sending": the next firing asks the network before anything else.
            await self._note(
                claimed, "ambiguous", exc.message, wait_s=RESOLVE_AFTER_S, outcome_unknown=True
            )
            return True
        except RateLimitedDeliveryError as exc:
            await self._rate_limited(claimed, exc.retry_after_s, ours=False, message=exc.message)
            return True
        except PermanentDeliveryError as exc:
            await self._fail(claimed, exc.code, exc.message, retryable=False)
            return True
        except DeliveryError as exc:
            await self._transient(claimed, exc.message)
            return True
        await self._published(claimed, published, after_ambiguity=False)
        return True

    # --- outcomes ------------------------------------------------------------------------

    async def _published(
        self, doc: Document, published: Published, *, after_ambiguity: bool
    ) -> None:
        attempts = max(1, int(doc.get("attempts", 1)))
        event: Event
        if doc.get("kind") == "reply":
            event = ReplyPublished(
                brand_id=doc["brand_id"],
                reply_id=doc["reply_id"],
                case_id=doc["case_id"],
                network=Network(doc["network"]),
                native_id=published.native_id,
                url=published.url,
            )
        else:
            event = PostPublished(
                brand_id=doc["brand_id"],
                content_id=doc["content_id"],
                actor=SYSTEM,
                delivery_id=doc["_id"],
                account_id=doc["account_id"],
                network=Network(doc["network"]),
                attempts=attempts,
                native_id=published.native_id,
                url=published.url,
                found_after_ambiguity=after_ambiguity,
            )
        detail = "found on the network after an unanswered request" if after_ambiguity else ""
        done = await self._update(
            doc,
            {
                "state": DeliveryState.PUBLISHED.value,
                "native_id": published.native_id,
                "url": published.url,
                "published_ms": epoch_ms(self._now()),
                "found_after_ambiguity": after_ambiguity,
                "error": None,
            },
            events=[event],
            history=("published", detail or published.native_id),
        )
        if done is not None:
            await self._settled(done)

    async def _fail(self, doc: Document, code: str, message: str, *, retryable: bool) -> None:
        event = self._failure_event(
            doc, code, message, retryable=retryable, attempts=max(1, int(doc.get("attempts", 1)))
        )
        done = await self._update(
            doc,
            {
                "state": DeliveryState.FAILED.value,
                "error": {"code": code, "message": message, "retryable": retryable},
                "failed_ms": epoch_ms(self._now()),
            },
            events=[event],
            history=("failed", f"{code}: {message}"),
        )
        if done is not None:
            await self._settled(done)

    def _failure_event(
        self, doc: Document, code: str, message: str, *, retryable: bool, attempts: int
    ) -> Event:
        if doc.get("kind") == "reply":
            return ReplyFailed(
                brand_id=doc["brand_id"],
                reply_id=doc["reply_id"],
                case_id=doc["case_id"],
                network=Network(doc["network"]),
                code=code,
                message=message[:2000],
                retryable=retryable,
            )
        return PostFailed(
            brand_id=doc["brand_id"],
            content_id=doc["content_id"],
            actor=SYSTEM,
            delivery_id=doc["_id"],
            account_id=doc["account_id"],
            network=Network(doc["network"]),
            attempts=attempts,
            code=code,
            message=message[:2000],
            retryable=retryable,
        )

    async def _transient(self, doc: Document, message: str) -> None:
        attempts = int(doc.get("attempts", 1))
        if attempts >= self._policy.max_attempts:
            await self._fail(
                doc,
                "delivery.gave_up",
                f"Gave up after {attempts} attempts; the last error: {message}",
                retryable=True,
            )
            return
        wait = retry_delay_s(attempts, jitter=self._jitter())
        await self._wait(doc, wait, "transient", message)

    async def _rate_limited(
        self, doc: Document, wait_s: float, *, ours: bool, message: str = ""
    ) -> None:
        wait_s = max(0.0, wait_s)
        if wait_s > self._policy.max_rate_wait_s:
            hours = wait_s / 3600
            await self._fail(
                doc,
                "rate_limit.exhausted",
                f"The {doc['network']} posting limit of this account is used up for the next "
                f"{hours:.1f} h. Retry later or post from another account.",
                retryable=True,
            )
            return
        source = "our per-account limit" if ours else (message or "the network's rate limit")
        await self._wait(doc, wait_s, "rate_limited", source)

    async def _wait(self, doc: Document, wait_s: float, what: str, detail: str) -> None:
        due = self._now() + timedelta(seconds=wait_s)
        await self._arm(str(doc["_id"]), due)
        moved = await self._update(
            doc,
            {"state": DeliveryState.WAITING.value, "next_attempt_ms": epoch_ms(due)},
            history=(what, f"{detail}; next attempt in {wait_s:.0f} s"),
        )
        if moved is not None:
            await self._settled(moved)  # the item shows the wait and why

    async def _note(
        self, doc: Document, what: str, detail: str, *, wait_s: float, **fields: Any
    ) -> None:
        """Record an event of the delivery without changing its state; fire again later."""
        due = self._now() + timedelta(seconds=wait_s)
        await self._arm(str(doc["_id"]), due)
        await self._update(
            doc, {"next_attempt_ms": epoch_ms(due), **fields}, history=(what, detail)
        )

    async def _settled(self, doc: Document) -> None:
        """Tell the item a delivery ended (or is waiting), so its summary shows it."""
        if doc.get("kind") != "reply" and self.on_settled is not None:
            await self.on_settled(str(doc["content_id"]))

    # --- people ----------------------------------------------------------------------------

    async def retry(self, delivery_id: str, *, actor: str) -> bool:
        """A person retries a failed delivery (after fixing the cause); False if not failed."""
        doc = await self._repo.delivery(delivery_id)
        if doc is None or doc["state"] != DeliveryState.FAILED.value:
            return False
        fields: dict[str, Any] = {
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "lookups": 0,
            "outcome_unknown": False,
            "error": None,
        }
        if doc.get("kind") == "reply" and not doc.get("account_id"):
            # It failed for want of a reply account: one may have been connected since.
            with contextlib.suppress(AccountUnavailableError):
                account = await self._accounts.for_replies(
                    str(doc["brand_id"]), Network(doc["network"])
                )
                fields["account_id"] = account.id
        moved = await self._update(doc, fields, history=("retried", f"by {actor}"))
        if moved is None:
            return False
        await self._arm(delivery_id, self._now(), rearm=True)
        return True

    # --- storage -----------------------------------------------------------------------------

    async def _arm(self, delivery_id: str, due_at: datetime, *, rearm: bool = True) -> None:
        await self._timers.schedule(
            key=timer_key(delivery_id),
            due_at=due_at,
            kind=DELIVERY_TIMER,
            payload={"delivery_id": delivery_id},
            rearm=rearm,
        )

    async def _update(
        self,
        doc: Document,
        fields: Mapping[str, Any],
        *,
        events: list[Event] | None = None,
        history: tuple[str, str] | None = None,
    ) -> Document | None:
        """Apply ``fields`` at the version read; the updated copy, or None if it moved on."""
        changes = dict(fields)
        if history is not None:
            entry = {
                "at_ms": epoch_ms(self._now()),
                "attempt": int(changes.get("attempts", doc.get("attempts")) or 0),
                "what": history[0],
                "detail": history[1][:500],
            }
            changes["history"] = [*(doc.get("history") or []), entry][-HISTORY_LIMIT:]
        version = int(doc["version"])
        ok = await self._repo.update_delivery(
            str(doc["_id"]), version=version, fields=changes, events=events or []
        )
        if not ok:
            return None
        return {**doc, **changes, "version": version + 1}
