"""Responder settings."""

from __future__ import annotations

from smm_shared.config import BaseServiceSettings, HttpSettings


class ResponderSettings(BaseServiceSettings):
    """Settings of the responder service (``SMM_*`` variables)."""

    service_name: str = "smm-responder"
    http: HttpSettings = HttpSettings(port=8002)
