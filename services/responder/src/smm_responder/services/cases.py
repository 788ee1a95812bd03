"""Use cases of cases: mentions open and feed them; people and timers change them.

Every change follows one loop (``_mutate``): read the case, describe the change on a
``CaseEdit`` (domain rules decide), arm its timers, write it with a version check together
with its timeline entries and events (embedded outbox), then run its after-commit steps.
A lost race re-reads and decides again; nothing is half-applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smm_responder.adapters.agents_repo import AgentRepository
from smm_responder.adapters.cases_repo import (
    NO_DEADLINE_MS,
    CaseCursor,
    CaseQuery,
    CaseRepository,
)
from smm_responder.domain.assignment import (
    Agent,
    AssignmentError,
    Availability,
    CaseNeeds,
    CaseRef,
    RotationState,
    check_assign,
    check_claim,
    ineligibility,
    pick_agent,
)
from smm_responder.domain.cases import (
    ACTIVE_STATUSES,
    CaseStatus,
    InvalidTransitionError,
    MessageEffect,
    check_transition,
    on_customer_message,
    open_key,
)
from smm_responder.domain.escalation import Trigger, plan_escalation
from smm_responder.domain.replies import (
    ReplyError,
    ReplyState,
    check_reply,
    render_template,
    reply_id,
)
from smm_responder.domain.routing import (
    AssignmentStrategy,
    Priority,
    RoutingDecision,
    RoutingFacts,
    route,
)
from smm_responder.domain.sla import SlaMetric, SlaTarget
from smm_responder.services.edit import CaseEdit, TimerSpec
from smm_responder.services.settings import SettingsService
from smm_responder.services.sla import DEPARTMENT_POLICY, Fired, SlaService
from smm_shared.events import (
    CaseAssigned,
    CaseDepartmentAnswered,
    CaseEscalated,
    CaseHandedOff,
    CaseMentionAdded,
    CaseNoteAdded,
    CaseOpened,
    CasePriorityChanged,
    CaseReopened,
    CaseReplied,
    CaseReplyFailed,
    CaseReplyRequested,
    CaseResolved,
    CaseRouted,
    CaseStatusChanged,
    CaseTagsChanged,
    Mention,
    MentionDeleted,
    MentionReceived,
    MentionUpdated,
    Network,
    ReplyFailed,
    ReplyPublished,
    ReplyRequested,
    ReviewOutcome,
    new_ulid,
)
from smm_shared.mongo import Document, OutboxRelay, epoch_ms, from_epoch_ms
from smm_shared.timers import FiredTimer, TimerStore

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
ROUTING = "system:routing"
SLA_ACTOR = "system:sla"
ESCALATION = "system:escalation"
CUSTOMER = "customer"
REVIEW_TIMER = "review"
CLOSE_TIMER = "autoclose"

#: Whether the caller may see a brand.
BrandFilter = Callable[[str], bool]
Decide = Callable[[CaseEdit], Awaitable[None]]


class ConcurrentUpdateError(RuntimeError):
    """The case kept changing under us; the message will be retried."""


class CaseNotFoundError(LookupError):
    """No case with that id in a brand the caller may see."""


class CommandError(ValueError):
    """A command cannot be carried out; ``status`` and ``code`` are for the API."""

    def __init__(self, code: str, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user (``user:<id>``) or the system; managers may override and approve."""

    ref: str
    user_id: str | None = None
    is_manager: bool = False
    name: str | None = None

    @classmethod
    def user(cls, user_id: str, *, is_manager: bool, name: str | None = None) -> Actor:
        """A person."""
        return cls(ref=f"user:{user_id}", user_id=user_id, is_manager=is_manager, name=name)


def _facts(doc: Document) -> RoutingFacts:
    """The routing facts of a case: those of the mention that opened it."""
    m = doc.get("facts") or {}
    return RoutingFacts(
        network=Network(doc["network"]),
        kind=m.get("kind", "comment"),
        text=m.get("text", ""),
        language=m.get("language"),
        sentiment_label=m.get("sentiment_label", "unknown"),
        sentiment_score=m.get("sentiment_score"),
        author_followers=m.get("author_followers"),
        author_verified=m.get("author_verified"),
        on_own_post=bool(m.get("on_own_post", False)),
        keyword_labels=frozenset(m.get("keywords") or ()),
        topics=frozenset(m.get("topics") or ()),
        priority_hint=Priority(m.get("priority_hint", "normal")),
    )


def _facts_doc(mention: Mention) -> Document:
    return {
        "kind": mention.kind.value,
        "text": mention.text[:4000],
        "language": mention.language,
        "sentiment_label": mention.sentiment.label,
        "sentiment_score": mention.sentiment.score,
        "author_followers": mention.author.followers,
        "author_verified": mention.author.verified,
        "on_own_post": mention.on_own_post,
        "keywords": list(mention.keywords),
        "topics": list(mention.topics),
        "priority_hint": mention.priority_hint,
    }


def _agent(doc: Document) -> Agent:
    return Agent(
        id=doc["user_id"],
        brand_ids=frozenset({doc["brand_id"]}),
        departments=frozenset(doc.get("departments") or ()),
        languages=frozenset(doc.get("languages") or ()),
        networks=frozenset(Network(n) for n in doc.get("networks") or ()),
        capacity=int(doc["capacity"]),
        availability=doc.get("availability", "offline"),
        active_cases=max(0, int(doc.get("active_cases", 0))),
        last_assigned_at=from_epoch_ms(doc["last_assigned_ms"])
        if doc.get("last_assigned_ms")
        else None,
    )


def _needs(doc: Document) -> CaseNeeds:
    needs = doc.get("needs") or {}
    network = needs.get("network")
    return CaseNeeds(
        brand_id=doc["brand_id"],
        department=doc.get("department"),
        language=needs.get("language"),
        network=None if network is None else Network(network),
    )


