"""Use cases of contests: set up, open, collect entries, close, draw, certify, announce.

Every change of a contest is one loop (``_update``): read it, let the domain decide, write
with a ``version`` check together with its events (embedded outbox); a lost race reads
again and decides again, so nothing is half-applied and a replay changes nothing.

Entries (docs/publisher.md, "How entries are collected"):

* A mention (comment, reply, quote post or repost) whose parent or thread is a contest's
  post or thread, in the same brand and network, is stored once per contest
  (``<contest id>|<mention id>``): a redelivered mention is the same entry.
* Only an **open** or **closed** contest collects. A draft has no published commitment yet,
  so nothing it heard could count fairly; a drawn contest's certificate is final.
* Each stored entry carries its decision. The decisions of one author's entries are
  re-judged together with ``tally`` whenever one of them changes, which gives exactly the
  decisions ``tally`` gives over the whole contest (the only rule between entries is one
  entry per author). At the draw, ``tally`` over every entry is the authoritative judge and
  its decisions are stored.
* An **edit** (``MentionUpdated``) made before ``closes_at`` replaces the entry's content
  (an entry fixed in time counts); an edit made at or after ``closes_at`` leaves the entry as
  it stood at the close and is only noted (``late_edit_ms``). The edit time is the network's
  ``edited_at``, or when we heard of the edit if the network does not say.
* A **deletion** (``MentionDeleted``) before the draw withdraws the entry
  (``entry.withdrawn``): it no longer takes part, and the author's next valid entry, if any,
  counts instead. After the draw nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from smm_publisher.adapters.contests_repo import (
    SEED_FIELD,
    ContestRepository,
    Page,
    author_slot,
    entry_id,
    entry_key,
    list_key,
    target_key,
    without_none,
)
from smm_publisher.domain.contests import (
    Certificate,
    Contest,
    ContestEntry,
    ContestError,
    ContestStatus,
    EntryMethod,
    Ineligible,
    UnknownPolicy,
    commitment,
    draw,
    evaluate,
    new_seed,
    tally,
)
from smm_shared.events import (
    ContestClosed,
    ContestDrawn,
    ContestOpened,
    Event,
    MentionDeleted,
    MentionKind,
    MentionReceived,
    MentionUpdated,
    Network,
)
from smm_shared.mongo import Document, epoch_ms, new_id
from smm_shared.secrets import SecretBox, SecretUnavailableError
from smm_shared.timers import FiredTimer, TimerStore

logger = logging.getLogger(__name__)

#: Timer kinds of this service start with this; the composition root routes them here.
TIMER_KIND_PREFIX: Final = "contest."
CLOSE_TIMER_KIND: Final = "contest.close"
#: The decision code of an entry whose mention was deleted before the draw.
WITHDRAWN: Final = "entry.withdrawn"
MAX_ATTEMPTS: Final = 8

#: Mention kinds that can be entries (direct messages and reviews never are).
ENTRY_KINDS: Final = frozenset(
    {MentionKind.COMMENT, MentionKind.REPLY, MentionKind.POST, MentionKind.REPOST}
)
#: Contests that store the entries they hear of.
COLLECTING: Final = frozenset({ContestStatus.OPEN, ContestStatus.CLOSED})

#: Creates the draft content item announcing the winners and returns its id: called with
#: the drawn contest, its certificate and who asked (``user:<id>``).
Announcer = Callable[[Contest, Certificate, str], Awaitable[str]]
#: Whether the caller may see a brand.
BrandFilter = Callable[[str], bool]


class ContestNotFoundError(LookupError):
    """No contest with that id in a brand the caller may see."""


class ContestConflictError(ContestError):
    """The contest's state (or this deployment's) does not allow the command now (HTTP 409)."""


class ContestUnavailableError(ContestError):
    """This deployment cannot carry the command out at all (HTTP 503)."""


def close_timer_key(contest_id: str, due_ms: int) -> str:
    """The durable timer that closes a contest at ``due_ms``."""
    return f"contest|{contest_id}|close|{due_ms}"


@dataclass(frozen=True, slots=True)
class ContestSpec:
    """What a person sets up in a draft contest (everything but id, brand and state)."""

    network: Network
    post_native_id: str
    opens_at: datetime
    closes_at: datetime
    methods: frozenset[EntryMethod]
    hashtag: str | None = None
    thread_native_id: str | None = None
    title: str = ""
    winner_count: int = 1
    min_followers: int = 0
    unknown_followers: UnknownPolicy = UnknownPolicy.ACCEPT
    min_account_age_days: int = 0
    unknown_account_age: UnknownPolicy = UnknownPolicy.ACCEPT
    blocked: frozenset[str] = frozenset()
    employees: frozenset[str] = frozenset()

    def contest(self, *, contest_id: str, brand_id: str) -> Contest:
        """The draft contest; ``ContestError`` (``contest.invalid``) says what to fix."""
        return Contest(
            id=contest_id,
            brand_id=brand_id,
            network=self.network,
            post_native_id=self.post_native_id,
            thread_native_id=self.thread_native_id or None,
            title=self.title,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            methods=self.methods,
            hashtag=self.hashtag or None,
            winner_count=self.winner_count,
            min_followers=self.min_followers,
            unknown_followers=self.unknown_followers,
            min_account_age_days=self.min_account_age_days,
            unknown_account_age=self.unknown_account_age,
            blocked=self.blocked,
            employees=self.employees,
        )


@dataclass(slots=True)
class _Write:
    """One change of a contest: fields to set (``None`` removes) and the events it emits."""

    fields: dict[str, Any]
    events: list[Event] = field(default_factory=list)


Decide = Callable[[Document, Contest], Awaitable[_Write | None]]


def _rules_fields(contest: Contest) -> Document:
    """The contest's own fields and the keys by which mentions find it."""
    doc = contest.to_doc()
    del doc["_id"]
    doc["post_key"] = target_key(contest.brand_id, contest.network.value, contest.post_native_id)
    doc["thread_key"] = (
        target_key(contest.brand_id, contest.network.value, contest.thread_native_id)
        if contest.thread_native_id
        else None
    )
    return doc


