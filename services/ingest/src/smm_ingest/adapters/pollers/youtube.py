"""YouTube Data API v3 ``commentThreads.list``: comments on our channel (and chosen videos).

Sources: every thread related to our channel (``allThreadsRelatedToChannelId``: comments on
any of its videos) and, optionally, the threads of chosen videos (``videoId``), e.g. videos
of other channels that talk about the brand. Each thread is one payload for
``networks.youtube.parse_comment_thread``.

Cursor: JSON mapping each source (``channel:<id>``, ``video:<id>``) to its sweep state:
``since``, the RFC 3339 time of the newest comment already stored (a thread's time is that of
its newest comment: top-level or included reply), and, while a backlog is being worked off,
``top`` (the newest time seen in this sweep) and ``page_token`` (where to continue). A bare
RFC 3339 time is accepted as ``since`` for every source. With ``order=time`` the newest
threads come first, so a sweep stops at the first page holding a thread older than
``since``: threads at exactly ``since`` are fetched again (dedupe absorbs them), older ones are
dropped. When ``max_pages`` (or the quota) runs out before ``since`` is reached, the cursor
keeps ``since`` and the page token, and the next poll continues down the backlog before moving
``since`` up: nothing newer than the cursor is skipped. A source without a cursor starts from
its newest page (history is not backfilled).

Known gaps: a thread carries at most five replies (the rest need ``comments.list``, 1 unit
per thread). Replies to, and edits of, threads listed below the cursor are not seen: the
documentation does not promise that a new reply moves its thread up. A comment held for
review and approved later keeps its first time and may fall behind the cursor. Deleted
comments are not reported.

Quota: every call (failed ones too) costs 1 unit of a daily quota (10,000 units by default)
that resets at midnight Pacific time. The quota belongs to the Google Cloud *project* of the
API key, shared by every connector, replica and program using that key: ``daily_quota``
should be this connector's share. Units are counted in memory (a restart forgets them; the
lease may move to another replica), with a 5 % reserve; polls are spaced so the rest of the
budget lasts until the reset, and a spent budget waits for it. YouTube's own
``quotaExceeded`` is a ``RateLimitedError`` until the next Pacific midnight.

Errors (``error.errors[].reason``): ``commentsDisabled``, ``videoNotFound`` and any other
403/404 of a chosen video (private, removed) skip that source for this poll; ``invalidPageToken`` restarts a sweep from the top (``since`` kept);
``rateLimitExceeded`` and HTTP 429 are rate limits; ``forbidden``, ``keyInvalid``,
``channelNotFound``, other 400/401/403/404 are permanent; 5xx and network errors transient.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from smm_ingest.adapters.networks.common import parse_rfc3339
from smm_ingest.adapters.networks.youtube import thread_latest_at
from smm_ingest.domain.items import PayloadError
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    TransientPollError,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://www.googleapis.com/youtube/v3"
#: Units a ``commentThreads.list`` call costs.
LIST_COST = 1
#: Share of the daily quota never spent, for the calls our in-memory count does not see.
QUOTA_RESERVE = 0.05
#: Pause between polls while working off a backlog (the quota pacing may ask for more).
BACKLOG_WAIT_S = 1.0
#: Wait after YouTube's per-minute rate limit (it names no time).
RATE_LIMIT_WAIT_S = 60.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
SKIP_REASONS = frozenset({"commentsDisabled", "videoNotFound"})


def _pacific() -> tzinfo:
    """The zone of YouTube's quota day."""
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        # No tz database in the image: standard time is never earlier than the real reset,
        # so we may wait an hour too long in summer but never spend into a spent quota.
        return timezone(timedelta(hours=-8), "PST")


