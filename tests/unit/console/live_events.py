"""One event of each live kind, for the live hub's unit tests and the live API's tests.

Ids are fresh ULIDs unless given: the integration tests share one broker for the session,
so their events must not be mistaken for another test's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smm_shared.events import (
    AlertKind,
    AlertOpened,
    AlertSeverity,
    CaseOpened,
    Network,
    PostPublished,
    SlaWarning,
    new_ulid,
)

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def case(brand: str, case_id: str | None = None) -> CaseOpened:
    return CaseOpened(
        brand_id=brand,
        case_id=case_id or new_ulid(),
        conversation_key="x:thread-1",
        network=Network.X,
        mention_id="m-1",
    )


def sla(brand: str, case_id: str | None = None) -> SlaWarning:
    return SlaWarning(
        brand_id=brand,
        case_id=case_id or new_ulid(),
        metric="first_response",
        policy_id="p-1",
        due_at=NOW,
        lateness_ms=0,
    )


def alert(brand: str) -> AlertOpened:
    return AlertOpened(
        brand_id=brand,
        episode_id=new_ulid(),
        kind=AlertKind.NEGATIVE_SPIKE,
        subject="negative",
        severity=AlertSeverity.HIGH,
        peak_severity=AlertSeverity.HIGH,
        opened_at=NOW,
        interval_start=NOW,
        interval_end=NOW + timedelta(hours=1),
        observed=40,
        expected=4.0,
        ratio=10.0,
        detections=1,
    )


def post(brand: str) -> PostPublished:
    return PostPublished(
        brand_id=brand,
        content_id=new_ulid(),
        actor="system:publisher",
        delivery_id="d-1",
        account_id="acc-1",
        network=Network.VK,
        attempts=1,
        native_id="n-1",
    )
