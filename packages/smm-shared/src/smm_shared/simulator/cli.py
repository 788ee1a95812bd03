"""``smm simulate``: play the networks into ingest: VK, Facebook, Instagram and Telegram as
webhooks, X as a filtered stream that ingest's ``x_stream`` connector reads from a local port."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Final

import httpx

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.auth.cli import KEYS_SUBDIR, default_data_dir
from smm_shared.auth.keys import SIGNING_KEY_FILE
from smm_shared.config import AuthSettings
from smm_shared.demo import DEMO_BRAND
from smm_shared.simulator.client import (
    STREAM_GRACE_S,
    SetupError,
    Stats,
    confirm_endpoints,
    derive_secrets,
    ensure_connectors,
    play,
    x_rule,
)
from smm_shared.simulator.payloads import Accounts, ConnectorKind, WebhookSecrets
from smm_shared.simulator.scenario import Scenario, ScenarioConfig, take
from smm_shared.simulator.x_stream import XStreamServer
from smm_shared.stack import DEFAULT_PORTS

SEED_FILE: Final = "simulator.key"
DEFAULT_RATE: Final = 2.0
DEFAULT_TREND_RAMP_S: Final = 300.0
REPORT_EVERY_S: Final = 10.0
#: The token is only used to set up connectors, at the start.
TOKEN_TTL: Final = timedelta(minutes=10)

Out = Callable[[str], None]


def default_ingest_url() -> str:
    """``$SMM_INGEST_URL``, else the local stack's ingest (``$SMM_INGEST_PORT`` or 8001)."""
    url = os.environ.get("SMM_INGEST_URL")
    if url:
        return url
    port = os.environ.get("SMM_INGEST_PORT") or str(DEFAULT_PORTS["ingest"])
    return f"http://127.0.0.1:{port}"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be zero or more")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def configure_simulate_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``smm simulate`` options to ``parser`` and make it run run_simulate."""
    parser.add_argument(
        "--ingest-url",
        default=None,
        help="ingest's base URL (default: $SMM_INGEST_URL or http://127.0.0.1:$SMM_INGEST_PORT|8001)",
    )
    parser.add_argument("--brand", default=DEMO_BRAND, help="brand id (default: %(default)s)")
    parser.add_argument(
        "--rate",
        type=_positive_float,
        default=DEFAULT_RATE,
        help="events per second, Poisson arrivals (default: %(default)s)",
    )
    until = parser.add_mutually_exclusive_group()
    until.add_argument(
        "--duration", type=_positive_float, help="stop after this many seconds (default: Ctrl-C)"
    )
    until.add_argument("--count", type=_positive_int, help="stop after this many events")
    parser.add_argument(
        "--seed", type=int, default=1, help="scenario seed: same seed, same story (default: 1)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the stack's data directory, for its dev key (default: $SMM_DATA_DIR or ./.data)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.add_argument(
        "--burst-at",
        type=_non_negative_float,
        default=120.0,
        help="seconds until the burst of negative posts (default: %(default)s)",
    )
    parser.add_argument(
        "--burst-for",
        type=_non_negative_float,
        default=60.0,
        help="how long the burst lasts in seconds; 0: no burst (default: %(default)s)",
    )
    parser.add_argument(
        "--burst-factor",
        type=float,
        default=5.0,
        help="new negative conversations per second in the burst, times the usual (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=16,
        help="deliveries in flight at most (default: %(default)s)",
    )
    parser.add_argument(
        "--token", default=None, help="API token (default: sign one with the stack's dev key)"
    )
    parser.add_argument(
        "--no-stream",
        action="store_true",
        help="no X: neither the local X filtered stream nor X posts in the scenario",
    )
    parser.add_argument(
        "--stream-grace",
        type=_non_negative_float,
        default=STREAM_GRACE_S,
        help="seconds to wait at the end for ingest to read the X posts still queued"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--id-base",
        type=int,
        default=None,
        help="first message id (default: from the clock, so re-runs never reuse ids)",
    )
    parser.set_defaults(func=run_simulate)


def add_simulate_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``simulate`` subcommand on the ``smm`` command's subparsers."""
    parser = subparsers.add_parser(
        "simulate",
        help="play VK, Facebook, Instagram and Telegram webhooks and an X stream into ingest",
        description=(
            "Create (or reuse) demo connectors, then deliver a seeded, multilingual scenario"
            " of signed webhooks at the given rate, and serve its X posts on a local X API v2"
            " filtered stream that ingest reads, printing a summary every ~10 s."
        ),
    )
    configure_simulate_parser(parser)


def local_seed(keys_dir: Path) -> bytes:
    """The local seed of the connector secrets (``keys/simulator.key``, 0600), made once."""
    path = keys_dir / SEED_FILE
    if not path.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another run made it first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(os.urandom(32).hex())
    return bytes.fromhex(path.read_text().strip())


def _token(args: argparse.Namespace, keys_dir: Path) -> str:
    if args.token:
        token: str = args.token
        return token
    if not (keys_dir / SIGNING_KEY_FILE).is_file():
        raise SetupError(
            f"no signing key at {keys_dir / SIGNING_KEY_FILE}; start the stack with"
            " `make run` first, or pass --data-dir or --token"
        )
    return issue_token(
        key=load_signing_key(keys_dir),
        subject="smm-simulator",
        roles=[Role.SMM_MANAGER],
        brands=[args.brand],
        ttl=TOKEN_TTL,
        issuer=os.environ.get("SMM_AUTH__ISSUER") or AuthSettings.model_fields["issuer"].default,
        audience=os.environ.get("SMM_AUTH__AUDIENCE")
        or AuthSettings.model_fields["audience"].default,
    )


