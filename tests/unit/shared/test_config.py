"""Settings: SMM_ prefix, nested sections, required trust anchors and each service's defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from smm_analytics.settings import AnalyticsSettings
from smm_console.settings import ConsoleSettings
from smm_ingest.settings import IngestSettings
from smm_publisher.settings import PublisherSettings
from smm_responder.settings import ResponderSettings
from smm_shared.config import AuthSettings, BaseServiceSettings, KafkaSettings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SMM_* variable of the calling shell leaks into a test; JWKS file set by default."""
    for name in list(os.environ):
        if name.startswith("SMM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMM_AUTH__JWKS_FILE", "/keys/jwks.json")
    return monkeypatch


def test_auth_section_without_a_key_source_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SMM_AUTH__JWKS_FILE")
    monkeypatch.setenv("SMM_AUTH__ISSUER", "smm-local")

    with pytest.raises(ValidationError, match="SMM_AUTH__JWKS_FILE"):
        BaseServiceSettings()


def test_no_auth_variable_at_all_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMM_AUTH__JWKS_FILE")

    with pytest.raises(ValidationError, match="SMM_AUTH__JWKS_FILE"):
        BaseServiceSettings()


def test_jwks_file_comes_from_the_environment_as_a_path() -> None:
    settings = BaseServiceSettings()

    assert settings.auth.jwks_file == Path("/keys/jwks.json")
    assert settings.auth.jwks_url is None


def test_auth_given_in_code_needs_no_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # How tests and tools build settings: explicit sections, no environment.
    monkeypatch.delenv("SMM_AUTH__JWKS_FILE")

    settings = IngestSettings(auth=AuthSettings(jwks_file=Path("/k/jwks.json")))

    assert settings.auth.jwks_file == Path("/k/jwks.json")


def test_jwks_url_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMM_AUTH__JWKS_FILE")
    monkeypatch.setenv("SMM_AUTH__JWKS_URL", "https://idp.example/.well-known/jwks.json")

    settings = BaseServiceSettings()

    assert settings.auth.jwks_url == "https://idp.example/.well-known/jwks.json"
    assert settings.auth.jwks_file is None


def test_nested_variable_overrides_one_field_and_keeps_the_other_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMM_KAFKA__BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("SMM_KAFKA__MAX_HANDLER_ATTEMPTS", "5")

    kafka = BaseServiceSettings().kafka

    assert kafka.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert kafka.max_handler_attempts == 5
    assert kafka.default_partitions == KafkaSettings().default_partitions


def test_mongo_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_MONGO__URL", "mongodb://db:27017/")

    settings = IngestSettings()

    assert settings.mongo.url == "mongodb://db:27017/"
    # The database still defaults to the service's own.
    assert settings.mongo.database == "smm_ingest"


def test_database_defaults_to_the_service_name_with_underscores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMM_SERVICE_NAME", "smm-brand-watch")

    assert BaseServiceSettings().mongo.database == "smm_brand_watch"


def test_explicit_database_wins_over_the_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_MONGO__DATABASE", "shared_db")

    assert IngestSettings().mongo.database == "shared_db"


def test_heartbeat_above_a_third_of_the_session_timeout_is_rejected() -> None:
    with pytest.raises(ValidationError, match="heartbeat_interval_ms"):
        KafkaSettings(session_timeout_ms=10_000, heartbeat_interval_ms=3_334)


def test_heartbeat_of_exactly_a_third_is_accepted() -> None:
    kafka = KafkaSettings(session_timeout_ms=9_000, heartbeat_interval_ms=3_000)

    assert kafka.heartbeat_interval_ms * 3 == kafka.session_timeout_ms


def test_heartbeat_rule_applies_to_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_KAFKA__SESSION_TIMEOUT_MS", "6000")
    monkeypatch.setenv("SMM_KAFKA__HEARTBEAT_INTERVAL_MS", "2500")

    with pytest.raises(ValidationError, match="heartbeat_interval_ms"):
        BaseServiceSettings()


def test_log_level_is_upper_cased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_TELEMETRY__LOG_LEVEL", "debug")

    assert BaseServiceSettings().telemetry.log_level == "DEBUG"


def test_invalid_port_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_HTTP__PORT", "70000")

    with pytest.raises(ValidationError, match="port"):
        IngestSettings()


def test_settings_are_immutable() -> None:
    settings = BaseServiceSettings()

    with pytest.raises(ValidationError):
        settings.service_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings_class", "port", "database"),
    [
        (ConsoleSettings, 8000, "smm_console"),
        (IngestSettings, 8001, "smm_ingest"),
        (ResponderSettings, 8002, "smm_responder"),
        (PublisherSettings, 8003, "smm_publisher"),
        (AnalyticsSettings, 8004, "smm_analytics"),
    ],
)
def test_each_service_has_its_own_port_and_database(
    settings_class: type[BaseServiceSettings], port: int, database: str
) -> None:
    settings = settings_class()

    assert settings.http.port == port
    assert settings.mongo.database == database
    assert settings.service_name == database.replace("_", "-")


def test_port_variable_overrides_the_service_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_HTTP__PORT", "18001")

    assert IngestSettings().http.port == 18001


@pytest.mark.parametrize(
    ("settings_class", "port"),
    [
        (ConsoleSettings, 8000),
        (IngestSettings, 8001),
        (ResponderSettings, 8002),
        (PublisherSettings, 8003),
        (AnalyticsSettings, 8004),
    ],
)
def test_host_variable_alone_keeps_the_service_default_port(
    monkeypatch: pytest.MonkeyPatch, settings_class: type[BaseServiceSettings], port: int
) -> None:
    # A partial http section from the environment must not fall back to the base class's
    # port: every service would then listen on 8000.
    monkeypatch.setenv("SMM_HTTP__HOST", "0.0.0.0")

    settings = settings_class()

    assert settings.http.host == "0.0.0.0"
    assert settings.http.port == port


def test_console_service_urls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_SERVICES__INGEST", "http://ingest:8001")

    services = ConsoleSettings().services

    assert services.ingest == "http://ingest:8001"
    assert services.analytics == "http://127.0.0.1:8004"


def test_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_NOT_A_SETTING", "x")

    settings = BaseServiceSettings()

    assert not hasattr(settings, "not_a_setting")
