"""Bulk import of content items from CSV text. Pure: the caller reads the upload.

Columns (header row required, names case-insensitive, any order; only the first three are
required, the others may be left out or empty):

============  =================================================================================
title         the item's calendar title; for ``reddit`` rows it is also the post title
network       one of vk, x, facebook, instagram, telegram, youtube, mastodon, reddit
text          the post text
media_urls    http(s) URLs separated by spaces
link          one http(s) URL
scheduled_at  ISO 8601 wall-clock time, e.g. ``2025-03-01T09:30`` (read in ``time_zone``; an
              explicit offset such as ``+03:00`` is kept); empty: not scheduled
time_zone     IANA zone, e.g. ``Europe/Moscow``; required when ``scheduled_at`` is given
campaign_id   the campaign
labels        labels separated by commas
accounts      connector ids of the accounts to post from, separated by commas or spaces
============  =================================================================================

Rows with the same title, scheduled_at and time_zone form one item with a variant per
network (a network twice in one item is an error); labels and accounts of those rows add up
and their campaign_id must agree. Every imported item is a draft.

Row numbers count records as a spreadsheet shows them: the header is row 1, the first data
row is row 2 (a quoted cell spanning lines is still one row). An item with any bad row is
left out entirely, so that no item is imported with a network missing; its other rows get no
error of their own.

Problems with the file as a whole (no header, a missing or unknown column, more than
``MAX_ROWS`` rows, CSV the reader cannot parse) raise ``CsvFileError``; nothing else is raised,
whatever the text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from smm_publisher.domain.content import (
    ContentError,
    ContentItem,
    Schedule,
    Variant,
    check_http_url,
)
from smm_shared.events import Network

COLUMNS: Final = (
    "title",
    "network",
    "text",
    "media_urls",
    "link",
    "scheduled_at",
    "time_zone",
    "campaign_id",
    "labels",
    "accounts",
)
REQUIRED_COLUMNS: Final = ("title", "network", "text")
MAX_ROWS: Final = 5_000

#: Which column a variant's error is about, by its code.
_VARIANT_ERROR_COLUMNS: Final = {
    "content.too_many_media": "media_urls",
    "content.media_required": "media_urls",
    "content.title_required": "title",
    "content.title_too_long": "title",
}
_ACCOUNT_SEPARATORS = re.compile(r"[\s,]+")


class CsvFileError(ContentError):
    """The file as a whole cannot be imported; ``code`` is stable for APIs."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of one row: ``column`` is None when it is about the row as a whole."""

    row: int
    column: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The items that could be built, and every row problem found."""

    items: tuple[ContentItem, ...] = ()
    errors: tuple[RowError, ...] = field(default=())
    #: The first row of each item, in the order of ``items`` (for problems found later).
    rows: tuple[int, ...] = field(default=())


@dataclass(slots=True)
class _Group:
    """Rows that become one item."""

    first_row: int
    title: str
    schedule: Schedule | None
    campaign_id: str | None
    variants: list[Variant] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    bad: bool = False


def import_csv(text: str, *, brand_id: str, new_id: Callable[[], str]) -> ImportResult:
    """Items and row errors from CSV ``text``; CsvFileError when the file is unusable."""
    records = _read(text)
    if not records or not any(cell.strip() for cell in records[0]):
        raise CsvFileError("csv.no_header", f"The file needs a header row: {', '.join(COLUMNS)}.")
    columns = _header(records[0])
    errors: list[RowError] = []
    groups: dict[tuple[str, str, str], _Group] = {}
    for index, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end of a spreadsheet export
        if len(cells) > len(columns):
            errors.append(
                RowError(
                    index, None, f"The row has {len(cells)} cells; the header has {len(columns)}."
                )
            )
            continue
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(columns)}
        _add_row(index, row, groups, errors)
    items: list[ContentItem] = []
    rows: list[int] = []
    for group in groups.values():
        if group.bad:
            continue
        try:
            items.append(
                ContentItem(
                    id=new_id(),
                    brand_id=brand_id,
                    title=group.title,
                    variants=tuple(group.variants),
                    targets=frozenset(group.accounts),
                    campaign_id=group.campaign_id,
                    labels=frozenset(group.labels),
                    schedule=group.schedule,
                )
            )
            rows.append(group.first_row)
        except ContentError as error:
            errors.append(RowError(group.first_row, None, error.message))
    errors.sort(key=lambda e: e.row)
    return ImportResult(items=tuple(items), errors=tuple(errors), rows=tuple(rows))


def _read(text: str) -> list[list[str]]:
    if len(text) > 0 and text[0] == "\ufeff":  # a BOM from spreadsheet exports
        text = text[1:]
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        for cells in reader:
            if len(records) > MAX_ROWS:
                raise CsvFileError(
                    "csv.too_many_rows", f"Import at most {MAX_ROWS} rows at a time."
                )
            records.append(cells)
    except csv.Error as error:
        raise CsvFileError(
            "csv.unreadable", f"Row {reader.line_num}: the CSV cannot be read ({error})."
        ) from None
    return records


def _header(cells: Sequence[str]) -> tuple[str, ...]:
    names = tuple(cell.strip().lower() for cell in cells)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise CsvFileError(
            "csv.unknown_column",
            f"Unknown column(s) {', '.join(repr(n) for n in unknown)}; use {', '.join(COLUMNS)}.",
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CsvFileError("csv.repeated_column", f"Repeated column(s): {', '.join(repeated)}.")
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    if missing:
        raise CsvFileError("csv.missing_column", f"Missing column(s): {', '.join(missing)}.")
    return names


def _add_row(
    index: int,
    row: dict[str, str],
    groups: dict[tuple[str, str, str], _Group],
    errors: list[RowError],
) -> None:
    found: list[RowError] = []

    def problem(column: str | None, message: str) -> None:
        found.append(RowError(index, column, message))

    title = row["title"]
    if not title:
        problem("title", "The title is empty.")
    network: Network | None = None
    try:
        network = Network(row["network"].lower())
    except ValueError:
        problem(
            "network",
            f"Unknown network {row['network']!r}; use {', '.join(n.value for n in Network)}.",
        )
    media: list[str] = []
    for url in row.get("media_urls", "").split():
        try:
            media.append(check_http_url(url, "media URL"))
        except ContentError as error:
            problem("media_urls", error.message)
    link = row.get("link", "") or None
    if link is not None:
        try:
            check_http_url(link, "link")
        except ContentError as error:
            problem("link", error.message)
    schedule = _schedule(row.get("scheduled_at", ""), row.get("time_zone", ""), problem)
    campaign_id = row.get("campaign_id", "") or None
    variant: Variant | None = None
    if network is not None and not found:
        try:
            variant = Variant(
                network=network,
                text=row["text"],
                media_urls=tuple(media),
                link=link,
                title=title if network is Network.REDDIT else None,
            )
        except ContentError as error:
            problem(_VARIANT_ERROR_COLUMNS.get(error.code, "text"), error.message)

    key = (title, row.get("scheduled_at", ""), row.get("time_zone", ""))
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(index, title, schedule, campaign_id)
    elif campaign_id != group.campaign_id:
        problem(
            "campaign_id",
            f"The item {title!r} has campaign {group.campaign_id!r} in row {group.first_row}; "
            f"this row says {campaign_id!r}.",
        )
    if variant is not None and any(v.network is variant.network for v in group.variants):
        problem("network", f"The item {title!r} already has a {variant.network.value} row.")
    if found or variant is None:
        errors.extend(found)
        group.bad = True
        return
    group.variants.append(variant)
    group.labels.update(
        label.strip() for label in row.get("labels", "").split(",") if label.strip()
    )
    group.accounts.update(a for a in _ACCOUNT_SEPARATORS.split(row.get("accounts", "")) if a)


def _schedule(
    raw: str, time_zone: str, problem: Callable[[str | None, str], None]
) -> Schedule | None:
    if not raw:
        if time_zone:
            problem("scheduled_at", "A time zone is given without a time.")
        return None
    try:
        wall = datetime.fromisoformat(raw)
    except ValueError:
        problem("scheduled_at", f"{raw!r} is not an ISO 8601 time such as 2025-03-01T09:30.")
        return None
    if not time_zone:
        problem("time_zone", "Give the IANA time zone of scheduled_at, e.g. Europe/Moscow.")
        return None
    try:
        return Schedule.from_local(wall, time_zone)
    except ContentError as error:
        column = "time_zone" if error.code == "content.unknown_time_zone" else "scheduled_at"
        problem(column, error.message)
        return None
