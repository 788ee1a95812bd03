"""Content items: drafting, approval, the calendar, and publishing when their time comes.

Every command reads the item, decides with the domain (``domain.content``,
``domain.approvals``) and writes one conditional update on ``version`` that carries its
events (``smm.posts.v1``); a lost race is read and decided again. Scheduling arms the
durable timer ``publish|{content id}`` *before* the item is written, so a crash between
the two leaves a timer that finds nothing to do rather than a post that never fires.

When the timer fires (in whichever replica claims it) a scheduled item moves to
``publishing`` and one delivery per target account is created (``services.delivery``);
when every delivery has ended the item is ``published``, or ``failed`` if any failed
(the per-account outcomes are on the item, and a person can retry the failed ones).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from smm_publisher.adapters.accounts import AccountStore
from smm_publisher.adapters.content_repo import CalendarQuery, ContentRepository
from smm_publisher.domain import approvals
from smm_publisher.domain.approvals import ApprovalError, ApprovalState, ApprovalStatus, Workflow
from smm_publisher.domain.content import (
    EDITABLE_STATUSES,
    ContentError,
    ContentItem,
    ContentStatus,
    Schedule,
    duplicate,
    fingerprint,
    readiness,
    with_utm,
)
from smm_publisher.domain.csv_import import ImportResult, RowError, import_csv
from smm_publisher.services.delivery import DeliveryService, DeliveryState
from smm_shared.brand_store import BrandStore
from smm_shared.events import (
    ContentApproved,
    ContentCreated,
    ContentRejected,
    ContentScheduled,
    ContentSubmitted,
    ContentUnscheduled,
    Event,
)
from smm_shared.mongo import Document, epoch_ms, new_id
from smm_shared.timers import FiredTimer, TimerStore

logger = logging.getLogger(__name__)

PUBLISH_TIMER: Final = "content.publish"
SYSTEM: Final = "system:publisher"
MAX_RACES: Final = 5
#: A time this far in the past is refused when scheduling (a slip of the calendar); "publish
#: now" is its own command.
PAST_GRACE: Final = timedelta(seconds=60)
IMPORT_LIMIT: Final = 1_000


class ContentNotFoundError(LookupError):
    """No such item for this brand."""


class ConflictError(Exception):
    """The item changed since the caller read it (optimistic ``version``), or races went on."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the user id and their roles (strings, as the approval domain wants)."""

    user: str
    roles: frozenset[str]


def publish_timer_key(content_id: str) -> str:
    """The durable timer of an item's scheduled publication."""
    return f"publish|{content_id}"


def delivery_id(content_id: str, account_id: str) -> str:
    """The idempotency key of an item's post from one account."""
    return f"{content_id}:{account_id}"


Decide = Callable[[ContentItem, ApprovalState, Document], Awaitable["Change | None"]]


@dataclass(slots=True)
class Change:
    """What a command decided: the new item and approval, extra fields, events, timers."""

    item: ContentItem
    approval: ApprovalState
    events: list[Event]
    extra: dict[str, Any] | None = None
    #: Arm this publish time before writing (None: leave the timer alone).
    arm_at: datetime | None = None
    #: Cancel the publish timer after writing.
    disarm: bool = False


