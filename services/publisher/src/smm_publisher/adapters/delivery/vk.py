"""VK API delivery: ``wall.post`` for a post, ``wall.createComment`` for a reply.

The request's ``account_id`` is the wall as VK numbers it: a community is ``-<group id>`` (posts
go out with ``from_group=1``, as the community), a positive id is a user's own wall. The
token is sent as ``Authorization: Bearer``, never in a URL, and must carry the ``wall`` right
(a community administrator's user token, or a community key where VK allows it). Parameters
travel form-encoded in the body: VK reads no JSON, and a 16,384-character message would not
fit in a URL.

Native ids are the ones ingest gives VK items (``smm_ingest.adapters.networks.vk``), so a reply
to an ingested mention names its target as ingest wrote it, and what we post looks the same:

=====================  ==========================================  =================================
item                   native id                                   URL
=====================  ==========================================  =================================
wall post              ``wall{owner}_{post}``                      ``vk.com/wall{owner}_{post}``
wall comment           ``wall{owner}_{post}_r{comment}``           ``…?reply={comment}&thread={root}``
=====================  ==========================================  =================================

``in_reply_to`` also takes the bare ``{owner}_{post}`` and ``{owner}_{post}_{comment}``. Replies
to photo, video or board comments and to private messages (other VK methods) are refused
before sending (``vk.reply_unsupported``).

Never twice: every create sends ``guid``, a hash of ``req.idempotency_key``. VK documents it
as the id that keeps the same post (or comment) from being published twice: a repeat with the
same guid within an hour answers with the first one's id instead of posting again. So a retry
after an ambiguous failure is safe within that hour; :meth:`VkDeliverer.find` covers the rest:
it reads the wall's recent posts (``wall.get``) or the comments under the post
(``wall.getComments``; for a reply to a comment, the thread the reply lands in) and matches the
text, the author, the parent and the time.

Media: VK shows images only as photos uploaded to it first (``photos.getWallUploadServer``,
upload, ``photos.saveWallPhoto``, then ``photo{owner}_{id}`` in ``attachments``); this client
does not upload. What it does is VK's documented *link* attachment: ``attachments`` may carry
one external URL, which VK shows as a link snippet (with a preview picture when the page has
one), not as a photo in the post. So ``req.link`` goes there; one media URL without a link goes
there too (readers get a link to the image, not the image); a second link is an error in VK,
so a post with media and a link, or with several media, is refused before sending
(``vk.media_unsupported``). A comment has no link attachment: a reply's link is appended to its
text, where VK makes it clickable.

Errors: VK answers HTTP 200 with ``{"error": {"error_code", "error_msg"}}``. 5/27/28 are a
token that expired or was revoked; 6 (too many requests per second) waits a second; 29 (the
method's daily quota) and 601 (too many actions today) wait an hour; 1/10 (VK's internal
errors) are transient (and safe to retry: the guid covers a post VK made anyway). 9 "flood
control" (and 223, too many replies) is permanent: it is VK's anti-spam answer to too many
posts in a short time or the same text posted again, and retrying into it makes VK escalate to
14 "captcha needed", which no API client can pass (also permanent: a person must post by
hand). 7/15/203/214 are a missing right or a wall the account may not post on; 210-213 a post
or comment that cannot be commented; 219/224 VK's limits on advertising posts; 222 a link VK
forbids; 100 a bad parameter; 18/37 a deleted or banned account. HTTP 502/504 and a timeout or
dropped connection after sending are ambiguous; other 5xx are transient.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import httpx

from smm_publisher.adapters.delivery._http import (
    TIMEOUT_S,
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

DEFAULT_API_BASE_URL = "https://api.vk.com"
DEFAULT_API_VERSION = "5.199"
VK_URL = "https://vk.com"
#: How many recent wall posts ``find`` reads (wall.get's maximum is 100).
FIND_PAGE_SIZE = 50
#: How many comments ``find`` reads under a post or in a thread (VK's maximum).
FIND_COMMENTS = 100
FIND_SKEW = timedelta(minutes=5)
#: Error 6 is a per-second limit (3 requests a second with a user token).
PER_SECOND_WAIT_S = 1.0
#: Errors 29 and 601 are daily quotas whose reset VK does not say: look again in an hour.
QUOTA_WAIT_S = 3600.0

_WALL_ID = re.compile(r"-?[1-9][0-9]{0,18}")
#: ``wall{owner}_{post}[_r{comment}]`` (ingest) or ``{owner}_{post}[_{comment}]`` (bare).
_WALL_ITEM = re.compile(
    r"(?:wall)?(-?[1-9][0-9]{0,18})_([1-9][0-9]{0,18})(?:_r?([1-9][0-9]{0,18}))?"
)
#: Ingest's other VK items: photo and video comments, board posts, community messages.
_OTHER_ITEM = re.compile(r"(?:photo|video|topic|dm)-?[0-9]+_")
_TOKEN_CODES = frozenset({5, 27, 28})
_TRANSIENT_CODES = frozenset({1, 10})
_FLOOD_CODES = frozenset({9, 223})


@dataclass(frozen=True, slots=True)
class _Target:
    """What a reply answers: a wall post, or a comment under one."""

    owner: int
    post: int
    comment: int | None


class VkDeliverer:
    """Publishes wall posts and comments for the wall or community each request names."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._client = client
        self._base = api_base_url.rstrip("/")
        self._version = api_version
        self._timeout_s = timeout_s

    async def post(self, req: PostRequest) -> Published:
        """Publish a new post on the wall ``req.account_id``."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        _check(req)
        owner = _owner(req.account_id)
        params: dict[str, str | int] = {"owner_id": owner, "guid": _guid(req)}
        if owner < 0:
            params["from_group"] = 1
        if req.text:
            params["message"] = req.text
        attachment = _link_attachment(req)
        if attachment is not None:
            params["attachments"] = attachment
        result = await self._create("wall.post", req, params, "publish the post")
        post_id = result.get("post_id") if isinstance(result, dict) else None
        if not _is_id(post_id):
            raise AmbiguousDeliveryError(
                "VK answered without a post id; the post was probably published"
            )
        return _post_published(owner, post_id)

    async def reply(self, req: PostRequest) -> Published:
        """Publish a comment under the post or comment ``req.in_reply_to``."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        _check(req)
        target = _target(req.in_reply_to)
        account = _owner(req.account_id)
        if req.media_urls:
            raise PermanentDeliveryError(
                "vk.media_unsupported",
                "VK comments can carry only images uploaded to VK, which is not supported "
                "yet: remove the media from the reply, or reply on vk.com by hand.",
            )
        params: dict[str, str | int] = {
            "owner_id": target.owner,
            "post_id": target.post,
            "message": _comment_text(req),
            "guid": _guid(req),
        }
        if account < 0:
            params["from_group"] = -account  # createComment takes the group id itself
        if target.comment is not None:
            params["reply_to_comment"] = target.comment
        result = await self._create("wall.createComment", req, params, "publish the reply")
        comment_id = result.get("comment_id") if isinstance(result, dict) else None
        if not _is_id(comment_id):
            raise AmbiguousDeliveryError(
                "VK answered without a comment id; the reply was probably published"
            )
        stack = result.get("parents_stack") if isinstance(result, dict) else None
        return _comment_published(target, comment_id, _root(stack))

    async def find(self, req: PostRequest) -> Published | None:
        """The post or comment ``req`` made if VK shows it; None if it is not there."""
        _check(req)
        account = _owner(req.account_id)
        if req.in_reply_to is None:
            return await self._find_post(req, account)
        return await self._find_comment(req, account, _target(req.in_reply_to))

    async def _find_post(self, req: PostRequest, owner: int) -> Published | None:
        listing = await self._read(
            "wall.get",
            req,
            {"owner_id": owner, "count": FIND_PAGE_SIZE, "filter": "owner"},
            "look up the wall's recent posts",
        )
        for post in _items(listing, "the wall's recent posts"):
            if _post_matches(post, req, owner):
                return _post_published(owner, post["id"])
        return None

    async def _find_comment(
        self, req: PostRequest, account: int, target: _Target
    ) -> Published | None:
        params: dict[str, str | int] = {
            "owner_id": target.owner,
            "post_id": target.post,
            "sort": "desc",
            "count": FIND_COMMENTS,
        }
        thread: int | None = None
        if target.comment is not None:
            # VK threads are one level deep: a reply to a reply lands in the thread of the
            # root comment, so read that thread (the comment's own when it is a root).
            thread = await self._thread_root(req, target.owner, target.comment)
            params["comment_id"] = thread
        listing = await self._read("wall.getComments", req, params, "look up the replies")
        for comment in _items(listing, "the replies"):
            if _comment_matches(comment, req, account, target):
                return _comment_published(target, comment["id"], thread)
        return None

    async def _thread_root(self, req: PostRequest, owner: int, comment: int) -> int:
        """The root comment of the thread ``comment`` is in (itself when it is a root)."""
        found = await self._read(
            "wall.getComment",
            req,
            {"owner_id": owner, "comment_id": comment},
            "look up the comment replied to",
        )
        items = _items(found, "the comment replied to")
        stack = items[0].get("parents_stack") if items else None
        return _root(stack) or comment

    async def _create(
        self, method: str, req: PostRequest, params: Mapping[str, str | int], what: str
    ) -> Any:
        """Call a method that publishes; a failure after sending is ambiguous."""
        form = {key: str(value) for key, value in params.items()}
        form["v"] = self._version
        response = await send(
            self._client,
            "POST",
            f"{self._base}/method/{method}",
            network="VK",
            what=what,
            creates=True,
            headers=_auth(req),
            form=form,
            timeout_s=self._timeout_s,
        )
        body = created_body(response, "VK") if response.is_success else json_object(response)
        return _result(response, body, req, what, creates=True)

    async def _read(
        self, method: str, req: PostRequest, params: Mapping[str, str | int], what: str
    ) -> Any:
        """Call a method that only reads (a timeout is then transient, never ambiguous)."""
        response = await send(
            self._client,
            "GET",
            f"{self._base}/method/{method}",
            network="VK",
            what=what,
            creates=False,
            headers=_auth(req),
            params={**params, "v": self._version},
            timeout_s=self._timeout_s,
        )
        return _result(response, json_object(response), req, what, creates=False)


