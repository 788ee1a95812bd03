"""YouTube Data API v3 delivery: comments and replies as the account's channel.

The request's ``account_id`` is our channel id (``UC...``); its ``access_token`` an OAuth
token of that channel with the ``youtube.force-ssl`` scope (refreshing it is the caller's job:
Google's access tokens last an hour).

What can be published, and how ``in_reply_to`` says where:

* a comment id (as ingest writes YouTube native ids: the comment id, a reply being
  ``{top-level id}.{suffix}``) → a reply, ``POST /comments?part=snippet`` with
  ``snippet.parentId``. YouTube has one level of replies, so a reply to a reply answers the
  thread's top-level comment (the part before the dot; a thread's id is its top-level
  comment's id), as YouTube's own "reply" button does.
* ``video:{videoId}`` (:func:`video_target`; ingest never writes video ids as native ids, and
  comment ids never contain a colon) → a new top-level comment on that video, ``POST
  /commentThreads?part=snippet`` with ``snippet.videoId`` and
  ``snippet.topLevelComment.snippet.textOriginal``. The reference also lists
  ``snippet.channelId``; it names the video's owner, which YouTube takes from the video.

A *new post* (:meth:`YouTubeDeliverer.post`): the Data API cannot create community posts, so
a post is refused with ``youtube.unsupported`` before anything is sent, unless the request
names a video to comment on through its ``link`` (a ``youtube.com/watch?v=``, ``youtu.be/``
or ``/shorts/`` URL): then the post is a top-level comment on that video (e.g. the first
comment under our own new video). The text is posted as it is; ``PostRequest.from_variant``
appends the link to it (YouTube has no link field), so the comment then shows the link too.
Comments carry no media: a request with media is refused (``youtube.media_unsupported``).

Published: the comment id as native id (a new thread's top-level comment id, which is also
the thread id) and ``https://www.youtube.com/watch?v={videoId}&lc={commentId}`` when the
answer names the video.

:meth:`YouTubeDeliverer.find` lists the replies of the comment answered (``GET
/comments?part=snippet&parentId=``), or the video's newest threads (``GET
/commentThreads?part=snippet&videoId=&order=time``), and matches the author channel (the
account id), the text and ``publishedAt`` (not older than the attempt, less clock skew).

Errors are Google's ``{"error": {"code", "message", "errors": [{"reason"}]}}``: 401 an expired
or revoked token; 403 ``quotaExceeded`` (the project's daily quota: it resets at midnight
Pacific time, so that is the wait), ``rateLimitExceeded`` (a short-term limit: the
``Retry-After`` or a minute), ``commentsDisabled``, ``ineligibleAccount``,
``insufficientPermissions``, a suspended account, ``forbidden``; 404 a deleted video or
comment; 400 a comment YouTube refused (too long, a private parent, a reply it does not
allow, ``processingFailure``: per the reference usually invalid input). 502/504 and a lost
answer after sending are ambiguous; other 5xx transient.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from smm_publisher.adapters.delivery._http import (
    TIMEOUT_S,
    Json,
    created_body,
    json_object,
    send,
    short,
)
from smm_publisher.domain.delivery import (
    AmbiguousDeliveryError,
    DeliveryError,
    PermanentDeliveryError,
    PostRequest,
    Published,
    RateLimitedDeliveryError,
    TransientDeliveryError,
    same_text,
)
from smm_shared.events import Network

DEFAULT_API_BASE_URL = "https://www.googleapis.com/youtube/v3"
WATCH_URL = "https://www.youtube.com/watch"
#: ``in_reply_to`` of a top-level comment on a video: ``video:{videoId}``.
VIDEO_PREFIX = "video:"
#: Wait on a short-term rate limit without ``Retry-After``.
DEFAULT_RETRY_S = 60.0
#: ``maxResults`` of the lookups (the API's maximum) and how many pages ``find`` reads.
FIND_PAGE_SIZE = 100
FIND_MAX_PAGES = 5
FIND_SKEW = timedelta(minutes=5)
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_COMMENT_ID = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?")
_VIDEO_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"})
_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})

Clock = Callable[[], datetime]


def _pacific() -> tzinfo:
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no tz database: off by an hour in summer at worst
        return timezone(timedelta(hours=-8), "PST")


#: YouTube's quota day ends at midnight Pacific time.
PACIFIC = _pacific()


def _now() -> datetime:
    return datetime.now(UTC)


def video_target(video_id: str) -> str:
    """The ``in_reply_to`` that makes a request a top-level comment on ``video_id``."""
    return f"{VIDEO_PREFIX}{video_id}"


def video_id_of_url(url: str) -> str | None:
    """The video id of a YouTube watch, ``youtu.be`` or shorts/live URL; None otherwise."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    candidate: str | None = None
    if host == "youtu.be":
        candidate = parts.path.strip("/").partition("/")[0]
    elif host in _VIDEO_HOSTS:
        if parts.path.rstrip("/") == "/watch":
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        else:
            segments = parts.path.strip("/").split("/")
            if len(segments) >= 2 and segments[0] in ("shorts", "live", "embed"):
                candidate = segments[1]
    return candidate if candidate and _VIDEO_ID.fullmatch(candidate) else None


