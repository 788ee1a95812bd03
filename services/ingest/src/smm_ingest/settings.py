"""Ingest settings."""

from __future__ import annotations

from pydantic import Field

from smm_shared.config import BaseServiceSettings, HttpSettings


class IngestHttp(HttpSettings):
    """The ingest service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8001, ge=0, le=65535)


class IngestSettings(BaseServiceSettings):
    """Settings of the ingest service (``SMM_*`` variables)."""

    service_name: str = "smm-ingest"
    http: IngestHttp = IngestHttp()
