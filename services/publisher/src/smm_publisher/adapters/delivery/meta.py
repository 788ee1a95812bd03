"""Meta Graph API delivery: Facebook Pages and Instagram professional accounts.

Both take the version in ``api_base_url`` (``https://graph.facebook.com/v21.0``), the token as
``Authorization: Bearer`` (never in a URL), and JSON bodies. Native ids are Meta's own, the
ones ingest's Meta webhooks record (``smm_ingest.adapters.networks.meta``), so a reply names
an ingested post or comment by the id ingest wrote.

**Facebook** (``account_id`` = the Page id; a Page token with ``pages_manage_posts``,
``pages_read_engagement``, and ``pages_manage_engagement`` for replies):

* a post without media is ``POST /{page}/feed`` (``message``, ``link``); one image is
  ``POST /{page}/photos`` (``url``, ``caption``); several images are uploaded unpublished
  (``published: false``, which posts nothing and is safe to repeat) and attached to one
  ``/feed`` post with ``attached_media``. A photo post has no link preview, so there the link
  is appended to the text (Facebook makes it clickable). The native id is the feed story's
  ``{page}_{post}`` id; the URL is ``https://www.facebook.com/{id}``;
* a reply is ``POST /{post-or-comment}/comments`` (``message``, the link appended, one image
  as ``attachment_url``); a comment has no public URL of its own here (None);
* ``find`` reads ``GET /{page}/feed`` or ``GET /{parent}/comments`` (newest first) and matches
  the text, the author (when Meta shows it) and the time. Facebook refuses a status identical
  to the Page's last one (506, ``facebook.duplicate``), one more reason to ``find`` first.

**Instagram** (``account_id`` = the IG user id; ``instagram_content_publish``, and
``instagram_manage_comments`` for replies):

* a post is container-then-publish. ``POST /{ig-user}/media`` with ``image_url`` and
  ``caption`` makes a container (several images: one ``is_carousel_item`` container each, then
  a ``CAROUSEL`` container with ``children``); ``GET /{container}?fields=status_code,status``
  is polled every ``poll_interval_s`` until ``FINISHED`` (``ERROR`` or ``EXPIRED``: permanent;
  still in progress after ``max_polls``: transient); then ``POST /{ig-user}/media_publish``
  (``creation_id``). Only that last call creates the post: it is the only one whose lost
  answer is ambiguous; containers never published simply expire after a day, so repeating
  the container steps is safe. The URL is the media's ``permalink``, read after publishing
  (None if that read fails: the post exists either way). Captions show links as plain text,
  but a variant's link is still appended rather than dropped. Videos are not supported yet;
  a media URL ending in a video extension is refused before sending;
* a reply is ``POST /{ig-comment}/replies`` (``message``; Instagram comments take no media).
  Commenting on a media (rather than replying to a comment) is not supported: Graph refuses
  a media id there (``instagram.not_found``);
* ``find`` reads ``GET /{ig-user}/media?fields=id,caption,timestamp,permalink`` or
  ``GET /{comment}/replies`` and matches the text and the time.

Errors (``{"error": {"message", "type", "code", "error_subcode", "is_transient"}}``): 190 and
102 are a token that expired or was revoked; 4, 17, 32, 613, 80001 and 80002 (or HTTP 429)
rate limits, waiting ``estimated_time_to_regain_access`` from ``X-Business-Use-Case-Usage``
or ``X-App-Usage`` when given (else 5 minutes); Instagram's 24-hour publishing cap
(9/2207042) waits an hour and looks again, since the window rolls; 10 and 200-299 a missing
permission; 368 a block for policy violations; 506 a duplicate post; Instagram's media
subcodes (2207004/5/9/10/28/52 and 9004: an image Instagram cannot fetch or accept, a
caption too long), its spam restriction (4/2207051, checked before code 4 means a rate
limit) and a restricted account (2207050) are permanent; 1, 2, ``is_transient``, the
subcodes Meta documents as "try again" (2207001/3/8/20/27/32/53, 9007) and HTTP 5xx are
transient; 100/33 is an object that does not exist or the token cannot see. HTTP 502/504 and
a timeout or dropped connection after a create was sent are ambiguous.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

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

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
FACEBOOK_URL = "https://www.facebook.com"
#: How many recent posts or comments ``find`` reads.
FIND_PAGE_SIZE = 50
FIND_SKEW = timedelta(minutes=5)
#: Wait on a rate limit without a usable estimate in the usage headers.
DEFAULT_RATE_LIMIT_WAIT_S = 300.0
#: Instagram's publishing cap is a rolling 24 hours: a slot frees when an old post ages out.
PUBLISH_CAP_WAIT_S = 3600.0
#: Never wait longer than a day on a header's word.
MAX_WAIT_S = 86_400.0
_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
_TOKEN_CODES = frozenset({102, 190})
_TRANSIENT_CODES = frozenset({1, 2, 9007})
_TRANSIENT_SUBCODES = frozenset({2207001, 2207003, 2207008, 2207020, 2207027, 2207032, 2207053})
_MEDIA_SUBCODES = frozenset({2207004, 2207005, 2207009, 2207023, 2207028, 2207052})
_GRAPH_ID = re.compile(r"[0-9]{1,32}")
_OBJECT_ID = re.compile(r"[0-9]{1,32}(?:_[0-9]{1,32})?")
_VIDEO = re.compile(r"\.(?:mp4|mov|m4v|avi|webm)(?:$|[?#])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Product:
    """A Graph product as people and error codes name it."""

    network: Network
    name: str
    permissions: str

    @property
    def prefix(self) -> str:
        return self.network.value


_FACEBOOK = _Product(
    Network.FACEBOOK,
    "Facebook",
    "pages_manage_posts, pages_read_engagement and pages_manage_engagement",
)
_INSTAGRAM = _Product(
    Network.INSTAGRAM, "Instagram", "instagram_content_publish and instagram_manage_comments"
)


class _Graph:
    """What both deliverers share: one Graph call with the product's error mapping."""

    def __init__(
        self, client: httpx.AsyncClient, api_base_url: str, product: _Product, timeout_s: float
    ) -> None:
        self._client = client
        self._base = api_base_url.rstrip("/")
        self._product = product
        self._timeout_s = timeout_s

    async def call(
        self,
        method: str,
        path: str,
        req: PostRequest,
        *,
        what: str,
        creates: bool = False,
        params: Mapping[str, str | int] | None = None,
        body: Json | None = None,
    ) -> Json:
        """One Graph call; its JSON object, or the delivery error the answer means."""
        response = await send(
            self._client,
            method,
            f"{self._base}/{path}",
            network=self._product.name,
            what=what,
            creates=creates,
            headers={"Authorization": f"Bearer {req.access_token}"},
            params=params,
            json_body=body,
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _error(response, self._product, what)
        if creates:
            return created_body(response, self._product.name)
        result = json_object(response)
        if result is None:
            raise TransientDeliveryError(
                f"{self._product.name} answered the request to {what} with malformed JSON"
            )
        return result

    async def listing(
        self, path: str, req: PostRequest, params: Mapping[str, str | int], what: str
    ) -> list[dict[str, Any]]:
        """The ``data`` objects of a Graph list (edges such as ``/feed`` or ``/comments``)."""
        result = await self.call("GET", path, req, what=what, params=params)
        data = result.get("data", [])
        if not isinstance(data, list):
            raise TransientDeliveryError(
                f"{self._product.name} answered the request to {what} with malformed JSON"
            )
        return [item for item in data if isinstance(item, dict) and _is_id(item.get("id"))]


class FacebookDeliverer:
    """Publishes Page posts and comments for the Page each request names."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._graph = _Graph(client, api_base_url, _FACEBOOK, timeout_s)

    async def post(self, req: PostRequest) -> Published:
        """Publish a Page post: text and link, one photo, or several photos."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        page = _account(req, _FACEBOOK)
        what = "publish the post"
        if len(req.media_urls) == 1:
            body: Json = {"url": req.media_urls[0]}
            if text := _text_with_link(req):
                body["caption"] = text
            created = await self._graph.call(
                "POST", f"{page}/photos", req, what=what, creates=True, body=body
            )
            # The photo's feed story is the post (ingest's comments name it as their thread).
            post_id = created.get("post_id") or created.get("id")
        else:
            body = {}
            if req.media_urls:
                photos = [await self._unpublished_photo(req, page, url) for url in req.media_urls]
                body["attached_media"] = [{"media_fbid": photo} for photo in photos]
                text = _text_with_link(req)
            else:
                text = req.text
                if req.link:
                    body["link"] = req.link
            if text:
                body["message"] = text
            created = await self._graph.call(
                "POST", f"{page}/feed", req, what=what, creates=True, body=body
            )
            post_id = created.get("id")
        if not _is_id(post_id):
            raise AmbiguousDeliveryError(
                "Facebook answered without a post id; the post was probably published"
            )
        return _facebook_published(post_id)

    async def reply(self, req: PostRequest) -> Published:
        """Publish a comment under the post or comment ``req.in_reply_to``."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        _account(req, _FACEBOOK)
        parent = _object_id(req.in_reply_to, _FACEBOOK)
        if len(req.media_urls) > 1:
            raise PermanentDeliveryError(
                "facebook.media_unsupported",
                "A Facebook comment can carry one image: keep one in the reply.",
            )
        body: Json = {"message": _text_with_link(req)}
        if req.media_urls:
            body["attachment_url"] = req.media_urls[0]
        created = await self._graph.call(
            "POST", f"{parent}/comments", req, what="publish the reply", creates=True, body=body
        )
        comment_id = created.get("id")
        if not _is_id(comment_id):
            raise AmbiguousDeliveryError(
                "Facebook answered without a comment id; the reply was probably published"
            )
        return Published(native_id=comment_id, url=None)

    async def find(self, req: PostRequest) -> Published | None:
        """The post or comment ``req`` made if the Page shows it; None if it is not there."""
        page = _account(req, _FACEBOOK)
        fields = "id,message,created_time,from"
        if req.in_reply_to is None:
            path, what = f"{page}/feed", "look up the Page's recent posts"
            params: dict[str, str | int] = {"fields": fields, "limit": FIND_PAGE_SIZE}
        else:
            path = f"{_object_id(req.in_reply_to, _FACEBOOK)}/comments"
            what = "look up the replies"
            params = {"fields": fields, "limit": FIND_PAGE_SIZE, "order": "reverse_chronological"}
        expected = _text_with_link(req) if req.media_urls or req.in_reply_to else req.text
        for item in await self._graph.listing(path, req, params, what):
            author = item.get("from")
            if isinstance(author, dict) and author.get("id") not in (None, page):
                continue
            if _matches(item.get("message"), item.get("created_time"), expected, req):
                return (
                    _facebook_published(item["id"])
                    if req.in_reply_to is None
                    else Published(native_id=item["id"], url=None)
                )
        return None

    async def _unpublished_photo(self, req: PostRequest, page: str, url: str) -> str:
        # Not a post (published: false), so a lost answer is not ambiguous: at worst an
        # unpublished photo is left in the Page's library.
        created = await self._graph.call(
            "POST",
            f"{page}/photos",
            req,
            what="upload an image",
            body={"url": url, "published": False},
        )
        photo = created.get("id")
        if not _is_id(photo):
            raise TransientDeliveryError("Facebook answered the image upload without an id")
        return photo


class InstagramDeliverer:
    """Publishes Instagram posts (images, carousels) and comment replies."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        poll_interval_s: float = 1.0,
        max_polls: int = 30,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        if max_polls < 1 or poll_interval_s < 0:
            raise ValueError("max_polls must be at least 1 and poll_interval_s not negative")
        self._graph = _Graph(client, api_base_url, _INSTAGRAM, timeout_s)
        self._poll_interval_s = poll_interval_s
        self._max_polls = max_polls

    async def post(self, req: PostRequest) -> Published:
        """Publish an image or carousel post: containers, wait until ready, publish."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        user = _account(req, _INSTAGRAM)
        _check_media(req)
        caption = _text_with_link(req)
        if len(req.media_urls) == 1:
            body: Json = {"image_url": req.media_urls[0]}
        else:
            children = [
                await self._container(req, user, {"image_url": url, "is_carousel_item": True})
                for url in req.media_urls
            ]
            body = {"media_type": "CAROUSEL", "children": children}
        if caption:
            body["caption"] = caption
        container = await self._container(req, user, body)
        await self._wait_until_ready(req, container)
        created = await self._graph.call(
            "POST",
            f"{user}/media_publish",
            req,
            what="publish the post",
            creates=True,
            body={"creation_id": container},
        )
        media_id = created.get("id")
        if not _is_id(media_id):
            raise AmbiguousDeliveryError(
                "Instagram answered without a media id; the post was probably published"
            )
        return Published(native_id=media_id, url=await self._permalink(req, media_id))

    async def reply(self, req: PostRequest) -> Published:
        """Publish a reply to the comment ``req.in_reply_to``."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        _account(req, _INSTAGRAM)
        parent = _object_id(req.in_reply_to, _INSTAGRAM)
        if req.media_urls:
            raise PermanentDeliveryError(
                "instagram.media_unsupported",
                "Instagram comments are text only: remove the media from the reply.",
            )
        created = await self._graph.call(
            "POST",
            f"{parent}/replies",
            req,
            what="publish the reply",
            creates=True,
            body={"message": _text_with_link(req)},
        )
        comment_id = created.get("id")
        if not _is_id(comment_id):
            raise AmbiguousDeliveryError(
                "Instagram answered without a comment id; the reply was probably published"
            )
        return Published(native_id=comment_id, url=None)

    async def find(self, req: PostRequest) -> Published | None:
        """The post or reply ``req`` made if Instagram shows it; None if it is not there."""
        user = _account(req, _INSTAGRAM)
        expected = _text_with_link(req)
        if req.in_reply_to is None:
            media = await self._graph.listing(
                f"{user}/media",
                req,
                {"fields": "id,caption,timestamp,permalink", "limit": FIND_PAGE_SIZE},
                "look up the account's recent posts",
            )
            for item in media:
                if _matches(item.get("caption"), item.get("timestamp"), expected, req):
                    link = item.get("permalink")
                    return Published(item["id"], link if isinstance(link, str) else None)
            return None
        replies = await self._graph.listing(
            f"{_object_id(req.in_reply_to, _INSTAGRAM)}/replies",
            req,
            {"fields": "id,text,timestamp", "limit": FIND_PAGE_SIZE},
            "look up the replies",
        )
        for item in replies:
            if _matches(item.get("text"), item.get("timestamp"), expected, req):
                return Published(native_id=item["id"], url=None)
        return None

    async def _container(self, req: PostRequest, user: str, body: Json) -> str:
        # A container is not a post: repeating this step after a lost answer is safe.
        created = await self._graph.call(
            "POST", f"{user}/media", req, what="prepare the image", body=body
        )
        container = created.get("id")
        if not _is_id(container):
            raise TransientDeliveryError("Instagram answered the image upload without an id")
        return container

    async def _wait_until_ready(self, req: PostRequest, container: str) -> None:
        """Poll the container until Instagram has fetched and processed the media."""
        for attempt in range(self._max_polls):
            if attempt:
                await asyncio.sleep(self._poll_interval_s)
            state = await self._graph.call(
                "GET",
                container,
                req,
                what="check the prepared image",
                params={"fields": "status_code,status"},
            )
            code = state.get("status_code")
            detail = state.get("status")
            said = f" ({short(detail)})" if isinstance(detail, str) and detail else ""
            if code == "FINISHED":
                return
            if code == "ERROR":
                raise PermanentDeliveryError(
                    "instagram.media_failed",
                    f"Instagram could not process the image{said}. Use a public JPEG of at "
                    "most 8 MB with an aspect ratio between 4:5 and 1.91:1.",
                )
            if code == "EXPIRED":
                raise PermanentDeliveryError(
                    "instagram.media_expired",
                    f"Instagram let the prepared image expire{said}. Publish again.",
                )
        raise TransientDeliveryError(
            f"Instagram was still processing the image after {self._max_polls} checks; "
            "nothing was published"
        )

    async def _permalink(self, req: PostRequest, media_id: str) -> str | None:
        try:
            media = await self._graph.call(
                "GET", media_id, req, what="read the post's link", params={"fields": "permalink"}
            )
        except DeliveryError:
            return None  # published all the same; the link is a nicety
        link = media.get("permalink")
        return link if isinstance(link, str) and link.startswith("https://") else None


def _account(req: PostRequest, product: _Product) -> str:
    if req.network is not product.network:
        cls = "FacebookDeliverer" if product is _FACEBOOK else "InstagramDeliverer"
        raise ValueError(f"{cls} cannot deliver a {req.network.value} request")
    account = req.account_id.strip()
    if not _GRAPH_ID.fullmatch(account):
        what = "Page id" if product is _FACEBOOK else "Instagram account id"
        raise PermanentDeliveryError(
            f"{product.prefix}.invalid_account",
            f"{req.account_id!r} is not a {product.name} {what}: set the connection's account "
            f"id to the numeric {what}.",
        )
    return account


def _object_id(native_id: str, product: _Product) -> str:
    value = native_id.strip()
    if not _OBJECT_ID.fullmatch(value):
        raise PermanentDeliveryError(
            f"{product.prefix}.invalid_reply_target",
            f"{native_id!r} is not a {product.name} post or comment id, so there is nothing "
            "to reply to.",
        )
    return value


def _check_media(req: PostRequest) -> None:
    if not req.media_urls:
        raise PermanentDeliveryError(
            "instagram.media_required", "An Instagram post needs at least one image."
        )
    if any(_VIDEO.search(url) for url in req.media_urls):
        raise PermanentDeliveryError(
            "instagram.video_unsupported",
            "Posting videos to Instagram is not supported yet: use images, or post the video "
            "in the Instagram app.",
        )


def _text_with_link(req: PostRequest) -> str:
    """The text with the link appended, where the link has no field of its own."""
    if req.link and req.link not in req.text:
        return f"{req.text}\n\n{req.link}" if req.text else req.link
    return req.text


def _is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None


def _facebook_published(post_id: str) -> Published:
    return Published(native_id=post_id, url=f"{FACEBOOK_URL}/{post_id}")


def _matches(text: object, created: object, expected: str, req: PostRequest) -> bool:
    """Same text, not older than the attempt (Graph times: ``2025-11-27T10:15:00+0000``)."""
    if not isinstance(text, str) and expected:
        return False
    if req.attempted_at is not None and isinstance(created, str):
        try:
            at = datetime.fromisoformat(created)
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None and at < req.attempted_at - FIND_SKEW:
            return False
    return same_text(text if isinstance(text, str) else "", expected)


# --- errors ---------------------------------------------------------------------------------


def _error(response: httpx.Response, product: _Product, what: str) -> DeliveryError:
    """The delivery error of a failed Graph answer (502/504 on a create never get here)."""
    status = response.status_code
    body = json_object(response) or {}
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    code = _int(error.get("code"))
    sub = _int(error.get("error_subcode"))
    message = error.get("error_user_msg") or error.get("message")
    reason = short(message) if isinstance(message, str) else response.reason_phrase or "no reason"
    name, prefix = product.name, product.prefix
    if sub == 2207051:  # code 4, which otherwise means a rate limit
        return PermanentDeliveryError(
            "instagram.spam_restricted",
            f"Instagram held the post back as possible spam ({reason}). Post it in the "
            "Instagram app, or tell Instagram if you think it made a mistake.",
        )
    if sub == 2207042:
        return RateLimitedDeliveryError(
            f"Instagram's limit of posts per 24 hours for this account is reached: {reason}",
            PUBLISH_CAP_WAIT_S,
        )
    if status == 429 or code in _RATE_LIMIT_CODES:
        return RateLimitedDeliveryError(
            f"{name} rate limit on the request to {what}: {reason}", _retry_after(response)
        )
    if code in _TOKEN_CODES or (code is None and status == 401):
        return PermanentDeliveryError(
            f"{prefix}.token_invalid",
            f"{name} rejected the access token: it expired or was revoked (a password change "
            f"or a removed app revokes it). Reconnect the {name} account.",
        )
    if code == 368:
        return PermanentDeliveryError(
            f"{prefix}.policy_blocked",
            f"{name} has temporarily blocked this account from posting for policy reasons "
            f"({reason}). Check the account's notifications on {name}.",
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        return PermanentDeliveryError(
            f"{prefix}.missing_permission",
            f"{name} refused: the connection lacks a permission ({reason}). Reconnect the "
            f"account and grant {product.permissions}.",
        )
    if code == 506:
        return PermanentDeliveryError(
            "facebook.duplicate",
            "Facebook refused the post because the Page just published the same text. Change "
            "the wording and publish again.",
        )
    if sub == 2207050:
        return PermanentDeliveryError(
            "instagram.account_restricted",
            f"Instagram says the account is inactive or restricted ({reason}). Open the "
            "Instagram app to resolve it, then publish again.",
        )
    if sub == 2207010 or code == 36004:
        return PermanentDeliveryError(
            "instagram.too_long",
            f"Instagram refused the caption ({reason}): at most 2,200 characters, 30 hashtags "
            "and 20 @mentions. Shorten it.",
        )
    if sub in _MEDIA_SUBCODES or code in (9004, 36000, 36001, 36003):
        return PermanentDeliveryError(
            "instagram.media_invalid",
            f"Instagram could not use an image ({reason}). Use public JPEG URLs of at most "
            "8 MB with an aspect ratio between 4:5 and 1.91:1.",
        )
    if (
        code in _TRANSIENT_CODES
        or sub in _TRANSIENT_SUBCODES
        or error.get("is_transient") is True
        or status >= 500
    ):
        return TransientDeliveryError(f"{name} error {status} on the request to {what}: {reason}")
    if code == 100 and sub == 33:
        return PermanentDeliveryError(
            f"{prefix}.not_found",
            f"{name} found nothing to {what} ({reason}): the post or comment was deleted, the "
            "id is wrong, or this account cannot see it.",
        )
    return PermanentDeliveryError(
        f"{prefix}.rejected", f"{name} refused the request to {what} ({status}: {reason})."
    )


def _retry_after(response: httpx.Response) -> float:
    """Meta's ``estimated_time_to_regain_access`` (minutes) from the usage headers, if any."""
    minutes: list[float] = []
    for header in ("x-business-use-case-usage", "x-app-usage", "x-page-usage"):
        raw = response.headers.get(header)
        try:
            value = json.loads(raw) if raw and len(raw) < 65_536 else None
        except (ValueError, RecursionError):
            value = None
        entries: list[Any] = [value] if isinstance(value, dict) else []
        if isinstance(value, dict) and header == "x-business-use-case-usage":
            entries = [e for v in value.values() if isinstance(v, list) for e in v]
        for entry in entries:
            estimate = (
                entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            )
            if _positive(estimate):
                minutes.append(float(estimate))
    if not minutes:
        return DEFAULT_RATE_LIMIT_WAIT_S
    return min(MAX_WAIT_S, max(minutes) * 60.0)


def _positive(value: object) -> TypeGuard[float]:
    """A finite number above 0 (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if (
        isinstance(value, str)
        and value.isascii()
        and value.lstrip("-").isdigit()
        and len(value) < 12
    ):
        return int(value)
    return None