def seconds_until_quota_reset(now: datetime) -> float:
    """Seconds from ``now`` to the next midnight Pacific time, when YouTube's quota resets."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    return max(1.0, (midnight - now).total_seconds())


class YouTubeDeliverer:
    """Publishes comments and replies as the channel whose token each request carries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        clock: Clock = _now,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._client = client
        self._base = api_base_url.rstrip("/")
        self._clock = clock
        self._timeout_s = timeout_s

    async def post(self, req: PostRequest) -> Published:
        """A top-level comment on the video ``req.link`` names; refused without one."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        _check(req)
        video = video_id_of_url(req.link) if req.link else None
        if video is None:
            raise PermanentDeliveryError(
                "youtube.unsupported",
                "YouTube's API cannot publish community posts, so there is nothing to post "
                "this to. To comment under a video, set the post's link to the video's "
                "YouTube URL; otherwise post it in YouTube Studio by hand.",
            )
        return await self._comment_on_video(req, video)

    async def reply(self, req: PostRequest) -> Published:
        """A reply to the comment ``req.in_reply_to``, or a comment on ``video:{id}``."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        _check(req)
        kind, target = _target(req.in_reply_to)
        if kind == "video":
            return await self._comment_on_video(req, target)
        return await self._reply_to_comment(req, target)

    async def find(self, req: PostRequest) -> Published | None:
        """The comment ``req`` made, by our channel, with its text; None if it is not there."""
        _check(req)
        if req.in_reply_to:
            kind, target = _target(req.in_reply_to)
        else:
            video = video_id_of_url(req.link) if req.link else None
            if video is None:
                return None  # post() refuses such a request: nothing can have been posted
            kind, target = "video", video
        if kind == "video":
            return await self._find_on_video(req, target)
        return await self._find_reply(req, target)

    # --- creating -----------------------------------------------------------------------

    async def _comment_on_video(self, req: PostRequest, video_id: str) -> Published:
        _no_media(req)
        body: Json = {
            "snippet": {
                "videoId": video_id,
                "topLevelComment": {"snippet": {"textOriginal": req.text}},
            }
        }
        response = await self._create(req, "commentThreads", body)
        thread = created_body(response, "YouTube")
        snippet = _obj(thread.get("snippet"))
        top = _obj(snippet.get("topLevelComment"))
        comment_id = top.get("id") or thread.get("id")
        if not _is_comment_id(comment_id):
            raise AmbiguousDeliveryError(
                f"YouTube answered {response.status_code} without a comment id; the comment "
                "was probably published"
            )
        return _published(str(comment_id), snippet.get("videoId") or video_id)

    async def _reply_to_comment(self, req: PostRequest, parent_id: str) -> Published:
        _no_media(req)
        body: Json = {"snippet": {"parentId": parent_id, "textOriginal": req.text}}
        response = await self._create(req, "comments", body)
        comment = created_body(response, "YouTube")
        comment_id = comment.get("id")
        if not _is_comment_id(comment_id):
            raise AmbiguousDeliveryError(
                f"YouTube answered {response.status_code} without a comment id; the reply "
                "was probably published"
            )
        return _published(str(comment_id), _obj(comment.get("snippet")).get("videoId"))

    async def _create(self, req: PostRequest, resource: str, body: Json) -> httpx.Response:
        what = "publish the comment"
        response = await send(
            self._client,
            "POST",
            f"{self._base}/{resource}",
            network="YouTube",
            what=what,
            creates=True,
            headers=_auth(req),
            params={"part": "snippet"},
            json_body=body,
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock())
        return response

    # --- finding ------------------------------------------------------------------------

    async def _find_reply(self, req: PostRequest, parent_id: str) -> Published | None:
        since = _since(req)
        token: str | None = None
        for _ in range(FIND_MAX_PAGES):
            params: dict[str, str | int] = {
                "part": "snippet",
                "parentId": parent_id,
                "maxResults": FIND_PAGE_SIZE,
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            body = await self._list(req, "comments", params)
            for comment in _items(body):
                if _matches(comment, req, since):
                    snippet = _obj(comment.get("snippet"))
                    return _published(str(comment["id"]), snippet.get("videoId"))
            token = _next_page(body)
            if token is None:
                return None
        return None

    async def _find_on_video(self, req: PostRequest, video_id: str) -> Published | None:
        since = _since(req)
        token: str | None = None
        for _ in range(FIND_MAX_PAGES):
            params: dict[str, str | int] = {
                "part": "snippet",
                "videoId": video_id,
                "order": "time",
                "maxResults": FIND_PAGE_SIZE,
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            body = await self._list(req, "commentThreads", params)
            oldest: datetime | None = None
            for thread in _items(body):
                top = _obj(_obj(thread.get("snippet")).get("topLevelComment"))
                if _matches(top, req, since):
                    return _published(str(top["id"]), video_id)
                oldest = _published_at(top) or oldest
            token = _next_page(body)
            # Newest first: once a page reaches past the attempt, older pages cannot hold it.
            if token is None or (since is not None and oldest is not None and oldest < since):
                return None
        return None

    async def _list(self, req: PostRequest, resource: str, params: Mapping[str, str | int]) -> Json:
        what = "look up the comments"
        response = await send(
            self._client,
            "GET",
            f"{self._base}/{resource}",
            network="YouTube",
            what=what,
            creates=False,
            headers=_auth(req),
            params=params,
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock())
        body = json_object(response)
        if body is None or not isinstance(body.get("items", []), list):
            raise TransientDeliveryError("YouTube answered the comment lookup with malformed JSON")
        return body


def _check(req: PostRequest) -> None:
    if req.network is not Network.YOUTUBE:
        raise ValueError(f"YouTubeDeliverer cannot deliver a {req.network.value} request")


def _no_media(req: PostRequest) -> None:
    if req.media_urls:
        raise PermanentDeliveryError(
            "youtube.media_unsupported",
            "YouTube comments cannot carry images or videos: remove the media from the "
            "YouTube version of the post.",
        )


def _auth(req: PostRequest) -> dict[str, str]:
    return {"Authorization": f"Bearer {req.access_token}"}


def _target(in_reply_to: str) -> tuple[str, str]:
    """``("video", id)`` for ``video:{id}``, ``("comment", top-level id)`` for a comment id."""
    value = in_reply_to.strip()
    if value.startswith(VIDEO_PREFIX):
        video = value[len(VIDEO_PREFIX) :]
        if _VIDEO_ID.fullmatch(video):
            return "video", video
    elif _COMMENT_ID.fullmatch(value):
        return "comment", value.partition(".")[0]
    raise PermanentDeliveryError(
        "youtube.invalid_reply_target",
        f"{in_reply_to!r} is neither a YouTube comment id nor video:<video id>, so there is "
        "nothing to answer.",
    )


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_comment_id(value: object) -> bool:
    return isinstance(value, str) and bool(_COMMENT_ID.fullmatch(value))


def _published(comment_id: str, video_id: object) -> Published:
    if isinstance(video_id, str) and _VIDEO_ID.fullmatch(video_id):
        return Published(native_id=comment_id, url=f"{WATCH_URL}?v={video_id}&lc={comment_id}")
    return Published(native_id=comment_id, url=None)


def _since(req: PostRequest) -> datetime | None:
    return req.attempted_at - FIND_SKEW if req.attempted_at is not None else None


def _items(body: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    items = body.get("items")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _next_page(body: Mapping[str, Any]) -> str | None:
    token = body.get("nextPageToken")
    return token if isinstance(token, str) and token else None


def _published_at(comment: Mapping[str, Any]) -> datetime | None:
    value = _obj(comment.get("snippet")).get("publishedAt")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _matches(comment: Mapping[str, Any], req: PostRequest, since: datetime | None) -> bool:
    """Whether a listed comment is ours: our channel, our text, not older than the attempt."""
    snippet = _obj(comment.get("snippet"))
    if not _is_comment_id(comment.get("id")):
        return False
    if _obj(snippet.get("authorChannelId")).get("value") != req.account_id:
        return False
    if since is not None:
        published = _published_at(comment)
        if published is not None and published < since:
            return False
    # textOriginal is promised to the comment's author, which we are; textDisplay otherwise.
    text = snippet.get("textOriginal")
    if not isinstance(text, str):
        text = snippet.get("textDisplay")
    return isinstance(text, str) and same_text(text, req.text)


# --- errors ---------------------------------------------------------------------------------


def _error(response: httpx.Response, what: str, now: datetime) -> DeliveryError:
    """The delivery error a non-2xx answer means (502/504 on a create never get here)."""
    status = response.status_code
    body = json_object(response) or {}
    error = _obj(body.get("error"))
    message = error.get("message")
    reason_text = short(message) if isinstance(message, str) and message else None
    reason_text = reason_text or response.reason_phrase or "no reason given"
    errors = error.get("errors")
    reasons = {
        str(e.get("reason"))
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, dict) and e.get("reason")
    }
    if status == 401:
        return PermanentDeliveryError(
            "youtube.token_invalid",
            "Google rejected the channel's access token: it expired or was revoked. Reconnect "
            "the YouTube channel so the platform gets a new token.",
        )
    if reasons & _QUOTA_REASONS:
        return RateLimitedDeliveryError(
            "The YouTube API quota of the platform's Google project is used up for today "
            f"({reason_text}); it resets at midnight Pacific time.",
            seconds_until_quota_reset(now),
        )
    if status == 429 or reasons & _RATE_REASONS:
        return RateLimitedDeliveryError(
            f"YouTube rate limit on the request to {what}: {reason_text}",
            _retry_after(response.headers),
        )
    if status >= 500:
        return TransientDeliveryError(
            f"YouTube error {status} on the request to {what}: {reason_text}"
        )
    if status == 403:
        return _forbidden(reasons, reason_text)
    if status == 404:
        return PermanentDeliveryError(
            "youtube.not_found",
            f"YouTube found nothing to {what} ({reason_text}): the video or the comment being "
            "answered was deleted or made private.",
        )
    if "commentTextTooLong" in reasons:
        return PermanentDeliveryError(
            "youtube.too_long",
            f"YouTube refused the comment as too long ({reason_text}). Comments hold 10,000 "
            "characters: shorten it.",
        )
    if reasons & {"operationNotSupported", "parentCommentIsPrivate"}:
        return PermanentDeliveryError(
            "youtube.reply_not_allowed",
            f"YouTube does not allow a reply to that comment ({reason_text}). Comment on the "
            "video instead.",
        )
    return PermanentDeliveryError(
        "youtube.rejected",
        f"YouTube refused the request to {what} ({status}: {reason_text}"
        f"{'; ' + ', '.join(sorted(reasons)) if reasons else ''}).",
    )


def _forbidden(reasons: set[str], reason_text: str) -> PermanentDeliveryError:
    if "commentsDisabled" in reasons:
        return PermanentDeliveryError(
            "youtube.comments_disabled",
            f"Comments are turned off on that video ({reason_text}). Turn them on in YouTube "
            "Studio, or publish somewhere else.",
        )
    if "ineligibleAccount" in reasons:
        return PermanentDeliveryError(
            "youtube.ineligible_account",
            "YouTube says the connected Google account cannot comment: it must be linked to a "
            "YouTube channel. Reconnect with the brand channel's account.",
        )
    if "insufficientPermissions" in reasons:
        return PermanentDeliveryError(
            "youtube.missing_permission",
            f"The connection lacks permission to comment ({reason_text}). Reconnect the YouTube "
            "channel and grant the youtube.force-ssl permission.",
        )
    if any("Suspended" in r or "Closed" in r for r in reasons):
        return PermanentDeliveryError(
            "youtube.account_suspended",
            f"YouTube says the channel is suspended or closed ({reason_text}). Resolve it in "
            "YouTube Studio, then publish again.",
        )
    return PermanentDeliveryError(
        "youtube.forbidden",
        f"YouTube refused to publish the comment ({reason_text}). The channel may not be "
        "allowed to comment there.",
    )


def _retry_after(headers: httpx.Headers) -> float:
    try:
        seconds = float(headers.get("retry-after", ""))
    except ValueError:
        return DEFAULT_RETRY_S
    return max(1.0, seconds) if math.isfinite(seconds) else DEFAULT_RETRY_S
