"""Analytics settings."""

from __future__ import annotations

from pydantic import Field

from smm_shared.config import BaseServiceSettings, HttpSettings


class AnalyticsHttp(HttpSettings):
    """The analytics service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8004, ge=0, le=65535)


class AnalyticsSettings(BaseServiceSettings):
    """Settings of the analytics service (``SMM_*`` variables)."""

    service_name: str = "smm-analytics"
    http: AnalyticsHttp = AnalyticsHttp()
