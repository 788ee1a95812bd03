"""Fake YouTube Data API v3 (mounted at ``/youtube``): what ``YouTubeDeliverer`` calls.

* ``POST /comments?part=snippet``: ``{"snippet": {"parentId", "textOriginal"}}`` → the new
  reply (``comment`` resource, id ``{parentId}.{suffix}``).
* ``POST /commentThreads?part=snippet``: ``{"snippet": {"videoId", "topLevelComment":
  {"snippet": {"textOriginal"}}}}`` → the new ``commentThread`` (its id is its top-level
  comment's id).
* ``GET /comments?part=snippet&parentId=``: the replies to a comment, oldest first, paged with
  ``maxResults`` and ``pageToken``.
* ``GET /commentThreads?part=snippet&videoId=``: the video's threads, newest first, paged.

Both inserts are posting requests (faults apply). The author of a comment is the token's
channel (see ``_common``: ``secret@{channel id}`` names it). Stored posts: ``in_reply_to`` is
the parent comment id, or ``video:{videoId}`` for a top-level comment.

Errors are Google's ``{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}]}}``: 401 ``authError`` for a bad token, 403 ``quotaExceeded`` for
``rate_limited`` (YouTube's usual limit: the daily quota), 400 ``processingFailure`` for
``reject_content``, 500 ``backendError`` for ``server_error``; 400 for a blank or too long
text, a missing parent or video.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smm_shared.simulator.networks import FakeNetworks, FakePost, Fault, token_valid
from smm_shared.simulator.networks._common import bearer, gateway_timeout, token_owner

NETWORK = "youtube"
TEXT_LIMIT = 10_000
WATCH_URL = "https://www.youtube.com/watch"
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")


def _google_error(
    status: int, reason: str, message: str, domain: str = "youtube.comment"
) -> JSONResponse:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    return JSONResponse(body, status_code=status)


def _unauthorized() -> JSONResponse:
    return _google_error(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        domain="global",
    )


def _iso(post: FakePost) -> str:
    return post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _comment_json(post: FakePost) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "authorDisplayName": f"@{post.account.lower()}",
        "authorChannelUrl": f"http://www.youtube.com/channel/{post.account}",
        "authorChannelId": {"value": post.account},
        "textDisplay": post.text,
        "textOriginal": post.text,
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": _iso(post),
        "updatedAt": _iso(post),
    }
    if post.extra.get("video_id"):
        snippet["videoId"] = post.extra["video_id"]
    if post.extra.get("parent_id"):
        snippet["parentId"] = post.extra["parent_id"]
    return {
        "kind": "youtube#comment",
        "etag": f"e{post.native_id[-6:]}",
        "id": post.native_id,
        "snippet": snippet,
    }


def _page(
    items: list[dict[str, Any]], max_results: int, page_token: str | None, kind: str
) -> dict[str, Any]:
    start = int(page_token) if page_token and page_token.isdigit() else 0
    size = max(1, min(max_results, 100))
    body: dict[str, Any] = {
        "kind": kind,
        "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
        "items": items[start : start + size],
    }
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return body


def router(state: FakeNetworks) -> APIRouter:
    """The fake YouTube endpoints over ``state``."""
    api = APIRouter()

    def channel_of(request: Request) -> str | None:
        token = bearer(request)
        return token_owner(token, prefix="UC") if token and token_valid(token) else None

    def fault_answer(fault: Fault | None) -> Response | None:
        if fault is Fault.RATE_LIMITED:
            return _google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                domain="youtube.quota",
            )
        if fault is Fault.SERVER_ERROR:
            return _google_error(500, "backendError", "Internal error encountered.", "global")
        if fault is Fault.REJECT_CONTENT:
            return _google_error(
                400,
                "processingFailure",
                "The API server failed to successfully process the request.",
            )
        return None

    def text_error(text: object) -> Response | None:
        if not isinstance(text, str) or not text.strip():
            return _google_error(400, "commentTextRequired", "The comment must have a text.")
        if len(text) > TEXT_LIMIT:
            return _google_error(400, "commentTextTooLong", "The comment text is too long.")
        return None

    @api.post("/comments")
    async def insert_comment(request: Request, part: str = "") -> Response:
        fault = state.take_fault(NETWORK)
        channel = channel_of(request)
        if fault is Fault.EXPIRED_TOKEN or channel is None:
            return _unauthorized()
        if part != "snippet":
            return _google_error(
                400, "missingRequiredParameter", "part=snippet is required", "global"
            )
        if (answer := fault_answer(fault)) is not None:
            return answer
        body = await _json(request)
        snippet = body.get("snippet") if isinstance(body.get("snippet"), dict) else {}
        parent = (snippet or {}).get("parentId")
        text = (snippet or {}).get("textOriginal")
        if not isinstance(parent, str) or not parent:
            return _google_error(400, "parentIdMissing", "The comment must name its parent.")
        if (problem := text_error(text)) is not None:
            return problem
        # A parent this fake stored says its video; a simulated mention's parent does not.
        stored_parent = state.find(NETWORK, parent)
        video = stored_parent.extra.get("video_id") if stored_parent else None
        comment_id = f"{parent}.9z{state.next_id():x}"
        post = state.add(
            FakePost(
                network=NETWORK,
                account=channel,
                native_id=comment_id,
                text=str(text),
                created_at=state.now(),
                in_reply_to=parent,
                url=f"{WATCH_URL}?v={video}&lc={comment_id}" if video else None,
                extra={"parent_id": parent, "video_id": video},
            )
        )
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        return JSONResponse(_comment_json(post))

    @api.post("/commentThreads")
    async def insert_thread(request: Request, part: str = "") -> Response:
        fault = state.take_fault(NETWORK)
        channel = channel_of(request)
        if fault is Fault.EXPIRED_TOKEN or channel is None:
            return _unauthorized()
        if part != "snippet":
            return _google_error(
                400, "missingRequiredParameter", "part=snippet is required", "global"
            )
        if (answer := fault_answer(fault)) is not None:
            return answer
        body = await _json(request)
        snippet = body.get("snippet") if isinstance(body.get("snippet"), dict) else {}
        video = (snippet or {}).get("videoId")
        top = (snippet or {}).get("topLevelComment")
        top_snippet = top.get("snippet") if isinstance(top, dict) else None
        text = top_snippet.get("textOriginal") if isinstance(top_snippet, dict) else None
        if not isinstance(video, str) or not video:
            return _google_error(400, "channelOrVideoIdMissing", "The thread must name a video.")
        if not _VIDEO_ID.fullmatch(video):
            return _google_error(
                404, "videoNotFound", "The video identified by videoId was not found."
            )
        if (problem := text_error(text)) is not None:
            return problem
        comment_id = f"Ugz{state.next_id():x}AaABAg"
        post = state.add(
            FakePost(
                network=NETWORK,
                account=channel,
                native_id=comment_id,
                text=str(text),
                created_at=state.now(),
                in_reply_to=f"video:{video}",
                url=f"{WATCH_URL}?v={video}&lc={comment_id}",
                extra={"video_id": video},
            )
        )
        if fault is Fault.DROP_AFTER_ACCEPT:
            return gateway_timeout()
        return JSONResponse(_thread_json(state, post))

    @api.get("/comments")
    async def list_comments(
        request: Request,
        part: str = "",
        parentId: str = "",  # noqa: N803 - the API's parameter name
        maxResults: int = 20,  # noqa: N803
        pageToken: str | None = None,  # noqa: N803
    ) -> Response:
        if channel_of(request) is None:
            return _unauthorized()
        if part != "snippet" or not parentId:
            return _google_error(
                400, "missingRequiredParameter", "part and parentId are required", "global"
            )
        replies = [
            _comment_json(p) for p in state.posts(NETWORK) if p.extra.get("parent_id") == parentId
        ]
        return JSONResponse(_page(replies, maxResults, pageToken, "youtube#commentListResponse"))

    @api.get("/commentThreads")
    async def list_threads(
        request: Request,
        part: str = "",
        videoId: str = "",  # noqa: N803
        maxResults: int = 20,  # noqa: N803
        pageToken: str | None = None,  # noqa: N803
    ) -> Response:
        if channel_of(request) is None:
            return _unauthorized()
        if part != "snippet" or not videoId:
            return _google_error(
                400, "missingRequiredParameter", "part and videoId are required", "global"
            )
        threads = [
            _thread_json(state, p)
            for p in reversed(state.posts(NETWORK))
            if p.extra.get("video_id") == videoId and not p.extra.get("parent_id")
        ]
        return JSONResponse(
            _page(threads, maxResults, pageToken, "youtube#commentThreadListResponse")
        )

    return api


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _thread_json(state: FakeNetworks, top: FakePost) -> dict[str, Any]:
    replies = sum(1 for p in state.posts(NETWORK) if p.extra.get("parent_id") == top.native_id)
    return {
        "kind": "youtube#commentThread",
        "etag": f"t{top.native_id[-6:]}",
        "id": top.native_id,
        "snippet": {
            "videoId": top.extra.get("video_id"),
            "topLevelComment": _comment_json(top),
            "canReply": True,
            "totalReplyCount": replies,
            "isPublic": True,
        },
    }
