"""CSV downloads of any analytics answer: one writer for every route that offers ``format=csv``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from fastapi import Response

#: A cell starting like a formula runs as one in spreadsheets (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def cell(value: object) -> str:
    """A CSV cell: empty for null, ISO for times, text that cannot run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_START) else value
    return str(value)


def csv_attachment(header: Sequence[str], rows: Iterable[Sequence[object]], *name: str) -> Response:
    """A ``text/csv`` attachment: ``header``, then ``rows``; named by ``name``'s parts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    filename = _UNSAFE_NAME.sub("_", "-".join(name)) + ".csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
