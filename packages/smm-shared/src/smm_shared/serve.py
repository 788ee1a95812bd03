"""The one entry point shape of every service: settings from the environment, then uvicorn."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from smm_shared.config import BaseServiceSettings
from smm_shared.telemetry import setup_telemetry

S = TypeVar("S", bound=BaseServiceSettings)


def serve(settings_cls: type[S], create_app: Callable[[S], FastAPI]) -> None:
    """Load settings (exit 2 with the reason when invalid), set up telemetry and serve."""
    try:
        settings = settings_cls()
    except ValidationError as exc:
        print(f"{settings_cls.__name__}: invalid configuration\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    telemetry = setup_telemetry(settings.service_name, settings.telemetry)
    app = create_app(settings)
    telemetry.instrument_app(app)
    uvicorn.run(
        app,
        host=settings.http.host,
        port=settings.http.port,
        log_config=None,  # our JSON logging, configured above
        access_log=False,
        timeout_graceful_shutdown=10,
    )
