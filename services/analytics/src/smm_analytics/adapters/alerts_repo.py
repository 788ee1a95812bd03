"""Alert episode state in Mongo: one document per key with its embedded outbox, plus read models.

**``alerts``** (the collection passed in; the source of truth): one document per episode
key (brand, kind, subject), ``_id = "<brand>|<kind>|<subject>"`` (brand and subject through
``escape_field``), holding the key's :class:`~smm_analytics.domain.episodes.KeyState`:

* ``brand_id``, ``kind``, ``subject``, ``version`` (optimistic concurrency: every change is one
  update conditional on the version read), ``last_evaluated_ms``;
* ``episode``: the latest episode (open, or the latest closed one) as a sub-document, every
  time as integer epoch milliseconds, plus ``term_counts`` (how many mentions carried each
  of its top terms in its latest detected hour: the domain keeps only the terms);
* ``open_brand``: the brand id while the episode is open, absent otherwise (an indexed
  scalar: "the brand's open keys" is one index lookup, never a scan);
* ``outbox`` / ``outbox_pending``: the events of each change, appended by the *same*
  single-document update (``with_outbox``) and published by the service's ``OutboxRelay``
  over :attr:`AlertRepository.collections`. ``outbox`` exists from the insert on
  (``outbox_fields``), because nx-27017 ignores ``$addToSet`` on a missing array;
* ``proj`` / ``proj_brand``: the read-model documents this change still has to write (see
  below), set by the same update and removed once written.

**``alert_episodes``** (read model): one document per episode id, written from ``proj``
after the state update: the figures of the episode, its ``key_version`` (a projection
never overwrites a newer one) and four list keys (``lk`` / ``lk_s`` / ``lk_k`` / ``lk_sk``:
``"<brand>|[<status>|][<kind>|]<opened ms>|<id>"``), so that the list filtered by status,
kind, both or none is one range over one indexed string (an equality on a second field
would scan the collection on nx-27017). A crash between the state update and the
projection leaves ``proj`` on the key document; :meth:`AlertRepository.sync_projections`
(run before each evaluation, acknowledgement and resolution of the brand) writes it then.
An episode replaced in its key by a newer one (closed, then a new one opened) keeps its
last projection, so history survives in the read model.

**``alert_cursors``**: ``{_id: brand_id, evaluated_ms}``, the end of the last hour the
hourly tick evaluated for the brand (only ever moves forward).

**``brands``** (read only here; written by the consumers): ``{_id: brand_id,
first_seen_ms, last_event_ms}``.

``None`` is never stored: optional fields are omitted (explicit null and missing differ on
nx-27017).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from smm_analytics.domain.episodes import (
    AlertKind,
    CloseReason,
    Episode,
    EpisodeKey,
    EpisodeStatus,
    Explanation,
    KeyState,
    ReportedFigures,
    Severity,
)
from smm_analytics.domain.rollups import escape_field
from smm_shared.events import Event
from smm_shared.mongo import (
    LEASE_FIELD,
    OUTBOX_FIELD,
    OUTBOX_INDEXES,
    OWNER_FIELD,
    PENDING_FIELD,
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    epoch_ms,
    from_epoch_ms,
    outbox_fields,
    with_outbox,
)

KEY_INDEXES = (IndexSpec(["open_brand"]), IndexSpec(["proj_brand"]), *OUTBOX_INDEXES)
LIST_FIELDS = ("lk", "lk_s", "lk_k", "lk_sk")
EPISODE_INDEXES = tuple(IndexSpec([name]) for name in LIST_FIELDS)
#: What a key read leaves out: the outbox and the relay's lease.
_KEY_FIELDS: Mapping[str, int] = {OUTBOX_FIELD: 0, PENDING_FIELD: 0, LEASE_FIELD: 0, OWNER_FIELD: 0}
_CLOSE_REASONS: Mapping[str, CloseReason] = {"quiet": "quiet", "resolved": "resolved"}
_CURSOR = re.compile(r"^\d{16}\|[0-9a-zA-Z]{1,64}$")


class CursorError(ValueError):
    """A list cursor this repository did not hand out."""


def key_id(key: EpisodeKey) -> str:
    """The ``_id`` of a key's state document."""
    return f"{escape_field(key.brand_id)}|{key.kind.value}|{escape_field(key.subject)}"


def _ms(at: datetime) -> int:
    return epoch_ms(at)


