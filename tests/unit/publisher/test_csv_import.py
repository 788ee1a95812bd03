"""CSV import: good rows, bad rows with row and column, grouping, and any text never crashes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smm_publisher.domain.content import ContentStatus
from smm_publisher.domain.csv_import import (
    COLUMNS,
    MAX_ROWS,
    CsvFileError,
    ImportResult,
    RowError,
    import_csv,
)
from smm_shared.events import Network

pytestmark = pytest.mark.unit

HEADER = ",".join(COLUMNS)
IMG = "https://cdn.example.com/a.jpg"


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"i{next(counter)}"


def run(text: str) -> ImportResult:
    return import_csv(text, brand_id="acme", new_id=ids())


def test_good_rows_become_draft_items() -> None:
    text = (
        f"{HEADER}\n"
        f'Sale,x,Sale today,,https://acme.example/s,2025-03-01T09:30,Europe/Moscow,spring,"promo, sale",x-acme\n'
        f"News,telegram,Hello,{IMG} {IMG},,,,,,tg-acme tg-news\n"
    )
    result = run(text)
    assert result.errors == ()
    sale, news = result.items
    assert (sale.id, sale.brand_id, sale.title, sale.status) == (
        "i1",
        "acme",
        "Sale",
        ContentStatus.DRAFT,
    )
    assert sale.variants[0].network is Network.X
    assert sale.variants[0].link == "https://acme.example/s"
    assert sale.schedule is not None
    assert sale.schedule.at == datetime(2025, 3, 1, 6, 30, tzinfo=UTC)
    assert sale.schedule.time_zone == "Europe/Moscow"
    assert (sale.campaign_id, sale.labels, sale.targets) == (
        "spring",
        frozenset({"promo", "sale"}),
        frozenset({"x-acme"}),
    )
    assert news.schedule is None
    assert news.variants[0].media_urls == (IMG, IMG)
    assert news.targets == frozenset({"tg-acme", "tg-news"})


def test_rows_with_the_same_title_and_time_are_one_item() -> None:
    text = (
        "title,network,text,scheduled_at,time_zone,accounts,labels\n"
        "Launch,x,Short,2025-05-01T10:00,UTC,x-acme,a\n"
        "Launch,vk,Longer text,2025-05-01T10:00,UTC,vk-acme,b\n"
        "Launch,vk,Another day,2025-05-02T10:00,UTC,vk-acme,\n"
    )
    result = run(text)
    assert result.errors == ()
    first, second = result.items
    assert [v.network for v in first.variants] == [Network.VK, Network.X]
    assert first.targets == frozenset({"x-acme", "vk-acme"})
    assert first.labels == frozenset({"a", "b"})
    assert [v.network for v in second.variants] == [Network.VK]


def test_only_the_required_columns_in_any_order_and_case() -> None:
    result = run("\ufeffText,NETWORK,Title\r\nhi,Mastodon,T\r\n\r\n")
    assert result.errors == ()
    (only,) = result.items
    assert (only.title, only.variants[0].network, only.variants[0].text) == (
        "T",
        Network.MASTODON,
        "hi",
    )


def test_reddit_rows_use_the_title_as_the_post_title() -> None:
    (only,) = run("title,network,text\nAMA today,reddit,Ask us anything\n").items
    assert only.variants[0].title == "AMA today"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (",x,hi", "title", "The title is empty."),
        ("T,myspace,hi", "network", "Unknown network 'myspace'"),
        ("T,x," + "a" * 281, "text", "Shorten it by 1."),
        ("T,x,hi,ftp://a/b.jpg", "media_urls", "must be an http:// or https:// URL"),
        ("T,x,hi," + " ".join([IMG] * 5), "media_urls", "Remove 1."),
        ("T,instagram,hi", "media_urls", "at least one image"),
        ("T,x,hi,,notaurl", "link", "must be an http:// or https:// URL"),
        ("T,x,hi,,,tomorrow,UTC", "scheduled_at", "is not an ISO 8601 time"),
        ("T,x,hi,,,2025-03-01T09:00,", "time_zone", "Give the IANA time zone"),
        ("T,x,hi,,,2025-03-01T09:00,Mars/Base", "time_zone", "Unknown time zone 'Mars/Base'"),
        ("T,x,hi,,,2025-03-30T02:30,Europe/Berlin", "scheduled_at", "does not exist"),
        ("T,x,hi,,,0001-01-01T00:00,Etc/GMT-14", "scheduled_at", "out of range"),
        ("T,x,hi,,,,UTC", "scheduled_at", "time zone is given without a time"),
        ("T,x,hi,,,,,,,,extra", None, "The row has 11 cells; the header has 10."),
    ],
)
def test_a_bad_row_is_reported_with_its_row_and_column(
    row: str, column: str | None, message: str
) -> None:
    result = run(f"{HEADER}\nGood,x,fine\n{row}\n")
    assert [item.title for item in result.items] == ["Good"]
    (error,) = result.errors
    assert (error.row, error.column) == (3, column)
    assert message in error.message


def test_every_problem_of_a_row_is_reported() -> None:
    result = run(f"{HEADER}\n,myspace,hi,,bad,,Nowhere/Zone\n")
    assert result.items == ()
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "title"),
        (2, "network"),
        (2, "link"),
        (2, "scheduled_at"),
    ]


def test_an_item_with_a_bad_row_is_left_out_entirely() -> None:
    text = "title,network,text\nLaunch,x,ok\nLaunch,x,twice\nLaunch,vk,ok\n"
    result = run(text)
    assert result.items == ()
    assert result.errors == (RowError(3, "network", "The item 'Launch' already has a x row."),)


def test_rows_of_one_item_must_agree_on_the_campaign() -> None:
    text = "title,network,text,campaign_id\nL,x,a,c1\nL,vk,b,c2\n"
    (error,) = run(text).errors
    assert (error.row, error.column) == (3, "campaign_id")
    assert "'c1' in row 2" in error.message


def test_row_numbers_count_records_not_lines() -> None:
    text = 'title,network,text\nT,x,"two\nlines"\n,x,bad\n'
    (error,) = run(text).errors
    assert error.row == 3


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "csv.no_header"),
        ("\n\n", "csv.no_header"),
        ("title,network\nT,x\n", "csv.missing_column"),
        ("title,network,text,colour\n", "csv.unknown_column"),
        ("title,network,text,title\n", "csv.repeated_column"),
        ("title,network,text\n" + "T,x,a\n" * (MAX_ROWS + 1), "csv.too_many_rows"),
    ],
)
def test_file_problems_raise_a_csv_file_error(text: str, code: str) -> None:
    with pytest.raises(CsvFileError) as info:
        run(text)
    assert info.value.code == code


def test_max_rows_is_accepted() -> None:
    text = "title,network,text\n" + "".join(f"T{i},x,a\n" for i in range(MAX_ROWS))
    assert len(run(text).items) == MAX_ROWS


def test_a_header_only_file_imports_nothing() -> None:
    assert run(HEADER) == ImportResult()


PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "x",
            "reddit",
            "instagram",
            "telegram",
            IMG,
            "https://a.example/?utm_source=q#f",
            "2025-03-30T02:30",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "2025-03-01T09:00+03:00",
            "Europe/Berlin",
            "Etc/GMT-14",
            "../../etc/passwd",
            '"',
            "a,b",
        ]
    ),
)


def attempt(text: str) -> ImportResult | CsvFileError:
    """The result, or the documented error; any other exception fails the test."""
    try:
        return run(text)
    except CsvFileError as error:
        return error


@PROPERTY
@given(st.text())
def test_any_text_imports_or_raises_only_a_csv_file_error(text: str) -> None:
    outcome = attempt(text)
    if isinstance(outcome, CsvFileError):
        assert outcome.code.startswith("csv.")
    else:
        assert all(e.row >= 2 for e in outcome.errors)


@PROPERTY
@given(st.lists(st.lists(CELL, max_size=12), max_size=8))
def test_any_rows_under_a_valid_header_give_items_or_row_errors(rows: list[list[str]]) -> None:
    body = "\n".join(",".join(row) for row in rows)
    outcome = attempt(f"{HEADER}\n{body}")
    if isinstance(outcome, CsvFileError):
        assert outcome.code == "csv.unreadable"
    else:
        assert all(e.column in (*COLUMNS, None) for e in outcome.errors)
        assert all(item.status is ContentStatus.DRAFT for item in outcome.items)