def _check(req: PostRequest) -> None:
    if req.network is not Network.VK:
        raise ValueError(f"VkDeliverer cannot deliver a {req.network.value} request")


def _auth(req: PostRequest) -> dict[str, str]:
    return {"Authorization": f"Bearer {req.access_token}"}


def _guid(req: PostRequest) -> str:
    """VK's ``guid``: the same for every attempt of one delivery, and no key text leaked."""
    if not req.idempotency_key:
        raise ValueError("VK posts need an idempotency_key (it becomes VK's guid)")
    return hashlib.sha256(req.idempotency_key.encode()).hexdigest()[:32]


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _owner(account_id: str) -> int:
    """The wall of ``account_id``: ``-<group id>`` for a community, a user id otherwise."""
    value = account_id.strip()
    if not _WALL_ID.fullmatch(value):
        raise PermanentDeliveryError(
            "vk.invalid_account",
            f"{account_id!r} is not a VK wall id. Set the account id of the VK connection to "
            "the community's id with a minus sign (e.g. -123456), or a user's numeric id.",
        )
    return int(value)


def _target(native_id: str) -> _Target:
    """The post (and comment) a reply answers, from an ingest or bare VK native id."""
    value = native_id.strip()
    match = _WALL_ITEM.fullmatch(value)
    if match is not None:
        owner, post, comment = match.groups()
        return _Target(int(owner), int(post), int(comment) if comment else None)
    if _OTHER_ITEM.match(value):
        raise PermanentDeliveryError(
            "vk.reply_unsupported",
            f"Replying to {value} is not supported yet: only wall posts and their comments "
            "can be answered from here. Reply on vk.com (photo, video and discussion "
            "comments, and private messages, use other VK methods).",
        )
    raise PermanentDeliveryError(
        "vk.invalid_reply_target",
        f"{native_id!r} is not a VK wall post or comment, so there is nothing to reply to.",
    )


