"""``smm simulate`` against the running stack: its X posts reach ingest through the filtered
stream that ingest's ``x_stream`` connector reads, and become mentions like the webhooks do."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.stack import Stack

pytestmark = pytest.mark.e2e

SMM = str(Path(sys.executable).parent / "smm")
BRAND = "brand-simulated"


def mentions(stack: Stack, token: str, network: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.config.url('ingest')}/v1/mentions",
        params={"brand_id": BRAND, "network": network, "limit": 200},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_simulated_x_posts_arrive_through_the_filtered_stream(
    stack: Stack, token: Callable[..., str]
) -> None:
    argv = [
        SMM, "simulate",
        "--ingest-url", stack.config.url("ingest"),
        "--data-dir", str(stack.config.data_dir),
        "--brand", BRAND,
        "--rate", "20", "--count", "60", "--seed", "11", "--burst-for", "0",
        # Ingest looks for new poll connectors every 5 s; the run waits for it to read.
        "--stream-grace", "45",
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    done = result.stdout.strip().splitlines()[-1]
    assert done.startswith("Done: ")
    x_posts = int(done.split(", x ")[1].split(")")[0])
    assert x_posts > 0
    assert f"x stream {x_posts} read" in done
    assert "accepted 60 " in done

    reader = token(roles=(Role.VIEWER,), brands=(BRAND,))
    deadline = time.monotonic() + 30
    found = mentions(stack, reader, "x")
    while len(found) < x_posts and time.monotonic() < deadline:
        time.sleep(0.5)
        found = mentions(stack, reader, "x")
    assert len(found) == x_posts, f"{len(found)} of {x_posts} X posts stored within 30 s"
    mention = found[0]["mention"]
    assert mention["network"] == "x"
    assert mention["url"].startswith("https://x.com/")
    assert "DemoBank" in mention["text"]
    # The webhooks of the same run are there too.
    assert mentions(stack, reader, "telegram")