PACIFIC = _pacific()


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time after ``now`` (aware), when the daily quota resets."""
    today = now.astimezone(PACIFIC).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=PACIFIC)


def _quota_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class _Source:
    key: str
    param: str
    value: str


@dataclass(frozen=True, slots=True)
class _Sweep:
    """One source's place: everything from ``since`` up is stored, unless a backlog is open."""

    since: datetime | None = None
    top: datetime | None = None
    page_token: str | None = None

    def encode(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.since is not None:
            out["since"] = _rfc3339(self.since)
        if self.top is not None:
            out["top"] = _rfc3339(self.top)
        if self.page_token is not None:
            out["page_token"] = self.page_token
        return out


def _decode_sweep(raw: object) -> _Sweep:
    if isinstance(raw, str):
        return _Sweep(since=parse_rfc3339(raw, "since"))
    if not isinstance(raw, dict):
        raise ValueError("a source's state must be an object")
    token = raw.get("page_token")
    if token is not None and not isinstance(token, str):
        raise ValueError("page_token must be a string")
    return _Sweep(
        since=parse_rfc3339(raw["since"], "since") if raw.get("since") is not None else None,
        top=parse_rfc3339(raw["top"], "top") if raw.get("top") is not None else None,
        page_token=token,
    )


def _decode_cursor(cursor: str | None) -> tuple[_Sweep, dict[str, _Sweep]]:
    """The default state and the per-source states a cursor holds."""
    if cursor is None:
        return _Sweep(), {}
    try:
        if not cursor.lstrip().startswith("{"):
            return _Sweep(since=parse_rfc3339(cursor, "cursor")), {}
        raw = json.loads(cursor)
        if not isinstance(raw, dict):
            raise ValueError("the cursor must be an object")
        return _Sweep(), {str(k): _decode_sweep(v) for k, v in raw.items()}
    except (ValueError, KeyError, PayloadError) as exc:
        # Only we write cursors; an unreadable one restarts from the newest page, loudly.
        logger.warning("YouTube cursor unreadable (%s); starting from the newest comments", exc)
        return _Sweep(), {}


@dataclass(frozen=True, slots=True)
class _Listing:
    items: list[dict[str, Any]]
    next_token: str | None


_Page = _Listing | Literal["skip", "restart"]


class YouTubeCommentsPoller:
    """Polls comment threads of one channel (and chosen videos) within a daily quota budget."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        api_key: str,
        channel_id: str,
        video_ids: Sequence[str] = (),
        interval_s: float = 300.0,
        daily_quota: int = 10_000,
        max_pages: int = 5,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not api_key or not channel_id:
            raise ValueError("api_key and channel_id are required")
        if daily_quota < 1 or max_pages < 1:
            raise ValueError("daily_quota and max_pages must be positive")
        self._client = client
        self._url = f"{api_base_url.rstrip('/')}/commentThreads"
        self._api_key = api_key
        self._sources = [
            _Source(f"channel:{channel_id}", "allThreadsRelatedToChannelId", channel_id)
        ]
        self._sources += [_Source(f"video:{v}", "videoId", v) for v in dict.fromkeys(video_ids)]
        self._interval_s = interval_s
        self._daily_quota = daily_quota
        self._budget = daily_quota - max(1, math.ceil(daily_quota * QUOTA_RESERVE))
        self._max_pages = max_pages
        self._clock = clock
        self._day: date | None = None
        self._used = 0

    @property
    def units_used_today(self) -> int:
        """Quota units this poller spent since the last Pacific midnight (as far as it knows)."""
        self._roll_day()
        return self._used

    async def poll(self, cursor: str | None) -> PollResult:
        """Threads newer than ``cursor`` from every source, within the page and quota budgets."""
        self._roll_day()
        default, states = _decode_cursor(cursor)
        used_before = self._used
        payloads: list[dict[str, Any]] = []
        seen: set[str] = set()
        out: dict[str, _Sweep] = {}
        for source in self._sources:
            out[source.key] = await self._sweep(
                source, states.get(source.key, default), payloads, seen
            )
        pending = any(s.page_token is not None or s.top is not None for s in out.values())
        next_cursor = json.dumps({k: s.encode() for k, s in out.items()}, sort_keys=True)
        return PollResult(
            payloads=payloads,
            next_cursor=next_cursor,
            wait_s=self._wait(max(self._used - used_before, len(self._sources)), pending),
        )

    async def _sweep(
        self, source: _Source, state: _Sweep, out: list[dict[str, Any]], seen: set[str]
    ) -> _Sweep:
        """Pages of one source from the top (or the open backlog) down to ``since``."""
        since, top, token = state.since, state.top, state.page_token
        for _ in range(self._max_pages):
            if self._used + LIST_COST > self._budget:
                break
            page = await self._list(source, token)
            if page == "skip":
                return state
            if page == "restart":
                token = None
                continue
            reached = False
            for thread in page.items:
                latest = thread_latest_at(thread)
                if latest is not None and since is not None and latest < since:
                    reached = True
                    continue
                thread_id = thread.get("id")
                if isinstance(thread_id, str):
                    if thread_id in seen:
                        continue
                    seen.add(thread_id)
                # A thread without a readable time is passed on: the parser reports it.
                out.append(thread)
                if latest is not None and (top is None or latest > top):
                    top = latest
            token = page.next_token
            if reached or token is None or since is None:
                done = [t for t in (since, top) if t is not None]
                return _Sweep(since=max(done) if done else EPOCH)
        return _Sweep(since=since, top=top, page_token=token)

    async def _list(self, source: _Source, token: str | None) -> _Page:
        """One ``commentThreads.list`` call (1 unit, counted before it is sent)."""
        params: dict[str, str | int] = {
            "part": "snippet,replies",
            source.param: source.value,
            "order": "time",
            "maxResults": 100,
            "textFormat": "plainText",
            "key": self._api_key,
        }
        if token is not None:
            params["pageToken"] = token
        self._used += LIST_COST
        try:
            response = await self._client.get(self._url, params=params, timeout=30.0)
        except httpx.HTTPError as exc:
            # The message would carry the URL, and with it the API key: name the error only.
            raise TransientPollError(f"YouTube unreachable: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if status == 200:
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise TransientPollError("YouTube answered 200 without a list of items")
            next_token = body.get("nextPageToken") if isinstance(body, dict) else None
            return _Listing(
                items=[t for t in items if isinstance(t, dict)],
                next_token=next_token if isinstance(next_token, str) and next_token else None,
            )
        return self._failure(source, status, body)

    def _failure(self, source: _Source, status: int, body: object) -> _Page:
        reasons, message = _error_details(body)
        what = (
            f"YouTube {status} {'/'.join(sorted(reasons)) or 'error'} for {source.key}: {message}"
        )
        if reasons & QUOTA_REASONS:
            self._used = max(self._used, self._daily_quota)
            now = self._clock()
            raise RateLimitedError(what, (next_quota_reset(now) - now).total_seconds())
        if status == 429 or reasons & RATE_REASONS:
            raise RateLimitedError(what, RATE_LIMIT_WAIT_S)
        # A video can turn private or be removed; our channel's own call shows key trouble.
        if reasons & SKIP_REASONS or (source.param == "videoId" and status in (403, 404)):
            logger.info("skipping %s this poll: %s", source.key, what)
            return "skip"
        if "invalidPageToken" in reasons:
            logger.warning("restarting %s from the newest page: %s", source.key, what)
            return "restart"
        if status in (400, 401, 403, 404):
            raise PermanentPollError(f"{what}; check the connector's api_key and channel")
        raise TransientPollError(what)

    def _roll_day(self) -> None:
        day = _quota_day(self._clock())
        if day != self._day:
            self._day, self._used = day, 0

    def _wait(self, calls_per_poll: int, pending: bool) -> float:
        """Seconds to the next poll: the interval, spaced so the budget lasts until the reset."""
        now = self._clock()
        until_reset = (next_quota_reset(now) - now).total_seconds()
        left = self._budget - self._used
        if left < calls_per_poll:
            return until_reset
        paced = until_reset * calls_per_poll / left
        return max(BACKLOG_WAIT_S if pending else self._interval_s, paced)


def _error_details(body: object) -> tuple[set[str], str]:
    """The reasons and message of a Google API error body (both formats), for mapping and logs."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return set(), "no error details"
    error: dict[str, Any] = body["error"]
    reasons: set[str] = set()
    for entry in [*_dicts(error.get("errors")), *_dicts(error.get("details"))]:
        reason = entry.get("reason")
        if isinstance(reason, str):
            reasons.add(reason)
    message = error.get("message")
    return reasons, str(message)[:300] if message is not None else "no message"


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