def _link_attachment(req: PostRequest) -> str | None:
    """The one external link ``wall.post`` may attach (module docstring)."""
    if not req.media_urls:
        return req.link
    if len(req.media_urls) == 1 and not req.link:
        return req.media_urls[0]
    raise PermanentDeliveryError(
        "vk.media_unsupported",
        "Posting images to VK is not supported yet: VK shows only images uploaded to it, and "
        "a post can attach one link. Keep one image and no link (VK then shows a link to the "
        "image), or post it on vk.com by hand.",
    )


def _comment_text(req: PostRequest) -> str:
    """A reply's text: a comment has no link attachment, so the link goes in the text."""
    if req.link and req.link not in req.text:
        return f"{req.text}\n\n{req.link}" if req.text else req.link
    return req.text


def _root(stack: object) -> int | None:
    """The thread root of a comment from its ``parents_stack`` (root first)."""
    if isinstance(stack, list) and stack and _is_id(stack[0]):
        return stack[0]
    return None


def _post_published(owner: int, post_id: int) -> Published:
    native = f"wall{owner}_{post_id}"
    return Published(native_id=native, url=f"{VK_URL}/{native}")


def _comment_published(target: _Target, comment_id: int, thread: int | None) -> Published:
    wall = f"wall{target.owner}_{target.post}"
    url = f"{VK_URL}/{wall}?reply={comment_id}"
    if thread is not None:
        url += f"&thread={thread}"
    return Published(native_id=f"{wall}_r{comment_id}", url=url)


