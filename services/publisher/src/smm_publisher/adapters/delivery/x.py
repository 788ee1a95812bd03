"""X API v2 delivery: ``POST /2/tweets`` with the account's OAuth 2.0 user token.

A reply sets ``reply.in_reply_to_tweet_id``. The answer is ``{"data": {"id", "text"}}``; the
public URL is ``https://x.com/i/web/status/{id}``, which X redirects to the author's handle.

Errors follow X's problem format (``{"title", "detail", "type", "status"}``, or a list under
``errors``): 401 is an expired or revoked token; 403 with "duplicate content" is X refusing
text the account already posted (``x.duplicate``), other 403s a missing permission, a
suspended account or a reply X does not allow; 429 waits for ``x-rate-limit-reset`` (epoch
seconds), or for the 24-hour reset when the daily post cap is what ran out; 502/504 and a
timeout or dropped connection after sending are ambiguous; other 5xx are transient.

There is no idempotency key for tweets, so :meth:`XDeliverer.find` reads the account's
recent tweets (``GET /2/users/:id/tweets``, which needs at least X's Basic access) and
matches the text. X gives a tweet back with ``&<>`` escaped, every URL as a ``t.co`` link
and, for a reply, the leading ``@mentions``; the match allows for all three. A ``find``
after an ambiguous post is also why a later ``x.duplicate`` should not happen: resolve first.

Media: each of ``req.media_urls`` (X takes at most four images) is downloaded with the same
client first (JPEG, PNG or WEBP, at most 5 MB: what X's one-request image upload takes; a
URL that does not give such a file is ``x.media_unavailable``, ``x.media_too_large`` or
``x.media_unsupported`` before anything reaches X), then uploaded with ``POST
/2/media/upload`` (multipart ``media``, ``media_category=tweet_image``; the token needs the
``media.write`` scope), and the ids go in the tweet's ``media.media_ids``. An upload posts
nothing, so a lost answer to one is transient; unused media expire on X's side. Animated GIFs
and video need X's chunked upload, which this client does not do.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from smm_publisher.adapters.delivery._http import (
    TIMEOUT_S,
    Json,
    Media,
    MediaGuard,
    created_body,
    fetch_media,
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

DEFAULT_API_BASE_URL = "https://api.x.com"
#: Wait when a 429 carries no usable reset header.
DEFAULT_RATE_LIMIT_WAIT_S = 60.0
#: How many recent tweets ``find`` reads (X's max_results: 5..100).
FIND_PAGE_SIZE = 20
#: Clock skew allowed between us and X when ``find`` looks from ``attempted_at``.
FIND_SKEW = timedelta(minutes=5)
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")
_TRAILING_MEDIA_LINK = re.compile(r"\s*https://t\.co/\w+\s*$")
#: X's limit for an image sent in one upload request.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
#: The image types X's one-request upload takes.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

Clock = Callable[[], float]


class XDeliverer:
    """Publishes tweets and replies for the account whose token each request carries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        clock: Clock = time.time,
        timeout_s: float = TIMEOUT_S,
        media_guard: MediaGuard | None = None,
    ) -> None:
        self._client = client
        self._base = api_base_url.rstrip("/")
        self._clock = clock
        self._timeout_s = timeout_s
        #: Checks media URLs before downloading them (``_http.public_hosts_only`` in service).
        self._media_guard = media_guard

    async def post(self, req: PostRequest) -> Published:
        """Publish a new tweet."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        return await self._create(req)

    async def reply(self, req: PostRequest) -> Published:
        """Publish a reply to the tweet ``req.in_reply_to``."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        return await self._create(req)

    async def find(self, req: PostRequest) -> Published | None:
        """The tweet ``req`` made among the account's recent tweets; None if it is not there."""
        _check(req)
        params: dict[str, str | int] = {
            "max_results": FIND_PAGE_SIZE,
            "tweet.fields": "created_at,referenced_tweets",
            "exclude": "retweets",
        }
        if req.attempted_at is not None:
            since = (req.attempted_at - FIND_SKEW).astimezone(UTC)
            params["start_time"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        what = "look up the account's recent posts"
        response = await send(
            self._client,
            "GET",
            f"{self._base}/2/users/{req.account_id}/tweets",
            network="X",
            what=what,
            creates=False,
            headers=_auth(req),
            params=params,
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock)
        body = json_object(response)
        data = body.get("data", []) if body is not None else None
        if not isinstance(data, list):
            raise TransientDeliveryError("X answered the recent-posts lookup with malformed JSON")
        for tweet in data:
            if isinstance(tweet, dict) and _matches(tweet, req):
                return _published(tweet["id"])
        return None

    async def _create(self, req: PostRequest) -> Published:
        _check(req)
        # Every file is fetched before anything reaches X: a bad URL then costs no upload.
        files = [await self._download(url) for url in req.media_urls]
        media_ids = [await self._upload(req, media) for media in files]
        body: Json = {"text": req.text}
        if req.in_reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": req.in_reply_to}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        what = "publish the post"
        response = await send(
            self._client,
            "POST",
            f"{self._base}/2/tweets",
            network="X",
            what=what,
            creates=True,
            headers=_auth(req),
            json_body=body,
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock)
        data = created_body(response, "X").get("data")
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if not _is_id(tweet_id):
            # A 2xx without an id: X acted on the request, so look before trying again.
            raise AmbiguousDeliveryError(
                f"X answered {response.status_code} without a post id; it was probably published"
            )
        return _published(str(tweet_id))

    async def _download(self, url: str) -> Media:
        return await fetch_media(
            self._client,
            url,
            network="X",
            code_prefix="x",
            max_bytes=MAX_IMAGE_BYTES,
            timeout_s=self._timeout_s,
            guard=self._media_guard,
            accept=IMAGE_TYPES,
        )

    async def _upload(self, req: PostRequest, media: Media) -> str:
        """X's media id for one image (``POST /2/media/upload``, one request)."""
        what = f"upload the image {media.url}"
        response = await send(
            self._client,
            "POST",
            f"{self._base}/2/media/upload",
            network="X",
            what=what,
            creates=False,  # an upload posts nothing; an unused one expires
            headers=_auth(req),
            form={"media_category": "tweet_image", "media_type": media.content_type},
            files={"media": (media.file_name, media.content, media.content_type)},
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            error = _error(response, what, self._clock)
            if isinstance(error, PermanentDeliveryError) and error.code == "x.forbidden":
                # A token without media.write gets a plain 403 from the upload endpoint.
                raise PermanentDeliveryError(
                    "x.missing_permission",
                    f"{error.message} Reconnect the X account and grant the media.write "
                    "permission: image uploads need it.",
                ) from error
            raise error
        body = json_object(response) or {}
        data = body.get("data")
        media_id = data.get("id") if isinstance(data, dict) else body.get("media_id_string")
        if not _is_id(media_id):
            raise TransientDeliveryError(
                f"X answered the upload of {media.url} without a media id; it will be retried"
            )
        return str(media_id)


def _check(req: PostRequest) -> None:
    if req.network is not Network.X:
        raise ValueError(f"XDeliverer cannot deliver a {req.network.value} request")


def _auth(req: PostRequest) -> dict[str, str]:
    return {"Authorization": f"Bearer {req.access_token}"}


def _published(tweet_id: str) -> Published:
    return Published(native_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")


def _is_id(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _matches(tweet: Mapping[str, Any], req: PostRequest) -> bool:
    """Whether a listed tweet is the one ``req`` made: same text, same parent, not older."""
    text = tweet.get("text")
    if not _is_id(tweet.get("id")) or not isinstance(text, str):
        return False
    if _parent(tweet) != req.in_reply_to:
        return False
    if req.attempted_at is not None and not _created_since(tweet, req.attempted_at - FIND_SKEW):
        return False
    if req.media_urls:
        # X ends the text of a tweet with media with a t.co link to the media.
        text = _TRAILING_MEDIA_LINK.sub("", text)
    if req.in_reply_to is not None:
        # X puts the @mentions of the conversation in front of a reply's text.
        return same_text(_LEADING_MENTIONS.sub("", text), _LEADING_MENTIONS.sub("", req.text))
    return same_text(text, req.text)


def _parent(tweet: Mapping[str, Any]) -> str | None:
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            parent = ref.get("id")
            return parent if isinstance(parent, str) else None
    return None


def _created_since(tweet: Mapping[str, Any], since: datetime) -> bool:
    created = tweet.get("created_at")
    if not isinstance(created, str):
        return True  # X did not say: the text and parent decide
    try:
        at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return True
    return at >= since


# --- errors ---------------------------------------------------------------------------------


def _error(response: httpx.Response, what: str, clock: Clock) -> DeliveryError:
    """The delivery error a non-2xx answer means (502/504 on a create never get here)."""
    status = response.status_code
    body = json_object(response) or {}
    reason = _reason(body) or response.reason_phrase or "no reason given"
    lowered = f"{reason} {_types(body)}".lower()
    if status == 429:
        return RateLimitedDeliveryError(
            f"X rate limit on the request to {what}: {reason}", _retry_after(response, clock)
        )
    if status == 401:
        return PermanentDeliveryError(
            "x.token_invalid",
            "X rejected the account's access token: it expired or was revoked. Reconnect "
            "the X account so the platform gets a new token.",
        )
    if status >= 500:
        return TransientDeliveryError(f"X error {status} on the request to {what}: {reason}")
    if "duplicate content" in lowered:
        return PermanentDeliveryError(
            "x.duplicate",
            "X refused the post because this account already published the same text. "
            "Change the wording (X refuses identical posts) and publish again.",
        )
    if "too long" in lowered:
        return PermanentDeliveryError(
            "x.too_long", f"X refused the text as too long ({reason}). Shorten it and try again."
        )
    if "suspend" in lowered or "locked" in lowered:
        return PermanentDeliveryError(
            "x.account_suspended",
            f"X says the account is suspended or locked ({reason}). Resolve it on x.com, "
            "then publish again.",
        )
    if status == 403 and "reply" in lowered:
        return PermanentDeliveryError(
            "x.reply_not_allowed",
            f"X does not allow this account to reply in that conversation ({reason}).",
        )
    if status == 403 and any(
        marker in lowered
        for marker in ("unsupported-authentication", "oauth1-permissions", "client-forbidden")
    ):
        return PermanentDeliveryError(
            "x.missing_permission",
            f"X refused: the connection lacks permission to post ({reason}). Reconnect the "
            "X account and grant the tweet.write permission; the app needs write access.",
        )
    if status == 403:
        return PermanentDeliveryError(
            "x.forbidden", f"X refused the request to {what} (403: {reason})."
        )
    return PermanentDeliveryError(
        "x.rejected", f"X refused the request to {what} ({status}: {reason})."
    )


def _retry_after(response: httpx.Response, clock: Clock) -> float:
    """Seconds until the limit that ran out resets: the 15-minute window or the daily cap."""
    headers = response.headers
    resets = [_epoch(headers.get("x-rate-limit-reset"))]
    for scope in ("user", "app"):
        if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
            resets.append(_epoch(headers.get(f"x-{scope}-limit-24hour-reset")))
    known = [reset for reset in resets if reset is not None]
    if not known:
        return DEFAULT_RATE_LIMIT_WAIT_S
    return max(1.0, max(known) - clock())


def _epoch(value: str | None) -> float | None:
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def _reason(body: Mapping[str, Any]) -> str:
    """A short readable reason from an X problem or ``errors`` object."""
    parts: list[str] = []
    errors = body.get("errors")
    problems: Iterable[Any] = [body, *(errors if isinstance(errors, list) else [])]
    for problem in problems:
        if not isinstance(problem, dict):
            continue
        for key in ("detail", "message"):
            value = problem.get(key)
            if isinstance(value, str) and value and value not in parts:
                parts.append(value)
    if not parts and isinstance(body.get("title"), str):
        parts.append(body["title"])
    return short("; ".join(parts))


def _types(body: Mapping[str, Any]) -> str:
    errors = body.get("errors")
    problems = [body, *(errors if isinstance(errors, list) else [])]
    return " ".join(str(p.get("type")) for p in problems if isinstance(p, dict) and p.get("type"))
