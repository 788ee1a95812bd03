"""Publisher settings."""

from __future__ import annotations

from pydantic import Field

from smm_shared.config import BaseServiceSettings, HttpSettings


class PublisherHttp(HttpSettings):
    """The publisher service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8003, ge=0, le=65535)


class PublisherSettings(BaseServiceSettings):
    """Settings of the publisher service (``SMM_*`` variables)."""

    service_name: str = "smm-publisher"
    http: PublisherHttp = PublisherHttp()
