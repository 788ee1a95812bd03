"""The whole platform as local processes: broker, database and every service.

``smm dev`` (``make run``) runs it on fixed ports with file-backed data under ``.data/``;
the end-to-end tests run it on free ports with in-memory data. Same code, same behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from smm_shared.auth import ensure_dev_keys
from smm_shared.config import KafkaSettings
from smm_shared.events import ALL_TOPICS
from smm_shared.localstack import (
    LOCALHOST,
    ManagedProcess,
    StartupError,
    http_ok,
    mongo_url,
    port_in_use,
    start_kafka,
    start_mongo,
    start_service,
)
from smm_shared.messaging import ensure_topics

logger = logging.getLogger(__name__)

SERVICES: tuple[str, ...] = ("ingest", "responder", "publisher", "analytics", "console")
DEFAULT_PORTS: Mapping[str, int] = {
    "console": 8000,
    "ingest": 8001,
    "responder": 8002,
    "publisher": 8003,
    "analytics": 8004,
    "kafka": 9092,
    "mongo": 27017,
    #: The fake networks the demo brand's publishing accounts post to (``smm dev``).
    "networks": 8090,
}


#: The console's first admin in a local stack; its password is in ``<keys>/console-admin``.
FIRST_ADMIN_EMAIL = "admin@demo.local"


def ensure_admin_password(keys_dir: Path) -> str:
    """The local first admin's password: generated once, kept (0600) with the dev keys."""
    path = keys_dir / "console-admin"
    if not path.is_file():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(18) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_secrets_key(keys_dir: Path) -> str:
    """The local stack's key for connector secrets (``keys/secrets.key``, 0600), made once."""
    path = keys_dir / "secrets.key"
    if not path.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return path.read_text().strip()


class PortInUseError(StartupError):
    """A port the stack needs is taken."""


@dataclass
class StackConfig:
    """Where the stack keeps its data and which ports it uses."""

    data_dir: Path
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    services: Sequence[str] = SERVICES
    persistent_mongo: bool = True
    #: Extra environment for every service process (e.g. OTEL_* or test tuning).
    env: Mapping[str, str] = field(default_factory=dict)
    #: Extra environment per service.
    service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ready_timeout_s: float = 90.0

    @property
    def log_dir(self) -> Path:
        """Where every process writes its log."""
        return self.data_dir / "logs"

    @property
    def keys_dir(self) -> Path:
        """The dev signing key and the JWKS the services trust."""
        return self.data_dir / "keys"

    def url(self, service: str) -> str:
        """The base URL of a service."""
        return f"http://{LOCALHOST}:{self.ports[service]}"


