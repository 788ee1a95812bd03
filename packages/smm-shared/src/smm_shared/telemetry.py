"""One ``setup_telemetry()`` per process: traces over OTLP, instrumentation, JSON logs.

Export is configured only by the standard ``OTEL_*`` variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_BSP_*``, ``OTEL_TRACES_SAMPLER``...).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from smm_shared.config import TelemetrySettings

_STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the active trace and span ids and any ``extra`` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            out["trace_id"] = f"{span_context.trace_id:032x}"
            out["span_id"] = f"{span_context.span_id:016x}"
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_FIELDS and not key.startswith("_"):
                out[key] = (
                    value
                    if isinstance(value, (str, int, float, bool)) or value is None
                    else str(value)
                )
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


@dataclass
class Telemetry:
    """What ``setup_telemetry`` configured, to instrument apps and flush at shutdown."""

    service_name: str
    tracer_provider: TracerProvider

    def instrument_app(self, app: FastAPI) -> None:
        """Trace every request of a FastAPI app (health and metrics excluded)."""
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.tracer_provider,
            excluded_urls="health/live,health/ready,metrics",
        )

    def shutdown(self) -> None:
        """Flush spans still buffered."""
        self.tracer_provider.force_flush(5_000)


_INSTRUMENTED = False


def _configure_logging(service: str, settings: TelemetrySettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # aiokafka is chatty at INFO about every group rejoin.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def setup_telemetry(
    service_name: str, settings: TelemetrySettings, *, configure_logging: bool = True
) -> Telemetry:
    """Configure tracing (OTLP when an endpoint is set), driver instrumentation and logging."""
    global _INSTRUMENTED
    name = os.environ.get("OTEL_SERVICE_NAME", service_name)
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        # Already configured in this process (tests build several apps): reuse it.
        provider = current
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        ):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    if not _INSTRUMENTED:
        PymongoInstrumentor().instrument(tracer_provider=provider)
        HTTPXClientInstrumentor().instrument(tracer_provider=provider)
        _INSTRUMENTED = True
    if configure_logging:
        _configure_logging(name, settings)
    return Telemetry(service_name=name, tracer_provider=provider)
