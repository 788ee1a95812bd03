"""Publisher settings."""

from __future__ import annotations

from pydantic import Field, SecretStr

from smm_shared.config import BaseServiceSettings, HttpSettings


class PublisherHttp(HttpSettings):
    """The publisher service's listener; its own class so a partial override keeps this port."""

    port: int = Field(default=8003, ge=0, le=65535)


class PublisherSettings(BaseServiceSettings):
    """Settings of the publisher service (``SMM_*`` variables)."""

    service_name: str = "smm-publisher"
    http: PublisherHttp = PublisherHttp()
    #: Fernet key that encrypts publishing-account tokens and contest seeds stored by value
    #: (``SMM_SECRETS_KEY``, the same key as ingest's). Without it, account tokens can only
    #: reference environment variables, and contests cannot be opened.
    secrets_key: SecretStr | None = None
    #: How long one replica holds a due timer (scheduled post, delivery retry, contest end)
    #: before another may take it over (``SMM_TIMER_LEASE_S``). A network call is cut at
    #: half of it, so keep it above twice ``SMM_DELIVERY_TIMEOUT_S``.
    timer_lease_s: float = Field(default=90.0, gt=1.0, le=3600.0)
    #: The longest a timer loop sleeps before looking for timers armed by other replicas
    #: (``SMM_TIMER_MAX_IDLE_S``): the bound on how late a post scheduled elsewhere fires.
    timer_max_idle_s: float = Field(default=0.5, gt=0.0, le=60.0)
    #: Seconds to wait for a network's answer to one request (``SMM_DELIVERY_TIMEOUT_S``).
    delivery_timeout_s: float = Field(default=30.0, gt=0.0, le=300.0)
    #: Attempts of a delivery whose errors are transient before it is failed
    #: (``SMM_DELIVERY_MAX_ATTEMPTS``); waits grow from 2 s to 10 min between them.
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    #: A network asking us to wait longer than this (seconds) fails the delivery as "rate
    #: limit exhausted" instead of holding it (``SMM_DELIVERY_MAX_RATE_WAIT_S``).
    delivery_max_rate_wait_s: float = Field(default=6 * 3600.0, gt=0.0)
    #: Allow media URLs on private, loopback or link-local addresses
    #: (``SMM_MEDIA_ALLOW_PRIVATE_HOSTS``). Off: the publisher never downloads from the
    #: internal network on a content author's behalf.
    media_allow_private_hosts: bool = False