def _at(ms: Any) -> datetime:
    return from_epoch_ms(int(ms))


def without_none(doc: Mapping[str, Any]) -> Document:
    """``doc`` without its ``None`` values (omitted, never stored)."""
    return {k: v for k, v in doc.items() if v is not None}


# --- stored shapes ---------------------------------------------------------------------


@dataclass(frozen=True)
class StoredKey:
    """A key's state as stored, with the version it was read at (0: not stored yet)."""

    id: str
    state: KeyState
    version: int = 0
    #: Mentions per top term of the current episode's latest detected hour.
    term_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    """One episode as the read model holds it (what the API shows)."""

    id: str
    brand_id: str
    kind: AlertKind
    subject: str
    status: EpisodeStatus
    severity: Severity
    peak_severity: Severity
    opened_at: datetime
    last_detected_at: datetime
    observed: float
    expected: float
    peak_observed: float
    detections: int
    top_terms: tuple[tuple[str, int], ...]
    sample_mention_ids: tuple[str, ...]
    networks: tuple[str, ...]
    p_value: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: CloseReason | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class AlertPage:
    """One page of episodes, newest first, and the cursor of the next (None: last page)."""

    items: list[AlertRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class BrandActivity:
    """A brand the consumers have seen: when first, and when its latest event happened."""

    brand_id: str
    first_seen_ms: int | None
    last_event_ms: int | None


def episode_doc(episode: Episode, term_counts: Mapping[str, int]) -> Document:
    """An episode as stored inside its key document (times in epoch ms)."""
    explanation = episode.explanation
    doc: Document = {
        "id": episode.id,
        "status": episode.status.value,
        "opened_ms": _ms(episode.opened_at),
        "severity": episode.severity.value,
        "peak_severity": episode.peak_severity.value,
        "observed": float(episode.observed),
        "expected": float(episode.expected),
        "p_value": episode.p_value,
        "peak_observed": float(episode.peak_observed),
        "top_terms": list(explanation.top_terms),
        "sample_ids": list(explanation.sample_mention_ids),
        "networks": list(explanation.networks),
        "last_detected_ms": _ms(episode.last_detected_at),
        "detections": episode.detections,
        "reported": {
            "severity": episode.last_reported.severity.value,
            "observed": float(episode.last_reported.observed),
            "networks": list(episode.last_reported.networks),
        },
        "term_counts": [
            {"term": term, "count": int(term_counts.get(term, 0))} for term in explanation.top_terms
        ],
        "acknowledged_by": episode.acknowledged_by,
        "acknowledged_ms": _ms(episode.acknowledged_at) if episode.acknowledged_at else None,
        "closed_ms": _ms(episode.closed_at) if episode.closed_at else None,
        "close_reason": episode.close_reason,
        "resolved_by": episode.resolved_by,
    }
    return without_none(doc)


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def episode_from_doc(key: EpisodeKey, doc: Mapping[str, Any]) -> Episode:
    """The domain episode of a stored sub-document."""
    reported = doc["reported"]
    p_value = doc.get("p_value")
    close_reason = doc.get("close_reason")
    return Episode(
        id=str(doc["id"]),
        key=key,
        status=EpisodeStatus(doc["status"]),
        opened_at=_at(doc["opened_ms"]),
        severity=Severity(doc["severity"]),
        peak_severity=Severity(doc["peak_severity"]),
        observed=float(doc["observed"]),
        expected=float(doc["expected"]),
        p_value=None if p_value is None else float(p_value),
        peak_observed=float(doc["peak_observed"]),
        explanation=Explanation(
            top_terms=_strings(doc.get("top_terms")),
            sample_mention_ids=_strings(doc.get("sample_ids")),
            networks=_strings(doc.get("networks")),
        ),
        last_detected_at=_at(doc["last_detected_ms"]),
        detections=int(doc["detections"]),
        last_reported=ReportedFigures(
            severity=Severity(reported["severity"]),
            observed=float(reported["observed"]),
            networks=_strings(reported.get("networks")),
        ),
        acknowledged_by=doc.get("acknowledged_by"),
        acknowledged_at=_at(doc["acknowledged_ms"]) if "acknowledged_ms" in doc else None,
        closed_at=_at(doc["closed_ms"]) if "closed_ms" in doc else None,
        close_reason=None if close_reason is None else _CLOSE_REASONS[str(close_reason)],
        resolved_by=doc.get("resolved_by"),
    )


def _term_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    return {str(c["term"]): int(c["count"]) for c in doc.get("term_counts") or ()}


def stored_key(doc: Mapping[str, Any]) -> StoredKey:
    """A key document as the service uses it."""
    key = EpisodeKey(str(doc["brand_id"]), AlertKind(doc["kind"]), str(doc["subject"]))
    episode_part = doc.get("episode")
    episode = episode_from_doc(key, episode_part) if episode_part else None
    last = doc.get("last_evaluated_ms")
    state = KeyState(
        key=key, last_evaluated_at=None if last is None else _at(last), episode=episode
    )
    counts = _term_counts(episode_part) if episode_part else {}
    return StoredKey(
        id=str(doc["_id"]), state=state, version=int(doc["version"]), term_counts=counts
    )


def _list_keys(brand_id: str, status: str, kind: str, opened_ms: int, episode_id: str) -> Document:
    brand, tail = escape_field(brand_id), f"{opened_ms:016d}|{episode_id}"
    return {
        "lk": f"{brand}|{tail}",
        "lk_s": f"{brand}|{status}|{tail}",
        "lk_k": f"{brand}|{kind}|{tail}",
        "lk_sk": f"{brand}|{status}|{kind}|{tail}",
    }


def projection_doc(
    episode: Episode, term_counts: Mapping[str, int], *, key: str, key_version: int
) -> Document:
    """The read-model document of an episode, as of ``key_version`` of its key."""
    stored = episode_doc(episode, term_counts)
    stored.pop("reported")
    episode_id = stored.pop("id")
    doc: Document = {
        **stored,
        "_id": episode_id,
        "brand_id": episode.key.brand_id,
        "kind": episode.key.kind.value,
        "subject": episode.key.subject,
        "key_id": key,
        "key_version": key_version,
    }
    doc.update(
        _list_keys(
            episode.key.brand_id,
            episode.status.value,
            episode.key.kind.value,
            doc["opened_ms"],
            episode.id,
        )
    )
    return doc


_OPTIONAL = (
    "p_value",
    "acknowledged_by",
    "acknowledged_ms",
    "closed_ms",
    "close_reason",
    "resolved_by",
)


def record_from_doc(doc: Mapping[str, Any]) -> AlertRecord:
    """An episode of the read model as the service returns it."""
    close_reason = doc.get("close_reason")
    p_value = doc.get("p_value")
    return AlertRecord(
        id=str(doc["_id"]),
        brand_id=str(doc["brand_id"]),
        kind=AlertKind(doc["kind"]),
        subject=str(doc["subject"]),
        status=EpisodeStatus(doc["status"]),
        severity=Severity(doc["severity"]),
        peak_severity=Severity(doc["peak_severity"]),
        opened_at=_at(doc["opened_ms"]),
        last_detected_at=_at(doc["last_detected_ms"]),
        observed=float(doc["observed"]),
        expected=float(doc["expected"]),
        peak_observed=float(doc["peak_observed"]),
        detections=int(doc["detections"]),
        top_terms=tuple((str(c["term"]), int(c["count"])) for c in doc.get("term_counts") or ()),
        sample_mention_ids=_strings(doc.get("sample_ids")),
        networks=_strings(doc.get("networks")),
        p_value=None if p_value is None else float(p_value),
        acknowledged_by=doc.get("acknowledged_by"),
        acknowledged_at=_at(doc["acknowledged_ms"]) if "acknowledged_ms" in doc else None,
        closed_at=_at(doc["closed_ms"]) if "closed_ms" in doc else None,
        close_reason=None if close_reason is None else _CLOSE_REASONS[str(close_reason)],
        resolved_by=doc.get("resolved_by"),
    )


# --- repository ------------------------------------------------------------------------


class AlertRepository:
    """Key states with their outbox, the episodes read model, tick cursors, brand activity."""

    def __init__(
        self,
        keys: Collection,
        *,
        source: str,
        episodes: Collection | None = None,
        cursors: Collection | None = None,
        brands: Collection | None = None,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self.keys = keys
        database = keys.database
        self.episodes = episodes if episodes is not None else database["alert_episodes"]
        self.cursors = cursors if cursors is not None else database["alert_cursors"]
        self.brands = brands if brands is not None else database["brands"]
        #: Called after a write that stored events (wire ``OutboxRelay.notify`` here).
        self.notify = notify
        self._source = source

    @property
    def collections(self) -> list[Collection]:
        """The collections with an embedded outbox, for the service's ``OutboxRelay``."""
        return [self.keys]

    async def ensure_indexes(self) -> None:
        """Create the indexes the key documents and the read model rely on."""
        await ensure_indexes(self.keys, KEY_INDEXES)
        await ensure_indexes(self.episodes, EPISODE_INDEXES)

    # --- key states --------------------------------------------------------------------

    async def load(self, key: str) -> StoredKey | None:
        """One key's stored state."""
        doc = await self.keys.find_one({"_id": key}, dict(_KEY_FIELDS))
        return None if doc is None else stored_key(doc)

    async def states(
        self, brand_id: str, keys: Iterable[EpisodeKey]
    ) -> dict[EpisodeKey, StoredKey]:
        """The stored states of ``keys`` and of every key of the brand with an open episode."""
        wanted = [key_id(k) for k in keys]
        found: dict[EpisodeKey, StoredKey] = {}
        queries: list[Document] = [{"open_brand": brand_id}]
        if wanted:
            queries.append({"_id": {"$in": wanted}})
        for query in queries:  # two index lookups, not an $or (a scan on nx-27017)
            async for doc in self.keys.find(query, dict(_KEY_FIELDS)):
                stored = stored_key(doc)
                found[stored.state.key] = stored
        return found

    async def save(
        self,
        stored: StoredKey,
        state: KeyState,
        *,
        term_counts: Mapping[str, int],
        events: Sequence[Event],
        closed: Sequence[Episode] = (),
    ) -> bool:
        """Store a key's new state and its events in one update; False when it changed meanwhile.

        ``closed`` are episodes this change closed that are no longer the key's latest (a
        new one was opened in the same evaluation): their final figures go to the read
        model with the current one.
        """
        version = stored.version + 1
        episode = state.episode
        fields: Document = {
            "brand_id": state.key.brand_id,
            "kind": state.key.kind.value,
            "subject": state.key.subject,
        }
        if state.last_evaluated_at is not None:
            fields["last_evaluated_ms"] = _ms(state.last_evaluated_at)
        projections: list[Document] = []
        for old in closed:
            counts = (
                stored.term_counts
                if stored.state.episode is not None and stored.state.episode.id == old.id
                else {}
            )
            projections.append(projection_doc(old, counts, key=stored.id, key_version=version))
        if episode is not None:
            fields["episode"] = episode_doc(episode, term_counts)
            projections.append(
                projection_doc(episode, term_counts, key=stored.id, key_version=version)
            )
            if episode.is_open:
                fields["open_brand"] = state.key.brand_id
        if projections:
            fields["proj"] = projections
            fields["proj_brand"] = state.key.brand_id
        if stored.version == 0:
            try:
                await self.keys.insert_one(
                    {
                        "_id": stored.id,
                        **fields,
                        "version": version,
                        **outbox_fields(events, source=self._source),
                    }
                )
            except DuplicateKeyError:
                return False
        else:
            update: Document = {"$set": fields, "$inc": {"version": 1}}
            if "open_brand" not in fields:
                update["$unset"] = {"open_brand": ""}
            result = await self.keys.update_one(
                {"_id": stored.id, "version": stored.version},
                with_outbox(update, events, source=self._source),
            )
            if result.matched_count != 1:
                return False
        if events and self.notify is not None:
            self.notify()
        await self._project(stored.id, version, projections)
        return True

    # --- read model --------------------------------------------------------------------

    async def sync_projections(self, brand_id: str) -> int:
        """Write the read-model documents a crash left pending on the brand's keys."""
        written = 0
        async for doc in self.keys.find({"proj_brand": brand_id}, {"version": 1, "proj": 1}):
            projections = list(doc.get("proj") or ())
            await self._project(str(doc["_id"]), int(doc["version"]), projections)
            written += len(projections)
        return written

    async def _project(self, key: str, version: int, projections: Sequence[Document]) -> None:
        for projection in projections:
            fields = {k: v for k, v in projection.items() if k != "_id"}
            fields["key_version"] = version
            update: Document = {"$set": fields}
            absent = [name for name in _OPTIONAL if name not in fields]
            if absent:
                update["$unset"] = dict.fromkeys(absent, "")
            # A duplicate key: the read model already holds this version or a newer one.
            with contextlib.suppress(DuplicateKeyError):
                await self.episodes.update_one(
                    {"_id": projection["_id"], "key_version": {"$lt": version}}, update, upsert=True
                )
        if projections:
            await self.keys.update_one(
                {"_id": key, "version": version}, {"$unset": {"proj": "", "proj_brand": ""}}
            )

    async def get(self, episode_id: str) -> AlertRecord | None:
        """One episode of the read model."""
        doc = await self.episodes.find_one({"_id": episode_id})
        return None if doc is None else record_from_doc(doc)

    async def key_of(self, episode_id: str) -> str | None:
        """The key document id of an episode."""
        doc = await self.episodes.find_one({"_id": episode_id}, {"key_id": 1})
        return None if doc is None else str(doc["key_id"])

    async def page(
        self,
        brand_id: str,
        *,
        status: EpisodeStatus | None = None,
        kind: AlertKind | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> AlertPage:
        """The brand's episodes newest first (by opening), filtered, one page at a time."""
        if cursor is not None and not _CURSOR.match(cursor):
            raise CursorError("this cursor was not handed out by the alert list")
        parts = [escape_field(brand_id)]
        if status is not None:
            parts.append(status.value)
        if kind is not None:
            parts.append(kind.value)
        name = {(False, False): "lk", (True, False): "lk_s", (False, True): "lk_k"}.get(
            (status is not None, kind is not None), "lk_sk"
        )
        prefix = "|".join(parts) + "|"
        lower = prefix + (f"{_ms(since):016d}" if since is not None else "")
        # "}" sorts right after "|": every key of the prefix is below it.
        upper = prefix + cursor if cursor is not None else prefix[:-1] + "}"
        query = {name: {"$gte": lower, "$lt": upper}}
        docs = [
            doc async for doc in self.episodes.find(query).sort(name, DESCENDING).limit(limit + 1)
        ]
        items = [record_from_doc(doc) for doc in docs[:limit]]
        following = None
        if len(docs) > limit:
            last = docs[limit - 1]
            following = f"{int(last['opened_ms']):016d}|{last['_id']}"
        return AlertPage(items=items, next_cursor=following)

    # --- brands and tick cursors -------------------------------------------------------

    async def active_brands(self, *, since_ms: int) -> list[BrandActivity]:
        """Brands with an event at or after ``since_ms``, and brands with an open episode."""
        found: dict[str, BrandActivity] = {}
        async for doc in self.brands.find({"last_event_ms": {"$gte": since_ms}}):
            found[str(doc["_id"])] = _activity(doc)
        open_brands = {str(b) for b in await self.keys.distinct("open_brand") if b}
        missing = sorted(open_brands - set(found))
        if missing:
            async for doc in self.brands.find({"_id": {"$in": missing}}):
                found[str(doc["_id"])] = _activity(doc)
            for brand in missing:
                found.setdefault(brand, BrandActivity(brand, None, None))
        return [found[b] for b in sorted(found)]

    async def brand(self, brand_id: str) -> BrandActivity | None:
        """What the consumers recorded about one brand."""
        doc = await self.brands.find_one({"_id": brand_id})
        return None if doc is None else _activity(doc)

    async def evaluated_until(self, brand_ids: Sequence[str]) -> dict[str, int]:
        """The end (epoch ms) of the last hour the tick evaluated, per brand that has one."""
        if not brand_ids:
            return {}
        return {
            str(doc["_id"]): int(doc["evaluated_ms"])
            async for doc in self.cursors.find({"_id": {"$in": list(brand_ids)}})
        }

    async def advance(self, brand_id: str, evaluated_ms: int) -> None:
        """Record that hours up to ``evaluated_ms`` were evaluated (never moves back)."""
        with contextlib.suppress(DuplicateKeyError):  # already at or past it
            await self.cursors.update_one(
                {"_id": brand_id, "evaluated_ms": {"$lt": evaluated_ms}},
                {"$set": {"evaluated_ms": evaluated_ms}},
                upsert=True,
            )


def _activity(doc: Mapping[str, Any]) -> BrandActivity:
    first, last = doc.get("first_seen_ms"), doc.get("last_event_ms")
    return BrandActivity(
        brand_id=str(doc["_id"]),
        first_seen_ms=None if first is None else int(first),
        last_event_ms=None if last is None else int(last),
    )
