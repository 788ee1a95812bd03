"""The ``smm`` command: ``smm dev`` runs the local stack, ``smm token`` prints an API token,
``smm simulate`` plays the networks' webhooks and an X filtered stream into ingest."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.auth.cli import add_token_command, default_data_dir
from smm_shared.localstack import ManagedProcess, StartupError
from smm_shared.simulator.cli import add_simulate_command
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.stack import (
    DEFAULT_PORTS,
    FIRST_ADMIN_EMAIL,
    SERVICES,
    Stack,
    StackConfig,
    ensure_admin_password,
)


def _ports_from_env() -> dict[str, int]:
    """Default ports, each overridable by ``SMM_<NAME>_PORT`` (e.g. SMM_CONSOLE_PORT=9000)."""
    ports = dict(DEFAULT_PORTS)
    for name in ports:
        value = os.environ.get(f"SMM_{name.upper()}_PORT")
        if value:
            ports[name] = int(value)
    return ports


def _dev(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    config = StackConfig(
        data_dir=data_dir,
        ports=_ports_from_env(),
        # One machine, no network partitions: a shorter session makes group joins ~2 s
        # instead of ~5 s on Tansu (LOCAL-INFRA.md). Explicit SMM_KAFKA__* variables win.
        env={
            "SMM_KAFKA__SESSION_TIMEOUT_MS": os.environ.get(
                "SMM_KAFKA__SESSION_TIMEOUT_MS", "4000"
            ),
            "SMM_KAFKA__HEARTBEAT_INTERVAL_MS": os.environ.get(
                "SMM_KAFKA__HEARTBEAT_INTERVAL_MS", "1000"
            ),
        },
    )
    stack = Stack(config)
    stopping = threading.Event()
    simulator: ManagedProcess | None = None
    networks: FakeNetworkServer | None = None

    def on_signal(signum: int, _: FrameType | None) -> None:
        stopping.set()
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    started = time.monotonic()
    print(f"Starting the SMM platform (data in {data_dir}) ...", flush=True)
    try:
        stack.start()
        elapsed = time.monotonic() - started
        _print_banner(config, elapsed)
        if not args.no_demo:
            networks = FakeNetworkServer(port=config.ports["networks"]).start()
            _seed_demo(config, networks.url)
            if args.simulate_rate > 0:
                simulator = _start_simulator(config, args.simulate_rate)
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping.is_set():
            if simulator is not None and not simulator.alive():
                print(
                    f"\nThe simulator stopped; last log lines:\n{simulator.log_tail()}",
                    file=sys.stderr,
                )
                simulator = None
            for name, proc in list(stack.processes.items()):
                if not proc.alive():
                    print(
                        f"\n{name} exited unexpectedly; last log lines:\n{proc.log_tail()}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except StartupError as exc:
        print(f"\nCould not start the stack: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\nStopping ...", flush=True)
        if simulator is not None:
            simulator.stop()
        stack.stop()
        if networks is not None:
            networks.stop()
        print("Stopped.", flush=True)
    return 0


def _start_simulator(config: StackConfig, rate: float) -> ManagedProcess:
    """Play the demo brand's networks into ingest at a gentle rate, in the background."""
    argv = [
        sys.executable,
        "-m",
        "smm_shared.cli",
        "simulate",
        "--ingest-url",
        config.url("ingest"),
        "--data-dir",
        str(config.data_dir),
        "--rate",
        str(rate),
    ]
    proc = ManagedProcess("simulator", argv, config.log_dir / "simulator.log").start()
    print(
        f"Simulator: signed VK, Facebook, Instagram and Telegram webhooks and an X filtered"
        f" stream for 'demo' at {rate}/s (log: {config.log_dir / 'simulator.log'};"
        " --simulate-rate 0 turns it off).",
        flush=True,
    )
    return proc


def _print_banner(config: StackConfig, elapsed: float) -> None:
    print(f"\nThe SMM platform is up in {elapsed:.1f}s:\n")
    print(f"  console     {config.url('console')}/")
    for name in SERVICES:
        if name != "console":
            print(f"  {name:<11} {config.url(name)}/docs")
    print(f"  kafka       127.0.0.1:{config.ports['kafka']} (Tansu, in memory)")
    print(
        f"  mongodb     127.0.0.1:{config.ports['mongo']} (nx-27017, data in {config.data_dir / 'mongo'})"
    )
    print(f"  logs        {config.log_dir}/")
    print(
        f"\nConsole login (admin of every brand, starts in demo): {FIRST_ADMIN_EMAIL}"
        f" / {ensure_admin_password(config.keys_dir)}"
    )
    print("\nAn API token (admin of the demo brand):")
    print("  .venv/bin/smm token --role admin --brand demo")
    print(
        f'  curl -H "Authorization: Bearer $(.venv/bin/smm token --role admin --brand demo)" \\\n'
        f"       '{config.url('responder')}/v1/cases?brand_id=demo'\n",
        flush=True,
    )


def _seed_demo(config: StackConfig, networks_url: str) -> None:
    from smm_shared.demo import DEMO_BRAND, seed, seed_publisher, seed_responder

    key = load_signing_key(config.keys_dir)
    token = issue_token(
        key=key,
        subject="demo-seeder",
        roles=[Role.SMM_MANAGER],
        brands=[DEMO_BRAND],
        ttl=timedelta(minutes=5),
        issuer="smm-local",
        audience="smm-platform",
    )
    made = seed_responder(config.url("responder"), token)
    if made:
        print(
            f"Demo brand '{DEMO_BRAND}': responder set up ({made} settings: SLA policy, "
            "calendar, departments, routing and escalation rules, agents, canned responses).",
            flush=True,
        )
    made = seed_publisher(config.url("publisher"), token, networks_url)
    print(
        f"Demo brand '{DEMO_BRAND}': publisher set up ({made} new: accounts on every network, "
        f"an approval workflow, planned posts). Posts and replies go to the fake networks: "
        f"{networks_url}/_fake/posts",
        flush=True,
    )
    created, existing = seed(config.url("ingest"), token)
    print(
        f"Demo brand '{DEMO_BRAND}': {created} mentions posted, {existing} already there.",
        flush=True,
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``smm`` argument parser."""
    parser = argparse.ArgumentParser(prog="smm", description="SMM platform tools")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole platform locally until Ctrl-C (make run)")
    dev.add_argument(
        "--data-dir", type=Path, default=default_data_dir(), help="local state (default .data)"
    )
    dev.add_argument("--no-demo", action="store_true", help="no demo mentions and no simulator")
    dev.add_argument(
        "--simulate-rate",
        type=float,
        default=float(os.environ.get("SMM_SIMULATE_RATE", "0.5")),
        help="events per second the network simulator plays for the demo brand (0: off; default 0.5)",
    )
    dev.set_defaults(func=_dev)
    add_token_command(sub)
    add_simulate_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smm`` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
