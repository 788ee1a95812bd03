"""Mastodon delivery: ``POST /api/v1/statuses`` on the account's instance.

One deliverer per instance (``instance_url``); each request carries the account id and its
access token (scope ``write:statuses``; ``read:statuses`` too for :meth:`find`). A reply sets
``in_reply_to_id``. Visibility is left to the account's default.

Every create sends ``Idempotency-Key: <req.idempotency_key>``. Mastodon remembers the key per
account for about an hour and answers a repeat with the status the first request created,
so within that hour a retry with the same key cannot post twice. :meth:`find` still exists
for the rule the service follows everywhere (resolve an ambiguous failure before retrying)
and for resolutions later than that hour: it reads the account's recent statuses
(``GET /api/v1/accounts/:id/statuses``) and matches the text, the parent and the time.
Mastodon gives a status back as HTML with long URLs elided and remote mentions shortened
to ``@user``; URLs are compared as "a URL here", and a text with a remote ``@user@host``
mention does not match (the idempotency key covers that case within the hour).

Errors: 401 an expired or revoked token, 403 a missing scope or a suspended or disabled
account, 422 a status the instance refused (the ``error`` says why, e.g. the character
limit), 404 a wrong account id or a deleted parent; 429 waits for ``X-RateLimit-Reset`` (an
ISO 8601 time); 502/504 and a timeout or dropped connection after sending are ambiguous;
other 5xx are transient.

Media: each of ``req.media_urls`` (at most four on a default instance) is downloaded with the
same client (at most 10 MB, an image: JPEG, PNG, GIF or WEBP; otherwise
``mastodon.media_unavailable``, ``mastodon.media_too_large`` or ``mastodon.media_unsupported``
before anything reaches the instance), uploaded with ``POST /api/v2/media`` (multipart
``file``; scope ``write:media``), and the attachment ids go in the status's ``media_ids``.
The instance answers 200 when the file is ready and 202 while it is still processing; for a
202 the client polls ``GET /api/v1/media/:id`` until the attachment has a ``url`` (a status
with unprocessed media is refused). An upload posts nothing, so a lost answer to one is
transient. A retry uploads the files again but the status keeps its ``Idempotency-Key``, so
Mastodon still answers with the first status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
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

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

#: Wait on a 429 without a usable ``X-RateLimit-Reset``.
DEFAULT_RETRY_S = 60.0
#: Never wait longer than this on a server's word (a bad clock must not park a delivery).
MAX_WAIT_S = 3600.0
#: How many recent statuses ``find`` reads (Mastodon's maximum page).
FIND_PAGE_SIZE = 40
FIND_SKEW = timedelta(minutes=5)
#: The image size this client uploads (Mastodon's default limit is 16 MB; older instances 10).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
#: How often and how long to wait for an instance that is still processing an upload (202).
MEDIA_POLL_INTERVAL_S = 1.0
MEDIA_POLL_ATTEMPTS = 30


def _now() -> datetime:
    return datetime.now(UTC)


class MastodonDeliverer:
    """Publishes statuses and replies on one Mastodon instance."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        instance_url: str,
        clock: Clock = _now,
        timeout_s: float = TIMEOUT_S,
        media_guard: MediaGuard | None = None,
        media_poll_interval_s: float = MEDIA_POLL_INTERVAL_S,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        base = instance_url.strip().rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ValueError("instance_url must be an http(s) URL")
        self._client = client
        self._base = base
        self._clock = clock
        self._timeout_s = timeout_s
        #: Checks media URLs before downloading them (``_http.public_hosts_only`` in service).
        self._media_guard = media_guard
        self._poll_s = media_poll_interval_s
        self._sleep = sleep

    async def post(self, req: PostRequest) -> Published:
        """Publish a new status."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        return await self._create(req)

    async def reply(self, req: PostRequest) -> Published:
        """Publish a reply to the status ``req.in_reply_to``."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        return await self._create(req)

    async def find(self, req: PostRequest) -> Published | None:
        """The status ``req`` made among the account's recent ones; None if it is not there."""
        _check(req)
        what = "look up the account's recent posts"
        response = await send(
            self._client,
            "GET",
            f"{self._base}/api/v1/accounts/{req.account_id}/statuses",
            network="Mastodon",
            what=what,
            creates=False,
            headers=_auth(req),
            params={"limit": FIND_PAGE_SIZE, "exclude_reblogs": "true"},
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock())
        try:
            statuses = response.json()
        except ValueError:
            statuses = None
        if not isinstance(statuses, list):
            raise TransientDeliveryError(
                "Mastodon answered the recent-posts lookup with malformed JSON"
            )
        for status in statuses:
            if isinstance(status, dict) and _matches(status, req):
                return _published(status)
        return None

    async def _create(self, req: PostRequest) -> Published:
        _check(req)
        if not req.idempotency_key:
            raise ValueError("Mastodon posts need an idempotency_key (it makes retries safe)")
        # Every file is fetched before anything reaches the instance.
        files = [await self._download(url) for url in req.media_urls]
        media_ids = [await self._upload(req, media) for media in files]
        body: Json = {"status": req.text}
        if req.in_reply_to is not None:
            body["in_reply_to_id"] = req.in_reply_to
        if media_ids:
            body["media_ids"] = media_ids
        what = "publish the post"
        response = await send(
            self._client,
            "POST",
            f"{self._base}/api/v1/statuses",
            network="Mastodon",
            what=what,
            creates=True,
            headers={**_auth(req), "Idempotency-Key": req.idempotency_key},
            json_body=body,
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock())
        status = created_body(response, "Mastodon")
        if not isinstance(status.get("id"), str) or not status["id"]:
            raise AmbiguousDeliveryError(
                f"Mastodon answered {response.status_code} without a status id; "
                "it was probably published"
            )
        return _published(status)

    async def _download(self, url: str) -> Media:
        return await fetch_media(
            self._client,
            url,
            network="Mastodon",
            code_prefix="mastodon",
            max_bytes=MAX_IMAGE_BYTES,
            timeout_s=self._timeout_s,
            guard=self._media_guard,
            accept=IMAGE_TYPES,
        )

    async def _upload(self, req: PostRequest, media: Media) -> str:
        """The attachment id of one uploaded image, once the instance has processed it."""
        what = f"upload the image {media.url}"
        response = await send(
            self._client,
            "POST",
            f"{self._base}/api/v2/media",
            network="Mastodon",
            what=what,
            creates=False,  # an attachment without a status is never shown
            headers=_auth(req),
            files={"file": (media.file_name, media.content, media.content_type)},
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, what, self._clock())
        attachment = json_object(response) or {}
        media_id = attachment.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise TransientDeliveryError(
                f"Mastodon answered the upload of {media.url} without an attachment id"
            )
        if response.status_code == 202 or not attachment.get("url"):
            await self._wait_processed(req, media, media_id)
        return media_id

    async def _wait_processed(self, req: PostRequest, media: Media, media_id: str) -> None:
        """Poll ``GET /api/v1/media/:id`` until it has a URL (200), or give up (transient)."""
        what = f"check the upload of {media.url}"
        for _ in range(MEDIA_POLL_ATTEMPTS):
            await self._sleep(self._poll_s)
            response = await send(
                self._client,
                "GET",
                f"{self._base}/api/v1/media/{media_id}",
                network="Mastodon",
                what=what,
                creates=False,
                headers=_auth(req),
                timeout_s=self._timeout_s,
            )
            if response.status_code == 206:
                continue  # still processing
            if not response.is_success:
                raise _error(response, what, self._clock())
            attachment = json_object(response) or {}
            if attachment.get("url"):
                return
        raise TransientDeliveryError(
            f"The Mastodon instance is still processing {media.url}; the post will be retried"
        )


