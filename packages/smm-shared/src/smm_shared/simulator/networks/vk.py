"""Fake VK API (mounted at ``/vk``): the wall methods the publisher's ``VkDeliverer`` calls.

``{GET,POST} /method/{name}`` with parameters in the query or a form body, as VK takes them,
``v`` required, the token as ``Authorization: Bearer`` or ``access_token``:

* ``wall.post`` (``owner_id``, ``message``, ``attachments``, ``from_group``, ``guid``) →
  ``{"response": {"post_id"}}``;
* ``wall.createComment`` (``owner_id``, ``post_id``, ``message``, ``reply_to_comment``,
  ``from_group`` = the group id, ``guid``) → ``{"response": {"comment_id", "parents_stack"}}``;
* ``wall.get`` (``owner_id``, ``count``, ``offset``, ``filter``), newest first;
* ``wall.getComments`` (``owner_id``, ``post_id``, ``comment_id`` for one thread, ``sort``,
  ``count``, ``offset``) and ``wall.getComment`` (``owner_id``, ``comment_id``).

As VK: every answer is HTTP 200, a failure ``{"error": {"error_code", "error_msg",
"request_params"}}``; a ``guid`` repeated within an hour on the same wall answers with the id
of the first post (or comment) instead of posting again; threads are one level deep (a reply
to a reply joins the thread of its root comment); more than one link in ``attachments`` is
error 100. Posts are stored as ``vk`` :class:`FakePost` s with native ids
``wall{owner}_{post}`` and ``wall{owner}_{post}_r{comment}`` and ``account`` the author
(``-<group id>`` for a community).

Faults, on ``wall.post`` and ``wall.createComment`` only: ``drop_after_accept`` stores the post
and answers a gateway's 504; ``expired_token`` is error 5, ``rate_limited`` error 6,
``server_error`` error 10 (VK's own "Internal server error", which VK sends with HTTP 200),
``reject_content`` error 9 (flood control: VK's refusal of a repeated post).

The fake knows only what was posted through it: a comment it never saw (one a simulated user
wrote, say) is taken for a root comment of its post, and a post it never saw can be commented.
A post or comment made without ``from_group`` is the token's user's (``_common``:
``secret@{user id}`` names the user).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smm_shared.simulator.networks import FakeNetworks, FakePost, Fault, token_valid
from smm_shared.simulator.networks._common import bearer, gateway_timeout, read_form, token_owner

NETWORK = "vk"
VK_URL = "https://vk.com"
#: VK keeps a ``guid`` for an hour.
GUID_WINDOW = timedelta(hours=1)
Params = dict[str, str]


class VkError(Exception):
    """A VK API error answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def router(state: FakeNetworks) -> APIRouter:
    """The fake VK API over ``state``."""
    api = APIRouter()
    fake = _FakeVk(state)

    @api.api_route("/method/{method}", methods=["GET", "POST"])
    async def call(method: str, request: Request) -> Response:
        """One VK API method call."""
        params = await _params(request)
        try:
            return fake.call(method, params, bearer(request) or params.get("access_token"))
        except VkError as exc:
            return _error(exc, method, params)

    return api


