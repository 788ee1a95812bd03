"""Ingest settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from smm_shared.config import BaseServiceSettings, HttpSettings


class IngestHttp(HttpSettings):
    """The ingest service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8001, ge=0, le=65535)


class IngestSettings(BaseServiceSettings):
    """Settings of the ingest service (``SMM_*`` variables)."""

    service_name: str = "smm-ingest"
    http: IngestHttp = IngestHttp()
    #: Fernet key that encrypts connector secrets stored by value (``SMM_SECRETS_KEY``).
    #: Without it, connectors can only reference secrets held in environment variables.
    secrets_key: SecretStr | None = None
    #: How long raw webhook deliveries are kept for audit (``SMM_RAW_RETENTION_DAYS``).
    raw_retention_days: int = Field(default=30, ge=1, le=3650)
    #: A directory with an ONNX sentiment model for more languages (``SMM_SENTIMENT_MODELS_DIR``).
    sentiment_models_dir: Path | None = None
    #: Load language models at start-up instead of on the first mention (``SMM_PRELOAD_LANGUAGE_MODELS``).
    preload_language_models: bool = False
