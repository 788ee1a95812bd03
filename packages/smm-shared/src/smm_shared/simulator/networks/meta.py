"""Fake Meta Graph API (mounted at ``/graph``): Facebook Page and Instagram publishing.

Point a deliverer's ``api_base_url`` at ``{fake}/graph`` (the version segment of the real URL
is left out). Parameters are read from the query, a JSON body or a form body; the token from
``Authorization: Bearer`` or ``access_token``.

Facebook (``facebook`` posts; native ids ``{page}_{n}`` for posts, ``{post}_{n}`` for comments):

* ``POST /{page}/feed`` (``message``, ``link``, ``attached_media``) → ``{"id"}``;
* ``POST /{page}/photos`` (``url``, ``caption``, ``published``) → ``{"id", "post_id"}``, or
  only ``{"id"}`` for an unpublished photo (kept aside for ``attached_media``, not a post);
* ``POST /{object}/comments`` (``message``, ``attachment_url``) → ``{"id"}``;
* ``GET /{page}/feed`` and ``GET /{object}/comments`` (``limit``, ``order``) → ``{"data"}``.

Instagram (``instagram`` posts; ids are numbers):

* ``POST /{ig-user}/media`` (``image_url`` and ``caption``; ``is_carousel_item``; or
  ``media_type=CAROUSEL`` with ``children``) → a container ``{"id"}``. A container answers
  ``IN_PROGRESS`` to its first status read and ``FINISHED`` after;
* ``GET /{container}?fields=status_code`` → ``{"id", "status_code", "status"}``;
* ``POST /{ig-user}/media_publish`` (``creation_id``) → ``{"id"}`` of the new media; a
  container that is not ``FINISHED`` yet is error 9007/2207027, as on Instagram;
* ``GET /{ig-user}/media`` and ``GET /{media}`` (``permalink``, ``caption``, ``timestamp``);
* ``POST /{comment}/replies`` (``message``) → ``{"id"}``; ``GET /{comment}/replies``.

Errors are Graph's ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.
Faults apply to the requests that create a post: the Facebook feed, photo (published) and
comment posts, and Instagram's ``media_publish`` and replies. ``drop_after_accept`` stores
the post and answers a gateway's 504; ``expired_token`` is 190/463; ``rate_limited`` is 32
(Facebook Page) or 80002 (Instagram account) with an ``X-Business-Use-Case-Usage`` estimate
of 5 minutes; ``server_error`` is HTTP 500 code 2 (``is_transient``); ``reject_content`` is
506 "Duplicate status message" on Facebook and 4/2207051 (held back as spam) on Instagram.

A comment or reply is stored with ``account`` the token's owner (``_common``:
``secret@{page or IG user id}`` names it). Comment listings show no ``from``, as Graph leaves
it out for tokens that may not see the commenter: matching is by text and time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smm_shared.simulator.networks import FakeNetworks, FakePost, Fault, token_valid
from smm_shared.simulator.networks._common import bearer, gateway_timeout, read_form, token_owner

FACEBOOK = "facebook"
INSTAGRAM = "instagram"
FACEBOOK_URL = "https://www.facebook.com"
INSTAGRAM_URL = "https://www.instagram.com"
#: A carousel holds 2 to 10 items.
CAROUSEL_MAX = 10
Params = dict[str, Any]


class GraphError(Exception):
    """A Graph API error answer."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        *,
        transient: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.transient = transient
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The answer Graph sends."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": "FakeGraphTrace",
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient:
            error["is_transient"] = True
        return JSONResponse({"error": error}, status_code=self.status, headers=self.headers)


@dataclass(slots=True)
class _Container:
    """An Instagram media container: prepared media that is not a post until published."""

    owner: str
    image_url: str | None
    caption: str
    carousel_item: bool
    children: list[str]
    status: str = "IN_PROGRESS"
    media_id: str | None = None
    media_urls: list[str] = field(default_factory=list)


def router(state: FakeNetworks) -> APIRouter:
    """The fake Graph API over ``state``."""
    api = APIRouter()
    fake = _FakeGraph(state)

    @api.api_route("/{object_id}/{edge}", methods=["GET", "POST"])
    async def object_edge(object_id: str, edge: str, request: Request) -> Response:
        """An edge of an object: ``/feed``, ``/photos``, ``/comments``, ``/media``, ..."""
        try:
            params = await _params(request)
            token = _authorize(request, params)
            return fake.edge(request.method, object_id, edge, params, token)
        except GraphError as exc:
            return exc.response()

    @api.get("/{object_id}")
    async def node(object_id: str, request: Request) -> Response:
        """One object: a container's status, a media's permalink, a post."""
        try:
            params = await _params(request)
            _authorize(request, params)
            return JSONResponse(fake.node(object_id))
        except GraphError as exc:
            return exc.response()

    return api