class _FakeVk:
    """The methods; each answers VK's JSON or raises :class:`VkError`."""

    def __init__(self, state: FakeNetworks) -> None:
        self.state = state
        # guid -> (answer, when); handlers run on one event loop, so no lock is needed.
        self.guids: dict[tuple[str, int, str], tuple[dict[str, Any], datetime]] = {}

    def call(self, method: str, params: Params, token: str | None) -> Response:
        if not params.get("v"):
            raise VkError(8, "Invalid request: v (version) is required")
        if not token:
            raise VkError(5, "User authorization failed: no access_token passed.")
        if not token_valid(token):
            raise VkError(5, "User authorization failed: access_token has expired.")
        handler = {
            "wall.post": self.wall_post,
            "wall.createComment": self.create_comment,
            "wall.get": self.wall_get,
            "wall.getComments": self.get_comments,
            "wall.getComment": self.get_comment,
        }.get(method)
        if handler is None:
            raise VkError(3, "Unknown method passed")
        return handler(params, token)

    # --- creating -------------------------------------------------------------------------

    def wall_post(self, params: Params, token: str) -> Response:
        owner = _int(params, "owner_id")
        message = params.get("message", "")
        attachments = [a for a in params.get("attachments", "").split(",") if a]
        if not message and not attachments:
            raise VkError(100, "One of the parameters specified was missing or invalid: message")
        if sum(a.startswith(("http://", "https://")) for a in attachments) > 1:
            raise VkError(100, "One of the parameters specified was missing or invalid: link")
        return self._create(
            "post",
            owner,
            params,
            lambda: self._store_post(owner, message, attachments, params, token),
        )

    def create_comment(self, params: Params, token: str) -> Response:
        owner, post = _int(params, "owner_id"), _int(params, "post_id")
        message = params.get("message", "")
        if not message and not params.get("attachments"):
            raise VkError(100, "One of the parameters specified was missing or invalid: message")
        parent = _int(params, "reply_to_comment") if params.get("reply_to_comment") else None
        return self._create(
            "comment",
            owner,
            params,
            lambda: self._store_comment(owner, post, parent, params, token),
        )

    def _create(
        self, kind: str, owner: int, params: Params, store: Callable[[], dict[str, Any]]
    ) -> Response:
        """Publish once per guid and hour, showing the pending fault (module docstring)."""
        guid = params.get("guid")
        now = self.state.now()
        key = (kind, owner, guid) if guid else None
        if key is not None and key in self.guids:
            answer, at = self.guids[key]
            if now - at < GUID_WINDOW:
                return JSONResponse({"response": answer})
        fault = self.state.take_fault(NETWORK)
        if fault is Fault.EXPIRED_TOKEN:
            raise VkError(5, "User authorization failed: access_token has expired.")
        if fault is Fault.RATE_LIMITED:
            raise VkError(6, "Too many requests per second")
        if fault is Fault.SERVER_ERROR:
            raise VkError(10, "Internal server error")
        if fault is Fault.REJECT_CONTENT:
            raise VkError(9, "Flood control")
        answer = store()
        if key is not None:
            self.guids[key] = (answer, now)
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        return JSONResponse({"response": answer})

    def _store_post(
        self, owner: int, message: str, attachments: list[str], params: Params, token: str
    ) -> dict[str, Any]:
        post_id = self.state.next_id()
        as_group = params.get("from_group") == "1" and owner < 0
        author = owner if owner > 0 or as_group else _user(token)
        native = f"wall{owner}_{post_id}"
        self.state.add(
            FakePost(
                network=NETWORK,
                account=str(author),
                native_id=native,
                text=message,
                created_at=self.state.now(),
                url=f"{VK_URL}/{native}",
                extra={
                    "kind": "post",
                    "owner_id": owner,
                    "post_id": post_id,
                    "from_id": author,
                    "attachments": attachments,
                    "guid": params.get("guid"),
                },
            )
        )
        return {"post_id": post_id}

    def _store_comment(
        self, owner: int, post: int, parent: int | None, params: Params, token: str
    ) -> dict[str, Any]:
        comment_id = self.state.next_id()
        group = params.get("from_group", "")
        author = -int(group) if group.isdigit() and int(group) > 0 else _user(token)
        stack: list[int] = []
        if parent is not None:
            known = self._comment(owner, parent)
            parent_stack = known.extra["parents_stack"] if known is not None else []
            stack = [parent_stack[0] if parent_stack else parent]
        wall = f"wall{owner}_{post}"
        url = f"{VK_URL}/{wall}?reply={comment_id}" + (f"&thread={stack[0]}" if stack else "")
        self.state.add(
            FakePost(
                network=NETWORK,
                account=str(author),
                native_id=f"{wall}_r{comment_id}",
                text=params.get("message", ""),
                created_at=self.state.now(),
                in_reply_to=f"{wall}_r{parent}" if parent is not None else wall,
                url=url,
                extra={
                    "kind": "comment",
                    "owner_id": owner,
                    "post_id": post,
                    "comment_id": comment_id,
                    "from_id": author,
                    "reply_to_comment": parent,
                    "parents_stack": stack,
                    "guid": params.get("guid"),
                },
            )
        )
        return {"comment_id": comment_id, "parents_stack": stack}

    # --- reading --------------------------------------------------------------------------

    def wall_get(self, params: Params, token: str) -> Response:
        owner = _int(params, "owner_id")
        who = params.get("filter", "all")
        posts = [
            p
            for p in self._of_kind("post")
            if p.extra["owner_id"] == owner
            and (who != "owner" or p.extra["from_id"] == owner)
            and (who != "others" or p.extra["from_id"] != owner)
        ]
        posts.reverse()  # newest first, as VK lists a wall
        page = _page(posts, params, default=20)
        return JSONResponse(
            {"response": {"count": len(posts), "items": [_post_json(p) for p in page]}}
        )

    def get_comments(self, params: Params, token: str) -> Response:
        owner, post = _int(params, "owner_id"), _int(params, "post_id")
        thread = _int(params, "comment_id") if params.get("comment_id") else None
        comments = [
            c
            for c in self._of_kind("comment")
            if c.extra["owner_id"] == owner
            and c.extra["post_id"] == post
            and (c.extra["parents_stack"] == [thread] if thread else not c.extra["parents_stack"])
        ]
        if params.get("sort") == "desc":
            comments.reverse()
        page = _page(comments, params, default=10)
        return JSONResponse(
            {
                "response": {
                    "count": len(comments),
                    "current_level_count": len(comments),
                    "can_post": 1,
                    "items": [_comment_json(c) for c in page],
                }
            }
        )

    def get_comment(self, params: Params, token: str) -> Response:
        owner, comment_id = _int(params, "owner_id"), _int(params, "comment_id")
        known = self._comment(owner, comment_id)
        if known is not None:
            item = _comment_json(known)
        else:
            # Not posted through the fake: taken for a root comment (module docstring).
            item = {"id": comment_id, "owner_id": owner, "from_id": 0, "date": 0, "text": ""}
            item["parents_stack"] = []
        return JSONResponse({"response": {"items": [item]}})

    def _of_kind(self, kind: str) -> list[FakePost]:
        return [p for p in self.state.posts(NETWORK) if p.extra.get("kind") == kind]

    def _comment(self, owner: int, comment_id: int) -> FakePost | None:
        return next(
            (
                c
                for c in self._of_kind("comment")
                if c.extra["owner_id"] == owner and c.extra["comment_id"] == comment_id
            ),
            None,
        )


