"""``smm dev`` (what ``make run`` runs): starts everything, seeds the demo, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tests.e2e.dev_support import SMM, dev_env, start_dev, wait_for

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.localstack import LOCALHOST, free_port
from smm_shared.stack import DEFAULT_PORTS

pytestmark = pytest.mark.e2e


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc), to check nothing outlives the stack."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        try:
            listing = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        except OSError:
            continue
        kids = {int(p) for p in listing.split()}
        found |= kids
        frontier.extend(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: free_port() for name in DEFAULT_PORTS}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_dev_runs_seeds_stops_cleanly_and_runs_again(
    data_dir: Path, ports: dict[str, int], tmp_path: Path
) -> None:
    log = tmp_path / "first.log"
    proc = start_dev(data_dir, ports, log)
    try:
        out = wait_for(log, "Press Ctrl-C to stop.", proc)
        assert f"http://127.0.0.1:{ports['console']}/" in out
        assert "smm token --role admin --brand demo" in out
        assert "8 mentions posted, 0 already there" in out
        assert "publisher set up (12 new" in out
        assert f"http://127.0.0.1:{ports['networks']}/_fake/posts" in out
        assert "Simulator: signed VK, Facebook, Instagram and Telegram webhooks and an X" in out
        # The console's first admin exists and can log in with the printed credentials.
        password = (data_dir / "keys" / "console-admin").read_text().strip()
        assert (
            f"Console login (admin of every brand, starts in demo): admin@demo.local / {password}"
            in out
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{ports['console']}", timeout=10) as console:
            login = console.post(
                "/api/auth/login", json={"email": "admin@demo.local", "password": password}
            )
            assert login.status_code == 200, login.text
            assert "httponly" in login.headers["set-cookie"].lower()
            me = console.get("/api/auth/me")
            assert me.status_code == 200, me.text
            assert me.json()["brand"] == "demo"
            # The services' APIs through the console, as the admin in the demo brand.
            series = console.get(
                "/api/analytics/v1/metrics/series",
                params={"metric": "mentions", "brand_id": "demo"},
            )
            assert series.status_code == 200, series.text
            assert series.json()["brand_id"] == "demo"
            assert console.get("/api/responder/v1/cases", params={"brand_id": "demo"}).json()[
                "items"
            ]
        children = _children(proc.pid)
        assert len(children) >= 8  # broker, database, five services and the simulator
        # The simulator's signed webhooks fill the demo brand's mentions beyond the seed.
        token = issue_token(
            key=load_signing_key(data_dir / "keys"),
            subject="t",
            roles=[Role.VIEWER],
            brands=["demo"],
            ttl=timedelta(minutes=5),
            issuer="smm-local",
            audience="smm-platform",
        )
        deadline = time.monotonic() + 90
        count = 0
        while time.monotonic() < deadline and count <= 8:
            response = httpx.get(
                f"http://127.0.0.1:{ports['ingest']}/v1/mentions",
                params={"brand_id": "demo", "limit": 200},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            count = len(response.json()["items"])
            time.sleep(1)
        assert count > 8, "the simulator added no mention within 90 s"
        # The demo's welcome post is published on the fake networks ~30 s after the seed.
        posted: list[str] = []
        while time.monotonic() < deadline + 60 and len(posted) < 2:
            fake = httpx.get(f"http://127.0.0.1:{ports['networks']}/_fake/posts", timeout=10)
            posted = sorted(p["network"] for p in fake.json())
            time.sleep(1)
        assert posted == ["telegram", "x"], posted
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Stopped." in log.read_text()
    assert [pid for pid in children if _alive(pid)] == []
    for port in ports.values():
        with socket.socket() as sock:
            # As a server binds (uvicorn, Tansu, nx-27017 all set SO_REUSEADDR): connections
            # a server closed linger in TIME_WAIT for a minute, but no process may listen.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOCALHOST, port))  # every port is free again
            sock.listen()

    # A second run finds the data of the first (file-backed database) and works.
    log2 = tmp_path / "second.log"
    proc = start_dev(data_dir, ports, log2)
    try:
        out = wait_for(log2, "Press Ctrl-C to stop.", proc)
        assert "0 mentions posted, 8 already there" in out
        assert "publisher set up (0 new" in out
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_busy_port_is_named(data_dir: Path, ports: dict[str, int], tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind((LOCALHOST, ports["responder"]))
        blocker.listen()
        result = subprocess.run(
            [SMM, "dev", "--data-dir", str(data_dir), "--no-demo"],
            env=dev_env(ports),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"responder port {ports['responder']}" in result.stderr
