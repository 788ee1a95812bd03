"""Sample mention ids per brand and hour, bounded, for the explanations of alerts.

An alert explains itself with a few mentions a person can open: some negative mentions of
a spike hour, some mentions carrying a rising term. Rollup buckets only count, so this store
keeps, per brand and hour slot (:func:`~smm_analytics.domain.buckets.hour_slot` of
``mention.created_at``, the slot the counters use), a bounded sample of mention ids:

* up to :data:`NEGATIVE_SAMPLES` ids of negative mentions;
* per term or hashtag (:func:`~smm_analytics.domain.trends.terms_of`, capped as the
  ``terms`` rollup caps them), up to :data:`TERM_SAMPLES` ids of mentions carrying it.

**Document.** ``{_id: "brand|samples|slot", brand_id, slot, slot_ms, slot_start, w,
"n|<k>": sample, "t|<escaped term>|<k>": sample}``. A *sample* is the string
``"<rank>|<network>|<mention id>"`` where ``rank`` is 16 hex digits of a hash of the
mention id; the sub-slot ``k`` comes from other bits of the same hash.

**Why ``$min`` into hashed sub-slots, not ``$addToSet`` into arrays.** Each mention lands
in one of ``TERM_SAMPLES`` sub-slots per term (``NEGATIVE_SAMPLES`` for negatives), and each
sub-slot keeps the smallest sample by ``$min``. That is a bounded set with set semantics:
a replayed mention writes the same value again (no change), the result does not depend on
the order of arrival, concurrent writers (two consumers of one group) cannot exceed the
bound, and every field is a flat top-level name, so one update per document carries the
whole batch without first creating per-term arrays (nx-27017 silently ignores
``$addToSet`` on a missing array, docs/mongo-subset.md). The cost: two mentions may share
a sub-slot, so a term with exactly five mentions keeps three or four of them on average;
for a sample that is fine.

**Growth guard.** A brand with very many distinct terms in an hour would grow the document
without end (5 fields per term). ``w`` counts the term fields each update *may* add, and
the term update only applies while ``w < MAX_TERM_FIELDS``: past that, new terms of the
hour get no samples (negatives always do; they are bounded anyway). Replays add to ``w``
too, so the guard errs on the side of fewer samples.

**Cost.** One ``bulk_write`` per :meth:`SampleStore.record` call, three updates per hour slot
in the batch (create if missing, guarded term samples, negative samples). Samples are only
needed while alerts are evaluated (the hour just ended and a day of catch-up), so the
documents expire after :data:`RETENTION` (a TTL index on ``slot_start``, a datetime written
only on insert).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from smm_analytics.domain.buckets import hour_slot, slot_start

# The rollup's own cap (private there): samples must cover exactly the terms it counts.
from smm_analytics.domain.rollups import _capped_terms, escape_field
from smm_analytics.domain.trends import terms_of
from smm_shared.events import MentionReceived
from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes, epoch_ms

#: Negative mention ids kept per brand and hour (at most).
NEGATIVE_SAMPLES = 20
#: Mention ids kept per term and hour (at most).
TERM_SAMPLES = 5
#: Term fields a document may take before new terms of the hour get no samples
#: (~60 bytes each: about 1.2 MB, far below MongoDB's 16 MB).
MAX_TERM_FIELDS = 20_000
#: How long sample documents are kept.
RETENTION = timedelta(days=3)
INDEXES = (IndexSpec(["slot_start"], expire_after_s=int(RETENTION.total_seconds())),)

_NEGATIVE_PREFIX = "n|"
_TERM_PREFIX = "t|"
_DUPLICATE_KEY = 11000
#: Create-and-update races (two writers inserting one document) are retried this often.
_ROUNDS = 3


def sample_doc_id(brand_id: str, slot: str) -> str:
    """The ``_id`` of a brand's sample document of an hour slot."""
    return f"{brand_id}|samples|{slot}"


def _hash(mention_id: str) -> bytes:
    return hashlib.sha256(mention_id.encode("utf-8")).digest()


def _sample(digest: bytes, network: str, mention_id: str) -> str:
    # The rank (first 8 bytes) orders samples uniformly at random but the same way on
    # every replica and replay; ``$min`` then keeps the lowest rank per sub-slot.
    return f"{digest[:8].hex()}|{network}|{mention_id}"


def _sub_slot(digest: bytes, slots: int) -> int:
    # Other bytes than the rank's, so the sub-slot and the rank are independent.
    return int.from_bytes(digest[8:12], "big") % slots


def negative_field(sub_slot: int) -> str:
    """The field of one negative sub-slot."""
    return f"{_NEGATIVE_PREFIX}{sub_slot:02d}"


def term_field(term: str, sub_slot: int) -> str:
    """The field of one sub-slot of a term (escaped as rollup field names are)."""
    return f"{_TERM_PREFIX}{escape_field(term)}|{sub_slot}"


@dataclass(frozen=True, slots=True)
class SampledMention:
    """A sampled mention: its id and the network it was written on."""

    mention_id: str
    network: str