class _FakeGraph:
    """The endpoints; each answers Graph's JSON or raises :class:`GraphError`."""

    def __init__(self, state: FakeNetworks) -> None:
        self.state = state
        # Handlers run on one event loop and never await in here: no lock is needed.
        self.containers: dict[str, _Container] = {}
        self.unpublished_photos: dict[str, str] = {}

    def edge(self, method: str, object_id: str, edge: str, params: Params, token: str) -> Response:
        routes = {
            ("POST", "feed"): self.post_feed,
            ("POST", "photos"): self.post_photo,
            ("POST", "comments"): self.post_comment,
            ("POST", "media"): self.post_container,
            ("POST", "media_publish"): self.publish,
            ("POST", "replies"): self.post_reply,
            ("GET", "feed"): self.list_feed,
            ("GET", "comments"): self.list_comments,
            ("GET", "media"): self.list_media,
            ("GET", "replies"): self.list_replies,
        }
        handler = routes.get((method, edge))
        if handler is None:
            raise _unsupported(method, object_id)
        return handler(object_id, params, token)

    # --- Facebook -------------------------------------------------------------------------

    def post_feed(self, page: str, params: Params, token: str) -> Response:
        message = _str(params, "message")
        attached = _json_list(params.get("attached_media"))
        media: list[str] = []
        for item in attached:
            photo = str(item.get("media_fbid", "")) if isinstance(item, dict) else ""
            if photo not in self.unpublished_photos:
                raise GraphError(400, 100, "(#100) param attached_media must be a valid photo")
            media.append(self.unpublished_photos[photo])
        link = _str(params, "link")
        if not message and not link and not media:
            raise GraphError(400, 100, "(#100) Missing message or attachment")
        post_id = f"{page}_{self.state.next_id()}"
        extra = {"kind": "post", "link": link or None}
        return self._create(
            FACEBOOK,
            lambda: self._store(FACEBOOK, page, post_id, message, media, None, extra),
            {"id": post_id},
        )

    def post_photo(self, page: str, params: Params, token: str) -> Response:
        url = _str(params, "url")
        if not url.startswith(("http://", "https://")):
            raise GraphError(400, 324, "(#324) Requires upload file")
        photo = str(self.state.next_id())
        if _flag(params.get("published"), default=True) is False:
            self.unpublished_photos[photo] = url
            return JSONResponse({"id": photo})
        post_id = f"{page}_{self.state.next_id()}"
        caption = _str(params, "caption") or _str(params, "message")
        extra = {"kind": "post", "photo_id": photo}
        return self._create(
            FACEBOOK,
            lambda: self._store(FACEBOOK, page, post_id, caption, [url], None, extra),
            {"id": photo, "post_id": post_id},
        )

    def post_comment(self, parent: str, params: Params, token: str) -> Response:
        message = _str(params, "message")
        image = _str(params, "attachment_url")
        if not message and not image:
            raise GraphError(400, 100, "(#100) Missing message or attachment")
        comment_id = f"{parent.rpartition('_')[2]}_{self.state.next_id()}"
        account = token_owner(token, numeric=True)  # the token's Page or account
        media = [image] if image else []
        return self._create(
            FACEBOOK,
            lambda: self._store(
                FACEBOOK, account, comment_id, message, media, parent, {"kind": "comment"}
            ),
            {"id": comment_id},
        )

    def list_feed(self, page: str, params: Params, token: str) -> Response:
        posts = [p for p in self._of_kind(FACEBOOK, "post") if p.account == page]
        return _listing(posts, params, _facebook_post_json)

    def list_comments(self, parent: str, params: Params, token: str) -> Response:
        comments = [c for c in self._of_kind(FACEBOOK, "comment") if c.in_reply_to == parent]
        if params.get("order") != "reverse_chronological":
            comments.reverse()  # _listing reverses again: oldest first, Graph's default
        return _listing(comments, params, _facebook_comment_json)

    # --- Instagram ------------------------------------------------------------------------

    def post_container(self, user: str, params: Params, token: str) -> Response:
        caption = _str(params, "caption")
        if _str(params, "media_type") == "CAROUSEL":
            children = [str(c) for c in _json_list(params.get("children"), split=True)]
            known = [self.containers.get(c) for c in children]
            if not 2 <= len(children) <= CAROUSEL_MAX or any(
                c is None or not c.carousel_item or c.owner != user for c in known
            ):
                raise GraphError(400, 100, "The carousel could not be validated.", subcode=2207028)
            urls = [c.image_url for c in known if c is not None and c.image_url]
            container = _Container(user, None, caption, False, children, media_urls=urls)
        else:
            url = _str(params, "image_url")
            if not url.startswith(("http://", "https://")):
                raise GraphError(
                    400,
                    9004,
                    "Media download has failed. The media URI doesn't meet our requirements.",
                    subcode=2207052,
                )
            carousel_item = _flag(params.get("is_carousel_item"), default=False) is True
            container = _Container(user, url, caption, carousel_item, [], media_urls=[url])
        container_id = str(self.state.next_id())
        self.containers[container_id] = container
        return JSONResponse({"id": container_id})

    def publish(self, user: str, params: Params, token: str) -> Response:
        container_id = str(params.get("creation_id", ""))
        container = self.containers.get(container_id)
        if container is None or container.owner != user or container.carousel_item:
            raise _unsupported("POST", container_id)
        if container.status != "FINISHED":
            raise GraphError(
                400,
                9007,
                "Media ID is not available",
                subcode=2207027,
            )
        media_id = str(self.state.next_id())
        permalink = f"{INSTAGRAM_URL}/p/FAKE{media_id}/"

        def store() -> None:
            container.status = "PUBLISHED"
            container.media_id = media_id
            extra = {"kind": "media", "permalink": permalink, "container": container_id}
            self._store(
                INSTAGRAM,
                user,
                media_id,
                container.caption,
                container.media_urls,
                None,
                extra,
                url=permalink,
            )

        return self._create(INSTAGRAM, store, {"id": media_id})

    def post_reply(self, comment: str, params: Params, token: str) -> Response:
        message = _str(params, "message")
        if not message:
            raise GraphError(400, 100, "(#100) The parameter message is required")
        reply_id = str(self.state.next_id())
        account = token_owner(token, numeric=True)  # the token's Page or account
        return self._create(
            INSTAGRAM,
            lambda: self._store(
                INSTAGRAM, account, reply_id, message, [], comment, {"kind": "reply"}
            ),
            {"id": reply_id},
        )

    def list_media(self, user: str, params: Params, token: str) -> Response:
        media = [m for m in self._of_kind(INSTAGRAM, "media") if m.account == user]
        return _listing(media, params, _instagram_media_json)

    def list_replies(self, comment: str, params: Params, token: str) -> Response:
        replies = [r for r in self._of_kind(INSTAGRAM, "reply") if r.in_reply_to == comment]
        replies.reverse()  # oldest first
        return _listing(replies, params, _instagram_reply_json)

    # --- objects --------------------------------------------------------------------------

    def node(self, object_id: str) -> dict[str, Any]:
        container = self.containers.get(object_id)
        if container is not None:
            status = container.status
            if status == "IN_PROGRESS":
                container.status = "FINISHED"  # ready from the second read on
            return {"id": object_id, "status_code": status, "status": _STATUS_TEXT[status]}
        for network, as_json in (
            (INSTAGRAM, _instagram_media_json),
            (FACEBOOK, _facebook_post_json),
        ):
            post = self.state.find(network, object_id)
            if post is not None:
                return as_json(post)
        raise _unsupported("GET", object_id)

    # --- shared ---------------------------------------------------------------------------

    def _create(
        self, network: str, store: Callable[[], object], answer: dict[str, Any]
    ) -> Response:
        """Store the post unless a fault says otherwise (module docstring)."""
        fault = self.state.take_fault(network)
        if fault is Fault.EXPIRED_TOKEN:
            raise _expired()
        if fault is Fault.RATE_LIMITED:
            raise _rate_limited(network)
        if fault is Fault.SERVER_ERROR:
            raise GraphError(
                500,
                2,
                "An unexpected error has occurred. Please retry your request later.",
                transient=True,
            )
        if fault is Fault.REJECT_CONTENT:
            if network == FACEBOOK:
                raise GraphError(400, 506, "Duplicate status message")
            raise GraphError(
                400,
                4,
                "We restrict certain activity to protect our community. Tell us if you "
                "think we made a mistake.",
                subcode=2207051,
            )
        store()
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        return JSONResponse(answer)

    def _store(
        self,
        network: str,
        account: str,
        native_id: str,
        text: str,
        media: list[str],
        parent: str | None,
        extra: dict[str, Any],
        *,
        url: str | None = None,
    ) -> None:
        if url is None and network == FACEBOOK and extra.get("kind") == "post":
            url = f"{FACEBOOK_URL}/{native_id}"
        self.state.add(
            FakePost(
                network=network,
                account=account,
                native_id=native_id,
                text=text,
                created_at=self.state.now(),
                media_urls=tuple(media),
                in_reply_to=parent,
                url=url,
                extra=extra,
            )
        )

    def _of_kind(self, network: str, kind: str) -> list[FakePost]:
        return [p for p in self.state.posts(network) if p.extra.get("kind") == kind]


_STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been published.",
}


def _graph_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _facebook_post_json(post: FakePost) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": post.native_id,
        "created_time": _graph_time(post.created_at),
        "from": {"id": post.account, "name": "Fake Page"},
        "permalink_url": post.url,
    }
    if post.text:
        item["message"] = post.text
    return item


def _facebook_comment_json(comment: FakePost) -> dict[str, Any]:
    return {
        "id": comment.native_id,
        "message": comment.text,
        "created_time": _graph_time(comment.created_at),
    }


def _instagram_media_json(media: FakePost) -> dict[str, Any]:
    return {
        "id": media.native_id,
        "caption": media.text,
        "media_type": "CAROUSEL_ALBUM" if len(media.media_urls) > 1 else "IMAGE",
        "timestamp": _graph_time(media.created_at),
        "permalink": media.url,
    }


def _instagram_reply_json(reply: FakePost) -> dict[str, Any]:
    return {
        "id": reply.native_id,
        "text": reply.text,
        "timestamp": _graph_time(reply.created_at),
        "username": "fake_account",
    }


def _listing(
    items: list[FakePost], params: Params, as_json: Callable[[FakePost], dict[str, Any]]
) -> JSONResponse:
    """Newest first (``items`` are stored oldest first), cut to ``limit``."""
    try:
        limit = min(100, max(1, int(params.get("limit", 25))))
    except (TypeError, ValueError):
        raise GraphError(400, 100, "(#100) limit must be an integer") from None
    newest = list(reversed(items))[:limit]
    return JSONResponse({"data": [as_json(p) for p in newest], "paging": {}})


