"""Fake X API v2 (mounted at ``/x``): what ``XDeliverer`` calls.

* ``POST /2/media/upload``: one-request image upload (multipart ``media``, ``media_category``,
  ``media_type``; JPEG, PNG or WEBP up to 5 MB) → ``{"data": {"id", "media_key", ...}}``.
* ``POST /2/tweets``: ``{"text", "reply": {"in_reply_to_tweet_id"}, "media": {"media_ids"}}``
  → 201 ``{"data": {"id", "text", "edit_history_tweet_ids"}}``. The posting request that
  faults are injected into.
* ``GET /2/users/{id}/tweets``: the account's tweets, newest first, as X shows them: ``&<>``
  escaped, every URL a ``t.co`` link, a tweet with media ending with its media link;
  ``max_results`` and ``start_time`` are honoured.

The author of a tweet is the token's account (see ``_common``: ``secret@{user id}`` names it).
Errors are X's problem objects: 401 for a bad token, 429 with ``x-rate-limit-reset``, 403
"duplicate content" for ``reject_content``, 500 for ``server_error``.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smm_shared.simulator.networks import FakeNetworks, FakePost, Fault, token_valid
from smm_shared.simulator.networks._common import (
    bearer,
    gateway_timeout,
    read_multipart,
    token_owner,
)

NETWORK = "x"
TEXT_LIMIT = 280
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
_URL = re.compile(r"https?://\S+")


def _problem(status: int, title: str, detail: str, kind: str = "about:blank") -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "type": kind, "status": status}, status_code=status
    )


def _unauthorized() -> JSONResponse:
    return _problem(401, "Unauthorized", "Unauthorized")


def _invalid(message: str) -> JSONResponse:
    body = {
        "errors": [{"message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    return JSONResponse(body, status_code=400)


def _t_co(url: str) -> str:
    return "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]


def shown_text(post: FakePost) -> str:
    """A tweet's text as X gives it back: escaped, URLs shortened, media link appended."""
    text = _URL.sub(lambda m: _t_co(m.group(0)), post.text)
    text = html.escape(text, quote=False)
    if post.media_urls:
        text = f"{text} {_t_co(post.native_id + '/photo')}".strip()
    return text


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def router(state: FakeNetworks) -> APIRouter:
    """The fake X endpoints over ``state``."""
    api = APIRouter()
    #: Uploaded media by id: (owner, size, sha256, type).
    uploads: dict[str, tuple[str, int, str, str]] = {}

    @api.post("/2/media/upload")
    async def upload_media(request: Request) -> Response:
        token = bearer(request)
        if token is None or not token_valid(token):
            return _unauthorized()
        parts = await read_multipart(request)
        media = parts.get("media")
        if media is None or not media.data:
            return _invalid("media: the file is required")
        kind_part = parts.get("media_type")
        kind = kind_part.text if kind_part is not None else media.content_type
        if kind not in IMAGE_TYPES:
            return _invalid(f"media_type: {kind} is not an image type for a one-shot upload")
        if len(media.data) > MAX_IMAGE_BYTES:
            return _invalid("media: the file is larger than 5242880 bytes")
        media_id = str(state.next_id())
        digest = hashlib.sha256(media.data).hexdigest()
        uploads[media_id] = (token_owner(token, numeric=True), len(media.data), digest, kind)
        return JSONResponse(
            {
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "size": len(media.data),
                    "expires_after_secs": 86400,
                    "image": {"image_type": kind},
                }
            }
        )

    @api.post("/2/tweets")
    async def create_tweet(request: Request) -> Response:
        fault = state.take_fault(NETWORK)
        token = bearer(request)
        if fault is Fault.EXPIRED_TOKEN or token is None or not token_valid(token):
            return _unauthorized()
        now = state.now()
        if fault is Fault.RATE_LIMITED:
            reset = int((now + timedelta(minutes=15)).timestamp())
            response = _problem(429, "Too Many Requests", "Too Many Requests")
            response.headers.update(
                {
                    "x-rate-limit-limit": "100",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                }
            )
            return response
        if fault is Fault.SERVER_ERROR:
            return _problem(500, "Internal Server Error", "Something went wrong on our side.")
        if fault is Fault.REJECT_CONTENT:
            return _problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        try:
            body: Any = await request.json()
        except ValueError:
            return _invalid("the body must be JSON")
        if not isinstance(body, dict):
            return _invalid("the body must be a JSON object")
        text = body.get("text") or ""
        media = body.get("media") if isinstance(body.get("media"), dict) else {}
        media_ids = [str(m) for m in (media or {}).get("media_ids") or []]
        if not isinstance(text, str) or (not text.strip() and not media_ids):
            return _invalid("$.text: must not be blank")
        if len(_URL.sub("x" * 23, text)) > TEXT_LIMIT:
            return _problem(403, "Forbidden", "Your Tweet text is too long.")
        owner = token_owner(token, numeric=True)
        if any(m not in uploads or uploads[m][0] != owner for m in media_ids):
            return _invalid("$.media.media_ids: one or more ids are not media of this user")
        reply = body.get("reply") if isinstance(body.get("reply"), dict) else None
        parent = (reply or {}).get("in_reply_to_tweet_id")
        tweet_id = str(state.next_id())
        state.add(
            FakePost(
                network=NETWORK,
                account=owner,
                native_id=tweet_id,
                text=text,
                created_at=now,
                media_urls=tuple(f"https://pbs.twimg.com/media/{m}.jpg" for m in media_ids),
                in_reply_to=str(parent) if parent else None,
                url=f"https://x.com/i/web/status/{tweet_id}",
                extra={"media_sha256": [uploads[m][2] for m in media_ids]},
            )
        )
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        return JSONResponse(
            {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
            status_code=201,
        )

    @api.get("/2/users/{user_id}/tweets")
    async def user_tweets(
        user_id: str,
        request: Request,
        max_results: int = 10,
        start_time: str | None = None,
    ) -> Response:
        token = bearer(request)
        if token is None or not token_valid(token):
            return _unauthorized()
        if not 5 <= max_results <= 100:
            return _invalid("max_results: must be between 5 and 100")
        since: datetime | None = None
        if start_time:
            try:
                since = datetime.fromisoformat(start_time.replace("Z", "+00:00"))
            except ValueError:
                return _invalid("start_time: not an RFC 3339 time")
        tweets = [
            p
            for p in reversed(state.posts(NETWORK))
            if p.account == user_id and (since is None or p.created_at >= since)
        ][:max_results]
        data = []
        for post in tweets:
            item: dict[str, Any] = {
                "id": post.native_id,
                "text": shown_text(post),
                "created_at": _iso(post.created_at),
                "edit_history_tweet_ids": [post.native_id],
            }
            if post.in_reply_to:
                item["referenced_tweets"] = [{"type": "replied_to", "id": post.in_reply_to}]
            data.append(item)
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta |= {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
            return JSONResponse({"data": data, "meta": meta})
        return JSONResponse({"meta": meta})

    return api
