"""Any subset of services runs on its own: the fixture the service issues' tests build on."""

from __future__ import annotations

import httpx
import pytest

from smm_shared.testing.plugin import StackFactory

pytestmark = pytest.mark.e2e


def test_a_subset_of_services_starts_and_only_that_subset(stack_factory: StackFactory) -> None:
    stack = stack_factory(services=("publisher",))
    assert set(stack.processes) == {"publisher"}
    ready = httpx.get(f"{stack.config.url('publisher')}/health/ready", timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "service": "publisher",
        "checks": {"kafka": True, "mongodb": True},
    }
    openapi = httpx.get(f"{stack.config.url('publisher')}/openapi.json", timeout=5).json()
    assert openapi["info"]["title"] == "SMM publisher"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{stack.config.url('ingest')}/health/live", timeout=2)
