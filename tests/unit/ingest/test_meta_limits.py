"""Meta usage headers and Graph API errors: when to stop, how long to wait, what a person must fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smm_ingest.adapters.networks import meta_limits
from smm_ingest.adapters.networks.meta_limits import (
    GraphError,
    MetaAccessError,
    MetaUsage,
    check_usage,
    graph_error,
    next_poll_wait,
    poll_error,
    read_usage,
)
from smm_ingest.domain.polling import (
    PermanentPollError,
    RateLimitedError,
    TransientPollError,
)
from smm_shared.testing import json_properties as jp

pytestmark = pytest.mark.unit


def app(**usage: Any) -> dict[str, str]:
    return {"X-App-Usage": json.dumps(usage)}


def buc(*entries: dict[str, Any], business: str = "17841405822304914") -> dict[str, str]:
    return {"X-Business-Use-Case-Usage": json.dumps({business: list(entries)})}


def entry(**usage: Any) -> dict[str, Any]:
    return {"type": "instagram", "call_count": 1, "total_cputime": 1, "total_time": 1, **usage}


# --- usage headers ---------------------------------------------------------------------------


def test_app_usage_reports_its_highest_percentage() -> None:
    usage = read_usage(app(call_count=28, total_cputime=61, total_time=25))

    assert usage == MetaUsage(highest_pct=61.0)
    assert not usage.exhausted


def test_business_use_case_usage_reads_every_entry_and_the_minutes_to_regain_access() -> None:
    headers = {
        **buc(entry(call_count=40), entry(total_time=12, estimated_time_to_regain_access=7)),
        **app(call_count=3),
    }

    assert read_usage(headers) == MetaUsage(highest_pct=40.0, regain_s=420.0)


def test_header_names_are_case_insensitive() -> None:
    assert read_usage({"x-app-usage": '{"call_count": 80}'}).highest_pct == 80.0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-App-Usage": ""},
        {"X-App-Usage": "not json"},
        {"X-App-Usage": "[1, 2]"},
        {"X-App-Usage": '{"call_count": "99"}'},
        {"X-App-Usage": '{"call_count": true}'},
        {"X-App-Usage": '{"call_count": NaN, "total_time": -Infinity}'},
        {"X-App-Usage": '{"call_count": 1e400}'},
        {"X-App-Usage": '{"call_count": 100000000000000000000000000000}'},
        {"X-App-Usage": "[" * 50_000},
        {"X-Business-Use-Case-Usage": '{"1": {"call_count": 100}}'},
        {"X-Business-Use-Case-Usage": '{"1": [5, null, "x"]}'},
        {"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": "7"}]}'},
        {"X-Ad-Account-Usage": '{"acc_id_util_pct": 100}'},  # ads accounts are not ours
    ],
)
def test_malformed_or_foreign_headers_count_as_no_usage(headers: dict[str, str]) -> None:
    assert read_usage(headers) == MetaUsage()


def test_an_absurd_estimate_is_cut_to_a_day_and_a_negative_one_ignored() -> None:
    assert read_usage(buc(entry(estimated_time_to_regain_access=10**8))).regain_s == 86_400.0
    assert read_usage(buc(entry(estimated_time_to_regain_access=-5))).regain_s == 0.0


@jp.property_settings(300)
@given(
    headers=st.dictionaries(
        st.sampled_from(["X-App-Usage", "x-business-use-case-usage", "Other"]),
        st.text(max_size=200) | jp.json_values().map(json.dumps),
    )
)
def test_any_header_values_are_read_without_raising(headers: dict[str, str]) -> None:
    usage = read_usage(headers)

    assert 0.0 <= usage.highest_pct <= meta_limits.MAX_NUMBER
    assert 0.0 <= usage.regain_s <= meta_limits.MAX_REGAIN_S
    assert next_poll_wait(60.0, usage) >= 60.0


# --- decisions -------------------------------------------------------------------------------


def test_usage_at_100_percent_stops_calls_for_the_default_wait() -> None:
    with pytest.raises(RateLimitedError) as caught:
        check_usage(read_usage(app(call_count=100)), "the tagged media")

    assert caught.value.retry_after_s == 300.0


def test_an_estimate_to_regain_access_stops_calls_for_that_long() -> None:
    usage = read_usage(buc(entry(call_count=20, estimated_time_to_regain_access=12)))

    with pytest.raises(RateLimitedError) as caught:
        check_usage(usage, "the tagged media")

    assert caught.value.retry_after_s == 720.0
    assert next_poll_wait(60.0, usage) == 720.0
    assert next_poll_wait(3600.0, usage) == 3600.0  # never sooner than the interval


def test_usage_below_the_limit_lets_calls_go() -> None:
    check_usage(read_usage(app(call_count=99.5)), "the tagged media")


@pytest.mark.parametrize(
    ("pct", "wait"),
    [(0, 60.0), (74.9, 60.0), (75, 60.0), (87.5, 150.0), (95, 204.0), (99, 232.8)],
)
def test_high_usage_stretches_the_wait_linearly_up_to_four_times(pct: float, wait: float) -> None:
    assert next_poll_wait(60.0, MetaUsage(highest_pct=pct)) == pytest.approx(wait)


def test_the_stricter_of_two_readings_wins() -> None:
    merged = MetaUsage(highest_pct=80).merge(MetaUsage(highest_pct=10, regain_s=60))

    assert merged == MetaUsage(highest_pct=80, regain_s=60)


# --- errors ----------------------------------------------------------------------------------


def error_body(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": "An error occurred",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A1b2C3",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def test_graph_error_reads_code_subcode_and_message() -> None:
    error = graph_error(error_body(100, 33, message="Unsupported get request."))

    assert error == GraphError(code=100, subcode=33, message="Unsupported get request.")
    assert error.describe() == "code 100/33: Unsupported get request."


@pytest.mark.parametrize("body", [None, [], {}, {"error": "boom"}, {"data": []}])
def test_bodies_without_an_error_object_carry_none(body: object) -> None:
    assert graph_error(body) is None


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_throttling_codes_are_rate_limits(code: int) -> None:
    error = poll_error(400, graph_error(error_body(code)), MetaUsage(), "the tagged media")

    assert isinstance(error, RateLimitedError)
    assert error.retry_after_s == 300.0


def test_a_throttling_error_waits_as_long_as_the_headers_say() -> None:
    usage = read_usage(buc(entry(call_count=100, estimated_time_to_regain_access=30)))

    error = poll_error(400, graph_error(error_body(80002)), usage, "the tagged media")

    assert isinstance(error, RateLimitedError)
    assert error.retry_after_s == 1800.0


def test_http_429_is_a_rate_limit_too() -> None:
    assert isinstance(poll_error(429, None, MetaUsage(), "x"), RateLimitedError)


@pytest.mark.parametrize(("code", "subcode"), [(190, None), (190, 463), (190, 460), (102, None)])
def test_a_dead_token_is_permanent_and_says_what_to_do(code: int, subcode: int | None) -> None:
    error = poll_error(400, graph_error(error_body(code, subcode)), MetaUsage(), "the tagged media")

    assert isinstance(error, MetaAccessError)
    assert "access token has expired or was revoked" in str(error)
    assert "update the connector's access_token secret" in str(error)


@pytest.mark.parametrize("code", [10, 200, 210, 299])
def test_a_missing_permission_is_permanent_and_names_the_permissions(code: int) -> None:
    error = poll_error(403, graph_error(error_body(code)), MetaUsage(), "the tagged media")

    assert isinstance(error, MetaAccessError)
    assert "lacks a permission" in str(error)
    assert "instagram_manage_comments" in str(error)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, error_body(1)),
        (503, error_body(2)),
        (400, error_body(1)),
        (500, None),
        (502, {"error": "gateway"}),
        (400, error_body(100, is_transient=True)),
        (408, None),
    ],
)
def test_unknown_and_temporary_failures_are_transient(status: int, body: object) -> None:
    error = poll_error(status, graph_error(body), MetaUsage(), "the tagged media")

    assert isinstance(error, TransientPollError)


@pytest.mark.parametrize(("status", "body"), [(400, error_body(100, 33)), (404, None)])
def test_other_refusals_are_plain_permanent_errors(status: int, body: object) -> None:
    error = poll_error(status, graph_error(body), MetaUsage(), "mentioned_media 1")

    assert type(error) is PermanentPollError
    assert str(error).startswith(f"Meta answered {status} to mentioned_media 1")
