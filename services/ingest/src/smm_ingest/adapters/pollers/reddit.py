"""Reddit API (OAuth2, application-only): new posts matching searches and new comments in subreddits.

Auth: the client-credentials grant (``POST https://www.reddit.com/api/v1/access_token`` with
HTTP basic ``client_id:client_secret``), then bearer calls to ``https://oauth.reddit.com``. The
token (valid ``expires_in`` seconds, a day today) is fetched again a minute before it expires,
and once more when a call answers 401. Every request carries the descriptive ``User-Agent``
Reddit requires (``<platform>:<app id>:<version> (by /u/<username>)``); default agents are
throttled hard.

Sources: ``GET /search?q=...&sort=new&type=link`` per query (the API searches posts, not
comments) and ``GET /r/{subreddit}/comments`` per subreddit (its newest comments). Both are
``Listing`` objects, newest first; each child (``{"kind": "t1"|"t3", "data": ...}``) is one
payload for ``networks.reddit.parse_listing_child``. ``raw_json=1`` keeps texts unescaped.

Cursor: JSON mapping each source (``search:<query>``, ``r/<subreddit>``) to its sweep state:
``since``, the ``created_utc`` of the newest item already stored, and while a backlog is being
worked off, ``top`` (the newest seen in this sweep) and ``after`` (the listing's page anchor).
A bare number per source is accepted as ``since``. A sweep pages down from the newest item
until it reaches ``since``: items at exactly ``since`` are fetched again (dedupe absorbs
them), older ones are dropped. When ``max_pages`` or the rate limit runs out first, ``since``
stays and the next poll continues from ``after`` before moving it up: nothing newer than the
cursor is skipped. Limits: Reddit lists at most about 1,000 items per listing, and a backlog
whose anchor item was removed ends early. A source without a cursor starts from its newest page.

Rate limit: OAuth clients get a per-period budget reported by ``X-Ratelimit-Used``,
``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` (seconds to the end of the period; 60
requests a minute when this was written). Paging stops when the budget is spent, and the next
poll waits long enough for the remaining budget to cover it; 429 is a ``RateLimitedError``.
A subreddit or search refused (403: private, quarantined), missing (404: banned) or redirected
(302: no such subreddit) is skipped for that poll; when every source is refused, the poll
fails permanently.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from smm_ingest.adapters.networks.reddit import child_created_utc
from smm_ingest.domain.polling import (
    PermanentPollError,
    PollResult,
    RateLimitedError,
    TransientPollError,
)

logger = logging.getLogger(__name__)

DEFAULT_AUTH_URL = "https://www.reddit.com/api/v1/access_token"
DEFAULT_API_BASE_URL = "https://oauth.reddit.com"
#: Fetch a new token this long before the current one expires.
TOKEN_MARGIN_S = 60.0
#: Pause between polls while working off a backlog (the rate limit may ask for more).
BACKLOG_WAIT_S = 1.0
#: Wait after a 429 that names no period.
DEFAULT_RETRY_S = 60.0
PAGE_SIZE = 100
#: Subreddit names: 2-21 letters, digits and underscores (``u_<name>`` for profiles fits too).
_SUBREDDIT = re.compile(r"[A-Za-z0-9_]{2,21}")


@dataclass(frozen=True, slots=True)
class _Source:
    key: str
    path: str
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Sweep:
    """One source's place: everything from ``since`` up is stored, unless a backlog is open."""

    since: float | None = None
    top: float | None = None
    after: str | None = None

    def encode(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {}
        if self.since is not None:
            out["since"] = self.since
        if self.top is not None:
            out["top"] = self.top
        if self.after is not None:
            out["after"] = self.after
        return out


@dataclass(frozen=True, slots=True)
class _Listing:
    children: list[dict[str, Any]]
    after: str | None


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("a time must be a number")
    return float(value)


def _decode_sweep(raw: object) -> _Sweep:
    if not isinstance(raw, dict):
        return _Sweep(since=_number(raw))
    after = raw.get("after")
    if after is not None and not isinstance(after, str):
        raise ValueError("after must be a string")
    return _Sweep(since=_number(raw.get("since")), top=_number(raw.get("top")), after=after)


def _decode_cursor(cursor: str | None) -> dict[str, _Sweep]:
    if cursor is None:
        return {}
    try:
        raw = json.loads(cursor)
        if not isinstance(raw, dict):
            raise ValueError("the cursor must be an object")
        return {str(k): _decode_sweep(v) for k, v in raw.items()}
    except ValueError as exc:  # JSONDecodeError is a ValueError
        # Only we write cursors; an unreadable one restarts from the newest pages, loudly.
        logger.warning("Reddit cursor unreadable (%s); starting from the newest items", exc)
        return {}


class RedditPoller:
    """Polls Reddit searches and subreddit comments with an application-only OAuth token."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        user_agent: str,
        queries: Sequence[str] = (),
        subreddits: Sequence[str] = (),
        interval_s: float = 60.0,
        max_pages: int = 3,
        auth_url: str = DEFAULT_AUTH_URL,
        api_base_url: str = DEFAULT_API_BASE_URL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        if not user_agent.strip():
            raise ValueError("Reddit requires a descriptive User-Agent")
        if max_pages < 1:
            raise ValueError("max_pages must be positive")
        self._sources: list[_Source] = []
        for query in dict.fromkeys(q.strip() for q in queries):
            if not query or len(query) > 512:
                raise ValueError(f"search query {query[:40]!r} must have 1-512 characters")
            self._sources.append(
                _Source(f"search:{query}", "/search", {"q": query, "sort": "new", "type": "link"})
            )
        for name in dict.fromkeys(s.strip().removeprefix("r/") for s in subreddits):
            if not _SUBREDDIT.fullmatch(name):
                raise ValueError(f"{name[:40]!r} is not a subreddit name")
            self._sources.append(_Source(f"r/{name}", f"/r/{name}/comments", {}))
        if not self._sources:
            raise ValueError("give at least one search query or subreddit")
        self._client = client
        self._auth = (client_id, client_secret)
        self._user_agent = user_agent
        self._interval_s = interval_s
        self._max_pages = max_pages
        self._auth_url = auth_url
        self._api = api_base_url.rstrip("/")
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._remaining: float | None = None
        self._reset_at = 0.0

    async def poll(self, cursor: str | None) -> PollResult:
        """Items newer than ``cursor`` from every source, within the page and rate budgets."""
        states = _decode_cursor(cursor)
        payloads: list[dict[str, Any]] = []
        seen: set[str] = set()
        out: dict[str, _Sweep] = {}
        calls = refused = 0
        for source in self._sources:
            state = states.get(source.key, _Sweep())
            new_state, made, was_refused = await self._sweep(source, state, payloads, seen)
            out[source.key] = new_state
            calls += made
            refused += was_refused
        if refused == len(self._sources):
            raise PermanentPollError(
                "Reddit refused every source (403/404/redirect): check the subreddits and queries"
            )
        pending = any(s.after is not None or s.top is not None for s in out.values())
        return PollResult(
            payloads=payloads,
            next_cursor=json.dumps({k: s.encode() for k, s in out.items()}, sort_keys=True),
            wait_s=self._wait(max(calls, len(self._sources)), pending),
        )

    async def _sweep(
        self, source: _Source, state: _Sweep, out: list[dict[str, Any]], seen: set[str]
    ) -> tuple[_Sweep, int, bool]:
        """Pages of one source down to ``since``: the new state, calls made, and if it was refused."""
        since, top, after = state.since, state.top, state.after
        calls = 0
        for _ in range(self._max_pages):
            if not self._may_call():
                break
            calls += 1
            listing = await self._listing(source, after)
            if listing is None:
                return state, calls, True
            reached = False
            for child in listing.children:
                created = child_created_utc(child)
                if created is not None and since is not None and created < since:
                    reached = True
                    continue
                data = child.get("data")
                name = data.get("name") if isinstance(data, dict) else None
                if isinstance(name, str):
                    if name in seen:
                        continue
                    seen.add(name)
                # A child without a readable time is passed on: the parser reports it.
                out.append(child)
                if created is not None and (top is None or created > top):
                    top = created
            after = listing.after
            if reached or after is None or since is None:
                done = [t for t in (since, top) if t is not None]
                return _Sweep(since=max(done) if done else 0.0), calls, False
        return _Sweep(since=since, top=top, after=after), calls, False

    async def _listing(self, source: _Source, after: str | None) -> _Listing | None:
        """One listing page; None when Reddit refuses the source (skipped this poll)."""
        params = {**source.params, "limit": str(PAGE_SIZE), "raw_json": "1"}
        if after is not None:
            params["after"] = after
        response = await self._get(source.path, params)
        status = response.status_code
        if status == 200:
            return _read_listing(response, source.key)
        if status == 429:
            raise RateLimitedError(
                f"Reddit rate limit on {source.key}", self._retry_after(response)
            )
        if status == 401:
            raise PermanentPollError(
                "Reddit refused a fresh token (401); check the app's client_id and client_secret"
            )
        if status in (301, 302, 303, 307, 308, 403, 404):
            logger.warning("Reddit refused %s (%s); skipped this poll", source.key, status)
            return None
        raise TransientPollError(f"Reddit answered {status} for {source.key}")

    async def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        """A bearer GET; a 401 gets one retry with a new token (it may have been revoked early)."""
        response = await self._send(path, params)
        if response.status_code == 401:
            self._token = None
            response = await self._send(path, params)
        return response

    async def _send(self, path: str, params: dict[str, str]) -> httpx.Response:
        headers = {
            "Authorization": f"bearer {await self._bearer()}",
            "User-Agent": self._user_agent,
        }
        try:
            # A missing subreddit redirects to a subreddit search: its listing is not ours.
            response = await self._client.get(
                f"{self._api}{path}",
                params=params,
                headers=headers,
                timeout=30.0,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise TransientPollError(f"Reddit unreachable: {type(exc).__name__}") from None
        self._note_limits(response)
        return response

    async def _bearer(self) -> str:
        """A valid access token, fetched when there is none or it expires within a minute."""
        if self._token is not None and self._clock() < self._token_expires_at - TOKEN_MARGIN_S:
            return self._token
        try:
            response = await self._client.post(
                self._auth_url,
                auth=self._auth,
                data={"grant_type": "client_credentials"},
                headers={"User-Agent": self._user_agent},
                timeout=30.0,
            )
        except httpx.HTTPError as exc:
            raise TransientPollError(
                f"Reddit token endpoint unreachable: {type(exc).__name__}"
            ) from None
        status = response.status_code
        if status == 429:
            raise RateLimitedError("Reddit token endpoint rate limit", self._retry_after(response))
        if status in (400, 401, 403):
            raise PermanentPollError(
                f"Reddit refused the app credentials ({status}); check client_id and client_secret"
            )
        if status != 200:
            raise TransientPollError(f"Reddit token endpoint answered {status}")
        try:
            body = response.json()
        except ValueError:
            raise TransientPollError("Reddit token endpoint answered without JSON") from None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            # A 200 with an error names a grant problem, e.g. "unsupported_grant_type".
            raise PermanentPollError(f"Reddit refused the token request: {body['error'][:100]}")
        token = body.get("access_token") if isinstance(body, dict) else None
        expires = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise TransientPollError("Reddit token endpoint answered without an access_token")
        lifetime = (
            float(expires)
            if isinstance(expires, int | float) and not isinstance(expires, bool)
            else 3600.0
        )
        self._token = token
        self._token_expires_at = self._clock() + lifetime
        return token

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = _header_number(response, "x-ratelimit-remaining")
        reset = _header_number(response, "x-ratelimit-reset")
        if remaining is not None and reset is not None:
            self._remaining = remaining
            self._reset_at = self._clock() + reset

    def _may_call(self) -> bool:
        """Whether the current rate-limit period has a request left (unknown counts as yes)."""
        if self._remaining is None or self._clock() >= self._reset_at:
            return True
        return self._remaining >= 1

    def _retry_after(self, response: httpx.Response) -> float:
        for header in ("x-ratelimit-reset", "retry-after"):
            value = _header_number(response, header)
            if value is not None:
                return max(1.0, value)
        return DEFAULT_RETRY_S

    def _wait(self, calls_per_poll: int, pending: bool) -> float:
        """Seconds to the next poll: the interval, or longer so the remaining budget covers it."""
        floor = BACKLOG_WAIT_S if pending else self._interval_s
        now = self._clock()
        if self._remaining is None or now >= self._reset_at:
            return floor
        until_reset = self._reset_at - now
        if self._remaining < calls_per_poll:
            return until_reset + 1.0
        return max(floor, until_reset * calls_per_poll / self._remaining)


def _header_number(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _read_listing(response: httpx.Response, key: str) -> _Listing:
    try:
        body = response.json()
    except ValueError:
        raise TransientPollError(f"Reddit answered 200 without JSON for {key}") from None
    data = body.get("data") if isinstance(body, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(children, list):
        raise TransientPollError(f"Reddit answered 200 without a Listing for {key}")
    after = data.get("after")
    return _Listing(
        children=[c for c in children if isinstance(c, dict)],
        after=after if isinstance(after, str) and after else None,
    )
