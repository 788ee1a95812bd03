"""JSON log lines: one object per record, with trace ids, extra fields and exceptions."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from smm_shared.telemetry import JsonFormatter

pytestmark = pytest.mark.unit


def make_record(
    message: str = "case %s opened",
    args: tuple[Any, ...] = ("c-1",),
    *,
    level: int = logging.INFO,
    extra: dict[str, Any] | None = None,
    exc_info: Any = None,
) -> logging.LogRecord:
    logger = logging.getLogger("smm.test.telemetry")
    return logger.makeRecord(logger.name, level, __file__, 1, message, args, exc_info, extra=extra)


def render(record: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter("smm-test").format(record)
    assert "\n" not in line  # one record, one line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_record_is_one_json_object_with_the_standard_fields() -> None:
    out = render(make_record(level=logging.WARNING))

    assert out["message"] == "case c-1 opened"
    assert out["level"] == "WARNING"
    assert out["service"] == "smm-test"
    assert out["logger"] == "smm.test.telemetry"
    assert datetime.fromisoformat(out["time"]).utcoffset() is not None
    # Internals of LogRecord are not repeated.
    assert not {"msg", "args", "levelno", "pathname", "lineno", "created"} & out.keys()


def test_no_trace_ids_outside_a_span() -> None:
    out = render(make_record())

    assert "trace_id" not in out
    assert "span_id" not in out


def test_trace_and_span_ids_of_the_active_span() -> None:
    tracer = TracerProvider().get_tracer("smm.test")

    with tracer.start_as_current_span("work") as span:
        out = render(make_record())
        context = span.get_span_context()

    assert out["trace_id"] == f"{context.trace_id:032x}"
    assert out["span_id"] == f"{context.span_id:016x}"
    assert len(out["trace_id"]) == 32
    assert len(out["span_id"]) == 16


def test_extra_fields_are_included_and_non_scalars_stringified() -> None:
    out = render(
        make_record(
            extra={
                "case_id": "c-1",
                "attempt": 2,
                "ratio": 0.5,
                "ok": True,
                "missing": None,
                "tags": ["a", "b"],
                "_private": "hidden",
            }
        )
    )

    assert out["case_id"] == "c-1"
    assert out["attempt"] == 2
    assert out["ratio"] == 0.5
    assert out["ok"] is True
    assert out["missing"] is None
    assert out["tags"] == "['a', 'b']"
    assert "_private" not in out


def test_exception_text_is_included() -> None:
    try:
        raise ValueError("bad payload")
    except ValueError:
        record = make_record("failed", (), level=logging.ERROR, exc_info=sys.exc_info())

    out = render(record)

    assert "Traceback" in out["exception"]
    assert "ValueError: bad payload" in out["exception"]


def test_non_ascii_text_is_kept_readable() -> None:
    line = JsonFormatter("smm-test").format(make_record("Привет, %s", ("мир",)))

    assert "Привет, мир" in line
    assert json.loads(line)["message"] == "Привет, мир"
