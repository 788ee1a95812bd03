"""Case rules: which statuses are active and the key of the one open case per conversation."""

from __future__ import annotations

import pytest

from smm_responder.domain.cases import ACTIVE_STATUSES, CaseStatus, open_key

pytestmark = pytest.mark.unit


def test_resolved_and_closed_cases_are_not_active() -> None:
    assert CaseStatus.RESOLVED not in ACTIVE_STATUSES
    assert CaseStatus.CLOSED not in ACTIVE_STATUSES


def test_every_other_status_is_active() -> None:
    assert set(CaseStatus) - ACTIVE_STATUSES == {CaseStatus.RESOLVED, CaseStatus.CLOSED}


def test_statuses_compare_to_their_stored_strings() -> None:
    assert "pending_customer" in ACTIVE_STATUSES
    assert CaseStatus("closed") is CaseStatus.CLOSED


def test_open_key_is_brand_and_conversation() -> None:
    assert open_key("acme", "vk:wall-1_5") == "acme|vk:wall-1_5"


def test_open_key_differs_per_brand_and_per_conversation() -> None:
    keys = {
        open_key("acme", "vk:wall-1_5"),
        open_key("globex", "vk:wall-1_5"),
        open_key("acme", "x:wall-1_5"),
    }

    assert len(keys) == 3
