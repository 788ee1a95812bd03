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

Media need ``POST /api/v2/media`` first; this client does not upload yet and refuses a
request with media before sending anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx

from smm_publisher.adapters.delivery._http import Json, created_body, json_object, send, short
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

#: Wait on a 429 without a usable ``X-RateLimit-Reset``.
DEFAULT_RETRY_S = 60.0
#: Never wait longer than this on a server's word (a bad clock must not park a delivery).
MAX_WAIT_S = 3600.0
#: How many recent statuses ``find`` reads (Mastodon's maximum page).
FIND_PAGE_SIZE = 40
FIND_SKEW = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


class MastodonDeliverer:
    """Publishes statuses and replies on one Mastodon instance."""

    def __init__(
        self, client: httpx.AsyncClient, *, instance_url: str, clock: Clock = _now
    ) -> None:
        base = instance_url.strip().rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ValueError("instance_url must be an http(s) URL")
        self._client = client
        self._base = base
        self._clock = clock

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
        if req.media_urls:
            raise PermanentDeliveryError(
                "mastodon.media_unsupported",
                "Posting images to Mastodon is not supported yet: remove the media from the "
                "Mastodon version of the post, or post it by hand.",
            )
        body: Json = {"status": req.text}
        if req.in_reply_to is not None:
            body["in_reply_to_id"] = req.in_reply_to
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