def _items(listing: Any, what: str) -> list[dict[str, Any]]:
    items = listing.get("items") if isinstance(listing, dict) else None
    if not isinstance(items, list):
        raise TransientDeliveryError(f"VK answered the lookup of {what} with malformed JSON")
    return [item for item in items if isinstance(item, dict) and _is_id(item.get("id"))]


def _recent(item: Mapping[str, Any], req: PostRequest) -> bool:
    if req.attempted_at is None:
        return True
    date = item.get("date")
    if not isinstance(date, int) or isinstance(date, bool):
        return True  # VK did not say: the text, author and parent decide
    return datetime.fromtimestamp(date, UTC) >= req.attempted_at - FIND_SKEW


def _post_matches(post: Mapping[str, Any], req: PostRequest, owner: int) -> bool:
    """Whether a wall post is the one ``req`` made: ours, same text and link, not older."""
    text = post.get("text")
    if post.get("from_id") != owner or not isinstance(text, str) or post.get("copy_history"):
        return False
    if post.get("post_type", "post") != "post" or not _recent(post, req):
        return False
    if not req.text:
        # Nothing to compare but the link: a link-only post must carry the same one.
        expected = req.link or (req.media_urls[0] if req.media_urls else None)
        return expected is not None and _attached_link(post) == expected
    return same_text(text, req.text)


def _attached_link(post: Mapping[str, Any]) -> str | None:
    attachments = post.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        link = attachment.get("link") if isinstance(attachment, dict) else None
        url = link.get("url") if isinstance(link, dict) else None
        if isinstance(url, str):
            return url
    return None


def _comment_matches(
    comment: Mapping[str, Any], req: PostRequest, account: int, target: _Target
) -> bool:
    """Whether a comment is the reply ``req`` made: ours, same parent and text, not older."""
    text = comment.get("text")
    if comment.get("from_id") != account or not isinstance(text, str):
        return False
    parent = comment.get("reply_to_comment")
    if (parent if _is_id(parent) else None) != target.comment or not _recent(comment, req):
        return False
    return same_text(text, _comment_text(req))


# --- errors ---------------------------------------------------------------------------------


def _result(
    response: httpx.Response,
    body: Mapping[str, Any] | None,
    req: PostRequest,
    what: str,
    *,
    creates: bool,
) -> Any:
    """The ``response`` of a VK answer, or the delivery error it means."""
    error = body.get("error") if body is not None else None
    if isinstance(error, dict):
        raise _error(error, req, what)
    if not response.is_success:
        raise _status_error(response, what)
    if body is None or "response" not in body:
        if creates:
            raise AmbiguousDeliveryError(
                f"VK answered {response.status_code} without a result to {what}; "
                "it was probably published"
            )
        raise TransientDeliveryError(f"VK answered the request to {what} with malformed JSON")
    return body["response"]


