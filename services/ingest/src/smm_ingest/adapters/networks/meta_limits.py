"""Meta Graph API limits and errors: usage headers read, error codes mapped onto poll errors.

Pure functions over response headers and decoded error bodies; no I/O.

Usage headers ("Graph API Rate Limiting"): Meta reports how much of a rolling window's limits
an app has used, as percentages, on most responses once enough calls were made:

* ``X-App-Usage`` (platform limits, app and user tokens):
  ``{"call_count": 28, "total_cputime": 25, "total_time": 25}``;
* ``X-Business-Use-Case-Usage`` (business use case limits: Instagram, Pages with a Page
  token): ``{"<business object id>": [{"type": "instagram", "call_count": 95,
  "total_cputime": 20, "total_time": 20, "estimated_time_to_regain_access": 0}]}``, the
  last in minutes.

``X-Ad-Account-Usage`` is for ads accounts and not read. A header that is not this JSON, or a
value that is not a finite number, is ignored: a proxy or a format change must never stop
polling. Estimates beyond a day are cut to a day.

Decisions (:func:`check_usage`, :func:`next_poll_wait`):

* any percentage at 100 or more, or ``estimated_time_to_regain_access`` above 0: Meta is
  throttling (or about to), so no further call is made; wait the estimate, or
  :data:`DEFAULT_RATE_LIMIT_WAIT_S` when only a percentage says so;
* the highest percentage ``p`` from :data:`SLOW_DOWN_FROM_PCT` (75) up: the wait before the
  next poll is stretched linearly, ``interval * (1 + (MAX_STRETCH - 1) * (p - 75) / 25)``,
  i.e. 1 x at 75 %, 2.5 x at 87.5 %, close to 4 x just below 100 %. The windows are rolling
  (an hour for platform limits, a day for Instagram's), so calling less often lets the
  percentage fall before it reaches 100.

Error bodies (``{"error": {"message", "type", "code", "error_subcode", "is_transient"}}``):

* codes 4 (app), 17 (user), 32 (page), 613 (calls within one hour) and 80002 (Instagram
  business use case), or HTTP 429: :class:`RateLimitedError`, waiting as the headers say;
* 190 (access token expired, revoked or invalid) and 102: :class:`MetaAccessError`;
* 10 and 200 to 299 (a permission is missing): :class:`MetaAccessError`;
* 1, 2, ``is_transient``, HTTP 5xx and 408: :class:`TransientPollError`;
* anything else (100 ``Invalid parameter``, a nonexistent object, ...): a plain
  :class:`PermanentPollError`, which callers fetching one object may treat as that object's
  failure rather than the connector's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smm_ingest.domain.polling import (
    PermanentPollError,
    PollError,
    RateLimitedError,
    TransientPollError,
)

APP_USAGE = "x-app-usage"
BUSINESS_USAGE = "x-business-use-case-usage"
#: Wait when Meta throttles without an estimate of when access returns.
DEFAULT_RATE_LIMIT_WAIT_S = 300.0
#: Longest wait an estimate may ask for (a malformed header must not park a connector for years).
MAX_REGAIN_S = 86_400.0
#: From this usage percentage up, polls are spaced out.
SLOW_DOWN_FROM_PCT = 75.0
#: How much longer than the interval the wait grows as usage nears 100 %.
MAX_STRETCH = 4.0
#: Meta's throttling codes: app, user, page, "calls within one hour", Instagram BUC.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80002})
#: 190: the token expired, was revoked or is invalid; 102: the session is gone.
TOKEN_CODES = frozenset({102, 190})
#: Unknown error and service temporarily unavailable.
TRANSIENT_CODES = frozenset({1, 2})
#: The object does not exist, or cannot be read with this token ("Invalid parameter").
INVALID_PARAMETER = 100
#: Larger numbers in a usage header are not usage: the header is malformed.
MAX_NUMBER = 1_000_000_000
_PERCENTAGES = ("call_count", "total_cputime", "total_time")
_SCOPES = (
    "instagram_basic, instagram_manage_comments and pages_read_engagement "
    "(and the MANAGE, CREATE_CONTENT or MODERATE task on the Page linked to the account)"
)


class MetaAccessError(PermanentPollError):
    """Meta refused the token or one of its permissions: a person must issue a new token."""


@dataclass(frozen=True, slots=True)
class MetaUsage:
    """What the usage headers say: the highest percentage of any limit and the wait Meta named."""

    highest_pct: float = 0.0
    regain_s: float = 0.0

    @property
    def exhausted(self) -> bool:
        """Whether Meta throttles (or will at the next call): no call should be made now."""
        return self.highest_pct >= 100.0 or self.regain_s > 0.0

    @property
    def retry_after_s(self) -> float:
        """How long to wait before calling again (0 while not exhausted)."""
        if self.regain_s > 0.0:
            return self.regain_s
        return DEFAULT_RATE_LIMIT_WAIT_S if self.exhausted else 0.0

    def merge(self, other: MetaUsage) -> MetaUsage:
        """The stricter reading of two (say, of two responses in one poll)."""
        return MetaUsage(
            highest_pct=max(self.highest_pct, other.highest_pct),
            regain_s=max(self.regain_s, other.regain_s),
        )


@dataclass(frozen=True, slots=True)
class GraphError:
    """The ``error`` object of a failed Graph API response."""

    code: int | None
    subcode: int | None
    message: str
    transient: bool = False

    def describe(self) -> str:
        """``code 100/33: message``, for logs and the connector's status."""
        code = "no code" if self.code is None else f"code {self.code}"
        if self.subcode is not None:
            code += f"/{self.subcode}"
        return f"{code}: {self.message}"


