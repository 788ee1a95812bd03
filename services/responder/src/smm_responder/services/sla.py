"""SLA clocks on cases: apply, pause, resume, meet, re-bind, and the timers that fire them.

Each clock is stored on its case (``sla.<metric>``, see domain/sla.py) and changes in the
same conditional update as the case, together with its ``smm.sla.v1`` events. Its warning
and breach instants are armed on the shared durable timer loop *before* the case update
is written, under a key that includes the instant (``sla|case|metric|point|due_ms``): a
timer armed for an update that then lost a race, or for a deadline that later moved, finds
a case whose clock no longer has that due and does nothing. So a deadline can never be
stored without its timer, and a stale timer can never fire an event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from smm_responder.domain.calendars import BusinessCalendar
from smm_responder.domain.sla import (
    OPEN_STATUSES,
    ClockEvent,
    ClockUpdate,
    SlaClock,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
)
from smm_responder.services.edit import CaseEdit, TimerSpec
from smm_responder.services.settings import SettingsService
from smm_shared.events import (
    SlaApplied,
    SlaBreached,
    SlaEvent,
    SlaMet,
    SlaPaused,
    SlaRebound,
    SlaResumed,
    SlaWarning,
)
from smm_shared.mongo import epoch_ms

TIMER_KIND = "sla"
#: Clock metrics that a department handoff runs (internal SLA), apart from the policy's.
DEPARTMENT_POLICY = "department"


@dataclass(frozen=True, slots=True)
class Fired:
    """A warning or breach that happened during a change (escalation acts on it)."""

    trigger: str  # "warning" | "breach"
    metric: str


def _dues(update: ClockUpdate) -> tuple[datetime | None, datetime | None]:
    """The deadlines of points a transition fired in place (their timers had not come yet)."""
    return update.warned_due_at, update.breached_due_at


def timer_key(case_id: str, metric: str, point: str, due: datetime) -> str:
    """The timer of one point of one clock at one instant."""
    return f"sla|{case_id}|{metric}|{point}|{epoch_ms(due)}"


class SlaService:
    """SLA clock operations on a ``CaseEdit``."""

    def __init__(self, *, settings: SettingsService) -> None:
        self._settings = settings

    # --- reading the case's clocks -------------------------------------------------------

    @staticmethod
    def clock(edit: CaseEdit, metric: SlaMetric) -> SlaClock | None:
        """The case's clock of ``metric``, if it ever had one."""
        doc = edit.get(f"sla.{metric.value}")
        return None if doc is None else SlaClock.from_doc(doc)

    @staticmethod
    def open_clocks(edit: CaseEdit) -> list[SlaClock]:
        """Clocks that can still change."""
        clocks = [SlaClock.from_doc(d) for d in (edit.get("sla") or {}).values()]
        return [c for c in clocks if c.status in OPEN_STATUSES]

    async def calendar(self, edit: CaseEdit) -> BusinessCalendar:
        """The calendar the case's clocks count on."""
        return await self._settings.calendar(edit.brand_id, edit.get("sla_calendar_id"))

    async def policy(self, edit: CaseEdit) -> SlaPolicy | None:
        """The case's current policy."""
        return await self._settings.policy(edit.brand_id, edit.get("sla_policy_id"))

    # --- operations ----------------------------------------------------------------------

    async def apply(
        self, edit: CaseEdit, policy: SlaPolicy | None, metrics: Iterable[SlaMetric]
    ) -> list[Fired]:
        """Bind the case to ``policy`` and start the clocks of ``metrics`` it has targets for."""
        if policy is None:
            return []
        edit.set("sla_policy_id", policy.id)
        if policy.calendar_id is not None:
            edit.set("sla_calendar_id", policy.calendar_id)
        calendar = await self.calendar(edit)
        fired: list[Fired] = []
        for metric in metrics:
            target = policy.target(metric)
            if target is not None:
                fired += self.start(edit, target, calendar, policy_id=policy.id)
        return fired

    def start(
        self, edit: CaseEdit, target: SlaTarget, calendar: BusinessCalendar, *, policy_id: str
    ) -> list[Fired]:
        """Start one clock unless one of its metric is still open."""
        current = self.clock(edit, target.metric)
        if current is not None and current.status in OPEN_STATUSES:
            return []
        update = SlaClock.start(target, calendar=calendar, now=edit.now)
        return self._record(
            edit, update.clock, update.events, policy_id=policy_id, dues=_dues(update)
        )

    async def meet(self, edit: CaseEdit, *metrics: SlaMetric) -> list[Fired]:
        """Stop the clocks of ``metrics``: their goal was reached now."""
        calendar = await self.calendar(edit)
        fired: list[Fired] = []
        for metric in metrics:
            clock = self.clock(edit, metric)
            if clock is not None and clock.status in OPEN_STATUSES:
                update = clock.met(calendar=calendar, now=edit.now)
                fired += self._record(edit, update.clock, update.events, dues=_dues(update))
        return fired

    async def pause_all(self, edit: CaseEdit, *, only_if_policy_says: bool) -> list[Fired]:
        """Pause every counting clock (waiting for the customer, when the policy says so)."""
        if only_if_policy_says:
            policy = await self.policy(edit)
            if policy is None or not policy.pause_when_pending_customer:
                return []
        calendar = await self.calendar(edit)
        fired: list[Fired] = []
        for clock in self.open_clocks(edit):
            if clock.metric is SlaMetric.DEPARTMENT_RESPONSE:
                continue
            update = clock.pause(calendar=calendar, now=edit.now)
            fired += self._record(edit, update.clock, update.events, dues=_dues(update))
        return fired

    async def resume_all(self, edit: CaseEdit) -> list[Fired]:
        """Resume every paused clock."""
        calendar = await self.calendar(edit)
        fired: list[Fired] = []
        for clock in self.open_clocks(edit):
            update = clock.resume(calendar=calendar, now=edit.now)
            fired += self._record(edit, update.clock, update.events, dues=_dues(update))
        return fired

    async def cancel_all(self, edit: CaseEdit, *, reason: str) -> None:
        """Stop every clock without a verdict (the case was closed without an answer)."""
        calendar = await self.calendar(edit)
        for clock in self.open_clocks(edit):
            update = clock.cancel(calendar=calendar, now=edit.now)
            self._record(edit, update.clock, update.events, reason=reason, dues=_dues(update))

    async def rebind(self, edit: CaseEdit, policy: SlaPolicy | None, *, reason: str) -> list[Fired]:
        """Move the case's clocks to ``policy`` (another department), keeping time consumed."""
        old_policy_id = edit.get("sla_policy_id")
        if policy is None or policy.id == old_policy_id:
            return []
        old_calendar = await self.calendar(edit)
        edit.set("sla_policy_id", policy.id)
        if policy.calendar_id is not None:
            edit.set("sla_calendar_id", policy.calendar_id)
        else:
            edit.unset("sla_calendar_id")
        new_calendar = await self.calendar(edit)
        fired: list[Fired] = []
        for clock in self.open_clocks(edit):
            if clock.metric is SlaMetric.DEPARTMENT_RESPONSE:
                continue
            target = policy.target(clock.metric)
            if target is None:
                update = clock.cancel(calendar=old_calendar, now=edit.now)
                self._record(
                    edit,
                    update.clock,
                    update.events,
                    reason=f"{reason}: no target",
                    dues=_dues(update),
                )
                continue
            rebinding = clock.rebind(
                target, calendar=old_calendar, new_calendar=new_calendar, now=edit.now
            )
            fired += self._record(
                edit,
                rebinding.clock,
                rebinding.events,
                previous_policy_id=str(old_policy_id or policy.id),
                previous_breach_due_at=rebinding.old_breach_due_at,
                reason=reason,
                dues=(rebinding.warned_due_at, rebinding.breached_due_at),
            )
        return fired

    def fire(self, edit: CaseEdit, metric: SlaMetric, point: str, due_ms: int) -> list[Fired]:
        """A timer of the case came due: warn or breach if the clock still has that deadline."""
        clock = self.clock(edit, metric)
        if clock is None:
            return []
        due = clock.warn_due_at if point == "warn" else clock.breach_due_at
        if due is None or epoch_ms(due) != due_ms:
            return []  # stale: the clock paused, moved or already fired
        update = clock.warn(now=edit.now) if point == "warn" else clock.breach(now=edit.now)
        return self._record(edit, update.clock, update.events, due=due)

    # --- events and timers ---------------------------------------------------------------

    def _record(
        self,
        edit: CaseEdit,
        clock: SlaClock,
        events: Iterable[ClockEvent],
        *,
        policy_id: str | None = None,
        due: datetime | None = None,
        reason: str = "",
        previous_policy_id: str | None = None,
        previous_breach_due_at: datetime | None = None,
        dues: tuple[datetime | None, datetime | None] = (None, None),
    ) -> list[Fired]:
        metric = clock.metric.value
        edit.set(f"sla.{metric}", dict(clock.to_doc()))
        policy = policy_id or str(edit.get("sla_policy_id") or DEPARTMENT_POLICY)
        if clock.metric is SlaMetric.DEPARTMENT_RESPONSE:
            policy = DEPARTMENT_POLICY
        common = {
            "brand_id": edit.brand_id,
            "case_id": edit.case_id,
            "metric": metric,
            "policy_id": policy,
            "department": edit.get("department"),
            "assignee_id": edit.get("assignee_id"),
            "network": edit.get("network"),
        }
        fired: list[Fired] = []
        arm = False
        for happened in events:
            event: SlaEvent | None = None
            if happened is ClockEvent.STARTED:
                event = SlaApplied(
                    **common,
                    target_s=clock.target_ms / 1000,
                    warn_due_at=clock.warn_due_at,
                    breach_due_at=clock.breach_due_at,
                    calendar_id=edit.get("sla_calendar_id"),
                )
                arm = True
            elif happened is ClockEvent.RESUMED:
                event = SlaResumed(
                    **common, warn_due_at=clock.warn_due_at, breach_due_at=clock.breach_due_at
                )
                arm = True
            elif happened is ClockEvent.PAUSED:
                event = SlaPaused(**common, consumed_s=clock.consumed_ms / 1000)
            elif happened is ClockEvent.MET:
                event = SlaMet(
                    **common, elapsed_s=clock.consumed_ms / 1000, within_target=not clock.breached
                )
            elif happened is ClockEvent.WARNED:
                warn_at = due or dues[0] or edit.now
                event = SlaWarning(
                    **common,
                    due_at=warn_at,
                    breach_due_at=clock.breach_due_at,
                    lateness_ms=max(0, edit.now_ms - epoch_ms(warn_at)),
                )
                fired.append(Fired("warning", metric))
            elif happened is ClockEvent.BREACHED:
                breach_at = due or dues[1] or edit.now
                event = SlaBreached(
                    **common,
                    due_at=breach_at,
                    lateness_ms=max(0, edit.now_ms - epoch_ms(breach_at)),
                )
                fired.append(Fired("breach", metric))
            elif happened is ClockEvent.REBOUND:
                event = SlaRebound(
                    **common,
                    previous_policy_id=previous_policy_id or policy,
                    previous_breach_due_at=previous_breach_due_at,
                    warn_due_at=clock.warn_due_at,
                    breach_due_at=clock.breach_due_at,
                    reason=reason,
                )
                arm = True
            elif happened is ClockEvent.CANCELLED:
                edit.timeline("sla.cancelled", actor="system:sla", reason=reason, metric=metric)
            if event is not None:
                edit.emit(event, actor="system:sla")
        if arm:
            for point, at in (("warn", clock.warn_due_at), ("breach", clock.breach_due_at)):
                if at is not None:
                    edit.arm(
                        TimerSpec(
                            key=timer_key(edit.case_id, metric, point, at),
                            kind=TIMER_KIND,
                            due_at=at,
                            payload={
                                "case_id": edit.case_id,
                                "metric": metric,
                                "point": point,
                                "due_ms": epoch_ms(at),
                            },
                        )
                    )
        return fired