def _expired() -> GraphError:
    return GraphError(
        400,
        190,
        "Error validating access token: Session has expired. The current time is later than "
        "the token's expiry.",
        subcode=463,
    )


def _rate_limited(network: str) -> GraphError:
    code, kind = (32, "pages") if network == FACEBOOK else (80002, "instagram")
    usage = {"0": [{"type": kind, "call_count": 100, "estimated_time_to_regain_access": 5}]}
    return GraphError(
        400,
        code,
        "There have been too many calls to this account. Wait a bit and try again.",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )


def _unsupported(method: str, object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def _authorize(request: Request, params: Params) -> str:
    """The request's valid token; the Graph error of a missing or expired one."""
    token = bearer(request) or params.get("access_token")
    if not isinstance(token, str) or not token:
        raise GraphError(400, 2500, "An active access token must be used to query information.")
    if not token_valid(token):
        raise _expired()
    return token


def _str(params: Params, name: str) -> str:
    value = params.get(name)
    return value if isinstance(value, str) else ""


def _flag(value: object, *, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return default


def _json_list(value: object, *, split: bool = False) -> list[Any]:
    """A list parameter: a JSON list, a JSON string of one (form bodies), or ``a,b``."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str) or not value:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, list):
        return parsed
    return value.split(",") if split else []


async def _params(request: Request) -> Params:
    """Query, JSON and form parameters together, as Graph reads them."""
    params: Params = dict(request.query_params)
    if "json" not in request.headers.get("content-type", ""):
        params.update(await read_form(request))
        return params
    body = await request.body()
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        raise GraphError(400, 100, "(#100) The request body is not valid JSON") from None
    if isinstance(parsed, dict):
        params.update(parsed)
    return params