def read_usage(headers: Mapping[str, str]) -> MetaUsage:
    """The usage a response reports; headers that are absent or unreadable count as none."""
    lowered = {k.lower(): v for k, v in headers.items()}
    usage = MetaUsage()
    app = _json_object(lowered.get(APP_USAGE))
    if app is not None:
        usage = usage.merge(_entry_usage(app))
    business = _json_object(lowered.get(BUSINESS_USAGE))
    for entries in (business or {}).values():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict):
                usage = usage.merge(_entry_usage(entry))
    return usage


def check_usage(usage: MetaUsage, what: str) -> None:
    """Raise :class:`RateLimitedError` when the usage says no call should be made now."""
    if usage.exhausted:
        raise RateLimitedError(
            f"Meta usage for {what} at {usage.highest_pct:g} %"
            + (f", access back in {usage.regain_s:g} s" if usage.regain_s > 0 else ""),
            usage.retry_after_s,
        )


def next_poll_wait(interval_s: float, usage: MetaUsage) -> float:
    """The wait before the next poll: the interval, stretched as usage nears its limits."""
    if usage.exhausted:
        return max(interval_s, usage.retry_after_s)
    if usage.highest_pct < SLOW_DOWN_FROM_PCT:
        return interval_s
    share = (usage.highest_pct - SLOW_DOWN_FROM_PCT) / (100.0 - SLOW_DOWN_FROM_PCT)
    return interval_s * (1.0 + (MAX_STRETCH - 1.0) * share)


def graph_error(body: object) -> GraphError | None:
    """The error a Graph API body carries; None when it carries none readable."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    text = message[:300] if isinstance(message, str) else "no message"
    return GraphError(
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        message=text if text.isprintable() else repr(text),
        transient=error.get("is_transient") is True,
    )


def poll_error(status: int, error: GraphError | None, usage: MetaUsage, what: str) -> PollError:
    """The poll error a failed response means (see the module docstring for the mapping)."""
    detail = error.describe() if error is not None else "no error details"
    code = error.code if error is not None else None
    said = f"Meta answered {status} to {what} ({detail})"
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimitedError(
            said, usage.retry_after_s if usage.exhausted else DEFAULT_RATE_LIMIT_WAIT_S
        )
    if code in TOKEN_CODES or (code is None and status == 401):
        return MetaAccessError(
            f"{said}: the access token has expired or was revoked; issue a new long-lived "
            f"token with {_SCOPES} and update the connector's access_token secret"
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        return MetaAccessError(
            f"{said}: the access token lacks a permission; grant the app {_SCOPES}, "
            "then update the connector's access_token secret"
        )
    if (
        code in TRANSIENT_CODES
        or (error is not None and error.transient)
        or status >= 500
        or status == 408
    ):
        return TransientPollError(said)
    return PermanentPollError(said)


def _json_object(raw: str | None) -> dict[str, Any] | None:
    if not raw or len(raw) > 65_536:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the limit
        return None
    return value if isinstance(value, dict) else None


def _entry_usage(entry: Mapping[str, Any]) -> MetaUsage:
    percentages = [p for p in (_number(entry.get(k)) for k in _PERCENTAGES) if p is not None]
    minutes = _number(entry.get("estimated_time_to_regain_access"))
    return MetaUsage(
        highest_pct=max([0.0, *percentages]),
        regain_s=min(MAX_REGAIN_S, max(0.0, minutes * 60.0)) if minutes is not None else 0.0,
    )


def _number(value: object) -> float | None:
    """A plausible JSON number: finite, within a billion (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # An int too large for a float would raise; json.loads also reads NaN and Infinity.
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) <= MAX_NUMBER else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    return None
