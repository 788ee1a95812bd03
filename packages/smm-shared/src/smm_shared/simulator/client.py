"""The simulator as a black-box HTTP client of ingest: set up connectors, then play the webhooks
and hand X posts to the simulated filtered stream that ingest's ``x_stream`` connector reads.

Connectors are found by name and reused, so re-runs do not pile them up. Their secrets are
never returned by the API, so they are derived from a local seed (``derive_secrets``) and set
again on every run: for a reused connector that is a rotation to the same values. The X
connector is pointed at this run's stream server (a new port each run) the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from smm_shared.simulator.payloads import (
    JSON,
    Accounts,
    ConnectorKind,
    Delivery,
    WebhookSecrets,
    delivery,
    meta_handshake_params,
    tweet,
    vk_confirmation_body,
)
from smm_shared.simulator.scenario import Network, SimEvent
from smm_shared.simulator.x_stream import StreamCounts, XStreamServer

CONNECTOR_NAMES: Final[Mapping[ConnectorKind, str]] = {
    ConnectorKind.VK: "Simulated VK community",
    ConnectorKind.META: "Simulated Facebook page + Instagram account",
    ConnectorKind.TELEGRAM: "Simulated Telegram bot",
    ConnectorKind.X_STREAM: "Simulated X stream",
}
#: The tag of the X connector's one rule; ingest puts its ``smm:`` prefix in front on X.
X_RULE_TAG: Final = "brand"
#: How long a run waits at its end for ingest to read the X posts still queued (seconds).
STREAM_GRACE_S: Final = 10.0
#: How often a waiting sender looks at the stop flag (seconds of real time).
STOP_POLL_S: Final = 0.2
#: VK retries a delivery unless the answer is exactly this.
VK_OK: Final = "ok"


class SetupError(Exception):
    """The connectors could not be set up; the message says what ingest answered."""


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A connector the simulator needs: kind, name, configuration and secret values."""

    kind: ConnectorKind
    name: str
    config: Mapping[str, object]
    secrets: Mapping[str, str]

    def fields(self) -> dict[str, object]:
        """The body fields shared by create and update (secrets as ``{"value": ...}``)."""
        return {
            "config": dict(self.config),
            "secrets": {name: {"value": value} for name, value in self.secrets.items()},
            "enabled": True,
        }


def x_rule(accounts: Accounts) -> str:
    """The X connector's rule: posts that mention the brand's account or name it."""
    return f"@{accounts.x_username} OR {accounts.x_username}"


def connector_specs(
    accounts: Accounts, secrets: WebhookSecrets, *, x_stream_url: str | None = None
) -> tuple[ConnectorSpec, ...]:
    """The demo connectors: a VK community, a Facebook page + Instagram, a Telegram bot, and
    with ``x_stream_url`` (the simulated X API) an X filtered stream."""
    x_stream = (
        ConnectorSpec(
            ConnectorKind.X_STREAM,
            CONNECTOR_NAMES[ConnectorKind.X_STREAM],
            {
                "user_id": accounts.x_user_id,
                "api_base_url": x_stream_url,
                "rules": [{"value": x_rule(accounts), "tag": X_RULE_TAG}],
            },
            {"bearer_token": secrets.x_bearer_token},
        ),
    )
    return (
        ConnectorSpec(
            ConnectorKind.VK,
            CONNECTOR_NAMES[ConnectorKind.VK],
            {"group_id": accounts.vk_group_id, "confirmation": accounts.vk_confirmation},
            {"secret": secrets.vk_secret},
        ),
        ConnectorSpec(
            ConnectorKind.META,
            CONNECTOR_NAMES[ConnectorKind.META],
            {
                "page_ids": [accounts.facebook_page_id],
                "instagram_account_ids": [accounts.instagram_account_id],
            },
            {"app_secret": secrets.meta_app_secret, "verify_token": secrets.meta_verify_token},
        ),
        ConnectorSpec(
            ConnectorKind.TELEGRAM,
            CONNECTOR_NAMES[ConnectorKind.TELEGRAM],
            {
                "bot_id": str(accounts.telegram_bot_id),
                "bot_username": accounts.telegram_bot_username,
            },
            {"secret_token": secrets.telegram_secret_token},
        ),
    ) + (x_stream if x_stream_url is not None else ())


