"""Responder settings."""

from __future__ import annotations

from pydantic import Field

from smm_shared.config import BaseServiceSettings, HttpSettings


class ResponderHttp(HttpSettings):
    """The responder service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8002, ge=0, le=65535)


class ResponderSettings(BaseServiceSettings):
    """Settings of the responder service (``SMM_*`` variables)."""

    service_name: str = "smm-responder"
    http: ResponderHttp = ResponderHttp()
