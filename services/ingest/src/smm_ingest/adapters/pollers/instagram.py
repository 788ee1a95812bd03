"""Instagram Graph API (Facebook Login): @mentions the webhook announced, and media we are tagged in.

Each payload handed to the runner is ``{"field": ..., "value": <Graph object>}`` for
:func:`smm_ingest.adapters.networks.instagram_graph.parse_graph_item`.

Mentions: Meta's ``mentions`` webhook carries only ids, which the ingestor keeps as fetch
requests (``GraphFetchRepository``). A poll first takes up to ``max_fetches`` pending requests
of this brand and account, oldest first, and reads each through the IG User node:
``GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){id,text,timestamp,username,
like_count,media{id,permalink}}`` for a comment, ``mentioned_media.media_id({id}){id,caption,
media_type,timestamp,username,permalink,comments_count,like_count}`` for a caption. A request
is completed only once its mention is stored: the runner saves the cursor only after storing,
so the ids fetched in a poll travel in the cursor and are marked done when the next poll
starts. A crash in between fetches them again (dedupe absorbs it). A request whose object is
gone (error 100, say) or that Meta answers without the mention is marked done at once with
the error kept, so it is not retried forever; a token or permission refusal stops the poll
instead (it concerns every request).

Tagged media: ``GET /{ig-user-id}/tags?fields=id,caption,media_type,timestamp,username,
permalink&limit=50``, newest first, paged with ``paging.cursors.after`` while ``paging.next``
says there is more (the token is taken, never the URL, so the access token only goes to the
configured API). The cursor keeps the ids of the newest media stored (``known``, up to five, so
one untagged or deleted media does not lose our place); a sweep stops at the first known id.
When ``max_pages`` run out first, the cursor keeps ``known``, the ids at the top when the sweep
began (``top``) and the page token (``after``), and the next poll continues down the backlog
before ``known`` moves up: nothing newer is skipped. The first poll of a connector reads only
the newest page (history is not backfilled). Known gap: media tagging us long after it was
posted may be listed below ``known`` and is then not seen.

Cursor: JSON ``{"tags": {"known": [...], "top": [...], "after": "..."}, "fetched": [...]}``;
an unreadable one starts over from the newest page (loudly).

Limits and errors: see ``networks.meta_limits``. Every response's usage headers are read; once
they say Meta throttles, no further call is made in this poll: what was read is returned and
the next poll waits as they say (a throttling error with nothing read raises
``RateLimitedError``). High usage stretches the wait before the next poll. The access token goes
in the ``Authorization`` header, never in a URL that could reach a log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from smm_ingest.adapters.graph_fetches_repo import PendingFetch
from smm_ingest.adapters.networks.instagram_graph import MENTIONED_COMMENT, MENTIONED_MEDIA, TAGS
from smm_ingest.adapters.networks.meta_limits import (
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
    PollResult,
    RateLimitedError,
    TransientPollError,
)
from smm_shared.events import Network

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
COMMENT_FIELDS = "id,text,timestamp,username,like_count,media{id,permalink}"
MEDIA_FIELDS = "id,caption,media_type,timestamp,username,permalink,comments_count,like_count"
TAG_FIELDS = "id,caption,media_type,timestamp,username,permalink"
#: How many of the newest stored tagged media the cursor remembers to stop at.
KNOWN_IDS = 5
#: Pause between polls while requests or a tag backlog remain (usage may stretch it).
BACKLOG_WAIT_S = 1.0

Json = dict[str, Any]


class FetchQueue(Protocol):
    """The fetch requests this poller works off (``GraphFetchRepository``)."""

    async def pending(
        self, *, brand_id: str, network: Network, account_id: str, limit: int
    ) -> list[PendingFetch]:
        """Pending requests of one account of a brand, oldest first."""
        ...

    async def complete(self, fetch_ids: Sequence[str], *, now_ms: int) -> None:
        """Mark requests done once what they fetched is stored."""
        ...

    async def give_up(self, fetch_id: str, *, error: str, now_ms: int) -> None:
        """Mark a request done without a result, keeping why."""
        ...


@dataclass(frozen=True, slots=True)
class _Tags:
    """Where the tagged-media listing stands; ``known`` is None until the first sweep."""

    known: tuple[str, ...] | None = None
    top: tuple[str, ...] | None = None
    after: str | None = None

    def encode(self) -> Json:
        out: Json = {}
        if self.known is not None:
            out["known"] = list(self.known)
        if self.top is not None:
            out["top"] = list(self.top)
        if self.after is not None:
            out["after"] = self.after
        return out


def _encode_cursor(tags: _Tags, fetched: Sequence[str]) -> str:
    return json.dumps({"tags": tags.encode(), "fetched": list(fetched)}, sort_keys=True)


def _ids(raw: object, what: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise ValueError(f"{what} must be a list of ids")
    return tuple(raw)


def _decode_cursor(cursor: str | None) -> tuple[_Tags, tuple[str, ...]]:
    """The tag listing's state and the fetch requests the last poll returned."""
    if not cursor:
        return _Tags(), ()
    try:
        raw = json.loads(cursor)
        if not isinstance(raw, dict):
            raise ValueError("the cursor must be an object")
        tags = raw.get("tags") or {}
        if not isinstance(tags, dict):
            raise ValueError("tags must be an object")
        after = tags.get("after")
        if after is not None and not isinstance(after, str):
            raise ValueError("after must be a string")
        state = _Tags(
            known=_ids(tags.get("known"), "known"), top=_ids(tags.get("top"), "top"), after=after
        )
        return state, _ids(raw.get("fetched"), "fetched") or ()
    except ValueError as exc:
        # Only we write cursors; an unreadable one restarts from the newest page, loudly.
        logger.warning("Instagram cursor unreadable (%s); starting from the newest media", exc)
        return _Tags(), ()


