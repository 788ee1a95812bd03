"""Analytics settings."""

from __future__ import annotations

from smm_shared.config import BaseServiceSettings, HttpSettings


class AnalyticsSettings(BaseServiceSettings):
    """Settings of the analytics service (``SMM_*`` variables)."""

    service_name: str = "smm-analytics"
    http: HttpSettings = HttpSettings(port=8004)
