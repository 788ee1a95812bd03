"""Settings base shared by every service: nested sections, ``SMM_`` prefix, ``__`` delimiter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseModel):
    """Kafka connection and consumer tuning."""

    bootstrap_servers: str = "127.0.0.1:9092"
    #: Partitions for topics this process creates at start-up (the unit of parallelism).
    default_partitions: int = Field(default=12, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    #: Largest message we publish or accept; Tansu enforces none, so we do (LOCAL-INFRA.md).
    max_message_bytes: int = Field(default=1_000_000, ge=1024)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    #: How long a fetch may wait for data. Bounds pick-up latency on brokers that answer a
    #: multi-partition fetch late (measured on Tansu: see docs/performance.md).
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)
    #: Attempts of a failing handler before the message is dead-lettered.
    max_handler_attempts: int = Field(default=3, ge=1)
    retry_backoff_s: float = Field(default=0.2, ge=0)

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> KafkaSettings:
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError(
                "kafka.heartbeat_interval_ms must be at most a third of session_timeout_ms"
            )
        return self


class MongoSettings(BaseModel):
    """MongoDB connection; each service owns one database."""

    url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    database: str = ""
    server_selection_timeout_ms: int = Field(default=5_000, ge=100)


class HttpSettings(BaseModel):
    """Where the service's HTTP API listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


class AuthSettings(BaseModel):
    """Token verification: public keys only; a service never holds a signing key."""

    #: JWKS document (a file path) holding the issuers' public keys. No default: secrets and
    #: trust anchors come from the environment (``SMM_AUTH__JWKS_FILE``).
    jwks_file: Path | None = None
    #: Or a JWKS URL (an OIDC provider's ``jwks_uri``).
    jwks_url: str | None = None
    issuer: str = "smm-local"
    audience: str = "smm-platform"
    leeway_s: int = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _one_key_source(self) -> AuthSettings:
        if self.jwks_file is None and self.jwks_url is None:
            raise ValueError(
                "auth needs public keys: set SMM_AUTH__JWKS_FILE (make run writes .data/keys/jwks.json)"
                " or SMM_AUTH__JWKS_URL"
            )
        return self


class TelemetrySettings(BaseModel):
    """Logging; traces and metrics export is configured with the standard OTEL_* variables."""

    log_level: str = "INFO"
    json_logs: bool = True

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class BaseServiceSettings(BaseSettings):
    """Settings every service has; subclasses add their own sections and defaults."""

    model_config = SettingsConfigDict(
        env_prefix="SMM_",
        env_nested_delimiter="__",
        env_file=None,
        extra="ignore",
        frozen=True,
    )

    service_name: str = "smm"
    environment: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    http: HttpSettings = HttpSettings()
    auth: AuthSettings
    telemetry: TelemetrySettings = TelemetrySettings()

    @model_validator(mode="before")
    @classmethod
    def _auth_section_present(cls, data: Any) -> Any:
        # With no SMM_AUTH__* variable at all, validate an empty section so the error names
        # the variable to set instead of a bare "Field required".
        if isinstance(data, dict) and "auth" not in data:
            return {**data, "auth": {}}
        return data

    @model_validator(mode="after")
    def _default_database(self) -> BaseServiceSettings:
        if not self.mongo.database:
            # One database per service unless told otherwise.
            object.__setattr__(
                self,
                "mongo",
                self.mongo.model_copy(update={"database": self.service_name.replace("-", "_")}),
            )
        return self