class ContentService:
    """Content commands, the calendar and the publish timer (module docstring)."""

    def __init__(
        self,
        *,
        repository: ContentRepository,
        workflows: BrandStore,
        accounts: AccountStore,
        timers: TimerStore,
        deliveries: DeliveryService,
        clock: Callable[[], datetime],
    ) -> None:
        self._repo = repository
        self.workflows = workflows
        self._accounts = accounts
        self._timers = timers
        self._deliveries = deliveries
        self._now = clock
        deliveries.on_settled = self.delivery_settled

    # --- reading -----------------------------------------------------------------------------

    async def get(self, brand_id: str, content_id: str) -> Document:
        """An item of the brand; ContentNotFoundError for a missing or other brand's item."""
        doc = await self._repo.get(content_id)
        if doc is None or doc["brand_id"] != brand_id:
            raise ContentNotFoundError(content_id)
        return doc

    async def calendar(self, query: CalendarQuery) -> list[Document]:
        """Items scheduled in a range, with filters."""
        return await self._repo.calendar(query)

    async def unscheduled(
        self, brand_id: str, statuses: Sequence[str], limit: int
    ) -> list[Document]:
        """Items in ``statuses`` (drafts, the approval queue) whatever their time."""
        return await self._repo.drafts(brand_id, statuses=statuses, limit=limit)

    async def deliveries(self, brand_id: str, content_id: str) -> list[Document]:
        """The item's deliveries (one per account) with their history."""
        await self.get(brand_id, content_id)
        return await self._repo.deliveries_of(content_id)

    # --- creating ---------------------------------------------------------------------------

    def _new_doc(self, item: ContentItem, actor: Actor, **extra: Any) -> Document:
        now_ms = epoch_ms(self._now())
        return {
            **self._item_fields(item),
            "approval": ApprovalState().to_doc(),
            "created_by": actor.user,
            "created_ms": now_ms,
            "updated_ms": now_ms,
            "deliveries": {},
            **extra,
        }

    @staticmethod
    def _item_fields(item: ContentItem) -> Document:
        doc = item.to_doc()
        doc["publish_at_ms"] = epoch_ms(item.schedule.at) if item.schedule else None
        doc["networks"] = sorted(v.network.value for v in item.variants)
        doc["fingerprint"] = fingerprint(item)
        return doc

    @staticmethod
    def _created(item: ContentItem, actor: Actor, source: str | None = None) -> ContentCreated:
        return ContentCreated(
            brand_id=item.brand_id,
            content_id=item.id,
            actor=actor.user,
            title=item.title[:300],
            networks=[v.network for v in item.variants],
            targets=sorted(item.targets),
            campaign_id=item.campaign_id,
            labels=sorted(item.labels),
            duplicated_from=source,
        )

    async def create(self, fields: Mapping[str, Any], actor: Actor) -> Document:
        """A new draft from API fields (ContentError when invalid)."""
        item = ContentItem.from_doc({**fields, "_id": new_id(), "status": "draft"})
        await self._check_targets(item)
        doc = self._new_doc(item, actor)
        await self._repo.insert(doc, [self._created(item, actor)])
        return {**doc, "version": 1}

    async def duplicate(self, brand_id: str, content_id: str, actor: Actor) -> Document:
        """A new draft with the same content, without a schedule."""
        source = ContentItem.from_doc(await self.get(brand_id, content_id))
        item = duplicate(source, new_id=new_id())
        doc = self._new_doc(item, actor, duplicated_from=source.id)
        await self._repo.insert(doc, [self._created(item, actor, source.id)])
        return {**doc, "version": 1}

    async def import_csv(
        self, brand_id: str, text: str, actor: Actor, *, partial: bool = False
    ) -> tuple[ImportResult, list[str]]:
        """Drafts from a CSV file; nothing is stored when a row is wrong unless ``partial``."""
        result = import_csv(text, brand_id=brand_id, new_id=new_id)
        if len(result.items) > IMPORT_LIMIT:
            raise ContentError(
                "csv.too_many", f"Import at most {IMPORT_LIMIT} items at once; split the file."
            )
        # Accounts are checked here (the domain does not know the brand's accounts); a
        # problem is the item's first row's, in the accounts column, like any other.
        good: list[ContentItem] = []
        good_rows: list[int] = []
        errors = list(result.errors)
        for item, row in zip(result.items, result.rows, strict=True):
            try:
                await self._check_targets(item)
            except ContentError as problem:
                errors.append(RowError(row, "accounts", problem.message))
            else:
                good.append(item)
                good_rows.append(row)
        errors.sort(key=lambda e: e.row)
        result = ImportResult(items=tuple(good), errors=tuple(errors), rows=tuple(good_rows))
        if errors and not partial:
            return result, []
        await self._repo.insert_many(
            [(self._new_doc(item, actor), [self._created(item, actor)]) for item in good]
        )
        return result, [item.id for item in good]

    async def _check_targets(self, item: ContentItem) -> None:
        """Every target is an account of the brand on a network the item has a variant for."""
        if not item.targets:
            return
        docs = {d["_id"]: d for d in await self._accounts.docs(item.brand_id)}
        networks = {v.network.value for v in item.variants}
        for target in sorted(item.targets):
            account = docs.get(target)
            if account is None:
                raise ContentError(
                    "content.unknown_account",
                    f"{target!r} is not a publishing account of this brand; connect it first.",
                )
            if account["network"] not in networks:
                raise ContentError(
                    "content.no_variant",
                    f"The item posts from {target!r} ({account['network']}) but has no "
                    f"{account['network']} variant; add one or remove the account.",
                )

    # --- commands -----------------------------------------------------------------------------

    async def _mutate(
        self,
        brand_id: str,
        content_id: str,
        decide: Decide,
        *,
        version: int | None = None,
        first: Document | None = None,
    ) -> Document:
        """Read, decide, write on the version read; retry on a lost race.

        ``version``: the version the caller saw; a newer one is a ConflictError (409).
        ``first``: the item as the caller just read it (saves the first read).
        """
        for _ in range(MAX_RACES):
            doc, first = first or await self.get(brand_id, content_id), None
            current = int(doc["version"])
            if version is not None and current != version:
                raise ConflictError(
                    f"The item changed since you opened it (version {version}, now {current}); "
                    "reload it."
                )
            item = ContentItem.from_doc(doc)
            approval = ApprovalState.from_doc(doc.get("approval") or {})
            change = await decide(item, approval, doc)
            if change is None:
                return doc
            if change.arm_at is not None:
                await self._arm(change.item, change.arm_at)
            fields = {
                **self._item_fields(change.item),
                "approval": change.approval.to_doc(),
                "updated_ms": epoch_ms(self._now()),
                **(change.extra or {}),
            }
            if await self._repo.update(
                content_id, version=current, fields=fields, events=change.events
            ):
                if change.disarm:
                    await self._timers.cancel(key=publish_timer_key(content_id))
                return {**doc, **fields, "version": current + 1}
            if version is not None:
                raise ConflictError("The item changed while saving; reload it.")
        raise ConflictError(f"content {content_id} changed {MAX_RACES} times in a row")

    async def _arm(self, item: ContentItem, at: datetime) -> None:
        await self._timers.schedule(
            key=publish_timer_key(item.id),
            due_at=at,
            kind=PUBLISH_TIMER,
            payload={"content_id": item.id, "due_ms": epoch_ms(at)},
            rearm=True,
        )

    async def update(
        self,
        brand_id: str,
        content_id: str,
        fields: Mapping[str, Any],
        actor: Actor,
        *,
        version: int,
    ) -> Document:
        """Replace the item's content; a content change after approval sends it back to draft."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            if item.status not in EDITABLE_STATUSES:
                raise ContentError(
                    "content.not_editable", f"A {item.status.value} item cannot be edited."
                )
            edited = ContentItem.from_doc(
                {**fields, "_id": item.id, "brand_id": item.brand_id, "status": item.status.value}
            )
            await self._check_targets(edited)
            now = self._now()
            old_fp, new_fp = fingerprint(item), fingerprint(edited)
            old_at = item.schedule.at if item.schedule else None
            new_at = edited.schedule.at if edited.schedule else None
            if new_at is not None and old_at != new_at:
                after = approvals.reschedule(
                    approval,
                    old_fp,
                    new_fp,
                    user=actor.user,
                    at=now,
                    old_time=old_at,
                    new_time=new_at,
                )
            else:
                after = approvals.on_edit(approval, old_fp, new_fp, user=actor.user, at=now)
            events: list[Event] = []
            change = Change(item=edited, approval=after, events=events)
            reset = (
                after.status is ApprovalStatus.DRAFT and approval.status is not ApprovalStatus.DRAFT
            )
            if item.status is ContentStatus.SCHEDULED:
                if reset or new_at is None:
                    status = ContentStatus.DRAFT if reset else ContentStatus.APPROVED
                    change.item = replace(edited, status=status)
                    change.disarm = True
                    why = "the content changed after approval" if reset else "the time was removed"
                    events.append(self._unscheduled(item, actor, why))
                elif new_at != old_at:
                    self._check_future(new_at)
                    change.arm_at = new_at
                    events.append(self._scheduled(edited, actor, previous=old_at))
            elif reset:
                change.item = replace(edited, status=ContentStatus.DRAFT)
            return change

        return await self._mutate(brand_id, content_id, decide, version=version)

    async def _workflow(self, item: ContentItem) -> Workflow | None:
        docs = await self.workflows.for_brand(item.brand_id)
        return approvals.select_workflow(
            [Workflow.from_doc(d) for d in docs], brand_id=item.brand_id, labels=item.labels
        )

    async def _workflow_by_id(self, item: ContentItem, workflow_id: str | None) -> Workflow:
        doc = await self.workflows.get(item.brand_id, workflow_id) if workflow_id else None
        if doc is None:
            raise ApprovalError(
                "approval.workflow_changed",
                "The workflow this item was submitted under is gone; submit it again.",
            )
        return Workflow.from_doc(doc)

    async def submit(self, brand_id: str, content_id: str, actor: Actor) -> Document:
        """Send for approval; without a workflow it is approved (and scheduled if timed)."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            if not item.targets:
                # The time may be chosen later; the accounts are part of what is approved.
                raise ContentError("content.not_ready", "Choose at least one account to post from.")
            workflow = await self._workflow(item)
            after = approvals.submit(
                approval, workflow, user=actor.user, roles=actor.roles, at=self._now()
            )
            workflow_id = workflow.id if workflow else None
            events: list[Event] = [
                ContentSubmitted(
                    brand_id=brand_id, content_id=item.id, actor=actor.user, workflow_id=workflow_id
                )
            ]
            moved = item.with_status(ContentStatus.SUBMITTED)
            if after.status is ApprovalStatus.APPROVED:  # no workflow applies
                moved = moved.with_status(ContentStatus.APPROVED)
            change = Change(item=moved, approval=after, events=events)
            if after.status is ApprovalStatus.APPROVED:
                events.append(
                    ContentApproved(brand_id=brand_id, content_id=item.id, actor=actor.user)
                )
                self._auto_schedule(change, actor)
            return change

        return await self._mutate(brand_id, content_id, decide)

    def _auto_schedule(self, change: Change, actor: Actor) -> None:
        """An approved item with a future time goes on the calendar."""
        item = change.item
        if item.schedule is None or item.schedule.at < self._now() - PAST_GRACE:
            return
        change.item = item.with_status(ContentStatus.SCHEDULED)
        change.arm_at = item.schedule.at
        change.events.append(self._scheduled(item, actor, previous=None))

    async def approve(self, brand_id: str, content_id: str, actor: Actor) -> Document:
        """Count the actor's approval; the last one approves (and schedules a timed item)."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            workflow = await self._workflow_by_id(item, approval.workflow_id)
            after = approvals.approve(
                approval, workflow, user=actor.user, roles=actor.roles, at=self._now()
            )
            change = Change(item=item, approval=after, events=[])
            if after.status is ApprovalStatus.APPROVED:
                change.item = item.with_status(ContentStatus.APPROVED)
                change.events.append(
                    ContentApproved(
                        brand_id=brand_id,
                        content_id=item.id,
                        actor=actor.user,
                        workflow_id=workflow.id,
                    )
                )
                self._auto_schedule(change, actor)
            return change

        return await self._mutate(brand_id, content_id, decide)

    async def reject(self, brand_id: str, content_id: str, actor: Actor, reason: str) -> Document:
        """Reject in the current step, with a reason."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            workflow = await self._workflow_by_id(item, approval.workflow_id)
            step = approval.step
            after = approvals.reject(
                approval,
                workflow,
                user=actor.user,
                roles=actor.roles,
                at=self._now(),
                reason=reason,
            )
            event = ContentRejected(
                brand_id=brand_id,
                content_id=item.id,
                actor=actor.user,
                workflow_id=workflow.id,
                step=step,
                reason=reason.strip()[:2000],
            )
            return Change(
                item=item.with_status(ContentStatus.REJECTED), approval=after, events=[event]
            )

        return await self._mutate(brand_id, content_id, decide)

    async def comment(self, brand_id: str, content_id: str, actor: Actor, text: str) -> Document:
        """A remark in the approval audit."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            after = approvals.comment(approval, user=actor.user, text=text, at=self._now())
            return Change(item=item, approval=after, events=[])

        return await self._mutate(brand_id, content_id, decide)

    def _check_future(self, at: datetime) -> None:
        if at < self._now() - PAST_GRACE:
            raise ContentError(
                "content.time_in_past",
                f"{at.isoformat()} has passed; choose a future time or publish now.",
            )

    async def schedule(
        self,
        brand_id: str,
        content_id: str,
        actor: Actor,
        *,
        at: datetime | None = None,
        time_zone: str | None = None,
        now: bool = False,
    ) -> Document:
        """Put an approved item on the calendar (or move it); ``now`` publishes at once.

        An item that needs no approval (no workflow applies) may be scheduled from draft;
        the audit records that no approval was required. Moving a scheduled item keeps its
        approval, since its content is unchanged.
        """

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            zone = time_zone or (item.schedule.time_zone if item.schedule else "UTC")
            if now:
                schedule = Schedule(self._now(), zone)
            elif at is not None:
                # A wall-clock time is read in the zone it is planned in.
                schedule = Schedule.from_local(at, zone)
            elif item.schedule is not None:
                schedule = item.schedule
            else:
                raise ContentError("content.not_ready", "Choose a time to publish.")
            if not now:
                self._check_future(schedule.at)
            timed = replace(item, schedule=schedule)
            ready = readiness(timed)
            if not ready:
                raise ContentError("content.not_ready", " ".join(ready.problems))
            await self._check_targets(timed)
            after = approval
            events: list[Event] = []
            if item.status is ContentStatus.DRAFT:
                workflow = await self._workflow(item)
                if workflow is not None:
                    raise ApprovalError(
                        "approval.required",
                        f"This item needs approval in workflow {workflow.name!r}; submit it.",
                    )
                after = approvals.submit(
                    approval, None, user=actor.user, roles=actor.roles, at=self._now()
                )
            elif item.status not in (
                ContentStatus.APPROVED,
                ContentStatus.SCHEDULED,
                ContentStatus.FAILED,
            ):
                raise ContentError(
                    "content.not_approved",
                    f"A {item.status.value} item cannot be scheduled; it needs approval first.",
                )
            previous = (
                item.schedule.at
                if item.status is ContentStatus.SCHEDULED and item.schedule
                else None
            )
            if item.status is ContentStatus.SCHEDULED and item.schedule is not None:
                after = approvals.reschedule(
                    after,
                    fingerprint(item),
                    fingerprint(timed),
                    user=actor.user,
                    at=self._now(),
                    old_time=item.schedule.at,
                    new_time=schedule.at,
                )
                scheduled = timed
            else:
                scheduled = timed.with_status(ContentStatus.SCHEDULED)
            events.append(self._scheduled(scheduled, actor, previous=previous))
            return Change(item=scheduled, approval=after, events=events, arm_at=schedule.at)

        return await self._mutate(brand_id, content_id, decide)

    async def unschedule(
        self, brand_id: str, content_id: str, actor: Actor, *, cancel: bool = False
    ) -> Document:
        """Take an item off the calendar (kept approved), or cancel it for good."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            target = ContentStatus.CANCELLED if cancel else ContentStatus.APPROVED
            if not cancel and item.status is not ContentStatus.SCHEDULED:
                raise ContentError(
                    "content.not_scheduled", f"A {item.status.value} item is not on the calendar."
                )
            moved = item.with_status(target)
            reason = "cancelled" if cancel else "taken off the calendar"
            return Change(
                item=moved,
                approval=approval,
                events=[self._unscheduled(item, actor, reason, cancelled=cancel)],
                disarm=True,
            )

        return await self._mutate(brand_id, content_id, decide)

    async def retry(self, brand_id: str, content_id: str, actor: Actor) -> Document:
        """Publish again from the accounts that failed; the published ones are left alone."""

        async def decide(item: ContentItem, approval: ApprovalState, doc: Document) -> Change:
            if item.status is not ContentStatus.FAILED:
                raise ContentError(
                    "content.not_failed", f"A {item.status.value} item has nothing to retry."
                )
            return Change(
                item=item.with_status(ContentStatus.PUBLISHING), approval=approval, events=[]
            )

        doc = await self._mutate(brand_id, content_id, decide)
        for delivery in await self._repo.deliveries_of(content_id):
            if delivery["state"] == DeliveryState.FAILED.value:
                await self._deliveries.retry(str(delivery["_id"]), actor=actor.user)
        return doc

    # --- events -------------------------------------------------------------------------------

    @staticmethod
    def _scheduled(
        item: ContentItem, actor: Actor, *, previous: datetime | None
    ) -> ContentScheduled:
        assert item.schedule is not None
        return ContentScheduled(
            brand_id=item.brand_id,
            content_id=item.id,
            actor=actor.user,
            publish_at=item.schedule.at,
            time_zone=item.schedule.time_zone,
            previous_publish_at=previous,
        )

    @staticmethod
    def _unscheduled(
        item: ContentItem, actor: Actor, reason: str, *, cancelled: bool = False
    ) -> ContentUnscheduled:
        return ContentUnscheduled(
            brand_id=item.brand_id,
            content_id=item.id,
            actor=actor.user,
            reason=reason,
            cancelled=cancelled,
        )

    # --- publishing -----------------------------------------------------------------------------

    async def on_timer(self, fired: FiredTimer) -> None:
        """The publish timer of an item came due: start its deliveries (idempotent)."""
        content_id = str(fired.payload["content_id"])
        due_ms = int(str(fired.payload["due_ms"]))
        doc = await self._repo.get(content_id)
        if doc is None or doc.get("publish_at_ms") != due_ms:
            return  # deleted, or moved: the timer of the new time fires instead
        if doc["status"] == ContentStatus.SCHEDULED.value:

            async def decide(
                item: ContentItem, approval: ApprovalState, current: Document
            ) -> Change | None:
                if (
                    item.status is not ContentStatus.SCHEDULED
                    or current.get("publish_at_ms") != due_ms
                ):
                    return None
                summary = {
                    account: {"state": DeliveryState.PENDING.value}
                    for account in sorted(item.targets)
                }
                return Change(
                    item=item.with_status(ContentStatus.PUBLISHING),
                    approval=approval,
                    events=[],
                    extra={"deliveries": summary, "publishing_ms": epoch_ms(self._now())},
                )

            doc = await self._mutate(str(doc["brand_id"]), content_id, decide, first=doc)
        if doc["status"] != ContentStatus.PUBLISHING.value or doc.get("publish_at_ms") != due_ms:
            return
        await self._start_deliveries(doc)

    async def _start_deliveries(self, doc: Document) -> None:
        item = ContentItem.from_doc(doc)
        accounts = {d["_id"]: d for d in await self._accounts.docs(item.brand_id)}
        for account_id in sorted(item.targets):
            account = accounts.get(account_id)
            network = account["network"] if account else None
            variant = next((v for v in item.variants if v.network.value == network), None)
            request: dict[str, Any] = {}
            if variant is not None:
                link = (
                    with_utm(variant.link, item.campaign_id, network=variant.network)
                    if variant.link
                    else None
                )
                posted = replace(variant, link=link)
                request = {
                    "text": posted.post_text(),
                    "media_urls": list(posted.media_urls),
                    "link": posted.link,
                    "title": posted.title,
                }
            spec: Document = {
                "_id": delivery_id(item.id, account_id),
                "kind": "post",
                "brand_id": item.brand_id,
                "content_id": item.id,
                "account_id": account_id,
                "network": network or (item.variants[0].network.value),
                "request": request,
            }
            await self._deliveries.enqueue(spec)

    async def delivery_settled(self, content_id: str) -> None:
        """A delivery of the item ended: record it; when all ended, the item's outcome."""
        doc = await self._repo.get(content_id)
        if doc is None:
            return

        async def decide(
            item: ContentItem, approval: ApprovalState, current: Document
        ) -> Change | None:
            deliveries = await self._repo.deliveries_of(content_id)
            if not deliveries:
                return None
            summary = {
                str(d["account_id"]): {
                    "state": d["state"],
                    "network": d["network"],
                    "native_id": d.get("native_id"),
                    "url": d.get("url"),
                    "error": d.get("error"),
                    "attempts": d.get("attempts", 0),
                    "next_attempt_ms": d.get("next_attempt_ms")
                    if d["state"] == DeliveryState.WAITING.value
                    else None,
                }
                for d in deliveries
            }
            done = len(deliveries) >= len(item.targets) and all(
                d["state"] in (DeliveryState.PUBLISHED.value, DeliveryState.FAILED.value)
                for d in deliveries
            )
            status = item.status
            if done and item.status is ContentStatus.PUBLISHING:
                failed = any(d["state"] == DeliveryState.FAILED.value for d in deliveries)
                status = ContentStatus.FAILED if failed else ContentStatus.PUBLISHED
            if summary == current.get("deliveries") and status is item.status:
                return None
            return Change(
                item=item.with_status(status) if status is not item.status else item,
                approval=approval,
                events=[],
                extra={"deliveries": summary},
            )

        await self._mutate(str(doc["brand_id"]), content_id, decide, first=doc)
