"""The stack orchestrator without starting anything: port checks and each service's environment."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from smm_console.settings import ConsoleSettings
from smm_ingest.settings import IngestSettings
from smm_shared.localstack import LOCALHOST, StartupError, free_port
from smm_shared.stack import DEFAULT_PORTS, SERVICES, PortInUseError, Stack, StackConfig

pytestmark = pytest.mark.unit


def free_ports() -> dict[str, int]:
    return {name: free_port() for name in DEFAULT_PORTS}


@pytest.fixture
def config(tmp_path: Path) -> StackConfig:
    return StackConfig(data_dir=tmp_path / "data", ports=free_ports(), persistent_mongo=False)


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        sock.listen()
        yield sock


def test_check_ports_passes_when_every_port_is_free(config: StackConfig) -> None:
    Stack(config).check_ports()

    # Nothing was started or created by the check.
    assert not config.data_dir.exists()


def test_check_ports_names_the_busy_service_and_port(
    config: StackConfig, listening: socket.socket
) -> None:
    busy = listening.getsockname()[1]
    config.ports = {**config.ports, "ingest": busy}

    with pytest.raises(PortInUseError) as caught:
        Stack(config).check_ports()

    message = str(caught.value)
    assert f"ingest port {busy}" in message
    assert "kafka port" not in message
    assert "console port" not in message
    assert isinstance(caught.value, StartupError)


def test_check_ports_names_the_infrastructure_too(
    config: StackConfig, listening: socket.socket
) -> None:
    busy = listening.getsockname()[1]
    config.ports = {**config.ports, "mongo": busy}

    with pytest.raises(PortInUseError, match=f"mongo port {busy}"):
        Stack(config).check_ports()


def test_service_env_points_at_the_stacks_broker_database_and_keys(config: StackConfig) -> None:
    env = Stack(config).service_env("ingest")

    assert env["SMM_SERVICE_NAME"] == "smm-ingest"
    assert env["SMM_HTTP__HOST"] == LOCALHOST
    assert env["SMM_HTTP__PORT"] == str(config.ports["ingest"])
    assert env["SMM_KAFKA__BOOTSTRAP_SERVERS"] == f"{LOCALHOST}:{config.ports['kafka']}"
    assert (
        env["SMM_MONGO__URL"]
        == f"mongodb://{LOCALHOST}:{config.ports['mongo']}/?directConnection=true"
    )
    assert env["SMM_AUTH__JWKS_FILE"] == str(config.data_dir / "keys" / "jwks.json")
    assert env["OTEL_SERVICE_NAME"] == "smm-ingest"
    assert not any(name.startswith("SMM_SERVICES__") for name in env)


def test_console_gets_the_other_services_urls(config: StackConfig) -> None:
    env = Stack(config).service_env("console")

    for other in ("ingest", "responder", "publisher", "analytics"):
        assert env[f"SMM_SERVICES__{other.upper()}"] == f"http://{LOCALHOST}:{config.ports[other]}"


def test_caller_environment_is_inherited_but_the_stack_decides_addresses(
    config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stack inherits the caller's SMM_* tuning (SMM_TELEMETRY__LOG_LEVEL=DEBUG make run),
    # but never the caller's ports, broker, database or keys.
    monkeypatch.setenv("SMM_TELEMETRY__LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("SMM_KAFKA__BOOTSTRAP_SERVERS", "prod-kafka:9092")
    monkeypatch.setenv("SMM_MONGO__URL", "mongodb://prod-db:27017/")
    monkeypatch.setenv("SMM_HTTP__PORT", "80")
    monkeypatch.setenv("SMM_AUTH__JWKS_FILE", "/etc/prod/jwks.json")
    monkeypatch.setenv("SMM_SERVICE_NAME", "smm-prod")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "prod")
    monkeypatch.setenv("STACK_TEST_UNRELATED", "kept")

    env = Stack(config).service_env("responder")

    assert env["SMM_TELEMETRY__LOG_LEVEL"] == "DEBUG"
    assert env["STACK_TEST_UNRELATED"] == "kept"
    assert env["PATH"] == os.environ["PATH"]
    assert env["SMM_KAFKA__BOOTSTRAP_SERVERS"] == f"{LOCALHOST}:{config.ports['kafka']}"
    assert env["SMM_MONGO__URL"].startswith(f"mongodb://{LOCALHOST}:{config.ports['mongo']}/")
    assert env["SMM_HTTP__PORT"] == str(config.ports["responder"])
    assert env["SMM_AUTH__JWKS_FILE"] == str(config.keys_dir / "jwks.json")
    assert env["SMM_SERVICE_NAME"] == env["OTEL_SERVICE_NAME"] == "smm-responder"


def test_stack_env_applies_to_every_service_and_per_service_env_wins(
    config: StackConfig,
) -> None:
    config.env = {"OTEL_TRACES_SAMPLER": "always_on", "SMM_KAFKA__RETRY_BACKOFF_S": "0.05"}
    config.service_env = {
        "analytics": {"SMM_KAFKA__RETRY_BACKOFF_S": "0.5", "SMM_HTTP__PORT": "19999"}
    }
    stack = Stack(config)

    analytics, ingest = stack.service_env("analytics"), stack.service_env("ingest")

    assert analytics["OTEL_TRACES_SAMPLER"] == ingest["OTEL_TRACES_SAMPLER"] == "always_on"
    assert analytics["SMM_KAFKA__RETRY_BACKOFF_S"] == "0.5"
    assert ingest["SMM_KAFKA__RETRY_BACKOFF_S"] == "0.05"
    assert analytics["SMM_HTTP__PORT"] == "19999"
    assert ingest["SMM_HTTP__PORT"] == str(config.ports["ingest"])


def apply_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.startswith("SMM_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_the_environment_is_what_the_service_settings_read(
    config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_env(monkeypatch, Stack(config).service_env("ingest"))

    settings = IngestSettings()

    assert settings.http.port == config.ports["ingest"]
    assert settings.kafka.bootstrap_servers == f"{LOCALHOST}:{config.ports['kafka']}"
    assert settings.mongo.url.startswith(f"mongodb://{LOCALHOST}:{config.ports['mongo']}/")
    assert settings.mongo.database == "smm_ingest"
    assert settings.auth.jwks_file == config.data_dir / "keys" / "jwks.json"


def test_the_console_settings_read_the_service_urls(
    config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_env(monkeypatch, Stack(config).service_env("console"))

    services = ConsoleSettings().services

    assert services.ingest == config.url("ingest")
    assert services.responder == config.url("responder")
    assert services.publisher == config.url("publisher")
    assert services.analytics == config.url("analytics")


def test_default_config_uses_the_documented_ports(tmp_path: Path) -> None:
    config = StackConfig(data_dir=tmp_path)

    assert config.url("console") == "http://127.0.0.1:8000"
    assert config.url("analytics") == "http://127.0.0.1:8004"
    assert tuple(config.services) == SERVICES
    assert config.log_dir == tmp_path / "logs"
    assert config.keys_dir == tmp_path / "keys"
