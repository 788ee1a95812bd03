"""Start ``smm dev`` (what ``make run`` runs) as a process on chosen ports, and read its log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

SMM = str(Path(sys.executable).parent / "smm")
READY = "Press Ctrl-C to stop."


def dev_env(ports: Mapping[str, int], **extra: str) -> dict[str, str]:
    """This process's environment with ``SMM_<NAME>_PORT`` for every port, plus ``extra``."""
    env = dict(os.environ)
    env.update({f"SMM_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env.update(extra)
    return env


def start_dev(
    data_dir: Path, ports: Mapping[str, int], log: Path, **extra: str
) -> subprocess.Popen[bytes]:
    """``smm dev --data-dir data_dir``, its output in ``log``."""
    return subprocess.Popen(
        [SMM, "dev", "--data-dir", str(data_dir)],
        env=dev_env(ports, **extra),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> str:
    """The log once it shows ``text``; fails if the process exits or time runs out first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = log.read_text(errors="replace")
        if text in out:
            return out
        if proc.poll() is not None:
            raise AssertionError(f"smm dev exited with {proc.returncode}:\n{out}")
        time.sleep(0.2)
    raise AssertionError(
        f"{text!r} not printed within {timeout_s}s:\n{log.read_text(errors='replace')}"
    )
