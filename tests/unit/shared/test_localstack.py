"""Local process launching: ports, polling, process groups, early exits. Only local processes."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smm_shared.localstack import (
    LOCALHOST,
    ManagedProcess,
    StartupError,
    free_port,
    port_in_use,
    wait_until,
)

pytestmark = pytest.mark.unit

SLEEP = "/bin/sleep"
BASH = "/bin/bash"


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[list[ManagedProcess]]:
    """Processes started by a test; whatever is still running is stopped afterwards."""
    started: list[ManagedProcess] = []
    yield started
    for proc in started:
        proc.stop(timeout_s=0.5)


def start(started: list[ManagedProcess], tmp_path: Path, *argv: str) -> ManagedProcess:
    proc = ManagedProcess(f"proc-{len(started)}", list(argv), tmp_path / f"{len(started)}.log")
    started.append(proc)
    return proc.start()


def wait_for_log(proc: ManagedProcess, text: str) -> None:
    proc.wait_ready(lambda: text in proc.log_tail(), timeout_s=5)


def process_gone(pid: int) -> bool:
    """True when the pid no longer runs: no such process, or a zombie waiting for init."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # An orphan is reaped by init whenever init gets to it; dead already if a zombie.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOCALHOST, 0))
    sock.listen()
    return sock


def test_free_port_can_be_bound() -> None:
    port = free_port()

    assert 0 < port < 65536
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, port))
        assert sock.getsockname()[1] == port


def test_port_in_use_for_a_listening_socket() -> None:
    with listening_socket() as sock:
        assert port_in_use(sock.getsockname()[1]) is True


def test_port_in_use_for_a_bound_but_not_listening_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        assert port_in_use(sock.getsockname()[1]) is True


def test_port_not_in_use_when_free() -> None:
    assert port_in_use(free_port()) is False


def test_wait_until_returns_once_the_check_passes() -> None:
    calls: list[int] = []

    def third_time_lucky() -> bool:
        calls.append(1)
        return len(calls) >= 3

    wait_until(third_time_lucky, timeout_s=5, what="thing", interval_s=0.001)

    assert len(calls) == 3


def test_wait_until_raises_after_the_timeout() -> None:
    started = time.monotonic()

    with pytest.raises(StartupError, match="the widget not ready"):
        wait_until(lambda: False, timeout_s=0.1, what="the widget", interval_s=0.01)

    assert time.monotonic() - started >= 0.1


def test_process_before_start_is_not_alive_and_stop_is_a_no_op(tmp_path: Path) -> None:
    proc = ManagedProcess("never", [SLEEP, "30"], tmp_path / "never.log")

    assert proc.alive() is False
    assert proc.stop() is None
    assert proc.log_tail() == ""


def test_started_process_is_alive_and_stop_terminates_it_quickly(
    launch: list[ManagedProcess], tmp_path: Path
) -> None:
    proc = start(launch, tmp_path, SLEEP, "30")
    assert proc.alive() is True

    began = time.monotonic()
    code = proc.stop()

    assert time.monotonic() - began < 2
    assert code == -signal.SIGTERM
    assert proc.alive() is False


def test_stop_kills_a_process_that_ignores_sigterm(
    launch: list[ManagedProcess], tmp_path: Path
) -> None:
    proc = start(launch, tmp_path, BASH, "-c", f"trap '' TERM; echo trapped; {SLEEP} 30")
    wait_for_log(proc, "trapped")  # SIGTERM is ignored from here on

    began = time.monotonic()
    code = proc.stop(timeout_s=0.5)
    elapsed = time.monotonic() - began

    assert code == -signal.SIGKILL
    assert 0.5 <= elapsed < 3
    assert proc.alive() is False


def test_stop_leaves_no_child_of_the_process_behind(
    launch: list[ManagedProcess], tmp_path: Path
) -> None:
    # The child ignores SIGTERM and outlives its parent: only the group SIGKILL ends it.
    script = f"(trap '' TERM; echo child-ready; exec {SLEEP} 30) & echo child=$!; wait"
    proc = start(launch, tmp_path, BASH, "-c", script)
    wait_for_log(proc, "child-ready")
    wait_for_log(proc, "child=")
    child = int(proc.log_tail().split("child=")[1].split()[0])
    assert not process_gone(child)

    proc.stop(timeout_s=0.5)

    # The orphan is killed by the group SIGKILL after its parent died: poll with a deadline.
    wait_until(lambda: process_gone(child), timeout_s=5, what="child exit")
    assert process_gone(child)


def test_wait_ready_fails_early_with_the_log_tail_when_the_process_exits(
    launch: list[ManagedProcess], tmp_path: Path
) -> None:
    proc = start(launch, tmp_path, BASH, "-c", "echo boom; exit 3")

    began = time.monotonic()
    with pytest.raises(StartupError, match="exited during start-up") as caught:
        proc.wait_ready(lambda: False, timeout_s=30)

    assert "boom" in str(caught.value)
    assert time.monotonic() - began < 10  # long before the 30 s timeout
    assert proc.popen is not None
    assert proc.popen.returncode == 3


def test_wait_ready_timeout_includes_the_log_tail(
    launch: list[ManagedProcess], tmp_path: Path
) -> None:
    proc = start(launch, tmp_path, BASH, "-c", f"echo still-starting; exec {SLEEP} 30")
    wait_for_log(proc, "still-starting")

    with pytest.raises(StartupError, match="not ready") as caught:
        proc.wait_ready(lambda: False, timeout_s=0.1)

    assert "still-starting" in str(caught.value)
    assert proc.alive() is True


def test_log_tail_returns_the_last_lines(launch: list[ManagedProcess], tmp_path: Path) -> None:
    proc = start(launch, tmp_path, BASH, "-c", "for i in 1 2 3 4 5; do echo line-$i; done")
    proc.popen.wait(5)  # type: ignore[union-attr]

    assert proc.log_tail(lines=2) == "line-4\nline-5"