def _graph_id(value: str) -> bool:
    """Whether an id can go into a ``fields`` expression as is (Graph ids are digits)."""
    return value.isascii() and value.isdigit()


class InstagramPoller:
    """Fetches the @mentions the webhook announced, then polls the media the account is tagged in."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        access_token: str,
        ig_user_id: str,
        brand_id: str,
        fetches: FetchQueue,
        interval_s: float = 300.0,
        page_size: int = 50,
        max_pages: int = 5,
        max_fetches: int = 25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not access_token:
            raise ValueError("an Instagram access token is required")
        if not _graph_id(ig_user_id):
            raise ValueError(
                "ig_user_id must be the numeric id of an Instagram professional account"
            )
        if not 1 <= page_size <= 100 or max_pages < 1 or max_fetches < 1:
            raise ValueError("page_size must be within 1..100; max_pages and max_fetches positive")
        base = api_base_url.rstrip("/")
        self._client = client
        self._user_url = f"{base}/{ig_user_id}"
        self._tags_url = f"{base}/{ig_user_id}/tags"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._user_id = ig_user_id
        self._brand_id = brand_id
        self._fetches = fetches
        self._interval_s = interval_s
        self._page_size = page_size
        self._max_pages = max_pages
        self._max_fetches = max_fetches
        self._clock = clock
        self._usage = MetaUsage()

    async def poll(self, cursor: str | None) -> PollResult:
        """Complete what the last poll fetched, fetch pending mentions, then read new tagged media."""
        tags, stored = _decode_cursor(cursor)
        # The runner saved this cursor only after storing what the last poll returned.
        await self._fetches.complete(stored, now_ms=self._now_ms())
        self._usage = MetaUsage()
        payloads: list[Json] = []
        fetched: list[str] = []
        try:
            more_fetches = await self._fetch_pending(payloads, fetched)
            tags = await self._sweep_tags(tags, payloads)
        except RateLimitedError as exc:
            if not payloads:
                raise
            # Keep what was read: the runner stores it, and the next poll waits as asked.
            logger.info("Instagram poll cut short, returning what was read: %s", exc)
            return PollResult(
                payloads=payloads,
                next_cursor=_encode_cursor(tags, fetched),
                wait_s=exc.retry_after_s,
            )
        base = BACKLOG_WAIT_S if more_fetches or tags.after is not None else self._interval_s
        return PollResult(
            payloads=payloads,
            next_cursor=_encode_cursor(tags, fetched),
            wait_s=next_poll_wait(base, self._usage),
        )

    async def _fetch_pending(self, payloads: list[Json], fetched: list[str]) -> bool:
        """Read the pending mentions; returns whether more may be waiting than were taken."""
        pending = await self._fetches.pending(
            brand_id=self._brand_id,
            network=Network.INSTAGRAM,
            account_id=self._user_id,
            limit=self._max_fetches,
        )
        for request in pending:
            found = await self._fetch(request)
            if isinstance(found, str):
                logger.warning("Instagram mention %s not fetched: %s", request.id, found)
                await self._fetches.give_up(request.id, error=found, now_ms=self._now_ms())
                continue
            payloads.append(found)
            fetched.append(request.id)
        return len(pending) >= self._max_fetches

    async def _fetch(self, request: PendingFetch) -> Json | str:
        """One mention as a payload, or why it cannot be fetched (gone, unreadable)."""
        if request.comment_id is not None:
            field, target = MENTIONED_COMMENT, request.comment_id
            expression = f"{field}.comment_id({target}){{{COMMENT_FIELDS}}}"
        else:
            field, target = MENTIONED_MEDIA, request.media_id
            expression = f"{field}.media_id({target}){{{MEDIA_FIELDS}}}"
        if not _graph_id(target):
            return f"{target[:40]!r} is not a Graph API id"
        try:
            body = await self._get(self._user_url, {"fields": expression}, what=f"{field} {target}")
        except MetaAccessError:
            raise  # the token or a permission: every request would fail the same way
        except PermanentPollError as exc:
            # This one object is gone or unreadable: retrying cannot help, the others go on.
            return str(exc)
        value = body.get(field)
        if not isinstance(value, dict):
            return f"Meta answered {field} {target} without it (deleted, or made private)"
        return {"field": field, "value": value}

    async def _sweep_tags(self, state: _Tags, payloads: list[Json]) -> _Tags:
        """Pages of tagged media from the top (or the open backlog) down to a known id."""
        known, after = state.known, state.after
        top = state.top if after is not None else None
        first = known is None
        budget = 1 if first else self._max_pages
        for _ in range(budget):
            params = {"fields": TAG_FIELDS, "limit": str(self._page_size)}
            if after is not None:
                params["after"] = after
            try:
                body = await self._get(self._tags_url, params, what="the tagged media")
            except MetaAccessError:
                raise
            except PermanentPollError as exc:
                raise PermanentPollError(
                    f"{exc}; check the connector's ig_user_id (the Instagram professional "
                    "account id, not the Facebook Page id)"
                ) from None
            media = _page(body)
            ids = [m["id"] for m in media if isinstance(m.get("id"), str)]
            if top is None:
                top = tuple(ids[:KNOWN_IDS])  # the listing's top when this sweep began
            reached = False
            for item in media:
                if known and item.get("id") in known:
                    reached = True  # this and everything below it is stored
                    break
                payloads.append({"field": TAGS, "value": item})
            previous, after = after, _next_after(body)
            if after == previous:
                after = None  # a server that does not move forward must not loop us
            if reached or after is None or first:
                merged = [*top, *(i for i in known or () if i not in top)]
                return _Tags(known=tuple(merged[:KNOWN_IDS]))
        return _Tags(known=known, top=top, after=after)

    async def _get(self, url: str, params: dict[str, str], *, what: str) -> Json:
        """One Graph API call; usage headers noted, failures mapped onto poll errors."""
        check_usage(self._usage, what)  # an earlier response said to stop calling
        try:
            response = await self._client.get(
                url, params=params, headers=self._headers, timeout=30.0
            )
        except httpx.HTTPError as exc:
            raise TransientPollError(f"Meta unreachable: {type(exc).__name__}") from None
        self._usage = self._usage.merge(read_usage(response.headers))
        try:
            body = response.json()
        except ValueError:
            body = None
        error = graph_error(body)
        if not response.is_success or error is not None:
            raise poll_error(response.status_code, error, self._usage, what)
        if not isinstance(body, dict):
            raise TransientPollError(f"Meta answered {what} without a JSON object")
        return body

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _page(body: Json) -> list[Json]:
    data = body.get("data")
    if not isinstance(data, list):
        raise TransientPollError("Meta answered the tagged media without a data list")
    return [m for m in data if isinstance(m, dict)]


def _next_after(body: Json) -> str | None:
    """The token of the next page, when ``paging.next`` says there is one."""
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None
