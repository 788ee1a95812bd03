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
    #: How long a replica holds a claimed SLA timer before another may fire it
    #: (``SMM_TIMER_LEASE_S``): the longest a dead replica delays its timers.
    timer_lease_s: float = Field(default=10.0, gt=1, le=300)
    #: The longest the timer loop sleeps (``SMM_TIMER_MAX_IDLE_S``): how late a timer armed
    #: by another replica can be noticed. Keep it well under a second.
    timer_max_idle_s: float = Field(default=0.25, gt=0, le=5)
    #: How often the inbox counters are recounted from the cases (``SMM_RECOUNT_INTERVAL_S``).
    recount_interval_s: float = Field(default=900.0, ge=10)
