"""Console settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr

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


class SessionSettings(BaseModel):
    """Logins and sessions (``SMM_SESSION__*``)."""

    #: Send the session cookies only over HTTPS. ``make run`` turns it off (plain HTTP on
    #: 127.0.0.1); keep it on everywhere else.
    cookie_secure: bool = True
    #: Directory holding the platform's signing key (``signing.pem``): the console mints
    #: the short-lived tokens the services verify. ``make run`` points it at .data/keys.
    signing_key_dir: Path | None = None
    #: The first admin, created at start-up when no user has this email (nothing when unset).
    first_admin_email: str | None = None
    first_admin_password: SecretStr | None = None
    #: The brand the first admin starts in (besides all brands).
    first_admin_brand: str | None = None


#: Where ``make web`` builds the single-page app (services/console/web/dist).
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


class LiveSettings(BaseModel):
    """The live stream of ``GET /api/live`` (``SMM_LIVE__*``)."""

    #: Recent events kept in memory for clients resuming with ``Last-Event-ID``.
    buffer_size: int = Field(default=2000, ge=1, le=100_000)
    #: Events waiting for one slow client; past it the client gets ``event: reset``.
    queue_size: int = Field(default=500, ge=1, le=100_000)
    #: Seconds between keep-alive comments; the session is checked again at each one.
    heartbeat_s: float = Field(default=15.0, gt=0, le=15)


class ConsoleSettings(BaseServiceSettings):
    """Settings of the console backend (``SMM_*`` variables)."""

    service_name: str = "smm-console"
    http: ConsoleHttp = ConsoleHttp()
    services: ServiceUrls = ServiceUrls()
    session: SessionSettings = SessionSettings()
    live: LiveSettings = LiveSettings()
    #: The built single-page app the console serves at / (``SMM_WEB_DIR``).
    web_dir: Path = WEB_DIST