@dataclass
class _SlotSamples:
    brand_id: str
    slot: str
    negatives: dict[str, str] = field(default_factory=dict)
    terms: dict[str, str] = field(default_factory=dict)

    def keep(self, fields: dict[str, str], name: str, value: str) -> None:
        current = fields.get(name)
        if current is None or value < current:
            fields[name] = value


def _parse(value: Any) -> SampledMention | None:
    if not isinstance(value, str):
        return None
    parts = value.split("|", 2)
    if len(parts) != 3 or not parts[2]:
        return None
    return SampledMention(mention_id=parts[2], network=parts[1])


def _ordered(values: Iterable[Any]) -> list[SampledMention]:
    """Samples by rank (the stored order of preference), without duplicates."""
    found: dict[str, SampledMention] = {}
    for value in sorted(v for v in values if isinstance(v, str)):
        sample = _parse(value)
        if sample is not None:
            found.setdefault(sample.mention_id, sample)
    return list(found.values())


class SampleStore:
    """A bounded sample of mention ids per brand and hour: negatives, and per term."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Create the TTL index that drops old samples."""
        await ensure_indexes(self.collection, INDEXES)

    async def record(self, mentions: Sequence[MentionReceived]) -> None:
        """Add a batch of mentions to the samples of their hours (idempotent, one bulk write).

        Call it after the batch's counts are stored; replaying a batch (or part of one)
        changes nothing.
        """
        slots = self._collect(mentions)
        if not slots:
            return
        operations = [op for samples in slots.values() for op in self._operations(samples)]
        for attempt in range(_ROUNDS):
            try:
                # Ordered: the document exists before its dotted-free updates run. Every
                # update is idempotent, so re-running the whole bulk after a race is safe.
                await self.collection.bulk_write(operations, ordered=True)
                return
            except BulkWriteError as error:
                details: Mapping[str, Any] = error.details or {}
                errors = details.get("writeErrors", [])
                # Two writers inserting the same new document: one upsert loses with a
                # duplicate key. The document exists now; the next round updates it.
                if attempt + 1 == _ROUNDS or any(e.get("code") != _DUPLICATE_KEY for e in errors):
                    raise

    async def negatives(self, brand_id: str, slot: str) -> list[SampledMention]:
        """The sampled negative mentions of a brand's hour slot, in stable sample order."""
        names = [negative_field(k) for k in range(NEGATIVE_SAMPLES)]
        doc = await self.collection.find_one(
            {"_id": sample_doc_id(brand_id, slot)}, dict.fromkeys(names, 1)
        )
        if doc is None:
            return []
        return _ordered(doc.get(name) for name in names)

    async def for_terms(
        self, brand_id: str, slot: str, terms: Sequence[str]
    ) -> dict[str, list[SampledMention]]:
        """The sampled mentions of each term in a brand's hour slot (absent terms: empty)."""
        if not terms:
            return {}
        names = {term: [term_field(term, k) for k in range(TERM_SAMPLES)] for term in terms}
        projection = {name: 1 for fields in names.values() for name in fields}
        doc = await self.collection.find_one({"_id": sample_doc_id(brand_id, slot)}, projection)
        found = doc or {}
        return {
            term: _ordered(found.get(name) for name in fields) for term, fields in names.items()
        }

    # --- internals -------------------------------------------------------------------

    def _collect(self, mentions: Sequence[MentionReceived]) -> dict[str, _SlotSamples]:
        slots: dict[str, _SlotSamples] = {}
        for event in mentions:
            mention = event.mention
            slot = hour_slot(mention.created_at)
            key = sample_doc_id(event.brand_id, slot)
            samples = slots.get(key)
            if samples is None:
                samples = slots[key] = _SlotSamples(event.brand_id, slot)
            digest = _hash(mention.mention_id)
            value = _sample(digest, mention.network.value, mention.mention_id)
            if mention.sentiment.label == "negative":
                name = negative_field(_sub_slot(digest, NEGATIVE_SAMPLES))
                samples.keep(samples.negatives, name, value)
            sub_slot = _sub_slot(digest, TERM_SAMPLES)
            for term in _capped_terms(terms_of(mention.text, mention.language)):
                samples.keep(samples.terms, term_field(term, sub_slot), value)
        return slots

    def _operations(self, samples: _SlotSamples) -> list[UpdateOne]:
        doc_id = sample_doc_id(samples.brand_id, samples.slot)
        start = slot_start(samples.slot)
        created: Document = {
            "brand_id": samples.brand_id,
            "slot": samples.slot,
            "slot_ms": epoch_ms(start),
            "slot_start": start,
            "w": 0,
        }
        operations = [UpdateOne({"_id": doc_id}, {"$setOnInsert": created}, upsert=True)]
        if samples.terms:
            operations.append(
                UpdateOne(
                    {"_id": doc_id, "w": {"$lt": MAX_TERM_FIELDS}},
                    {"$min": dict(samples.terms), "$inc": {"w": len(samples.terms)}},
                )
            )
        if samples.negatives:
            operations.append(UpdateOne({"_id": doc_id}, {"$min": dict(samples.negatives)}))
        return operations