def derive_secrets(seed: bytes, brand: str) -> WebhookSecrets:
    """Connector secrets as HMACs of a local seed, so every run with that seed signs alike."""

    def one(kind: ConnectorKind, name: str) -> str:
        label = f"smm-simulator/{brand}/{CONNECTOR_NAMES[kind]}/{name}".encode()
        # 48 hex digits: within VK's 50-character limit and Telegram's [A-Za-z0-9_-]{1,256}.
        return hmac.new(seed, label, hashlib.sha256).hexdigest()[:48]

    return WebhookSecrets(
        vk_secret=one(ConnectorKind.VK, "secret"),
        meta_app_secret=one(ConnectorKind.META, "app_secret"),
        meta_verify_token=one(ConnectorKind.META, "verify_token"),
        telegram_secret_token=one(ConnectorKind.TELEGRAM, "secret_token"),
        x_bearer_token=one(ConnectorKind.X_STREAM, "bearer_token"),
    )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one connector's webhooks go (None: it reads the network), and whether this run
    created the connector."""

    kind: ConnectorKind
    connector_id: str
    path: str | None
    created: bool


class _ConnectorOut(BaseModel):
    """The fields of ingest's ``ConnectorOut`` the simulator reads."""

    model_config = ConfigDict(extra="ignore")
    id: str
    kind: str
    name: str
    webhook_path: str | None


_ONE: Final = TypeAdapter(_ConnectorOut)
_MANY: Final = TypeAdapter(list[_ConnectorOut])


async def ensure_connectors(
    http: httpx.AsyncClient,
    *,
    brand: str,
    token: str,
    accounts: Accounts,
    secrets: WebhookSecrets,
    x_stream_url: str | None = None,
) -> dict[ConnectorKind, Endpoint]:
    """Create the demo connectors, or reuse (and re-key) those a previous run created; with
    ``x_stream_url``, the X connector too, pointed at that simulated X API."""
    auth = {"Authorization": f"Bearer {token}"}
    try:
        listed = await http.get("/v1/connectors", params={"brand_id": brand}, headers=auth)
        existing = {c.name: c for c in _MANY.validate_python(_json(listed, 200, "list connectors"))}
        endpoints: dict[ConnectorKind, Endpoint] = {}
        for spec in connector_specs(accounts, secrets, x_stream_url=x_stream_url):
            found = existing.get(spec.name)
            if found is None:
                response = await http.post(
                    "/v1/connectors",
                    json={"brand_id": brand, "kind": spec.kind.value, "name": spec.name}
                    | spec.fields(),
                    headers=auth,
                )
                body = _json(response, 201, f"create the {spec.kind} connector")
            elif found.kind != spec.kind.value:
                raise SetupError(
                    f"connector {spec.name!r} ({found.id}) is a {found.kind} connector,"
                    f" not {spec.kind}; rename or delete it"
                )
            else:
                response = await http.patch(
                    f"/v1/connectors/{found.id}", json=spec.fields(), headers=auth
                )
                body = _json(response, 200, f"update the {spec.kind} connector")
            out = _ONE.validate_python(body)
            endpoints[spec.kind] = Endpoint(spec.kind, out.id, out.webhook_path, found is None)
    except httpx.HTTPError as exc:
        raise SetupError(f"cannot reach ingest at {http.base_url}: {exc!r}") from exc
    except ValueError as exc:  # not JSON, or pydantic's ValidationError
        raise SetupError(f"unexpected connector JSON from ingest: {exc}") from exc
    return endpoints


async def confirm_endpoints(
    http: httpx.AsyncClient,
    endpoints: Mapping[ConnectorKind, Endpoint],
    *,
    accounts: Accounts,
    secrets: WebhookSecrets,
) -> None:
    """Do what the networks do before the first delivery: VK's confirmation, Meta's check."""
    try:
        response = await http.post(
            _webhook(endpoints, ConnectorKind.VK),
            content=vk_confirmation_body(accounts),
            headers={"Content-Type": JSON},
        )
        if response.status_code != 200 or response.text != accounts.vk_confirmation:
            raise SetupError(
                f"VK confirmation: expected {accounts.vk_confirmation!r}, got"
                f" {response.status_code} {response.text[:200]!r}"
            )
        challenge = str(int.from_bytes(os.urandom(4), "big"))
        response = await http.get(
            _webhook(endpoints, ConnectorKind.META),
            params=meta_handshake_params(secrets.meta_verify_token, challenge),
        )
        if response.status_code != 200 or response.text != challenge:
            raise SetupError(
                f"Meta subscription check: expected the challenge back, got"
                f" {response.status_code} {response.text[:200]!r}"
            )
    except httpx.HTTPError as exc:
        raise SetupError(f"cannot reach ingest at {http.base_url}: {exc!r}") from exc