def _check(req: PostRequest) -> None:
    if req.network is not Network.MASTODON:
        raise ValueError(f"MastodonDeliverer cannot deliver a {req.network.value} request")


def _auth(req: PostRequest) -> dict[str, str]:
    return {"Authorization": f"Bearer {req.access_token}", "Accept": "application/json"}


def _published(status: Mapping[str, Any]) -> Published:
    url = status.get("url") or status.get("uri")
    return Published(native_id=str(status["id"]), url=url if isinstance(url, str) else None)


def _matches(status: Mapping[str, Any], req: PostRequest) -> bool:
    """Whether a listed status is the one ``req`` made: same text, same parent, not older."""
    content = status.get("content")
    if not isinstance(status.get("id"), str) or not isinstance(content, str):
        return False
    if status.get("in_reply_to_id") != req.in_reply_to:
        return False
    if req.attempted_at is not None:
        created = _iso(status.get("created_at"))
        if created is not None and created < req.attempted_at - FIND_SKEW:
            return False
    return same_text(html_to_text(content), req.text)


class _Text(HTMLParser):
    """Collects the text of Mastodon's status HTML, paragraphs and line breaks kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """The plain text of a status's HTML ``content``."""
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


# --- errors ---------------------------------------------------------------------------------


def _error(response: httpx.Response, what: str, now: datetime) -> DeliveryError:
    """The delivery error a non-2xx answer means (502/504 on a create never get here)."""
    status = response.status_code
    body = json_object(response) or {}
    error = body.get("error")
    reason = short(error) if isinstance(error, str) else response.reason_phrase or "no reason"
    lowered = reason.lower()
    if status == 429:
        return RateLimitedDeliveryError(
            f"Mastodon rate limit: {reason}", _retry_after(response.headers, now)
        )
    if status == 401:
        return PermanentDeliveryError(
            "mastodon.token_invalid",
            "The Mastodon instance rejected the account's access token: it expired or was "
            "revoked. Reconnect the Mastodon account.",
        )
    if status == 403 and ("suspend" in lowered or "disabled" in lowered):
        return PermanentDeliveryError(
            "mastodon.account_suspended",
            f"The Mastodon account is suspended or disabled ({reason}). Contact the "
            "instance's moderators, then publish again.",
        )
    if status == 403:
        return PermanentDeliveryError(
            "mastodon.missing_permission",
            f"The Mastodon instance refused ({reason}). Reconnect the account and grant the "
            "write:statuses and read:statuses permissions.",
        )
    if status == 422 and "processing" in lowered:
        # "Cannot attach files that have not finished processing. Try again in a moment!"
        return TransientDeliveryError(f"Mastodon is still processing the media: {reason}")
    if status == 422 and ("limit" in lowered or "too long" in lowered):
        return PermanentDeliveryError(
            "mastodon.too_long",
            f"The instance refused the text as too long ({reason}). Shorten it.",
        )
    if status == 422:
        return PermanentDeliveryError(
            "mastodon.rejected", f"The instance refused the post: {reason}. Fix it and try again."
        )
    if status == 404:
        return PermanentDeliveryError(
            "mastodon.not_found",
            f"The instance found nothing to {what} ({reason}): the account id is wrong, or "
            "the post being replied to was deleted.",
        )
    if status >= 500:
        return TransientDeliveryError(f"Mastodon error {status}: {reason}")
    return PermanentDeliveryError(
        "mastodon.rejected", f"The instance refused the request to {what} ({status}: {reason})."
    )


def _retry_after(headers: httpx.Headers, now: datetime) -> float:
    """Seconds until ``X-RateLimit-Reset`` (ISO 8601), at least 1, at most an hour."""
    reset = _iso(headers.get("x-ratelimit-reset"))
    if reset is None:
        return DEFAULT_RETRY_S
    return min(MAX_WAIT_S, max(1.0, (reset - now).total_seconds()))


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
