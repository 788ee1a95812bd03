"""Console settings."""

from __future__ import annotations

from pydantic import BaseModel, Field

from smm_shared.config import BaseServiceSettings, HttpSettings


class ServiceUrls(BaseModel):
    """Where the console reaches the other services' HTTP APIs."""

    ingest: str = "http://127.0.0.1:8001"
    responder: str = "http://127.0.0.1:8002"
    publisher: str = "http://127.0.0.1:8003"
    analytics: str = "http://127.0.0.1:8004"


class ConsoleHttp(HttpSettings):
    """The console service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8000, ge=0, le=65535)


class ConsoleSettings(BaseServiceSettings):
    """Settings of the console backend (``SMM_*`` variables)."""

    service_name: str = "smm-console"
    http: ConsoleHttp = ConsoleHttp()
    services: ServiceUrls = ServiceUrls()