def _post_json(post: FakePost) -> dict[str, Any]:
    links = [a for a in post.extra["attachments"] if a.startswith(("http://", "https://"))]
    return {
        "id": post.extra["post_id"],
        "owner_id": post.extra["owner_id"],
        "from_id": post.extra["from_id"],
        "date": int(post.created_at.timestamp()),
        "text": post.text,
        "post_type": "post",
        "attachments": [{"type": "link", "link": {"url": url, "title": ""}} for url in links],
    }


def _comment_json(comment: FakePost) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": comment.extra["comment_id"],
        "owner_id": comment.extra["owner_id"],
        "post_id": comment.extra["post_id"],
        "from_id": comment.extra["from_id"],
        "date": int(comment.created_at.timestamp()),
        "text": comment.text,
        "parents_stack": comment.extra["parents_stack"],
    }
    if comment.extra["reply_to_comment"] is not None:
        item["reply_to_comment"] = comment.extra["reply_to_comment"]
    return item


def _page(items: list[FakePost], params: Params, *, default: int) -> list[FakePost]:
    count = min(100, _int(params, "count")) if params.get("count") else default
    offset = _int(params, "offset") if params.get("offset") else 0
    return items[offset : offset + count]


def _int(params: Params, name: str) -> int:
    try:
        return int(params.get(name, ""))
    except ValueError:
        raise VkError(
            100, f"One of the parameters specified was missing or invalid: {name}"
        ) from None


def _user(token: str) -> int:
    """The user a token belongs to, when a post is not made as a community (``_common``)."""
    owner = token_owner(token, numeric=True)
    return int(owner) if owner.lstrip("-").isdigit() else 0


async def _params(request: Request) -> Params:
    """Query and form parameters together, as VK reads them (a JSON body is not read)."""
    params = dict(request.query_params)
    if "json" not in request.headers.get("content-type", ""):
        params.update(await read_form(request))
    return params


def _error(exc: VkError, method: str, params: Mapping[str, str]) -> JSONResponse:
    shown = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
    shown += [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
    body = {"error": {"error_code": exc.code, "error_msg": exc.message, "request_params": shown}}
    return JSONResponse(body)