def scenario_config(args: argparse.Namespace, id_base: int) -> ScenarioConfig:
    """The scenario the arguments describe; the trend ramps up over the planned run."""
    if args.duration is not None:
        ramp = float(args.duration)
    elif args.count is not None:
        ramp = args.count / args.rate
    else:
        ramp = DEFAULT_TREND_RAMP_S
    return ScenarioConfig(
        seed=args.seed,
        rate=args.rate,
        burst_at=args.burst_at,
        burst_for=args.burst_for,
        burst_factor=args.burst_factor,
        trend_ramp_s=ramp,
        id_base=id_base,
        play_x=not args.no_stream,
    )


def run_simulate(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    out: Out | None = None,
) -> int:
    """Run ``smm simulate``; 0 when every delivery was accepted (and every X post read off the
    stream), 1 if not, 2 on setup errors."""
    say: Out = out or (lambda line: print(line, flush=True))
    data_dir: Path = args.data_dir or default_data_dir()
    keys_dir = data_dir / KEYS_SUBDIR
    try:
        config = scenario_config(args, args.id_base if args.id_base is not None else _clock_ids())
        token = _token(args, keys_dir)
        secrets = derive_secrets(local_seed(keys_dir), args.brand)
        stats = asyncio.run(
            _simulate(args, config, token=token, secrets=secrets, transport=transport, say=say)
        )
    except (SetupError, ValueError, OSError) as exc:
        # The messages name files, URLs and codes, never secrets or tokens.
        print(f"smm simulate: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:  # Ctrl-C during setup, before the graceful stop is in place
        print("smm simulate: interrupted", file=sys.stderr, flush=True)
        return 130
    return 0 if stats.ok else 1


def _clock_ids() -> int:
    # Milliseconds since the epoch: a later run starts above every id an earlier one used,
    # unless the earlier one sent more than 1000 events per second of its own run time.
    return int(time.time() * 1000)


async def _simulate(
    args: argparse.Namespace,
    config: ScenarioConfig,
    *,
    token: str,
    secrets: WebhookSecrets,
    transport: httpx.AsyncBaseTransport | None,
    say: Out,
) -> Stats:
    accounts = Accounts()
    url = args.ingest_url or default_ingest_url()
    quiet: bool = args.quiet
    limits = httpx.Limits(max_connections=args.concurrency)
    async with contextlib.AsyncExitStack() as resources:
        stream: XStreamServer | None = None
        if config.play_x:
            # Started first: the X connector is configured with its address.
            stream = await resources.enter_async_context(
                XStreamServer(bearer_token=secrets.x_bearer_token)
            )
        http = await resources.enter_async_context(
            httpx.AsyncClient(base_url=url, timeout=10.0, limits=limits, transport=transport)
        )
        endpoints = await ensure_connectors(
            http,
            brand=args.brand,
            token=token,
            accounts=accounts,
            secrets=secrets,
            x_stream_url=stream.url if stream is not None else None,
        )
        await confirm_endpoints(http, endpoints, accounts=accounts, secrets=secrets)
        if not quiet:
            say(_intro(args, config, url))
            connectors = ", ".join(
                f"{kind.value} {'created' if e.created else 'reused'}"
                for kind, e in endpoints.items()
            )
            say(f"Connectors: {connectors}; VK confirmation and Meta subscription check passed.")
            if stream is not None and ConnectorKind.X_STREAM in endpoints:
                say(
                    f"X filtered stream (API v2) at {stream.url}, rule {x_rule(accounts)!r}:"
                    " ingest's x_stream connector connects to it within seconds."
                )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not available off the main thread or on some platforms: Ctrl-C then just aborts.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
        try:
            events = take(Scenario(config).events(), duration=args.duration, count=args.count)
            stats = await play(
                http,
                events,
                endpoints=endpoints,
                accounts=accounts,
                secrets=secrets,
                epoch=time.time(),
                concurrency=args.concurrency,
                report=None if quiet else (lambda s, t: say(s.summary(t))),
                report_every=REPORT_EVERY_S,
                stop=stop,
                stream=stream,
                stream_grace_s=args.stream_grace,
            )
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
    say(f"Done: {stats.summary(stats.elapsed_s)}")
    return stats


def _intro(args: argparse.Namespace, config: ScenarioConfig, url: str) -> str:
    if args.duration is not None:
        until = f"for {args.duration:g} s"
    elif args.count is not None:
        until = f"for {args.count} events"
    else:
        until = "until Ctrl-C"
    burst = (
        f"negative burst x{config.burst_factor:g} at {config.burst_at:g}-"
        f"{config.burst_at + config.burst_for:g} s"
        if config.burst_for > 0 and config.burst_factor > 1
        else "no burst"
    )
    if args.duration is not None and config.burst_for > 0 and config.burst_at >= args.duration:
        burst += " (after the end: try --burst-at)"
    return (
        f"Simulating the networks of brand {args.brand!r} into {url}: {config.rate:g} events/s {until},"
        f" seed {config.seed}, {burst}."
    )