class Stack:
    """Starts and stops the platform's processes in order; stop() leaves no orphans."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.kafka: ManagedProcess | None = None
        self.mongo: ManagedProcess | None = None
        self.processes: dict[str, ManagedProcess] = {}

    @property
    def bootstrap_servers(self) -> str:
        """The broker address."""
        return f"{LOCALHOST}:{self.config.ports['kafka']}"

    @property
    def mongo_url(self) -> str:
        """The database address."""
        return mongo_url(self.config.ports["mongo"])

    def check_ports(self) -> None:
        """Fail with a message naming each port already in use."""
        names = ["kafka", "mongo", *self.config.services]
        busy = [
            f"{name} port {self.config.ports[name]}"
            for name in names
            # Services are uvicorn servers: they bind with SO_REUSEADDR.
            if port_in_use(self.config.ports[name], reuse_address=name in self.config.services)
        ]
        if busy:
            raise PortInUseError(
                "already in use: "
                + ", ".join(busy)
                + ". Stop whatever holds them (another `make run`?) "
                "or choose other ports (e.g. SMM_KAFKA_PORT=19092 make run)."
            )

    def service_env(self, service: str) -> dict[str, str]:
        """The environment a service process starts with."""
        cfg = self.config
        # Inherit the caller's environment (SMM_TELEMETRY__LOG_LEVEL=DEBUG make run works);
        # what the stack must decide (ports, addresses, keys) overrides it.
        env = dict(os.environ)
        env.update(
            {
                "SMM_SERVICE_NAME": f"smm-{service}",
                "SMM_HTTP__HOST": LOCALHOST,
                "SMM_HTTP__PORT": str(cfg.ports[service]),
                "SMM_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap_servers,
                "SMM_MONGO__URL": self.mongo_url,
                # One database per service, whatever the caller's environment says.
                "SMM_MONGO__DATABASE": f"smm_{service}",
                "SMM_AUTH__JWKS_FILE": str(cfg.keys_dir / "jwks.json"),
                "SMM_DATA_DIR": str(cfg.data_dir),
                "OTEL_SERVICE_NAME": f"smm-{service}",
            }
        )
        if service in ("ingest", "publisher"):
            env["SMM_SECRETS_KEY"] = ensure_secrets_key(cfg.keys_dir)
        if service == "console":
            for other in ("ingest", "responder", "publisher", "analytics"):
                if other in cfg.ports:
                    env[f"SMM_SERVICES__{other.upper()}"] = cfg.url(other)
            # Plain HTTP on 127.0.0.1: the session cookie cannot be Secure here.
            env["SMM_SESSION__COOKIE_SECURE"] = "false"
            env["SMM_SESSION__SIGNING_KEY_DIR"] = str(cfg.keys_dir)
            env["SMM_SESSION__FIRST_ADMIN_EMAIL"] = FIRST_ADMIN_EMAIL
            env["SMM_SESSION__FIRST_ADMIN_PASSWORD"] = ensure_admin_password(cfg.keys_dir)
            env["SMM_SESSION__FIRST_ADMIN_BRAND"] = "demo"
        env.update(cfg.env)
        env.update(cfg.service_env.get(service, {}))
        return env

    def start(self) -> None:
        """Start broker, database and services; wait until every service is ready."""
        cfg = self.config
        self.check_ports()
        cfg.log_dir.mkdir(parents=True, exist_ok=True)
        ensure_dev_keys(cfg.keys_dir)
        try:
            self.kafka = start_kafka(port=cfg.ports["kafka"], log_path=cfg.log_dir / "kafka.log")
            self.mongo = start_mongo(
                port=cfg.ports["mongo"],
                data_dir=cfg.data_dir / "mongo" if cfg.persistent_mongo else None,
                log_dir=cfg.log_dir,
            )
            # Topics first, once: services then find them and never race to create them.
            # On a thread of its own: start() may be called from code running an event loop.
            with ThreadPoolExecutor(max_workers=1) as one:
                topics = ensure_topics(
                    KafkaSettings(bootstrap_servers=self.bootstrap_servers), ALL_TOPICS
                )
                one.submit(asyncio.run, topics).result()
            for service in cfg.services:
                self.processes[service] = start_service(
                    service,
                    env=self.service_env(service),
                    port=cfg.ports[service],
                    log_path=cfg.log_dir / f"{service}.log",
                    wait=False,
                )
            with ThreadPoolExecutor(max_workers=len(cfg.services) or 1) as pool:
                for wait in [pool.submit(self._wait_ready, s) for s in cfg.services]:
                    wait.result()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, service: str) -> None:
        url = f"{self.config.url(service)}/health/ready"
        self.processes[service].wait_ready(
            lambda: http_ok(url), timeout_s=self.config.ready_timeout_s
        )

    def restart_service(self, service: str, *, kill: bool = False) -> ManagedProcess:
        """Stop (or SIGKILL) one service and start it again, waiting until it is ready."""
        proc = self.processes[service]
        if kill:
            proc.kill()
        else:
            proc.stop()
        self.processes[service] = start_service(
            service,
            env=self.service_env(service),
            port=self.config.ports[service],
            log_path=self.config.log_dir / f"{service}.log",
            timeout_s=self.config.ready_timeout_s,
        )
        return self.processes[service]

    def stop(self) -> None:
        """Stop services first (they flush and commit), then the database and the broker."""
        for proc in reversed(list(self.processes.values())):
            proc.stop()
        self.processes.clear()
        for infra in (self.mongo, self.kafka):
            if infra is not None:
                infra.stop()
        self.mongo = self.kafka = None
