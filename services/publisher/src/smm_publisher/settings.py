"""Publisher settings."""

from __future__ import annotations

from smm_shared.config import BaseServiceSettings, HttpSettings


class PublisherSettings(BaseServiceSettings):
    """Settings of the publisher service (``SMM_*`` variables)."""

    service_name: str = "smm-publisher"
    http: HttpSettings = HttpSettings(port=8003)
