"""Analytics settings."""

from __future__ import annotations

from pydantic import BaseModel, Field

from smm_shared.config import BaseServiceSettings, HttpSettings


class AnalyticsHttp(HttpSettings):
    """The analytics service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8004, ge=0, le=65535)


class RollupSettings(BaseModel):
    """Write-time rollups (``SMM_ROLLUPS__*``)."""

    #: Events folded per consumed batch (one bulk write per batch).
    batch_max_records: int = Field(default=500, ge=1, le=10_000)
    #: How often each replica rolls dirty complete days from their hours.
    roll_every_s: float = Field(default=300.0, gt=0)
    #: How often hours and days past their retention are swept.
    sweep_every_s: float = Field(default=3600.0, gt=0)
    #: How long the processed-event ledger remembers an event: keep it longer than the
    #: topics' retention (7 days), or a replay of older messages would count them again.
    ledger_retention_days: int = Field(default=30, ge=8, le=3650)


class AlertSettings(BaseModel):
    """Trend and crisis alerts (``SMM_ALERTS__*``)."""

    #: Seconds after the hour before it is evaluated, so late events are in.
    evaluation_lag_s: float = Field(default=120.0, ge=0, le=3000)


class AnalyticsSettings(BaseServiceSettings):
    """Settings of the analytics service (``SMM_*`` variables)."""

    service_name: str = "smm-analytics"
    http: AnalyticsHttp = AnalyticsHttp()
    rollups: RollupSettings = RollupSettings()
    alerts: AlertSettings = AlertSettings()
