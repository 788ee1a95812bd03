"""Shared helpers of the network parsers: checked access, timestamps, contract-safe values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smm_ingest.adapters.networks.common import (
    AUTHOR_NAME_LIMIT,
    TEXT_LIMIT,
    as_fields,
    check_id,
    loggable,
    make_attachment,
    make_author,
    same_secret,
    truncate_text,
    utc_from_unix,
)
from smm_ingest.domain.items import PayloadError
from smm_shared.events import Attachment, Author

pytestmark = pytest.mark.unit


def error_code(call: object, *args: object) -> str:
    with pytest.raises(PayloadError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code


def test_unix_seconds_become_aware_utc() -> None:
    assert utc_from_unix(1764238500, "date") == datetime(2025, 11, 27, 10, 15, tzinfo=UTC)
    assert utc_from_unix(0, "date") == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (-1, "payload.bad_value"),
        (253_402_300_800, "payload.bad_value"),  # past year 9999
        (2**80, "payload.bad_value"),
        ("1764238500", "payload.bad_type"),
        (1764238500.0, "payload.bad_type"),
        (True, "payload.bad_type"),
        (None, "payload.bad_type"),
    ],
)
def test_unusable_timestamps_are_payload_errors(value: object, code: str) -> None:
    assert error_code(utc_from_unix, value, "date") == code


def test_fields_name_the_full_path_in_errors() -> None:
    fields = as_fields({"object": {"inner": {"n": "x"}}}, "")

    with pytest.raises(PayloadError) as caught:
        fields.req_obj("object").req_obj("inner").req_int("n")

    assert caught.value.code == "payload.bad_type"
    assert caught.value.message == "object.inner.n must be an integer, not str"


def test_null_is_absent() -> None:
    fields = as_fields({"a": None}, "")

    assert fields.opt_str("a") is None
    assert not fields.has("a")
    assert error_code(fields.req_str, "a") == "payload.missing_field"


def test_arrays_of_objects_are_checked_item_by_item() -> None:
    fields = as_fields({"entry": [{"id": 1}, 2]}, "")

    with pytest.raises(PayloadError) as caught:
        fields.req_objs("entry")

    assert caught.value.message == "entry[1] must be an object, not int"


@pytest.mark.parametrize("value", ["123_456", "abc-DEF", 42, -1001987654321])
def test_ids_from_strings_or_integers(value: object) -> None:
    assert check_id(value, "id") == str(value)


@pytest.mark.parametrize("value", ["", "a b", "ид", "x" * 129, "tab\tid", 1.5, False, [1]])
def test_unusable_ids(value: object) -> None:
    assert error_code(check_id, value, "id") in ("payload.bad_value", "payload.bad_type")


def test_text_is_cut_to_the_limit_and_lone_surrogates_replaced() -> None:
    assert truncate_text("a" * (TEXT_LIMIT + 1)) == "a" * TEXT_LIMIT
    assert truncate_text("ok \ud800 ok") == "ok ? ok"
    assert truncate_text("emoji 😍 stays") == "emoji 😍 stays"


def test_author_names_are_cut_to_the_contract_limit() -> None:
    author = make_author("42", handle="h" * 300, display_name="Имя " * 100)

    assert author.handle == "h" * AUTHOR_NAME_LIMIT
    assert author.display_name is not None
    assert len(author.display_name) == AUTHOR_NAME_LIMIT
    assert make_author("42", handle="", display_name=None) == Author(id="42")


def test_author_without_a_usable_id_is_a_payload_error() -> None:
    assert error_code(make_author, "") == "payload.bad_value"
    assert error_code(make_author, "9" * 129) == "payload.bad_value"


@pytest.mark.parametrize("url", [None, 5, "", "ftp://x.org/a", "javascript:alert(1)", "https://"])
def test_attachments_without_a_usable_url_are_skipped(url: object) -> None:
    assert make_attachment("image", url) is None


def test_attachment_with_a_url() -> None:
    assert make_attachment("link", "https://example.org/a?b=c") == Attachment(
        kind="link", url="https://example.org/a?b=c"
    )


def test_same_secret_compares_any_text() -> None:
    assert same_secret("ключ-\ud800", "ключ-\ud800")
    assert not same_secret("ключ", "ключ ")


def test_payload_chosen_names_cannot_forge_log_lines() -> None:
    assert loggable("wall_reply_new") == "wall_reply_new"
    assert loggable("x\nINFO forged") == "'x\\nINFO forged'"
    assert loggable("t" * 100) == repr("t" * 64) + "..."