def _webhook(endpoints: Mapping[ConnectorKind, Endpoint], kind: ConnectorKind) -> str:
    path = endpoints[kind].path
    if path is None:
        raise SetupError(f"ingest gave the {kind} connector no webhook path")
    return path


def _json(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SetupError(
            f"could not {what}: HTTP {response.status_code} {_error_code(response)}".rstrip()
        )
    return response.json()


def _error_code(response: httpx.Response) -> str:
    """The ``error.code`` of the platform's error shape, or "" when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else ""


# -- playing --------------------------------------------------------------------------------------


class Clock(Protocol):
    """Time for the sender: real in a run, virtual in tests."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class MonotonicClock:
    """The real clock."""

    def now(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(max(0.0, seconds))


@dataclass(slots=True)
class Stats:
    """What happened to the deliveries: per network, refusals by code, ack latencies, and what
    became of the posts given to the X stream."""

    sent: Counter[Network] = field(default_factory=Counter)  # X: posts given to the stream
    accepted: Counter[Network] = field(default_factory=Counter)  # webhooks acknowledged
    refused: Counter[str] = field(default_factory=Counter)  # "403 webhook.bad_secret"
    failed: Counter[str] = field(default_factory=Counter)  # transport errors by type
    latencies_ms: list[float] = field(default_factory=list)
    max_lag_s: float = 0.0
    elapsed_s: float = 0.0
    stream: StreamCounts | None = None  # the X stream's own counts, live
    finished: bool = False  # the run is over: what the stream still holds is not delivered

    @property
    def ok(self) -> bool:
        """Whether every webhook was acknowledged and every X post read off the stream."""
        streamed = self.stream is None or self.stream.undelivered == 0
        return not self.refused and not self.failed and streamed

    @property
    def accepted_total(self) -> int:
        """Webhooks acknowledged plus X posts read off the stream."""
        return sum(self.accepted.values()) + (self.stream.delivered if self.stream else 0)

    def record(self, sent: Delivery, response: httpx.Response, latency_ms: float) -> None:
        """Count one answer."""
        self.latencies_ms.append(latency_ms)
        if response.is_success:
            if sent.network is Network.VK and response.text != VK_OK:
                self.refused[f"{response.status_code} vk.not_ok"] += 1
            else:
                self.accepted[sent.network] += 1
            return
        code = _error_code(response) or "-"
        self.refused[f"{response.status_code} {code}"] += 1

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q``-th percentile of the ack latencies (ms), None before any."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    def summary(self, elapsed: float) -> str:
        """One line: sent per network, accepted, refused with codes, the X stream, ack p50/p99."""
        total = sum(self.sent.values())
        per_network = ", ".join(f"{n.value} {self.sent[n]}" for n in Network)
        rate = total / elapsed if elapsed > 0 else 0.0
        parts = [
            f"[{elapsed:6.1f}s] sent {total} ({rate:.1f}/s: {per_network})",
            f"accepted {self.accepted_total}",
            f"refused {sum(self.refused.values())}{_details(self.refused)}",
        ]
        if self.stream is not None:
            parts.append(self._stream_part(self.stream))
        if self.failed:
            parts.append(f"errors {sum(self.failed.values())}{_details(self.failed)}")
        p50, p99 = self.percentile(50), self.percentile(99)
        parts.append(f"ack p50 {_ms(p50)}, p99 {_ms(p99)}")
        if self.max_lag_s >= 1.0:
            parts.append(f"behind schedule by up to {self.max_lag_s:.1f}s")
        return " · ".join(parts)

    def _stream_part(self, counts: StreamCounts) -> str:
        text = f"x stream {counts.delivered} read"
        if self.finished and counts.undelivered:
            text += f", {counts.undelivered} not delivered"
        elif counts.waiting:
            text += f", {counts.waiting} waiting"
        details = []
        if counts.dropped:
            details.append(f"{counts.dropped} dropped from the full queue")
        if counts.unmatched:
            details.append(f"{counts.unmatched} matched no rule")
        if details:
            text += f" ({', '.join(details)})"
        if counts.waiting or (self.finished and counts.undelivered):
            if counts.connections == 0:
                text += "; ingest has not connected to it"
            elif not counts.connected and not self.finished:
                text += "; ingest is not connected now"
        return text


def _details(counts: Counter[str]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"{what} ×{n}" for what, n in counts.most_common()) + ")"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


async def play(
    http: httpx.AsyncClient,
    events: Iterable[SimEvent],
    *,
    endpoints: Mapping[ConnectorKind, Endpoint],
    accounts: Accounts,
    secrets: WebhookSecrets,
    epoch: float,
    clock: Clock | None = None,
    concurrency: int = 16,
    report: Callable[[Stats, float], None] | None = None,
    report_every: float = 10.0,
    stop: asyncio.Event | None = None,
    stream: XStreamServer | None = None,
    stream_grace_s: float = STREAM_GRACE_S,
) -> Stats:
    """Send each event when it is due, at most ``concurrency`` at once; the counts at the end.

    ``epoch`` is the unix time of scenario time 0 (payload timestamps); ``report`` is called
    about every ``report_every`` seconds; setting ``stop`` ends the run after in-flight sends.
    X posts go to ``stream`` when due (never waiting for a reader); at the end the run waits
    up to ``stream_grace_s`` (real time) for the stream's client to read what is queued.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    clock = clock or MonotonicClock()
    stats = Stats(stream=stream.counts if stream is not None else None)
    slots = asyncio.Semaphore(concurrency)
    in_flight: set[asyncio.Task[None]] = set()
    start = clock.now()
    next_report = report_every
    for event in events:
        while True:
            if stop is not None and stop.is_set():
                break
            now = clock.now() - start
            if report is not None and now >= next_report:
                report(stats, now)
                while next_report <= now:
                    next_report += report_every
            if now >= event.at:
                break
            wake = min(event.at, next_report) if report is not None else event.at
            wait = wake - now
            await clock.sleep(min(wait, STOP_POLL_S) if stop is not None else wait)
        if stop is not None and stop.is_set():
            break
        if event.network is Network.X:
            if stream is None:
                raise ValueError("an X event needs the stream (a scenario without X: play_x=False)")
            stats.max_lag_s = max(stats.max_lag_s, clock.now() - start - event.at)
            stream.publish(tweet(event, accounts=accounts, epoch=epoch))
            stats.sent[Network.X] += 1
            continue
        # Back-pressure: when ingest is slower than the rate, the schedule slips (reported).
        await slots.acquire()
        stats.max_lag_s = max(stats.max_lag_s, clock.now() - start - event.at)
        sent = delivery(event, accounts=accounts, secrets=secrets, epoch=epoch)
        stats.sent[sent.network] += 1
        task = asyncio.create_task(
            _send(http, _webhook(endpoints, sent.connector), sent, stats, slots)
        )
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
    stats.elapsed_s = clock.now() - start
    if stream is not None and not (stop is not None and stop.is_set()):
        await _drain(stream, stream_grace_s, stop)
    stats.finished = True
    return stats


async def _drain(stream: XStreamServer, grace_s: float, stop: asyncio.Event | None) -> None:
    """Give the stream's client up to ``grace_s`` to read what is queued; ``stop`` cuts it short."""
    draining = asyncio.ensure_future(stream.drain(grace_s))
    waits: set[asyncio.Future[Any]] = {draining}
    if stop is not None:
        waits.add(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _send(
    http: httpx.AsyncClient,
    path: str,
    sent: Delivery,
    stats: Stats,
    slots: asyncio.Semaphore,
) -> None:
    try:
        started = time.perf_counter()
        try:
            response = await http.post(path, content=sent.body, headers=dict(sent.headers))
        except httpx.HTTPError as exc:
            stats.failed[type(exc).__name__] += 1
            return
        stats.record(sent, response, (time.perf_counter() - started) * 1000)
    finally:
        slots.release()