class CaseService:
    """Cases: opened by mentions, changed by people, SLA timers and the publisher's answers."""

    def __init__(
        self,
        *,
        repository: CaseRepository,
        relay: OutboxRelay,
        settings: SettingsService,
        agents: AgentRepository,
        timers: TimerStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._repo = repository
        self._relay = relay
        self._settings = settings
        self._agents = agents
        self._timers = timers
        self._sla = SlaService(settings=settings)
        self._now = clock

    # --- the change loop -----------------------------------------------------------------

    async def _commit(self, edit: CaseEdit, *, version: int | None) -> bool:
        """Arm the timers, then write (insert when ``version`` is None); run after-steps."""
        edit.finish()
        await asyncio.gather(
            *(
                self._timers.schedule(key=t.key, due_at=t.due_at, kind=t.kind, payload=t.payload)
                for t in edit.timers
            )
        )
        if version is None:
            doc = dict(edit.doc)
            doc["timeline"] = list(edit.change.timeline)
            ok = await self._repo.insert(doc, edit.change.events)
        else:
            ok = await self._repo.apply(edit.case_id, version, edit.change)
        if ok:
            await self._repo.count_change(edit.brand_id, edit.count_delta())
        for hook in edit.on_commit if ok else edit.on_abort:
            await hook()
        if ok and edit.change.events:
            self._relay.notify()
        return ok

    async def _mutate(
        self,
        case_id: str,
        decide: Decide,
        *,
        actor: str,
        brand_ok: BrandFilter | None = None,
    ) -> Document:
        """Read, decide, write with a version check; repeat on a lost race."""
        for _ in range(MAX_ATTEMPTS):
            doc = await self._repo.get(case_id, projection={"outbox": 0, "timeline": 0})
            if doc is None or (brand_ok is not None and not brand_ok(doc["brand_id"])):
                raise CaseNotFoundError(case_id)
            version = int(doc["version"])
            edit = CaseEdit(doc, now=self._now(), actor=actor)
            await decide(edit)
            if not edit.change:
                return edit.doc
            if await self._commit(edit, version=version):
                edit.doc["version"] = version + 1
                return edit.doc
        raise ConcurrentUpdateError(f"case {case_id} changed {MAX_ATTEMPTS} times in a row")

    # --- mentions ------------------------------------------------------------------------

    async def record_mention(self, event: MentionReceived) -> str | None:
        """Open a case for the mention's conversation, or add it to the case owning it.

        Returns the case id, or None when the mention was already recorded (a replay).
        """
        brand, mention = event.brand_id, event.mention
        key = open_key(brand, mention.conversation_key)
        config = await self._settings.config(brand)
        for _ in range(MAX_ATTEMPTS):
            holder, case = await asyncio.gather(
                self._repo.holding_mention(brand, mention.mention_id), self._repo.owning(key)
            )
            if holder is not None:
                return None
            if case is not None and mention.mention_id in case["mention_ids"]:
                # Written before a crash kept the link from being stored: still a replay.
                await self._repo.link_mention(brand, mention.mention_id, case["_id"])
                return None
            now = self._now()
            if case is None:
                case_id = await self._open_case(event, key, now)
                if case_id is not None:
                    await self._repo.link_mention(brand, mention.mention_id, case_id)
                    await self._auto_assign(case_id)
                    return case_id
                continue
            effect = on_customer_message(
                CaseStatus(case["status"]),
                resolved_at_ms=case.get("resolved_ms"),
                now_ms=epoch_ms(now),
                policy=config.reopen,
            )
            edit = CaseEdit(case, now=now, actor=CUSTOMER)
            if effect is MessageEffect.NEW_CASE:
                await self._close(edit, reason="a new message after the reopen window")
                if await self._commit(edit, version=int(case["version"])):
                    continue  # the conversation is free: open a new case next round
                continue
            await self._add_mention(edit, mention, effect)
            if await self._commit(edit, version=int(case["version"])):
                await self._repo.link_mention(brand, mention.mention_id, edit.case_id)
                if effect is MessageEffect.REOPEN and edit.get("assignee_id") is None:
                    await self._auto_assign(edit.case_id)
                return edit.case_id
        raise ConcurrentUpdateError(f"case for {key} changed {MAX_ATTEMPTS} times in a row")

    async def _open_case(self, event: MentionReceived, key: str, now: datetime) -> str | None:
        brand, mention = event.brand_id, event.mention
        rules = await self._settings.rules(brand)
        decision = route(rules, RoutingFacts.from_mention(mention))
        case_id = new_ulid()
        doc: Document = {
            "_id": case_id,
            "brand_id": brand,
            "conversation_key": mention.conversation_key,
            "open_key": key,
            "network": mention.network.value,
            "kind": mention.kind.value,
            "status": CaseStatus.NEW.value,
            "priority": decision.priority.value,
            "tags": sorted(decision.tags),
            "mention_ids": [mention.mention_id],
            "mention_count": 1,
            "first_mention_at": mention.created_at,
            "last_mention_ms": epoch_ms(mention.created_at),
            "opened_at": now,
            "opened_ms": epoch_ms(now),
            "last_activity_ms": epoch_ms(now),
            "author": mention.author.model_dump(mode="json", exclude_none=True),
            "preview": mention.text[:280],
            "language": mention.language,
            "sentiment": mention.sentiment.model_dump(mode="json", exclude_none=True),
            "facts": _facts_doc(mention),
            "reply_target": self._reply_target(mention),
            "routing": {"rule_id": decision.rule_id, "rule_name": decision.rule_name},
            "assignment_strategy": decision.assignment.value,
            "needs": {
                "language": decision.required_language,
                "network": None
                if decision.required_network is None
                else decision.required_network.value,
            },
            "next_due_ms": NO_DEADLINE_MS,
            "sla_state": "none",
            "replied": False,
            "version": 1,
        }
        if decision.department is not None:
            doc["department"] = decision.department
        edit = CaseEdit(doc, now=now, actor=CUSTOMER)
        edit.counted_before = None  # a new case: nothing counted yet
        edit.emit(
            CaseOpened(
                brand_id=brand,
                case_id=case_id,
                conversation_key=mention.conversation_key,
                network=mention.network,
                mention_id=mention.mention_id,
            )
        )
        self._emit_routed(edit, decision, previous_department=None, actor=ROUTING)
        policy = await self._settings.policy_for(
            brand, rule_policy=decision.sla_policy_id, department=decision.department
        )
        await self._sla.apply(
            edit,
            policy,
            [SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION, SlaMetric.TIME_TO_ASSIGNMENT],
        )
        return case_id if await self._commit(edit, version=None) else None

    @staticmethod
    def _reply_target(mention: Mention) -> Document:
        """What our reply answers: the customer's latest mention."""
        return {
            "mention_id": mention.mention_id,
            "native_id": mention.native_id,
            "thread_native_id": mention.thread_native_id,
            "author_id": mention.author.id,
        }

    def _emit_routed(
        self,
        edit: CaseEdit,
        decision: RoutingDecision,
        *,
        previous_department: str | None,
        actor: str,
    ) -> None:
        edit.emit(
            CaseRouted(
                **edit.ids(),
                actor=actor,
                reason=decision.reason,
                department=decision.department,
                previous_department=previous_department,
                priority=decision.priority.value,
                tags=tuple(sorted(decision.tags)),
                sla_policy_id=decision.sla_policy_id,
                rule_id=decision.rule_id,
                rule_name=decision.rule_name,
            )
        )

    async def _add_mention(self, edit: CaseEdit, mention: Mention, effect: MessageEffect) -> None:
        """A customer's further message: join, answer a pending case, or reopen."""
        edit.change.push["mention_ids"] = mention.mention_id
        edit.change.inc["mention_count"] = 1
        count = int(edit.doc.get("mention_count", 1)) + 1
        edit.doc["mention_count"] = count
        edit.set(
            "last_mention_ms", max(epoch_ms(mention.created_at), edit.get("last_mention_ms", 0))
        )
        edit.set("reply_target", self._reply_target(mention))
        edit.set("preview", mention.text[:280])
        edit.emit(
            CaseMentionAdded(
                brand_id=edit.brand_id,
                case_id=edit.case_id,
                conversation_key=mention.conversation_key,
                mention_id=mention.mention_id,
                mention_count=count,
            )
        )
        if effect is MessageEffect.BACK_TO_OPEN:
            self._status(edit, CaseStatus.OPEN, reason="the customer answered")
            await self._sla.resume_all(edit)
        elif effect is MessageEffect.REOPEN:
            self._status(edit, CaseStatus.OPEN, reason="the customer wrote again")
            edit.emit(
                CaseReopened(
                    **edit.ids(),
                    actor=CUSTOMER,
                    reason="a new message within the reopen window",
                )
            )
            edit.unset("resolved_ms")
            edit.unset("review")
            policy = await self._sla.policy(edit)
            await self._sla.apply(edit, policy, [SlaMetric.RESOLUTION])
        if edit.get("replied"):
            # We answered before: the customer now waits for our next response.
            policy = await self._sla.policy(edit)
            await self._sla.apply(edit, policy, [SlaMetric.NEXT_RESPONSE])

    async def mention_changed(self, event: MentionUpdated | MentionDeleted) -> None:
        """An edit or deletion of a followed negative review decides its outcome."""
        mention_id = (
            event.mention.mention_id if isinstance(event, MentionUpdated) else event.mention_id
        )
        holder = await self._repo.holding_mention(event.brand_id, mention_id)
        if holder is None or (holder.get("review") or {}).get("mention_id") != mention_id:
            return
        if (holder.get("review") or {}).get("outcome"):
            return

        async def decide(edit: CaseEdit) -> None:
            review = edit.get("review") or {}
            if review.get("outcome") or review.get("mention_id") != mention_id:
                return
            before = review.get("score_before")
            if isinstance(event, MentionDeleted):
                self._review_outcome(edit, "deleted", before, None)
                return
            after = event.mention.sentiment.score
            label = event.mention.sentiment.label
            if after is None:
                return
            if label != "negative" and (before is None or after > before):
                self._review_outcome(edit, "improved", before, after)
            elif before is not None and after < before:
                edit.set("review.latest_score", after)

        await self._mutate(holder["_id"], decide, actor=CUSTOMER)

    def _review_outcome(
        self, edit: CaseEdit, outcome: str, before: float | None, after: float | None
    ) -> None:
        review = edit.get("review") or {}
        edit.set("review.outcome", outcome)
        edit.set("review.decided_ms", edit.now_ms)
        edit.unset("review.watch_until_ms")
        edit.emit(
            ReviewOutcome(
                **edit.ids(),
                mention_id=review["mention_id"],
                outcome=outcome,
                sentiment_before=before,
                sentiment_after=after,
            ),
            actor="system:review",
        )

    # --- assignment ----------------------------------------------------------------------

    async def _auto_assign(self, case_id: str) -> None:
        """Give a new (or reopened) case an agent by its rule's strategy, if anyone is free."""
        try:
            await self._assign_by_strategy(case_id, exclude=None, actor=ROUTING)
        except (ConcurrentUpdateError, CaseNotFoundError):
            logger.warning("case %s not assigned automatically", case_id, exc_info=True)

    async def _assign_by_strategy(
        self, case_id: str, *, exclude: str | None, actor: str
    ) -> Document | None:
        doc = await self._repo.get(case_id, projection={"outbox": 0, "timeline": 0})
        if doc is None or CaseStatus(doc["status"]) not in ACTIVE_STATUSES:
            return None
        strategy = AssignmentStrategy(doc.get("assignment_strategy", "round_robin"))
        if strategy is AssignmentStrategy.MANUAL:
            return None
        brand = doc["brand_id"]
        needs = _needs(doc)
        queue = needs.department or ""
        for _ in range(MAX_ATTEMPTS):
            agents = [
                _agent(a) for a in await self._agents.for_brand(brand) if a["user_id"] != exclude
            ]
            last = await self._agents.pointer(brand, queue)
            state = RotationState({} if last is None else {(brand, queue): last})
            choice = pick_agent(agents, needs, strategy, state)
            if choice is None:
                return None
            if not await self._agents.take_slot(
                brand, choice.agent.id, now_ms=epoch_ms(self._now()), force=False
            ):
                continue  # someone else took the last slot: pick again
            await self._agents.move_pointer(brand, queue, choice.agent.id)
            try:
                return await self._set_assignee(
                    case_id,
                    choice.agent.id,
                    brand_id=brand,
                    actor=actor,
                    reason=choice.reason,
                    slot_taken=True,
                )
            except (CommandError, CaseNotFoundError):
                return None  # the slot went back in _set_assignee
        return None

    async def _set_assignee(
        self,
        case_id: str,
        assignee: str | None,
        *,
        brand_id: str,
        actor: str,
        reason: str,
        slot_taken: bool,
        brand_ok: BrandFilter | None = None,
        expect_unassigned: bool = False,
    ) -> Document:
        """Write the assignee; the new agent's slot is already taken, the previous one's returns."""
        previous: list[str | None] = [None]

        async def decide(edit: CaseEdit) -> None:
            current = edit.get("assignee_id")
            if CaseStatus(edit.doc["status"]) not in ACTIVE_STATUSES:
                raise CommandError("case.inactive", "The case is resolved or closed.")
            if expect_unassigned and current is not None:
                raise CommandError("case.already_assigned", f"The case is assigned to {current}.")
            if current == assignee:
                raise CommandError("case.already_assigned", f"The case is already {assignee}'s.")
            previous[0] = current
            await self._assignee_change(edit, assignee, reason=reason)

        try:
            doc = await self._mutate(case_id, decide, actor=actor, brand_ok=brand_ok)
        except BaseException:
            if slot_taken and assignee is not None:
                await self._agents.give_back_slot(brand_id, assignee)
            raise
        if previous[0] is not None:
            await self._agents.give_back_slot(doc["brand_id"], previous[0])
            await self.backfill(doc["brand_id"], previous[0])
        return doc

    async def backfill(self, brand_id: str, user_id: str, *, limit: int = 50) -> int:
        """An agent has room again (a case left them, or they came online): give them the
        waiting unassigned cases they may take, next deadline first, up to their capacity.
        Returns how many they got."""
        got = 0
        try:
            waiting, _ = await self._repo.page(
                CaseQuery(
                    brand_id=brand_id,
                    unassigned=True,
                    statuses=("new", "open", "pending_customer", "pending_department"),
                    sort="deadline",
                    limit=limit,
                )
            )
            for case in waiting:
                if case.get("assignment_strategy") == AssignmentStrategy.MANUAL.value:
                    continue
                profile = await self._agents.get(brand_id, user_id)
                if profile is None:
                    return got
                agent = _agent(profile)
                if not agent.has_room or agent.availability is not Availability.ONLINE:
                    return got
                if ineligibility(agent, _needs(case)) is not None:
                    continue
                if not await self._agents.take_slot(
                    brand_id, user_id, now_ms=epoch_ms(self._now()), force=False
                ):
                    return got
                try:
                    await self._set_assignee(
                        case["_id"],
                        user_id,
                        brand_id=brand_id,
                        actor=ROUTING,
                        reason="waiting case given to an agent with a free slot",
                        slot_taken=True,
                        expect_unassigned=True,
                    )
                    got += 1
                except (CommandError, CaseNotFoundError, ConcurrentUpdateError):
                    continue  # taken meanwhile; the slot went back
        except Exception:
            logger.warning("backfill for %s in %s failed", user_id, brand_id, exc_info=True)
        return got

    async def _assignee_change(self, edit: CaseEdit, assignee: str | None, *, reason: str) -> None:
        current = edit.get("assignee_id")
        if assignee is None:
            edit.unset("assignee_id")
        else:
            edit.set("assignee_id", assignee)
        edit.emit(
            CaseAssigned(
                **edit.ids(),
                actor=edit.actor,
                reason=reason,
                assignee_id=assignee,
                previous_assignee_id=current,
            )
        )
        if assignee is not None:
            await self._escalate(edit, await self._sla.meet(edit, SlaMetric.TIME_TO_ASSIGNMENT))
            if edit.doc["status"] == CaseStatus.NEW.value:
                self._status(edit, CaseStatus.OPEN, reason="assigned")

    async def assign(
        self, case_id: str, user_id: str | None, *, actor: Actor, brand_ok: BrandFilter, force: bool
    ) -> Document:
        """Assign (or unassign with None) by hand; capacity holds unless a manager forces it."""
        case = await self.get(case_id=case_id, brand_ok=brand_ok)
        brand = case["brand_id"]
        if user_id is None:
            return await self._set_assignee(
                case_id,
                None,
                brand_id=brand,
                actor=actor.ref,
                reason="unassigned",
                slot_taken=False,
                brand_ok=brand_ok,
            )
        profile = await self._agents.get(brand, user_id)
        if profile is None:
            raise CommandError(
                "agent.not_found", f"{user_id} is not an agent of {brand}.", status=404
            )
        ref = CaseRef(
            case_id=case_id,
            needs=_needs(case),
            assignee_id=case.get("assignee_id"),
            active=CaseStatus(case["status"]) in ACTIVE_STATUSES,
        )
        try:
            forced = check_assign(
                _agent(profile), ref, actor_can_override=actor.is_manager, force=force
            )
        except AssignmentError as exc:
            raise CommandError(exc.code, exc.message) from None
        now_ms = epoch_ms(self._now())
        if not await self._agents.take_slot(brand, user_id, now_ms=now_ms, force=forced):
            raise CommandError(
                "assignment.over_capacity",
                f"{user_id} has no free slot; a manager may assign anyway with force=true.",
            )
        reason = "assigned by hand" + (" over capacity" if forced else "")
        return await self._set_assignee(
            case_id,
            user_id,
            brand_id=brand,
            actor=actor.ref,
            reason=reason,
            slot_taken=True,
            brand_ok=brand_ok,
        )

    async def claim(self, case_id: str, *, actor: Actor, brand_ok: BrandFilter) -> Document:
        """An agent takes an unassigned case for themselves."""
        case = await self.get(case_id=case_id, brand_ok=brand_ok)
        brand = case["brand_id"]
        assert actor.user_id is not None
        profile = await self._agents.get(brand, actor.user_id)
        if profile is None:
            raise CommandError(
                "agent.not_found", "You have no agent profile in this brand.", status=403
            )
        ref = CaseRef(
            case_id=case_id,
            needs=_needs(case),
            assignee_id=case.get("assignee_id"),
            active=CaseStatus(case["status"]) in ACTIVE_STATUSES,
        )
        try:
            check_claim(_agent(profile), ref)
        except AssignmentError as exc:
            raise CommandError(exc.code, exc.message) from None
        if not await self._agents.take_slot(
            brand, actor.user_id, now_ms=epoch_ms(self._now()), force=False
        ):
            raise CommandError("assignment.over_capacity", "You have no free slot.")
        return await self._set_assignee(
            case_id,
            actor.user_id,
            brand_id=brand,
            actor=actor.ref,
            reason="claimed",
            slot_taken=True,
            brand_ok=brand_ok,
            expect_unassigned=True,
        )

    # --- status --------------------------------------------------------------------------

    def _status(self, edit: CaseEdit, target: CaseStatus, *, reason: str) -> None:
        current = CaseStatus(edit.doc["status"])
        check_transition(current, target)
        edit.set("status", target.value)
        edit.emit(
            CaseStatusChanged(
                **edit.ids(),
                actor=edit.actor,
                reason=reason,
                previous=current.value,
                current=target.value,
            )
        )
        if target not in ACTIVE_STATUSES and current in ACTIVE_STATUSES:
            assignee = edit.get("assignee_id")
            if assignee is not None:
                brand = edit.brand_id

                async def give_back() -> None:
                    await self._agents.give_back_slot(brand, assignee)
                    await self.backfill(brand, assignee)

                edit.on_commit.append(give_back)

    async def _close(self, edit: CaseEdit, *, reason: str) -> None:
        self._status(edit, CaseStatus.CLOSED, reason=reason)
        edit.unset("open_key")
        edit.set("closed_ms", edit.now_ms)
        await self._sla.cancel_all(edit, reason="closed")

    async def _resolve(self, edit: CaseEdit, *, reason: str) -> None:
        self._status(edit, CaseStatus.RESOLVED, reason=reason)
        edit.set("resolved_ms", edit.now_ms)
        await self._escalate(edit, await self._sla.meet(edit, SlaMetric.RESOLUTION))
        await self._sla.cancel_all(edit, reason="resolved")
        opened = int(edit.doc.get("opened_ms") or edit.doc["last_activity_ms"])
        edit.emit(
            CaseResolved(
                **edit.ids(),
                actor=edit.actor,
                reason=reason,
                resolution_s=max(0, edit.now_ms - opened) / 1000,
                assignee_id=edit.get("assignee_id"),
                department=edit.get("department"),
                network=edit.get("network"),
            )
        )
        config = await self._settings.config(edit.brand_id)
        closes_at = edit.now + timedelta(milliseconds=config.reopen.window_ms)
        edit.arm(
            TimerSpec(
                key=f"autoclose|{edit.case_id}|{edit.now_ms}",
                kind=CLOSE_TIMER,
                due_at=closes_at,
                payload={"case_id": edit.case_id, "due_ms": edit.now_ms},
            )
        )
        facts = edit.get("facts") or {}
        score = facts.get("sentiment_score")
        negative = (
            facts.get("sentiment_label") == "negative"
            or (score is not None and score < config.review.threshold)
            or facts.get("kind") == "review"
        )
        if config.review.enabled and negative and edit.get("review.outcome") is None:
            until = edit.now + timedelta(days=config.review.days)
            edit.set(
                "review",
                {
                    "mention_id": edit.doc["mention_ids"][0],
                    "score_before": score,
                    "watch_until_ms": epoch_ms(until),
                },
            )
            edit.timeline(
                "review.watching", reason=f"negative review followed for {config.review.days} days"
            )
            edit.arm(
                TimerSpec(
                    key=f"review|{edit.case_id}|{epoch_ms(until)}",
                    kind=REVIEW_TIMER,
                    due_at=until,
                    payload={"case_id": edit.case_id, "due_ms": epoch_ms(until)},
                )
            )

    async def set_status(
        self, case_id: str, target: CaseStatus, *, actor: Actor, reason: str, brand_ok: BrandFilter
    ) -> Document:
        """Move a case by hand: open, pending customer, resolved or closed."""

        async def decide(edit: CaseEdit) -> None:
            current = CaseStatus(edit.doc["status"])
            if current is target:
                raise CommandError("case.same_status", f"The case is already {target.value}.")
            try:
                if target is CaseStatus.RESOLVED:
                    await self._resolve(edit, reason=reason or "resolved")
                elif target is CaseStatus.CLOSED:
                    await self._close(edit, reason=reason or "closed")
                elif target is CaseStatus.PENDING_CUSTOMER:
                    self._status(edit, target, reason=reason or "waiting for the customer")
                    await self._sla.pause_all(edit, only_if_policy_says=True)
                elif current is CaseStatus.RESOLVED:
                    self._status(edit, target, reason=reason or "reopened")
                    edit.emit(
                        CaseReopened(
                            **edit.ids(),
                            actor=actor.ref,
                            reason=reason or "reopened by hand",
                        )
                    )
                    edit.unset("resolved_ms")
                    policy = await self._sla.policy(edit)
                    await self._sla.apply(edit, policy, [SlaMetric.RESOLUTION])
                else:
                    self._status(edit, target, reason=reason or "opened")
                    await self._sla.resume_all(edit)
            except InvalidTransitionError as exc:
                raise CommandError("case.invalid_transition", str(exc)) from None

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    async def set_priority(
        self, case_id: str, priority: Priority, *, actor: Actor, reason: str, brand_ok: BrandFilter
    ) -> Document:
        """Change a case's priority."""

        async def decide(edit: CaseEdit) -> None:
            self._priority(edit, priority, reason=reason)

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    def _priority(self, edit: CaseEdit, priority: Priority, *, reason: str) -> None:
        previous = edit.doc["priority"]
        if previous == priority.value:
            return
        edit.set("priority", priority.value)
        edit.emit(
            CasePriorityChanged(
                **edit.ids(),
                actor=edit.actor,
                reason=reason,
                previous=previous,
                current=priority.value,
            )
        )

    async def change_tags(
        self,
        case_id: str,
        *,
        add: Sequence[str],
        remove: Sequence[str],
        actor: Actor,
        brand_ok: BrandFilter,
    ) -> Document:
        """Add and remove tags."""

        async def decide(edit: CaseEdit) -> None:
            tags = set(edit.doc.get("tags") or ())
            added = sorted(set(add) - tags)
            removed = sorted(tags & set(remove))
            if not added and not removed:
                return
            new = sorted((tags | set(added)) - set(removed))
            edit.set("tags", new)
            edit.emit(
                CaseTagsChanged(
                    **edit.ids(),
                    actor=actor.ref,
                    added=tuple(added),
                    removed=tuple(removed),
                    tags=tuple(new),
                )
            )

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    async def add_note(
        self, case_id: str, text: str, *, actor: Actor, brand_ok: BrandFilter
    ) -> Document:
        """An internal note: in the timeline, never sent to the customer."""

        async def decide(edit: CaseEdit) -> None:
            note_id = new_ulid()
            edit.emit(
                CaseNoteAdded(
                    **edit.ids(),
                    actor=actor.ref,
                    note_id=note_id,
                ),
                text=text,
            )

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    # --- routing -------------------------------------------------------------------------

    async def route_to(
        self,
        case_id: str,
        department: str,
        *,
        actor: Actor | None,
        reason: str,
        brand_ok: BrandFilter | None,
    ) -> Document:
        """Move a case to another department; its SLA is re-bound to that department's policy."""
        ref = actor.ref if actor else ESCALATION

        async def decide(edit: CaseEdit) -> None:
            await self._move_department(edit, department, reason=reason, actor=ref)

        doc = await self._mutate(case_id, decide, actor=ref, brand_ok=brand_ok)
        return doc

    async def _move_department(
        self, edit: CaseEdit, department: str, *, reason: str, actor: str
    ) -> None:
        if await self._settings.department(edit.brand_id, department) is None:
            raise CommandError(
                "department.not_found", f"No department {department} in this brand.", status=404
            )
        previous = edit.get("department")
        if previous == department:
            return
        edit.set("department", department)
        edit.emit(
            CaseRouted(
                **edit.ids(),
                actor=actor,
                reason=reason,
                department=department,
                previous_department=previous,
                priority=edit.doc["priority"],
                tags=tuple(edit.doc.get("tags") or ()),
                sla_policy_id=edit.get("sla_policy_id"),
            )
        )
        policy = await self._settings.policy_for(
            edit.brand_id, rule_policy=None, department=department
        )
        await self._escalate(
            edit, await self._sla.rebind(edit, policy, reason=f"moved to {department}: {reason}")
        )

    async def reroute(self, case_id: str, *, actor: Actor, brand_ok: BrandFilter) -> Document:
        """Evaluate the routing rules again (after they changed) and apply the decision."""

        async def decide(edit: CaseEdit) -> None:
            rules = await self._settings.rules(edit.brand_id)
            decision = route(rules, _facts(edit.doc))
            previous = edit.get("department")
            if decision.department is not None and decision.department != previous:
                edit.set("department", decision.department)
            edit.set("priority", decision.priority.value)
            edit.set("tags", sorted(set(edit.doc.get("tags") or ()) | set(decision.tags)))
            edit.set("routing", {"rule_id": decision.rule_id, "rule_name": decision.rule_name})
            edit.set("assignment_strategy", decision.assignment.value)
            self._emit_routed(edit, decision, previous_department=previous, actor=actor.ref)
            policy = await self._settings.policy_for(
                edit.brand_id, rule_policy=decision.sla_policy_id, department=decision.department
            )
            await self._escalate(edit, await self._sla.rebind(edit, policy, reason="re-routed"))

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    # --- replies -------------------------------------------------------------------------

    async def reply(
        self,
        case_id: str,
        *,
        text: str | None,
        canned_response_id: str | None,
        idempotency_key: str,
        then: CaseStatus,
        automatic: bool,
        actor: Actor,
        agent_requires_approval: bool,
        brand_ok: BrandFilter,
    ) -> tuple[Document, str, bool]:
        """Send (or hold for approval) a reply; returns the case, the reply id, and whether new."""
        rid = reply_id(case_id, idempotency_key)
        created = [False]

        async def decide(edit: CaseEdit) -> None:
            if edit.get(f"replies.{rid}") is not None:
                return  # the same click again: nothing new
            body = await self._reply_text(edit, text, canned_response_id, actor)
            try:
                body = check_reply(Network(edit.doc["network"]), body)
            except ReplyError as exc:
                raise CommandError(exc.code, exc.message, status=422) from None
            status = CaseStatus(edit.doc["status"])
            if status is CaseStatus.CLOSED:
                raise CommandError(
                    "case.closed",
                    "The case is closed; the customer's next message opens a new one.",
                )
            config = await self._settings.config(edit.brand_id)
            held = not automatic and config.approval.needs_approval(
                agent_requires=agent_requires_approval,
                priority=edit.doc["priority"],
                tags=frozenset(edit.doc.get("tags") or ()),
                department=edit.get("department"),
                sender_is_manager=actor.is_manager,
            )
            created[0] = True
            record: Document = {
                "text": body,
                "by": actor.ref,
                "automatic": automatic,
                "then": then.value,
                "created_ms": edit.now_ms,
                "target": edit.get("reply_target"),
            }
            if held:
                record["state"] = ReplyState.PENDING_APPROVAL.value
                edit.set(f"replies.{rid}", record)
                edit.timeline("reply.pending_approval", reply_id=rid, text=body)
                return
            edit.set(f"replies.{rid}", record)
            await self._send_reply(edit, rid, record, actor=actor.ref)

        doc = await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)
        return doc, rid, created[0]

    async def _reply_text(
        self, edit: CaseEdit, text: str | None, canned_id: str | None, actor: Actor
    ) -> str:
        if canned_id is None:
            return text or ""
        canned = await self._settings.canned_responses.get(edit.brand_id, canned_id)
        if canned is None:
            raise CommandError("canned.not_found", f"No canned response {canned_id}.", status=404)
        author = edit.doc.get("author") or {}
        handle = author.get("handle")
        answers = [h for h in (edit.get("handoffs") or {}).values() if h.get("answer")]
        answers.sort(key=lambda h: h.get("answered_ms", 0))
        config = await self._settings.config(edit.brand_id)
        values = {
            "author_name": author.get("display_name") or handle or "",
            "author_handle": f"@{handle}" if handle else "",
            "agent_name": actor.name or actor.user_id or "",
            "case_id": edit.case_id,
            "brand": config.brand_name or edit.brand_id,
            "department_answer": answers[-1]["answer"] if answers else "",
        }
        try:
            return render_template(str(canned["text"]), values)
        except ReplyError as exc:
            raise CommandError(exc.code, exc.message, status=422) from None

    async def _send_reply(self, edit: CaseEdit, rid: str, record: Document, *, actor: str) -> None:
        """The reply leaves for the publisher; a human reply meets the response clocks."""
        target = record.get("target") or edit.get("reply_target")
        edit.set(f"replies.{rid}.state", ReplyState.REQUESTED.value)
        edit.set(f"replies.{rid}.requested_ms", edit.now_ms)
        automatic = bool(record.get("automatic"))
        edit.emit(
            CaseReplyRequested(
                **edit.ids(),
                actor=str(record["by"]),
                reply_id=rid,
                automatic=automatic,
            ),
            text=record["text"],
        )
        edit.change.events.append(
            ReplyRequested(
                brand_id=edit.brand_id,
                reply_id=rid,
                case_id=edit.case_id,
                network=Network(edit.doc["network"]),
                conversation_key=edit.doc["conversation_key"],
                in_reply_to_mention_id=target["mention_id"],
                in_reply_to_native_id=target["native_id"],
                thread_native_id=target.get("thread_native_id"),
                author_id=target.get("author_id"),
                text=record["text"],
                requested_by=str(record["by"]),
            )
        )
        if automatic:
            return  # an acknowledgement does not count as an answer
        edit.set("replied", True)
        await self._escalate(
            edit, await self._sla.meet(edit, SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE)
        )
        then = CaseStatus(record.get("then") or CaseStatus.PENDING_CUSTOMER.value)
        current = CaseStatus(edit.doc["status"])
        if current is CaseStatus.NEW and then is not CaseStatus.OPEN:
            self._status(edit, CaseStatus.OPEN, reason="answered")
            current = CaseStatus.OPEN
        if then is current:
            return
        if then is CaseStatus.RESOLVED:
            await self._resolve(edit, reason="answered and resolved")
        elif then is CaseStatus.PENDING_CUSTOMER and current is not CaseStatus.RESOLVED:
            self._status(edit, then, reason="answered; waiting for the customer")
            await self._sla.pause_all(edit, only_if_policy_says=True)
        elif then is CaseStatus.OPEN and current is CaseStatus.NEW:
            self._status(edit, then, reason="answered")

    async def decide_reply(
        self,
        case_id: str,
        rid: str,
        *,
        approve: bool,
        reason: str,
        actor: Actor,
        brand_ok: BrandFilter,
    ) -> Document:
        """A manager approves (sends) or rejects a reply waiting for approval."""

        async def decide(edit: CaseEdit) -> None:
            record = edit.get(f"replies.{rid}")
            if record is None:
                raise CommandError("reply.not_found", f"No reply {rid} on this case.", status=404)
            if record.get("state") != ReplyState.PENDING_APPROVAL.value:
                raise CommandError("reply.not_pending", f"The reply is {record.get('state')}.")
            edit.set(f"replies.{rid}.decided_by", actor.ref)
            if approve:
                edit.timeline("reply.approved", reply_id=rid, reason=reason)
                await self._send_reply(edit, rid, record, actor=actor.ref)
            else:
                edit.set(f"replies.{rid}.state", ReplyState.REJECTED.value)
                edit.set(f"replies.{rid}.rejection", reason)
                edit.timeline("reply.rejected", reply_id=rid, reason=reason)

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    async def reply_outcome(self, event: ReplyPublished | ReplyFailed) -> None:
        """The publisher's answer about a reply; a replay changes nothing."""

        async def decide(edit: CaseEdit) -> None:
            record = edit.get(f"replies.{event.reply_id}")
            if record is None or record.get("state") in (
                ReplyState.PUBLISHED.value,
                ReplyState.FAILED.value,
            ):
                return
            common = {
                "brand_id": edit.brand_id,
                "case_id": edit.case_id,
                "conversation_key": edit.doc["conversation_key"],
                "reply_id": event.reply_id,
            }
            if isinstance(event, ReplyPublished):
                edit.set(f"replies.{event.reply_id}.state", ReplyState.PUBLISHED.value)
                edit.set(f"replies.{event.reply_id}.native_id", event.native_id)
                if event.url:
                    edit.set(f"replies.{event.reply_id}.url", event.url)
                edit.emit(CaseReplied(**common, native_id=event.native_id, url=event.url))
            else:
                edit.set(f"replies.{event.reply_id}.state", ReplyState.FAILED.value)
                edit.set(
                    f"replies.{event.reply_id}.error",
                    {"code": event.code, "message": event.message},
                )
                edit.emit(CaseReplyFailed(**common, code=event.code, message=event.message))

        try:
            await self._mutate(event.case_id, decide, actor="system:publisher")
        except CaseNotFoundError:
            logger.warning("reply %s answers an unknown case %s", event.reply_id, event.case_id)

    # --- department handoff ----------------------------------------------------------------

    async def hand_off(
        self, case_id: str, department: str, *, note: str, actor: Actor, brand_ok: BrandFilter
    ) -> tuple[Document, str]:
        """Hand the case to a department with context; it waits in pending department."""
        handoff_id = new_ulid()

        async def decide(edit: CaseEdit) -> None:
            dept = await self._settings.department(edit.brand_id, department)
            if dept is None:
                raise CommandError(
                    "department.not_found", f"No department {department} in this brand.", status=404
                )
            try:
                self._status(edit, CaseStatus.PENDING_DEPARTMENT, reason=f"handed to {department}")
            except InvalidTransitionError as exc:
                raise CommandError("case.invalid_transition", str(exc)) from None
            edit.set(
                f"handoffs.{handoff_id}",
                {"department": department, "note": note, "by": actor.ref, "at_ms": edit.now_ms},
            )
            edit.emit(
                CaseHandedOff(
                    **edit.ids(),
                    actor=actor.ref,
                    reason=note[:1000],
                    department=department,
                    handoff_id=handoff_id,
                ),
                note=note,
            )
            target_s = dept.get("response_target_s")
            if target_s:
                warn = dept.get("warn_percent")
                target = SlaTarget(
                    metric=SlaMetric.DEPARTMENT_RESPONSE,
                    target=timedelta(seconds=float(target_s)),
                    warn_percent=None if warn is None else int(warn),
                )
                calendar = await self._settings.calendar(edit.brand_id, dept.get("calendar_id"))
                await self._escalate(
                    edit, self._sla.start(edit, target, calendar, policy_id=DEPARTMENT_POLICY)
                )

        doc = await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)
        return doc, handoff_id

    async def department_answer(
        self, case_id: str, handoff_id: str, *, answer: str, actor: Actor, brand_ok: BrandFilter
    ) -> Document:
        """The department answers inside the platform; the case comes back to the agent."""

        async def decide(edit: CaseEdit) -> None:
            handoff = edit.get(f"handoffs.{handoff_id}")
            if handoff is None:
                raise CommandError("handoff.not_found", f"No handoff {handoff_id}.", status=404)
            if handoff.get("answer"):
                raise CommandError("handoff.answered", "This handoff was already answered.")
            edit.set(f"handoffs.{handoff_id}.answer", answer)
            edit.set(f"handoffs.{handoff_id}.answered_by", actor.ref)
            edit.set(f"handoffs.{handoff_id}.answered_ms", edit.now_ms)
            edit.emit(
                CaseDepartmentAnswered(
                    **edit.ids(),
                    actor=actor.ref,
                    department=handoff["department"],
                    handoff_id=handoff_id,
                ),
                answer=answer,
            )
            await self._escalate(edit, await self._sla.meet(edit, SlaMetric.DEPARTMENT_RESPONSE))
            if edit.doc["status"] == CaseStatus.PENDING_DEPARTMENT.value:
                self._status(edit, CaseStatus.OPEN, reason=f"{handoff['department']} answered")

        return await self._mutate(case_id, decide, actor=actor.ref, brand_ok=brand_ok)

    # --- timers and escalation -----------------------------------------------------------

    async def on_timer(self, fired: FiredTimer) -> None:
        """A durable timer came due: an SLA point, the end of a review follow-up, or a close."""
        payload = fired.payload
        case_id = str(payload["case_id"])
        due_ms = int(str(payload["due_ms"]))
        if fired.kind == REVIEW_TIMER:

            async def review_ends(edit: CaseEdit) -> None:
                review = edit.get("review") or {}
                if review.get("outcome") or review.get("watch_until_ms") != due_ms:
                    return
                self._review_outcome(
                    edit, "unchanged", review.get("score_before"), review.get("latest_score")
                )

            await self._mutate(case_id, review_ends, actor="system:review")
            return
        if fired.kind == CLOSE_TIMER:

            async def close_resolved(edit: CaseEdit) -> None:
                # due_ms is the resolution this timer belongs to; a reopen cancels it.
                if (
                    edit.doc["status"] == CaseStatus.RESOLVED.value
                    and edit.get("resolved_ms") == due_ms
                ):
                    await self._close(edit, reason="the reopen window ended")

            await self._mutate(case_id, close_resolved, actor="system:autoclose")
            return
        metric = SlaMetric(str(payload["metric"]))
        point = str(payload["point"])

        async def decide(edit: CaseEdit) -> None:
            # The event's lateness is measured from when the loop handed the timer over.
            edit.now = max(edit.now, fired.fired_at)
            edit.now_ms = epoch_ms(edit.now)
            await self._escalate(edit, self._sla.fire(edit, metric, point, due_ms))

        try:
            await self._mutate(case_id, decide, actor=SLA_ACTOR)
        except CaseNotFoundError:
            logger.info("timer %s for a case that is gone", fired.key)

    async def _escalate(self, edit: CaseEdit, fired: list[Fired]) -> None:
        """Apply the brand's escalation rules to warnings and breaches that just happened."""
        if not fired:
            return
        rules = await self._settings.escalations(edit.brand_id)
        for item in fired:
            plan = plan_escalation(
                rules,
                trigger=Trigger(item.trigger),
                metric=item.metric,
                department=edit.get("department"),
                priority=edit.doc["priority"],
            )
            if not plan:
                continue
            previous_actor = edit.actor
            edit.actor = ESCALATION
            if plan.priority is not None:
                self._priority(edit, Priority(plan.priority), reason=f"SLA {item.trigger}")
            if plan.route_to_department is not None:
                await self._move_department(
                    edit, plan.route_to_department, reason=f"SLA {item.trigger}", actor=ESCALATION
                )
            if plan.assign_to is not None or plan.reassign:
                self._plan_reassign(edit, plan.assign_to)
            edit.emit(
                CaseEscalated(
                    **edit.ids(),
                    actor=ESCALATION,
                    reason=f"{item.metric} {item.trigger}",
                    trigger=item.trigger,
                    metric=item.metric,
                    rule_id=plan.rule_ids[0],
                    actions=plan.actions,
                    notify=plan.notify,
                )
            )
            edit.actor = previous_actor

    def _plan_reassign(self, edit: CaseEdit, assign_to: str | None) -> None:
        """Reassignment needs agent slots: it runs right after this change is written."""
        case_id, current, brand = edit.case_id, edit.get("assignee_id"), edit.brand_id

        async def reassign() -> None:
            try:
                if assign_to is not None:
                    if assign_to == current:
                        return
                    await self._agents.take_slot(
                        brand, assign_to, now_ms=epoch_ms(self._now()), force=True
                    )
                    await self._set_assignee(
                        case_id,
                        assign_to,
                        brand_id=brand,
                        actor=ESCALATION,
                        reason="escalation",
                        slot_taken=True,
                    )
                else:
                    await self._assign_by_strategy(case_id, exclude=current, actor=ESCALATION)
            except (CommandError, CaseNotFoundError, ConcurrentUpdateError):
                logger.warning("escalation could not reassign case %s", case_id, exc_info=True)

        edit.on_commit.append(reassign)

    # --- queries -------------------------------------------------------------------------

    async def get(self, *, case_id: str, brand_ok: BrandFilter) -> Document:
        """One case, if the caller may see its brand."""
        doc = await self._repo.get(case_id)
        if doc is None or not brand_ok(doc["brand_id"]):
            raise CaseNotFoundError(case_id)
        return doc

    async def list(self, query: CaseQuery) -> tuple[list[Document], CaseCursor | None]:
        """One page of a brand's inbox."""
        return await self._repo.page(query)

    async def counts(self, brand_id: str) -> dict[str, dict[str, int]]:
        """How many cases per status, priority and SLA state (for the inbox's filter badges)."""
        return await self._repo.counts(brand_id)

    async def recount_all(self) -> None:
        """Repair every brand's counters from the cases (a write lost between the case and
        its counter update, e.g. in a crash, is corrected here)."""
        for brand in await self._repo.counted_brands():
            await self._repo.recount(brand)
