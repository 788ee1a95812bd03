"""Ingest settings."""

from __future__ import annotations

from smm_shared.config import BaseServiceSettings, HttpSettings


class IngestSettings(BaseServiceSettings):
    """Settings of the ingest service (``SMM_*`` variables)."""

    service_name: str = "smm-ingest"
    http: HttpSettings = HttpSettings(port=8001)
