"""Fake Mastodon instance API (mounted at ``/mastodon``): what ``MastodonDeliverer`` calls.

* ``POST /api/v2/media``: multipart ``file`` (an image) → 200 with a processed
  ``MediaAttachment`` (``id``, ``type``, ``url``).
* ``GET /api/v1/media/{id}``: the attachment (200: processed).
* ``POST /api/v1/statuses``: JSON ``status``, ``in_reply_to_id``, ``media_ids`` → 200 with the
  ``Status``. The posting request that faults are injected into. ``Idempotency-Key`` works as
  Mastodon documents it: a key the same account used in the last hour gets the status the
  first request created back, and nothing new is posted (also after ``drop_after_accept``).
* ``GET /api/v1/accounts/{id}/statuses``: the account's statuses, newest first (``limit``, at
  most 40), their ``content`` as HTML the way Mastodon renders plain text.

The author of a status is the token's account (see ``_common``: ``secret@{account id}`` names
it). Errors are ``{"error": "..."}``: 401 for a bad token, 429 with ``X-RateLimit-Reset`` (an
ISO 8601 time), 422 for a refused status (``reject_content``, blank, over 500 characters),
500 for ``server_error``.
"""

from __future__ import annotations

import hashlib
import html
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

NETWORK = "mastodon"
TEXT_LIMIT = 500
#: Mastodon keeps an idempotency key this long.
IDEMPOTENCY_TTL = timedelta(hours=1)
MAX_IMAGE_BYTES = 16 * 1024 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _base(request: Request, marker: str) -> str:
    """The instance URL as the client called it (``{server}/mastodon``)."""
    return str(request.url).split(marker, 1)[0].rstrip("/")


def _username(account: str) -> str:
    return f"user{account[-6:]}"


def to_html(text: str) -> str:
    """Plain text as Mastodon renders it: escaped, paragraphs and line breaks."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br />')}</p>" for p in paragraphs)


def router(state: FakeNetworks) -> APIRouter:
    """The fake Mastodon endpoints over ``state``."""
    api = APIRouter()
    #: Attachments by id, with their owner.
    attachments: dict[str, tuple[str, dict[str, Any]]] = {}
    #: (account, Idempotency-Key) -> (status id, when the key was first used).
    keys: dict[tuple[str, str], tuple[str, datetime]] = {}

    def status_json(post: FakePost, base: str) -> dict[str, Any]:
        username = _username(post.account)
        return {
            "id": post.native_id,
            "created_at": _iso(post.created_at),
            "in_reply_to_id": post.in_reply_to,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": None,
            "uri": f"{base}/users/{username}/statuses/{post.native_id}",
            "url": f"{base}/@{username}/{post.native_id}",
            "content": to_html(post.text),
            "reblog": None,
            "media_attachments": [attachments[m][1] for m in post.extra.get("media_ids", [])],
            "account": {"id": post.account, "username": username, "acct": username},
        }

    def account_of(request: Request) -> str | None:
        token = bearer(request)
        return token_owner(token, numeric=True) if token and token_valid(token) else None

    @api.post("/api/v2/media")
    async def upload(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return _error(401, "The access token is invalid")
        file = (await read_multipart(request)).get("file")
        if file is None or not file.data:
            return _error(422, "Validation failed: File can't be blank")
        if not file.content_type.startswith("image/"):
            return _error(422, "Validation failed: File content type is invalid")
        if len(file.data) > MAX_IMAGE_BYTES:
            return _error(422, "Validation failed: File file size must be less than 16 MB")
        media_id = str(state.next_id())
        base = _base(request, "/api/v2/media")
        attachment = {
            "id": media_id,
            "type": "image",
            "url": f"{base}/system/media_attachments/{media_id}/original/{file.filename}",
            "preview_url": f"{base}/system/media_attachments/{media_id}/small/{file.filename}",
            "description": None,
            "blurhash": None,
            "meta": {"sha256": hashlib.sha256(file.data).hexdigest(), "size": len(file.data)},
        }
        attachments[media_id] = (account, attachment)
        return JSONResponse(attachment)

    @api.get("/api/v1/media/{media_id}")
    async def media(media_id: str, request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return _error(401, "The access token is invalid")
        found = attachments.get(media_id)
        if found is None or found[0] != account:
            return _error(404, "Record not found")
        return JSONResponse(found[1])

    @api.post("/api/v1/statuses")
    async def create_status(request: Request) -> Response:
        fault = state.take_fault(NETWORK)
        account = account_of(request)
        if fault is Fault.EXPIRED_TOKEN or account is None:
            return _error(401, "The access token is invalid")
        now = state.now()
        if fault is Fault.RATE_LIMITED:
            response = _error(429, "Too many requests")
            response.headers.update(
                {
                    "X-RateLimit-Limit": "300",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": _iso(now + timedelta(minutes=5)),
                }
            )
            return response
        if fault is Fault.SERVER_ERROR:
            return _error(500, "We're sorry, but something went wrong on our end.")
        base = _base(request, "/api/v1/statuses")
        key = request.headers.get("idempotency-key", "")
        seen = keys.get((account, key)) if key else None
        if seen is not None and now - seen[1] < IDEMPOTENCY_TTL:
            first = state.find(NETWORK, seen[0])
            if first is not None:
                if fault is Fault.DROP_AFTER_ACCEPT:
                    return gateway_timeout()
                return JSONResponse(status_json(first, base))
        if fault is Fault.REJECT_CONTENT:
            return _error(422, "Validation failed: Text was rejected by this server's rules")
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(422, "Validation failed: the body must be JSON")
        if not isinstance(body, dict):
            return _error(422, "Validation failed: the body must be a JSON object")
        text = body.get("status") or ""
        media_ids = [str(m) for m in body.get("media_ids") or []]
        if not isinstance(text, str) or (not text.strip() and not media_ids):
            return _error(422, "Validation failed: Text can't be blank")
        if len(text) > TEXT_LIMIT:
            return _error(422, f"Validation failed: Text character limit of {TEXT_LIMIT} exceeded")
        if any(m not in attachments or attachments[m][0] != account for m in media_ids):
            return _error(422, "Validation failed: Media attachments are not yours or unknown")
        parent = body.get("in_reply_to_id")
        status_id = str(state.next_id())
        post = state.add(
            FakePost(
                network=NETWORK,
                account=account,
                native_id=status_id,
                text=text,
                created_at=now,
                media_urls=tuple(attachments[m][1]["url"] for m in media_ids),
                in_reply_to=str(parent) if parent else None,
                url=f"{base}/@{_username(account)}/{status_id}",
                extra={"media_ids": media_ids, "idempotency_key": key},
            )
        )
        if key:
            keys[(account, key)] = (status_id, now)
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        return JSONResponse(status_json(post, base))

    @api.get("/api/v1/accounts/{account_id}/statuses")
    async def account_statuses(account_id: str, request: Request, limit: int = 20) -> Response:
        if bearer(request) is not None and account_of(request) is None:
            return _error(401, "The access token is invalid")
        base = _base(request, "/api/v1/accounts/")
        statuses = [p for p in reversed(state.posts(NETWORK)) if p.account == account_id]
        return JSONResponse([status_json(p, base) for p in statuses[: max(1, min(limit, 40))]])

    return api