def _withdrawn_decision() -> Document:
    return {"code": WITHDRAWN, "message": "The mention was deleted before the draw."}


class ContestService:
    """Contests of the brands: entries come from mentions, closing from a durable timer."""

    def __init__(
        self,
        contests_repo: ContestRepository,
        timers: TimerStore,
        secrets: SecretBox,
        clock: Callable[[], datetime],
        announce: Announcer | None = None,
        *,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self._repo = contests_repo
        self._timers = timers
        self._secrets = secrets
        self._now = clock
        self._announce = announce
        #: Wakes the outbox relay after a write with events (``OutboxRelay.notify``).
        self._notify = notify

    # --- the change loop -----------------------------------------------------------------

    async def _load(self, contest_id: str, brand_ok: BrandFilter | None) -> Document:
        doc = await self._repo.get(contest_id)
        if doc is None or (brand_ok is not None and not brand_ok(str(doc["brand_id"]))):
            raise ContestNotFoundError(contest_id)
        return doc

    async def _update(
        self, contest_id: str, decide: Decide, *, brand_ok: BrandFilter | None
    ) -> tuple[Document, bool]:
        """Read, decide, write with a version check; again on a lost race.

        Returns the contest after the change and whether anything was written.
        """
        for _ in range(MAX_ATTEMPTS):
            doc = await self._load(contest_id, brand_ok)
            write = await decide(doc, Contest.from_doc(doc))
            if write is None:
                return doc, False
            write.fields["updated_ms"] = epoch_ms(self._now())
            if await self._repo.apply(
                contest_id, int(doc["version"]), fields=write.fields, events=write.events
            ):
                if write.events and self._notify is not None:
                    self._notify()
                return await self._load(contest_id, None), True
        raise ContestConflictError(
            "contest.busy", "The contest kept changing while this ran; try again."
        )

    # --- setting up ----------------------------------------------------------------------

    async def create(self, spec: ContestSpec, *, brand_id: str, actor: str) -> Document:
        """A new draft contest of the brand."""
        contest_id = new_id()
        contest = spec.contest(contest_id=contest_id, brand_id=brand_id)
        now_ms = epoch_ms(self._now())
        await self._repo.insert(
            {
                "_id": contest_id,
                **_rules_fields(contest),
                "version": 1,
                "created_ms": now_ms,
                "updated_ms": now_ms,
                "created_by": actor,
                "list_key": list_key(brand_id, now_ms, contest_id),
            }
        )
        return await self._load(contest_id, None)

    async def replace(
        self,
        contest_id: str,
        spec: ContestSpec,
        *,
        version: int,
        brand_ok: BrandFilter,
        actor: str,
    ) -> Document:
        """Replace a draft's set-up; a stale ``version`` or a contest past draft is refused."""

        async def decide(doc: Document, current: Contest) -> _Write:
            if current.status is not ContestStatus.DRAFT:
                raise ContestConflictError(
                    "contest.not_draft",
                    f"The contest is {current.status.value}: its rules are fixed once it opens.",
                )
            if int(doc["version"]) != version:
                raise ContestConflictError(
                    "contest.version_conflict",
                    f"The contest changed since you read it (version {doc['version']} now, "
                    f"{version} sent); reload it and apply your change again.",
                )
            contest = spec.contest(contest_id=contest_id, brand_id=current.brand_id)
            return _Write({**_rules_fields(contest), "updated_by": actor})

        doc, _ = await self._update(contest_id, decide, brand_ok=brand_ok)
        return doc

    # --- opening and closing ---------------------------------------------------------------

    async def open(self, contest_id: str, *, brand_ok: BrandFilter, actor: str) -> Document:
        """Open a draft: a new secret seed is sealed and its commitment published."""
        if not self._secrets.can_encrypt:
            raise ContestConflictError(
                "contest.secrets_key_missing",
                "Opening a contest needs SMM_SECRETS_KEY: the draw's seed is kept encrypted "
                "until the draw reveals it. Configure the key and try again.",
            )

        async def decide(doc: Document, contest: Contest) -> _Write:
            now = self._now()
            if contest.status is ContestStatus.DRAFT and contest.closes_at <= now:
                raise ContestError(
                    "contest.window_over",
                    "The contest's window has already ended: move closes_at into the future "
                    "before opening it.",
                )
            seed = new_seed()
            opened = contest.opened(commitment=commitment(seed))
            sealed = self._secrets.seal({"value": seed.hex()})
            due_ms = epoch_ms(opened.closes_at)
            # Armed before the write: a timer whose contest never opened finds it in draft
            # and does nothing, while a write without its timer would never close.
            await self._timers.schedule(
                key=close_timer_key(contest.id, due_ms),
                due_at=opened.closes_at,
                kind=CLOSE_TIMER_KIND,
                payload={"contest_id": contest.id, "due_ms": due_ms},
            )
            assert opened.commitment is not None
            return _Write(
                {
                    "status": opened.status.value,
                    "commitment": opened.commitment,
                    SEED_FIELD: sealed,
                    "opened_ms": epoch_ms(now),
                    "opened_by": actor,
                },
                [
                    ContestOpened(
                        brand_id=opened.brand_id,
                        contest_id=opened.id,
                        network=opened.network,
                        post_native_id=opened.post_native_id,
                        opens_at=opened.opens_at,
                        closes_at=opened.closes_at,
                        winner_count=opened.winner_count,
                        commitment=opened.commitment,
                    )
                ],
            )

        doc, _ = await self._update(contest_id, decide, brand_ok=brand_ok)
        return doc

    async def _closing(self, contest: Contest, now: datetime) -> tuple[Contest, _Write]:
        closed = contest.closed()
        entries = await self._repo.count_entries(contest.id)
        return closed, _Write(
            {"status": closed.status.value, "closed_ms": epoch_ms(now)},
            [ContestClosed(brand_id=closed.brand_id, contest_id=closed.id, entries=entries)],
        )

    async def on_timer(self, fired: FiredTimer) -> None:
        """A contest timer came due (``contest.close``); a re-fire changes nothing."""
        if fired.kind != CLOSE_TIMER_KIND:
            logger.warning("unknown contest timer kind %s (%s); ignored", fired.kind, fired.key)
            return
        contest_id = str(fired.payload["contest_id"])
        due_ms = int(str(fired.payload["due_ms"]))

        async def decide(doc: Document, contest: Contest) -> _Write | None:
            if contest.status is not ContestStatus.OPEN:
                return None  # closed already (a re-fire, or drawn early after its close)
            if epoch_ms(contest.closes_at) != due_ms:
                return None  # not this contest's close (the window is fixed once open)
            _, write = await self._closing(contest, max(self._now(), fired.fired_at))
            return write

        try:
            await self._update(contest_id, decide, brand_ok=None)
        except ContestNotFoundError:
            logger.info("timer %s for a contest that is gone", fired.key)

    # --- entries -------------------------------------------------------------------------

    async def on_mention(self, event: MentionReceived | MentionUpdated | MentionDeleted) -> int:
        """Record, update or withdraw the entries a mention makes; returns how many changed."""
        if isinstance(event, MentionDeleted):
            return await self._withdraw(event)
        mention = event.mention
        if mention.kind not in ENTRY_KINDS:
            return 0
        targets = [n for n in (mention.parent_native_id, mention.thread_native_id) if n]
        if not targets:
            return 0
        contests = [
            contest
            for contest in map(
                Contest.from_doc,
                await self._repo.matching(event.brand_id, mention.network.value, targets),
            )
            if contest.status in COLLECTING
        ]
        if not contests:
            return 0
        try:
            entry = ContestEntry.from_mention(mention)
        except ContestError as exc:
            logger.info("mention %s cannot enter: %s", mention.mention_id, exc.message)
            return 0
        changed = 0
        for contest in contests:
            changed += await self._record(contest, entry, event)
        return changed

    async def _record(
        self, contest: Contest, entry: ContestEntry, event: MentionReceived | MentionUpdated
    ) -> int:
        now_ms = epoch_ms(self._now())
        key = entry_id(contest.id, entry.mention_id)
        fields = {
            "entry": without_none(entry.to_doc()),
            "entry_key": entry_key(contest.id, epoch_ms(entry.created_at), entry.mention_id),
            "native_id": event.mention.native_id,
        }
        if isinstance(event, MentionUpdated):
            edited_at = event.mention.edited_at or event.occurred_at
            existing = await self._repo.get_entry(contest.id, entry.mention_id)
            if edited_at >= contest.closes_at:
                # Judged as it stood at the close: an edit after it cannot add a hashtag.
                if existing is not None:
                    await self._repo.update_entry(key, {"late_edit_ms": now_ms})
                return 0
            if existing is not None:
                if existing.get("withdrawn"):
                    return 0
                await self._repo.update_entry(
                    key, {**fields, "edited_ms": epoch_ms(edited_at), "updated_ms": now_ms}
                )
                await self._rejudge(contest, entry.author_key)
                return 1
        inserted = await self._repo.add_entry(
            {
                "_id": key,
                "contest_id": contest.id,
                "brand_id": contest.brand_id,
                "mention_id": entry.mention_id,
                "author_key": entry.author_key,
                "author_slot": author_slot(contest.id, entry.author_key),
                **fields,
                "decision": without_none(evaluate(contest, entry).to_doc()),
                "received_ms": now_ms,
                "updated_ms": now_ms,
            }
        )
        # Also after a replay: a crash may have come between the insert and the re-judging.
        await self._rejudge(contest, entry.author_key)
        return 1 if inserted else 0

    async def _rejudge(self, contest: Contest, author_key: str) -> None:
        """Judge one author's entries together, as ``tally`` would in the whole contest."""
        docs = await self._repo.author_entries(contest.id, author_key)
        active = [d for d in docs if not d.get("withdrawn")]
        judged = tally(contest, [ContestEntry.from_doc(d["entry"]) for d in active])
        decisions = {j.entry.mention_id: without_none(j.decision.to_doc()) for j in judged.judged}
        await self._repo.set_decisions(
            {
                str(d["_id"]): decisions[str(d["mention_id"])]
                for d in active
                if d.get("decision") != decisions[str(d["mention_id"])]
            }
        )

    async def _withdraw(self, event: MentionDeleted) -> int:
        withdrawn = 0
        for doc in await self._repo.entries_of_mention(event.brand_id, event.mention_id):
            if doc.get("withdrawn"):
                continue
            contest_doc = await self._repo.get(str(doc["contest_id"]))
            if contest_doc is None:
                continue
            contest = Contest.from_doc(contest_doc)
            if contest.status not in COLLECTING:
                continue  # drawn: the certificate is final
            await self._repo.update_entry(
                str(doc["_id"]),
                {
                    "withdrawn": True,
                    "withdrawn_ms": epoch_ms(self._now()),
                    "deleted_by": event.deleted_by,
                    "decision": _withdrawn_decision(),
                },
            )
            await self._rejudge(contest, str(doc["author_key"]))
            withdrawn += 1
        return withdrawn

    # --- the draw ------------------------------------------------------------------------

    async def _seed(self, contest: Contest) -> bytes:
        stored = await self._repo.sealed_seed(contest.id)
        if stored is None:
            raise ContestConflictError("contest.seed_missing", "The contest has no stored seed.")
        try:
            return bytes.fromhex(self._secrets.open(f"contest {contest.id} seed", stored))
        except SecretUnavailableError as exc:
            raise ContestConflictError(
                "contest.secrets_key_missing",
                f"The draw's seed cannot be unsealed ({exc}): it needs the SMM_SECRETS_KEY "
                "the contest was opened with.",
            ) from None

    async def _active_entries(self, contest_id: str) -> list[Document]:
        return [d async for d in self._repo.all_entries(contest_id) if not d.get("withdrawn")]

    async def draw(
        self, contest_id: str, *, brand_ok: BrandFilter, actor: str
    ) -> tuple[Certificate, bool]:
        """Draw the winners of a closed contest; a second draw returns the stored certificate.

        An open contest whose window has ended (its close timer not run yet) is closed first,
        in the same write. Returns the certificate and whether this call drew it.
        """
        outcome: dict[str, Any] = {}

        async def decide(doc: Document, contest: Contest) -> _Write | None:
            if contest.status in (ContestStatus.DRAWN, ContestStatus.ANNOUNCED):
                return None
            now = self._now()
            write = _Write({})
            if contest.status is ContestStatus.OPEN and now >= contest.closes_at:
                contest, write = await self._closing(contest, now)
            if contest.status is not ContestStatus.CLOSED:
                raise ContestConflictError(
                    "contest.not_closed",
                    f"Only a closed contest can be drawn; this one is {contest.status.value}"
                    + (
                        f" until {contest.closes_at.isoformat()}."
                        if contest.status is ContestStatus.OPEN
                        else "."
                    ),
                )
            seed = await self._seed(contest)
            active = await self._active_entries(contest.id)
            judged = tally(contest, [ContestEntry.from_doc(d["entry"]) for d in active])
            certificate = draw(contest, judged.eligible, seed, drawn_at=now)
            drawn = contest.drawn(certificate)
            outcome["active"], outcome["judged"] = active, judged
            write.fields.update(
                {
                    "status": drawn.status.value,
                    "winners": list(drawn.winners),
                    "certificate": certificate.to_doc(),
                    "drawn_ms": epoch_ms(now),
                    "drawn_by": actor,
                }
            )
            write.events.append(
                ContestDrawn(
                    brand_id=drawn.brand_id,
                    contest_id=drawn.id,
                    algorithm=certificate.algorithm,
                    algorithm_version=certificate.algorithm_version,
                    seed=certificate.seed,
                    commitment=certificate.commitment,
                    winner_count=certificate.winner_count,
                    entry_count=len(certificate.entries),
                    entry_list_digest=certificate.entry_list_digest,
                    winners=list(certificate.winners),
                    drawn_at=certificate.drawn_at,
                )
            )
            return write

        doc, drew = await self._update(contest_id, decide, brand_ok=brand_ok)
        if drew:
            # The authoritative decisions, as the draw judged them, for the entries list.
            decisions = {
                j.entry.mention_id: without_none(j.decision.to_doc())
                for j in outcome["judged"].judged
            }
            await self._repo.set_decisions(
                {
                    str(d["_id"]): decisions[str(d["mention_id"])]
                    for d in outcome["active"]
                    if d.get("decision") != decisions[str(d["mention_id"])]
                }
            )
        return Certificate.from_doc(doc["certificate"]), drew

    async def certificate(self, contest_id: str, *, brand_ok: BrandFilter) -> Certificate:
        """The draw's certificate; ``contest.not_drawn`` before the draw."""
        doc = await self._load(contest_id, brand_ok)
        if not doc.get("certificate"):
            raise ContestConflictError(
                "contest.not_drawn",
                f"The contest is {doc['status']}: its certificate exists from the draw on.",
            )
        return Certificate.from_doc(doc["certificate"])

    # --- announcing ----------------------------------------------------------------------

    async def announce(self, contest_id: str, *, brand_ok: BrandFilter, actor: str) -> Document:
        """Create the draft post announcing the winners (once) and mark the contest announced."""
        doc = await self._load(contest_id, brand_ok)
        contest = Contest.from_doc(doc)
        if contest.status is ContestStatus.ANNOUNCED:
            return doc
        if contest.status is not ContestStatus.DRAWN:
            raise ContestConflictError(
                "contest.not_drawn",
                f"The contest is {contest.status.value}: winners are announced after the draw.",
            )
        if self._announce is None:
            raise ContestUnavailableError(
                "contest.announce_unavailable",
                "This publisher cannot create announcement posts (no content service is wired "
                "to contests); publish the winners from the certificate yourself.",
            )
        content_id = await self._announce(contest, Certificate.from_doc(doc["certificate"]), actor)

        async def decide(_: Document, current: Contest) -> _Write | None:
            if current.status is ContestStatus.ANNOUNCED:
                return None
            announced = current.announced()
            return _Write(
                {
                    "status": announced.status.value,
                    "announcement_id": content_id,
                    "announced_ms": epoch_ms(self._now()),
                    "announced_by": actor,
                }
            )

        doc, _ = await self._update(contest_id, decide, brand_ok=brand_ok)
        return doc

    # --- queries -------------------------------------------------------------------------

    async def get(self, contest_id: str, *, brand_ok: BrandFilter) -> Document:
        """One contest, if the caller may see its brand (never its sealed seed)."""
        return await self._load(contest_id, brand_ok)

    async def list(
        self,
        *,
        brand_id: str,
        status: ContestStatus | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """One page of the brand's contests, newest first (``CursorError`` for a foreign cursor)."""
        return await self._repo.page(
            brand_id, status=None if status is None else status.value, after=cursor, limit=limit
        )

    async def entries(
        self,
        contest_id: str,
        *,
        brand_ok: BrandFilter,
        decision: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """One page of a contest's entries with their decisions, in the order made."""
        await self._load(contest_id, brand_ok)
        return await self._repo.entries_page(
            contest_id, decision=decision, after=cursor, limit=limit
        )


def decision_codes() -> tuple[str, ...]:
    """Every decision code an entry can carry (``eligible``, the domain's reasons, withdrawn)."""
    return ("eligible", *(r.value for r in Ineligible), WITHDRAWN)
