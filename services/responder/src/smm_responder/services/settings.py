"""A brand's responder settings, read from storage into domain objects for the hot paths.

Stored shapes (the API validates them through the same converters before saving):

* SLA policy: ``{_id, brand_id, name, calendar_id?, pause_when_pending_customer,
  targets: [{metric, target_s, warn_percent? | warn_before_s?}]}``.
* Calendar: ``{_id, brand_id, name, **BusinessCalendar spec}``.
* Department: ``{_id, brand_id, name, sla_policy_id?, calendar_id?, description?}``; its
  policy's ``resolution`` (or ``first_response``) target is the internal SLA of a handoff.
* Brand configuration (``brand_config``, ``_id`` = brand): reopen window, default policy
  and calendar, reply approval, review follow-up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from smm_responder.domain.calendars import ALWAYS_OPEN, BusinessCalendar, CalendarError
from smm_responder.domain.cases import ReopenPolicy
from smm_responder.domain.escalation import EscalationRule
from smm_responder.domain.replies import ApprovalPolicy
from smm_responder.domain.routing import RoutingRule, default_rule
from smm_responder.domain.sla import SlaError, SlaMetric, SlaPolicy, SlaTarget
from smm_shared.brand_store import BrandStore
from smm_shared.mongo import Collection, Document


def policy_from_doc(doc: Mapping[str, Any]) -> SlaPolicy:
    """An SLA policy from its stored (or submitted) fields; SlaError says what is wrong."""
    targets = []
    for raw in doc.get("targets") or ():
        try:
            metric = SlaMetric(raw["metric"])
        except (KeyError, ValueError):
            names = ", ".join(m.value for m in SlaMetric)
            raise SlaError(f"each target needs a metric, one of {names}") from None
        warn_before = raw.get("warn_before_s")
        targets.append(
            SlaTarget(
                metric=metric,
                target=timedelta(seconds=float(raw["target_s"])),
                warn_percent=raw.get("warn_percent"),
                warn_before=None if warn_before is None else timedelta(seconds=float(warn_before)),
            )
        )
    return SlaPolicy(
        id=str(doc["_id"]),
        name=str(doc.get("name", "")),
        targets=tuple(targets),
        calendar_id=doc.get("calendar_id"),
        pause_when_pending_customer=bool(doc.get("pause_when_pending_customer", True)),
    )


def rule_from_doc(doc: Mapping[str, Any]) -> RoutingRule:
    """A stored routing rule (the store's ``version`` is not part of the rule)."""
    fields = {k: v for k, v in doc.items() if k != "version"}
    fields.setdefault("id", doc.get("_id"))
    return RoutingRule.from_doc(fields)


def calendar_from_doc(doc: Mapping[str, Any]) -> BusinessCalendar:
    """A business calendar from its stored document (the spec plus id, brand and name)."""
    spec = {k: v for k, v in doc.items() if k not in ("_id", "brand_id", "name", "version")}
    return BusinessCalendar.from_spec(spec)


@dataclass(frozen=True, slots=True)
class ReviewFollowUp:
    """Which resolved cases are watched, and for how long."""

    #: Follow a case whose first mention scored below this (or was a review or complaint).
    threshold: float = -0.05
    days: int = 7
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class BrandConfig:
    """Per-brand responder configuration; every field has a sensible default."""

    brand_id: str
    reopen: ReopenPolicy = field(default_factory=ReopenPolicy)
    default_sla_policy_id: str | None = None
    calendar_id: str | None = None
    approval: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    review: ReviewFollowUp = field(default_factory=ReviewFollowUp)
    brand_name: str = ""

    @classmethod
    def from_doc(cls, brand_id: str, doc: Mapping[str, Any] | None) -> BrandConfig:
        """The stored configuration, or the defaults."""
        if doc is None:
            return cls(brand_id=brand_id)
        approval = doc.get("approval") or {}
        review = doc.get("review_follow_up") or {}
        return cls(
            brand_id=brand_id,
            reopen=ReopenPolicy(window_ms=int(float(doc.get("reopen_window_h", 168)) * 3_600_000)),
            default_sla_policy_id=doc.get("default_sla_policy_id"),
            calendar_id=doc.get("calendar_id"),
            approval=ApprovalPolicy(
                priorities=frozenset(approval.get("priorities") or ()),
                tags=frozenset(approval.get("tags") or ()),
                departments=frozenset(approval.get("departments") or ()),
            ),
            review=ReviewFollowUp(
                threshold=float(review.get("threshold", -0.05)),
                days=int(review.get("days", 7)),
                enabled=bool(review.get("enabled", True)),
            ),
            brand_name=str(doc.get("brand_name", "")),
        )


class SettingsService:
    """Reads of a brand's settings as domain objects (cached a few seconds per replica)."""

    def __init__(
        self,
        *,
        routing_rules: BrandStore,
        sla_policies: BrandStore,
        calendars: BrandStore,
        departments: BrandStore,
        escalation_rules: BrandStore,
        canned_responses: BrandStore,
        brand_config: Collection,
    ) -> None:
        self.routing_rules = routing_rules
        self.sla_policies = sla_policies
        self.calendars = calendars
        self.departments = departments
        self.escalation_rules = escalation_rules
        self.canned_responses = canned_responses
        self.brand_config = brand_config
        self._configs: dict[str, tuple[float, BrandConfig]] = {}

    @classmethod
    def for_database(cls, db: Any, *, cache_ttl_s: float = 5.0) -> SettingsService:
        """The settings in their usual collections of ``db``, cached ``cache_ttl_s`` seconds."""

        def store(name: str, *, ordered: bool = False) -> BrandStore:
            sort = (("position", 1),) if ordered else (("_id", 1),)
            return BrandStore(db[name], sort=sort, cache_ttl_s=cache_ttl_s)

        return cls(
            routing_rules=store("routing_rules", ordered=True),
            sla_policies=store("sla_policies"),
            calendars=store("calendars"),
            departments=store("departments"),
            escalation_rules=store("escalation_rules", ordered=True),
            canned_responses=store("canned_responses"),
            brand_config=db["brand_config"],
        )

    def stores(self) -> tuple[BrandStore, ...]:
        """Every per-brand store (for indexes)."""
        return (
            self.routing_rules,
            self.sla_policies,
            self.calendars,
            self.departments,
            self.escalation_rules,
            self.canned_responses,
        )

    async def rules(self, brand_id: str) -> list[RoutingRule]:
        """The brand's routing rules in order; the default rule is there even if never saved."""
        rules = [rule_from_doc(d) for d in await self.routing_rules.for_brand(brand_id)]
        if not any(r.is_default for r in rules):
            rules.append(default_rule(brand_id))
        return sorted(rules, key=lambda r: r.position)

    async def config(self, brand_id: str) -> BrandConfig:
        """The brand's configuration (defaults when none was saved); cached like the stores."""
        hit = self._configs.get(brand_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.routing_rules.cache_ttl_s:
            return hit[1]
        config = BrandConfig.from_doc(brand_id, await self.brand_config.find_one({"_id": brand_id}))
        self._configs[brand_id] = (now, config)
        return config

    async def save_config(self, brand_id: str, doc: Document) -> None:
        """Store the brand's configuration."""
        await self.brand_config.replace_one(
            {"_id": brand_id}, {**doc, "_id": brand_id}, upsert=True
        )
        self._configs.pop(brand_id, None)

    async def policy(self, brand_id: str, policy_id: str | None) -> SlaPolicy | None:
        """An SLA policy of the brand (None when it names none or it was deleted)."""
        if policy_id is None:
            return None
        for doc in await self.sla_policies.for_brand(brand_id):
            if doc["_id"] == policy_id:
                return policy_from_doc(doc)
        return None

    async def calendar(self, brand_id: str, calendar_id: str | None) -> BusinessCalendar:
        """A calendar of the brand; the brand's default calendar; else always open."""
        if calendar_id is None:
            calendar_id = (await self.config(brand_id)).calendar_id
        if calendar_id is None:
            return ALWAYS_OPEN
        for doc in await self.calendars.for_brand(brand_id):
            if doc["_id"] == calendar_id:
                try:
                    return calendar_from_doc(doc)
                except CalendarError:
                    return ALWAYS_OPEN
        return ALWAYS_OPEN

    async def department(self, brand_id: str, department: str | None) -> Document | None:
        """A department of the brand."""
        if department is None:
            return None
        for doc in await self.departments.for_brand(brand_id):
            if doc.get("slug", doc["_id"]) == department:
                return doc
        return None

    async def escalations(self, brand_id: str) -> list[EscalationRule]:
        """The brand's escalation rules."""
        return [EscalationRule.from_doc(d) for d in await self.escalation_rules.for_brand(brand_id)]

    async def policy_for(
        self, brand_id: str, *, rule_policy: str | None, department: str | None
    ) -> SlaPolicy | None:
        """The policy a case gets: the rule's, else its department's, else the brand default."""
        dept = await self.department(brand_id, department)
        for candidate in (
            rule_policy,
            None if dept is None else dept.get("sla_policy_id"),
            (await self.config(brand_id)).default_sla_policy_id,
        ):
            policy = await self.policy(brand_id, candidate)
            if policy is not None:
                return policy
        return None
