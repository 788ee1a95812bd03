"""Fake Reddit OAuth API (mounted at ``/reddit``): what ``RedditDeliverer`` calls.

* ``POST /api/submit``: form ``sr``, ``kind`` (``self``/``link``), ``title``, ``text``, ``url``,
  ``api_type=json`` → ``{"json": {"errors": [], "data": {"url", "id", "name"}}}``.
* ``POST /api/comment``: form ``thing_id`` (``t3_``/``t1_``), ``text``, ``api_type=json`` →
  ``{"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {...}}]}}}``.
* ``GET /api/v1/me``: the token's user (``name``).
* ``GET /user/{name}/submitted`` and ``/user/{name}/comments``: the user's posts or comments,
  newest first, as ``Listing`` objects (``limit``, at most 100).

Both creates are posting requests (faults apply). The author is the token's user (see
``_common``: ``secret@{username}`` names it). Stored posts: ``account`` is the username,
native ids are fullnames, ``extra`` holds the subreddit, title, kind and link.

Errors as Reddit gives them: 401 ``{"message": "Unauthorized", "error": 401}`` for a bad
token; a refused form is 200 with ``json.errors`` (``RATELIMIT`` "take a break for 3
minutes" for ``rate_limited``; ``ALREADY_SUB`` for a link or a body-rule refusal for
``reject_content``; ``NO_TEXT``/``TOO_LONG``/``BAD_URL`` for invalid forms); 500 for
``server_error``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smm_shared.simulator.networks import FakeNetworks, FakePost, Fault, token_valid
from smm_shared.simulator.networks._common import (
    bearer,
    gateway_timeout,
    read_form,
    token_owner,
)

NETWORK = "reddit"
REDDIT_URL = "https://www.reddit.com"
TITLE_LIMIT = 300
TEXT_LIMIT = 40_000
BREAK_MINUTES = 3
_FULLNAME = re.compile(r"t[13]_[0-9a-z]+")
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,21}")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = _ALPHABET[rest] + digits
    return digits or "0"


def _http_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "error": status}, status_code=status)


def _refused(code: str, message: str, field: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"json": {"errors": [[code, message, field]], **extra}})


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50] or "post"


def _thing(post: FakePost) -> dict[str, Any]:
    """A post or comment as listings show it (``raw_json=1``: unescaped)."""
    short_id = post.native_id.partition("_")[2]
    data: dict[str, Any] = {
        "id": short_id,
        "name": post.native_id,
        "author": post.account,
        "subreddit": post.extra["subreddit"],
        "created_utc": post.created_at.timestamp(),
        "permalink": post.extra["permalink"],
    }
    if post.native_id.startswith("t3_"):
        link = post.extra.get("link")
        data |= {
            "title": post.extra["title"],
            "selftext": post.text,
            "is_self": post.extra["kind"] == "self",
            "url": link or f"{REDDIT_URL}{post.extra['permalink']}",
        }
    else:
        data |= {
            "body": post.text,
            "parent_id": post.in_reply_to,
            "link_id": post.extra["link_id"],
        }
    return data


def router(state: FakeNetworks) -> APIRouter:
    """The fake Reddit endpoints over ``state``."""
    api = APIRouter()

    def user_of(request: Request) -> str | None:
        token = bearer(request)
        return token_owner(token, prefix="user_") if token and token_valid(token) else None

    def fault_answer(fault: Fault | None, form: dict[str, str]) -> Response | None:
        if fault is Fault.RATE_LIMITED:
            return _refused(
                "RATELIMIT",
                "Looks like you've been doing that a lot. Take a break for "
                f"{BREAK_MINUTES} minutes before trying again.",
                "ratelimit",
                ratelimit=BREAK_MINUTES * 60.0,
            )
        if fault is Fault.SERVER_ERROR:
            return _http_error(500, "Internal Server Error")
        if fault is Fault.REJECT_CONTENT:
            if form.get("kind") == "link":
                return _refused("ALREADY_SUB", "that link has already been submitted", "url")
            return _refused(
                "SUBMIT_VALIDATION_BODY_BLACKLISTED_STRING",
                "Your post contains a word or phrase this community does not allow.",
                "text",
            )
        return None

    @api.post("/api/submit")
    async def submit(request: Request) -> Response:
        fault = state.take_fault(NETWORK)
        user = user_of(request)
        if fault is Fault.EXPIRED_TOKEN or user is None:
            return _http_error(401, "Unauthorized")
        form = await read_form(request)
        if (answer := fault_answer(fault, form)) is not None:
            return answer
        subreddit = form.get("sr", "")
        title = form.get("title", "").strip()
        kind = form.get("kind", "")
        text = form.get("text", "")
        link = form.get("url", "")
        if not _SUBREDDIT.fullmatch(subreddit):
            return _refused("SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr")
        if not title:
            return _refused("NO_TEXT", "we need something here", "title")
        if len(title) > TITLE_LIMIT:
            return _refused("TOO_LONG", f"this is too long (max: {TITLE_LIMIT})", "title")
        if kind not in ("self", "link"):
            return _refused("INVALID_OPTION", "that option is not valid", "kind")
        if kind == "link" and not link.startswith(("http://", "https://")):
            return _refused("BAD_URL", "you should check that url", "url")
        if len(text) > TEXT_LIMIT:
            return _refused("TOO_LONG", f"this is too long (max: {TEXT_LIMIT})", "text")
        short_id = _base36(state.next_id())
        permalink = f"/r/{subreddit}/comments/{short_id}/{_slug(title)}/"
        post = state.add(
            FakePost(
                network=NETWORK,
                account=user,
                native_id=f"t3_{short_id}",
                text=text if kind == "self" else "",
                created_at=state.now(),
                url=f"{REDDIT_URL}{permalink}",
                extra={
                    "subreddit": subreddit,
                    "title": title,
                    "kind": kind,
                    "link": link if kind == "link" else None,
                    "permalink": permalink,
                },
            )
        )
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        data = {"url": post.url, "drafts_count": 0, "id": short_id, "name": post.native_id}
        return JSONResponse({"json": {"errors": [], "data": data}})

    @api.post("/api/comment")
    async def comment(request: Request) -> Response:
        fault = state.take_fault(NETWORK)
        user = user_of(request)
        if fault is Fault.EXPIRED_TOKEN or user is None:
            return _http_error(401, "Unauthorized")
        form = await read_form(request)
        if (answer := fault_answer(fault, form)) is not None:
            return answer
        parent = form.get("thing_id", "")
        text = form.get("text", "")
        if not _FULLNAME.fullmatch(parent):
            return _refused("INVALID_ID", "that is not a valid post or comment id", "thing_id")
        if not text.strip():
            return _refused("NO_TEXT", "we need something here", "text")
        if len(text) > TEXT_LIMIT:
            return _refused("TOO_LONG", f"this is too long (max: {TEXT_LIMIT})", "text")
        # What this fake stored knows its post and subreddit; a simulated mention does not.
        known = state.find(NETWORK, parent)
        if known is not None:
            link_id = parent if parent.startswith("t3_") else known.extra["link_id"]
            subreddit = known.extra["subreddit"]
        else:
            link_id = parent if parent.startswith("t3_") else "t3_unknown"
            subreddit = "unknown"
        short_id = _base36(state.next_id())
        permalink = f"/r/{subreddit}/comments/{link_id[3:]}/comment/{short_id}/"
        post = state.add(
            FakePost(
                network=NETWORK,
                account=user,
                native_id=f"t1_{short_id}",
                text=text,
                created_at=state.now(),
                in_reply_to=parent,
                url=f"{REDDIT_URL}{permalink}",
                extra={"subreddit": subreddit, "link_id": link_id, "permalink": permalink},
            )
        )
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        things = [{"kind": "t1", "data": _thing(post)}]
        return JSONResponse({"json": {"errors": [], "data": {"things": things}}})

    @api.get("/api/v1/me")
    async def me(request: Request) -> Response:
        user = user_of(request)
        if user is None:
            return _http_error(401, "Unauthorized")
        return JSONResponse({"name": user, "id": user[-6:], "is_suspended": False})

    @api.get("/user/{username}/{listing}")
    async def user_listing(
        username: str, listing: str, request: Request, limit: int = 25
    ) -> Response:
        if user_of(request) is None:
            return _http_error(401, "Unauthorized")
        if listing not in ("submitted", "comments"):
            return _http_error(404, "Not Found")
        prefix = "t3_" if listing == "submitted" else "t1_"
        things = [
            {"kind": prefix[:2], "data": _thing(p)}
            for p in reversed(state.posts(NETWORK))
            if p.account.lower() == username.lower() and p.native_id.startswith(prefix)
        ][: max(1, min(limit, 100))]
        return JSONResponse(
            {"kind": "Listing", "data": {"after": None, "before": None, "children": things}}
        )

    return api
