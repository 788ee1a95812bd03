"""One change of a case being built: fields, timeline, events, timers and slot bookkeeping.

Services describe a change on a ``CaseEdit`` (it keeps a local copy of the case so later
steps see earlier ones), then the repository applies it in one conditional update. The
timeline is made of the change's events (who, when, why and what) plus entries that have
no event (a note's text, a reply waiting for approval).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smm_responder.adapters.cases_repo import (
    NO_DEADLINE_MS,
    CaseChange,
    activity_key,
    assignee_key,
    due_key,
)
from smm_responder.domain.cases import ACTIVE_STATUSES
from smm_responder.domain.sla import OPEN_STATUSES, SlaClock
from smm_shared.events import Event, new_ulid
from smm_shared.mongo import Document, epoch_ms

#: Fields of an event that the timeline does not repeat in ``data``.
_ENVELOPE = frozenset(
    {
        "event_id",
        "occurred_at",
        "brand_id",
        "schema_version",
        "case_id",
        "conversation_key",
        "actor",
        "reason",
    }
)

Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TimerSpec:
    """A timer to arm before the change is written (see services/sla.py)."""

    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]


def counted_as(doc: Document) -> frozenset[str]:
    """The counters a case is part of: its status; if active, its priority and SLA state."""
    status = str(doc.get("status"))
    keys = {f"status.{status}"}
    if status in ACTIVE_STATUSES:
        keys.add(f"priority.{doc.get('priority')}")
        keys.add(f"sla_state.{doc.get('sla_state', 'none')}")
    return frozenset(keys)


class CaseEdit:
    """A change to one case (or a new case) in the making."""

    def __init__(self, doc: Document, *, now: datetime, actor: str) -> None:
        self.doc = doc
        self.now = now
        self.now_ms = epoch_ms(now)
        self.actor = actor
        self.change = CaseChange()
        #: What the inbox counters counted this case as before the change (None: a new case).
        self.counted_before: frozenset[str] | None = counted_as(doc) if "version" in doc else None
        self.timers: list[TimerSpec] = []
        self.on_commit: list[Hook] = []
        self.on_abort: list[Hook] = []

    @property
    def case_id(self) -> str:
        """The case's id."""
        return str(self.doc["_id"])

    @property
    def brand_id(self) -> str:
        """The case's brand."""
        return str(self.doc["brand_id"])

    def ids(self) -> dict[str, str]:
        """The fields every case event starts with."""
        return {
            "brand_id": self.brand_id,
            "case_id": self.case_id,
            "conversation_key": str(self.doc["conversation_key"]),
        }

    def set(self, path: str, value: Any) -> None:
        """Set a (dotted) field."""
        self.change.fields[path] = value
        self.change.removed.discard(path)
        target, leaf = self._parent(path, create=True)
        target[leaf] = value

    def unset(self, path: str) -> None:
        """Remove a (dotted) field."""
        self.change.removed.add(path)
        self.change.fields.pop(path, None)
        target, leaf = self._parent(path, create=False)
        if target is not None:
            target.pop(leaf, None)

    def get(self, path: str, default: Any = None) -> Any:
        """A (dotted) field as it stands after the changes so far."""
        value: Any = self.doc
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def emit(self, event: Event, *, actor: str | None = None, **details: Any) -> None:
        """Queue an event; it also becomes a timeline entry (``details`` add to its data)."""
        self.change.events.append(event)
        data = event.model_dump(mode="json", exclude=set(_ENVELOPE), exclude_none=True)
        self.timeline(
            event.event_type.removeprefix("smm."),
            actor=str(getattr(event, "actor", None) or actor or self.actor),
            reason=str(getattr(event, "reason", "") or ""),
            entry_id=event.event_id,
            **data,
            **details,
        )

    def timeline(
        self,
        kind: str,
        *,
        actor: str | None = None,
        reason: str = "",
        entry_id: str | None = None,
        **data: Any,
    ) -> None:
        """Add a timeline entry with no event of its own."""
        self.change.timeline.append(
            {
                "id": entry_id or new_ulid(),
                "at_ms": self.now_ms,
                "type": kind,
                "actor": actor or self.actor,
                "reason": reason,
                "data": data,
            }
        )

    def arm(self, timer: TimerSpec) -> None:
        """Arm a timer before the write (a stale one is harmless: handlers check the case)."""
        self.timers.append(timer)

    def finish(self) -> None:
        """Derive the inbox fields from the clocks and stamp the activity time."""
        clocks = [SlaClock.from_doc(c) for c in (self.get("sla") or {}).values()]
        open_clocks = [c for c in clocks if c.status in OPEN_STATUSES]
        dues = [
            epoch_ms(due)
            for c in open_clocks
            for due in (c.warn_due_at, c.breach_due_at)
            if due is not None
        ]
        next_due = min(dues) if dues else NO_DEADLINE_MS
        if any(c.breached for c in open_clocks):
            state = "breached"
        elif any(c.warned for c in open_clocks):
            state = "at_risk"
        elif open_clocks:
            state = "ok"
        else:
            state = "none"
        if self.doc.get("next_due_ms") != next_due:
            self.set("next_due_ms", next_due)
        if self.doc.get("sla_state") != state:
            self.set("sla_state", state)
        if self.change:
            self.set("last_activity_ms", max(self.now_ms, int(self.doc.get("last_activity_ms", 0))))
        for name, key in (
            (
                "activity_key",
                activity_key(self.brand_id, int(self.doc["last_activity_ms"]), self.case_id),
            ),
            ("due_key", due_key(self.brand_id, next_due, self.case_id)),
        ):
            if self.doc.get(name) != key:
                self.set(name, key)
        assignee = self.doc.get("assignee_id")
        if assignee is None:
            if "assignee_key" in self.doc:
                self.unset("assignee_key")
        else:
            mine = assignee_key(
                self.brand_id, assignee, int(self.doc["last_activity_ms"]), self.case_id
            )
            if self.doc.get("assignee_key") != mine:
                self.set("assignee_key", mine)

    def count_delta(self) -> dict[str, int]:
        """How the brand's counters move with this change."""
        before = self.counted_before or frozenset()
        after = counted_as(self.doc)
        delta = dict.fromkeys(after - before, 1)
        delta.update(dict.fromkeys(before - after, -1))
        return delta

    def _parent(self, path: str, *, create: bool) -> tuple[Any, str]:
        parts = path.split(".")
        target: Any = self.doc
        for part in parts[:-1]:
            if not isinstance(target, dict):
                return None, parts[-1]
            if part not in target:
                if not create:
                    return None, parts[-1]
                target[part] = {}
            target = target[part]
        return target, parts[-1]