def _status_error(response: httpx.Response, what: str) -> DeliveryError:
    """An HTTP failure without VK's error object (a proxy, an outage)."""
    status = response.status_code
    if status == 429:
        return RateLimitedDeliveryError(f"VK rate limit (HTTP 429) on {what}", PER_SECOND_WAIT_S)
    if status >= 500:
        return TransientDeliveryError(f"VK error {status} on the request to {what}")
    return PermanentDeliveryError(
        "vk.rejected", f"VK refused the request to {what} (HTTP {status})."
    )


def _error(error: Mapping[str, Any], req: PostRequest, what: str) -> DeliveryError:
    """The delivery error of VK's ``{"error_code", "error_msg"}`` (module docstring)."""
    code = error.get("error_code")
    message = error.get("error_msg")
    reason = short(message) if isinstance(message, str) else "no message"
    wall = req.account_id
    if code in _TOKEN_CODES:
        return PermanentDeliveryError(
            "vk.token_invalid",
            "VK rejected the access token: it expired or was revoked (a password change or "
            "leaving the app revokes it). Reconnect the VK account so the platform gets a "
            "new token.",
        )
    if code == 6:
        return RateLimitedDeliveryError(f"VK rate limit: {reason}", PER_SECOND_WAIT_S)
    if code in (29, 601):
        return RateLimitedDeliveryError(f"VK daily limit reached: {reason}", QUOTA_WAIT_S)
    if code in _TRANSIENT_CODES:
        return TransientDeliveryError(f"VK internal error on the request to {what}: {reason}")
    if code in _FLOOD_CODES:
        return PermanentDeliveryError(
            "vk.flood_control",
            f"VK's anti-spam refused the post ({reason}): too many posts or replies from "
            "this account in a short time, or the same text posted again. Wait an hour, "
            "change the wording if it repeats an earlier post, then publish again; retrying "
            "at once makes VK ask for a captcha.",
        )
    if code == 14:
        return PermanentDeliveryError(
            "vk.captcha_required",
            "VK asks for a captcha before it accepts more posts from this account (its "
            "anti-spam check), which an automatic publisher cannot pass. Publish this one "
            "on vk.com by hand and post less often from this account.",
        )
    if code == 7:
        return PermanentDeliveryError(
            "vk.missing_permission",
            f"The VK token lacks the right to post ({reason}). Reconnect the VK account and "
            "allow access to the wall.",
        )
    if code in (15, 203, 214):
        return PermanentDeliveryError(
            "vk.posting_forbidden",
            f"VK does not let this account publish on wall {wall} ({reason}). Check that the "
            "connected account is an administrator or editor of the community and that its "
            "wall is open for posts.",
        )
    if code in (210, 211, 212, 213):
        return PermanentDeliveryError(
            "vk.reply_not_allowed",
            f"VK does not allow a comment there ({reason}): comments are closed, or the post "
            "or comment is not visible to this account.",
        )
    if code == 219:
        return PermanentDeliveryError(
            "vk.ads_recently_published",
            f"VK refused: an advertising post went out on this wall recently ({reason}). VK "
            "spaces advertising posts out; publish this one later.",
        )
    if code == 224:
        return PermanentDeliveryError(
            "vk.ads_limit",
            f"VK refused: the community reached its limit of advertising posts ({reason}). "
            "Publish it tomorrow or remove the advertising mark.",
        )
    if code == 222:
        return PermanentDeliveryError(
            "vk.links_forbidden",
            f"VK refused a link in the post ({reason}). Remove the link or use another one, "
            "then publish again.",
        )
    if code in (18, 37):
        return PermanentDeliveryError(
            "vk.account_blocked",
            f"VK says the account was deleted or banned ({reason}). Resolve it on vk.com, "
            "then publish again.",
        )
    if code in (100, 104, 113, 125):
        return PermanentDeliveryError(
            "vk.invalid_request",
            f"VK refused the request to {what}: {reason}. Check the account id and, for a "
            "reply, that the post or comment still exists.",
        )
    return PermanentDeliveryError(
        "vk.rejected", f"VK refused the request to {what} (error {code}: {reason})."
    )
