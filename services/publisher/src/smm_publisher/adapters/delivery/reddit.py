"""Reddit API delivery: ``POST /api/submit`` for posts, ``POST /api/comment`` for replies.

The request's ``access_token`` is the user's OAuth token (scopes ``submit``, plus ``identity``
and ``history`` for :meth:`RedditDeliverer.find`); Reddit wants a descriptive
``User-Agent`` on every request. The ``account_id`` is *where* posts go: a subreddit name
(``brand``; ``r/brand`` and ``/r/brand`` are read the same) or the user's profile (``u_name``;
``u/name`` is read the same). Who posts is the token's user, which :meth:`find` asks Reddit
(``GET /api/v1/me``) rather than storing a second name next to the account that could drift
from the token. Replies go to whatever ``in_reply_to`` names, so for them the account id is
not sent.

Posts: ``kind=self`` with the text, or ``kind=link`` with ``url`` when the request has a link
and no text. A self post with a link gets the link appended to its text (Reddit shows one or
the other; a dropped link would be worse). ``title`` is required (``reddit.title_required``
before sending). Media need Reddit's separate media-asset upload, which this client does not
do: a request with media is refused before sending (``reddit.media_unsupported``).

Replies: ``thing_id`` is the fullname answered, ``t3_...`` (a post) or ``t1_...`` (a
comment), which is exactly how ingest writes Reddit native ids. The native id of what we
publish is its fullname too (``t3_...``/``t1_...``), its URL ``https://www.reddit.com{permalink}``.

Errors: with ``api_type=json`` Reddit answers a refused form with 200 and ``{"json": {"errors":
[[code, message, field]]}}``: ``RATELIMIT`` ("take a break for 5 minutes") waits that long,
the others are permanent with a code (``SUBREDDIT_NOEXIST`` → ``reddit.subreddit_not_found``,
``SUBREDDIT_NOTALLOWED`` → ``reddit.not_allowed``, ``ALREADY_SUB`` →
``reddit.already_submitted``, ...). 401 is an expired or revoked token, 403 a suspended
account or a missing scope, 429 waits ``x-ratelimit-reset`` (seconds left in Reddit's window).
502, 503 and 504 on a create are ambiguous: Reddit's CDN answers 503 when the origin was too
slow, and the origin may have posted; a timeout or dropped connection after sending too.
Other 5xx are transient.

:meth:`find` reads the token user's newest posts (``GET /user/{name}/submitted``) or comments
(``GET /user/{name}/comments``) with ``raw_json=1`` (unescaped text) and matches the
subreddit, title and text (a post) or the parent and text (a reply), not older than the
attempt less clock skew.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from smm_publisher.adapters.delivery._http import (
    LOST_ANSWER,
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

DEFAULT_API_BASE_URL = "https://oauth.reddit.com"
DEFAULT_USER_AGENT = "server:smm-publisher:v1 (SMM platform publisher)"
REDDIT_URL = "https://www.reddit.com"
#: Wait on a 429 without ``x-ratelimit-reset``.
DEFAULT_RETRY_S = 60.0
#: Wait on a ``RATELIMIT`` whose message names no time (Reddit's usual posting break).
DEFAULT_POST_BREAK_S = 600.0
#: How many of the user's newest posts or comments ``find`` reads (Reddit's maximum page).
FIND_PAGE_SIZE = 100
FIND_SKEW = timedelta(minutes=5)
#: Reddit's CDN answers 503 when the origin took too long; the origin may have posted.
REDDIT_LOST_ANSWER = LOST_ANSWER | {503}
_FULLNAME = re.compile(r"t[13]_[0-9a-z]+")
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_PROFILE = re.compile(r"u_[A-Za-z0-9_-]{3,20}")
_USERNAME = re.compile(r"[A-Za-z0-9_-]{3,20}")
_WAIT = re.compile(
    r"(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|minutes?|mins?|hours?)", re.IGNORECASE
)


def subreddit_of(account_id: str) -> str:
    """Where ``account_id`` posts: ``brand`` (also ``r/brand``) or ``u_name`` (also ``u/name``)."""
    value = account_id.strip().strip("/")
    lowered = value.lower()
    if lowered.startswith(("u/", "user/")):
        value = "u_" + value.partition("/")[2]
    elif lowered.startswith("r/"):
        value = value[2:]
    if _PROFILE.fullmatch(value) or _SUBREDDIT.fullmatch(value):
        return value
    raise PermanentDeliveryError(
        "reddit.invalid_account",
        f"{account_id!r} is not where Reddit posts can go: set the account to a subreddit name "
        "(e.g. brand or r/brand) or to the user's profile (u_name).",
    )


class RedditDeliverer:
    """Publishes posts and comments as the user whose token each request carries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("Reddit requires a User-Agent")
        self._client = client
        self._base = api_base_url.rstrip("/")
        self._user_agent = user_agent
        self._timeout_s = timeout_s

    async def post(self, req: PostRequest) -> Published:
        """Submit a new post to the subreddit (or profile) of ``req.account_id``."""
        if req.in_reply_to is not None:
            raise ValueError("a request with in_reply_to is a reply: call reply()")
        _check(req)
        _no_media(req)
        subreddit = subreddit_of(req.account_id)
        title = (req.title or "").strip()
        if not title:
            raise PermanentDeliveryError(
                "reddit.title_required", "A Reddit post needs a title: add one and publish again."
            )
        form = {"api_type": "json", "sr": subreddit, "title": title, "sendreplies": "true"}
        if req.link and not req.text.strip():
            form.update(kind="link", url=req.link)
        else:
            form.update(kind="self", text=_body(req))
        data = await self._create(req, "/api/submit", form)
        name = data.get("name")
        if not isinstance(name, str) and isinstance(data.get("id"), str):
            name = f"t3_{data['id']}"
        if not isinstance(name, str) or not _FULLNAME.fullmatch(name):
            raise AmbiguousDeliveryError(
                "Reddit accepted the post without saying which it is; it was probably published"
            )
        url = data.get("url")
        return Published(native_id=name, url=url if isinstance(url, str) and url else None)

    async def reply(self, req: PostRequest) -> Published:
        """Comment on the post or comment ``req.in_reply_to`` (a ``t3_``/``t1_`` fullname)."""
        if not req.in_reply_to:
            raise ValueError("reply() needs in_reply_to")
        _check(req)
        _no_media(req)
        if not _FULLNAME.fullmatch(req.in_reply_to):
            raise PermanentDeliveryError(
                "reddit.invalid_reply_target",
                f"{req.in_reply_to!r} is not a Reddit post or comment (t3_... or t1_...), so "
                "there is nothing to reply to.",
            )
        form = {"api_type": "json", "thing_id": req.in_reply_to, "text": _body(req)}
        data = await self._create(req, "/api/comment", form)
        things = data.get("things")
        first = things[0] if isinstance(things, list) and things else None
        comment = first.get("data") if isinstance(first, dict) else None
        name = comment.get("name") if isinstance(comment, dict) else None
        if not isinstance(comment, dict) or not isinstance(name, str):
            raise AmbiguousDeliveryError(
                "Reddit accepted the comment without saying which it is; it was probably published"
            )
        return Published(native_id=name, url=_url(comment.get("permalink")))

    async def find(self, req: PostRequest) -> Published | None:
        """The post or comment ``req`` made among the user's newest; None if it is not there."""
        _check(req)
        subreddit = subreddit_of(req.account_id) if req.in_reply_to is None else ""
        if req.in_reply_to is None and not (req.title or "").strip():
            return None  # post() refuses it before sending: nothing can have been posted
        username = await self._username(req)
        listing = "comments" if req.in_reply_to is not None else "submitted"
        what = "look up the account's recent posts"
        response = await send(
            self._client,
            "GET",
            f"{self._base}/user/{quote(username, safe='')}/{listing}",
            network="Reddit",
            what=what,
            creates=False,
            headers=self._headers(req),
            params={"sort": "new", "limit": FIND_PAGE_SIZE, "raw_json": 1},
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _http_error(response, what)
        since = req.attempted_at - FIND_SKEW if req.attempted_at is not None else None
        for thing in _children(response):
            if req.in_reply_to is not None:
                found = _matches_comment(thing, req, since)
            else:
                found = _matches_post(thing, req, subreddit, since)
            if found:
                name = thing.get("name") or f"{'t1' if req.in_reply_to else 't3'}_{thing['id']}"
                return Published(native_id=str(name), url=_url(thing.get("permalink")))
        return None

    async def _create(self, req: PostRequest, path: str, form: Mapping[str, str]) -> dict[str, Any]:
        what = "publish the post" if path == "/api/submit" else "publish the comment"
        response = await send(
            self._client,
            "POST",
            f"{self._base}{path}",
            network="Reddit",
            what=what,
            creates=True,
            headers=self._headers(req),
            form=form,
            timeout_s=self._timeout_s,
            lost_answer=REDDIT_LOST_ANSWER,
        )
        if not response.is_success:
            raise _http_error(response, what)
        body = created_body(response, "Reddit")
        result = body.get("json")
        if not isinstance(result, dict):
            raise AmbiguousDeliveryError(
                f"Reddit answered {response.status_code} without a result; it was probably "
                "published"
            )
        errors = result.get("errors")
        if isinstance(errors, list) and errors:
            raise _form_error(errors, result, req)
        data = result.get("data")
        return data if isinstance(data, dict) else {}

    async def _username(self, req: PostRequest) -> str:
        what = "look up the account's name"
        response = await send(
            self._client,
            "GET",
            f"{self._base}/api/v1/me",
            network="Reddit",
            what=what,
            creates=False,
            headers=self._headers(req),
            timeout_s=self._timeout_s,
        )
        if not response.is_success:
            raise _http_error(response, what)
        name = (json_object(response) or {}).get("name")
        if not isinstance(name, str) or not _USERNAME.fullmatch(name):
            raise TransientDeliveryError("Reddit answered the account lookup without a user name")
        return name

    def _headers(self, req: PostRequest) -> dict[str, str]:
        return {"Authorization": f"bearer {req.access_token}", "User-Agent": self._user_agent}


def _check(req: PostRequest) -> None:
    if req.network is not Network.REDDIT:
        raise ValueError(f"RedditDeliverer cannot deliver a {req.network.value} request")


def _no_media(req: PostRequest) -> None:
    if req.media_urls:
        raise PermanentDeliveryError(
            "reddit.media_unsupported",
            "Posting images to Reddit is not supported yet: remove the media from the Reddit "
            "version of the post (a link post to the image works), or post it by hand.",
        )


def _body(req: PostRequest) -> str:
    """The markdown body: the text, and the link after it when the text does not carry it."""
    if req.link and req.link not in req.text:
        return f"{req.text}\n\n{req.link}" if req.text.strip() else req.link
    return req.text


def _url(permalink: object) -> str | None:
    if isinstance(permalink, str) and permalink.startswith("/") and not permalink.startswith("//"):
        return f"{REDDIT_URL}{permalink}"
    return None


def _children(response: httpx.Response) -> Iterable[dict[str, Any]]:
    """The ``data`` of each child of a Listing; TransientDeliveryError when it is none."""
    body = json_object(response) or {}
    data = body.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    if body.get("kind") != "Listing" or not isinstance(children, list):
        raise TransientDeliveryError("Reddit answered the recent-posts lookup with malformed JSON")
    for child in children:
        thing = child.get("data") if isinstance(child, dict) else None
        if isinstance(thing, dict) and isinstance(thing.get("id"), str):
            yield thing


def _created_since(thing: Mapping[str, Any], since: datetime | None) -> bool:
    created = thing.get("created_utc")
    if since is None or isinstance(created, bool) or not isinstance(created, int | float):
        return True  # Reddit did not say: the rest decides
    if not math.isfinite(created):
        return True
    return datetime.fromtimestamp(created, tz=UTC) >= since


def _matches_post(
    thing: Mapping[str, Any], req: PostRequest, subreddit: str, since: datetime | None
) -> bool:
    """Same subreddit, same title, same body (or link), not older than the attempt."""
    listed = thing.get("subreddit")
    title = thing.get("title")
    if not isinstance(listed, str) or not isinstance(title, str):
        return False
    if listed.lower() != subreddit.lower():
        return False
    if title.strip() != (req.title or "").strip() or not _created_since(thing, since):
        return False
    if req.link and not req.text.strip():
        url = thing.get("url")
        return isinstance(url, str) and url.rstrip("/") == req.link.rstrip("/")
    selftext = thing.get("selftext")
    return isinstance(selftext, str) and same_text(selftext, _body(req))


def _matches_comment(thing: Mapping[str, Any], req: PostRequest, since: datetime | None) -> bool:
    """Same parent, same text, not older than the attempt."""
    body = thing.get("body")
    if thing.get("parent_id") != req.in_reply_to or not isinstance(body, str):
        return False
    return _created_since(thing, since) and same_text(body, _body(req))


# --- errors ---------------------------------------------------------------------------------


def _http_error(response: httpx.Response, what: str) -> DeliveryError:
    """The delivery error of a non-2xx answer (ambiguous gateway answers never get here)."""
    status = response.status_code
    body = json_object(response) or {}
    message = body.get("message") or body.get("reason") or response.reason_phrase
    reason = short(str(message)) if message else "no reason given"
    if status == 401:
        return PermanentDeliveryError(
            "reddit.token_invalid",
            "Reddit rejected the account's access token: it expired or was revoked. Reconnect "
            "the Reddit account so the platform gets a new token.",
        )
    if status == 429:
        return RateLimitedDeliveryError(
            f"Reddit rate limit on the request to {what}: {reason}", _reset(response.headers)
        )
    if status == 403:
        return PermanentDeliveryError(
            "reddit.forbidden",
            f"Reddit refused the request to {what} ({reason}). The account may be suspended, "
            "or the connection lacks a permission: reconnect it and grant submit, identity "
            "and history.",
        )
    if status == 404:
        return PermanentDeliveryError(
            "reddit.not_found", f"Reddit found nothing to {what} ({reason})."
        )
    if status >= 500:
        return TransientDeliveryError(f"Reddit error {status} on the request to {what}: {reason}")
    return PermanentDeliveryError(
        "reddit.rejected", f"Reddit refused the request to {what} ({status}: {reason})."
    )


def _reset(headers: httpx.Headers) -> float:
    """Seconds left in Reddit's rate-limit window (``x-ratelimit-reset``), at least 1."""
    try:
        seconds = float(headers.get("x-ratelimit-reset", ""))
    except ValueError:
        return DEFAULT_RETRY_S
    return max(1.0, seconds) if math.isfinite(seconds) else DEFAULT_RETRY_S


#: Form error codes that mean one thing to fix, and what to tell the manager.
_FORM_ERRORS: Mapping[str, tuple[str, str]] = {
    "SUBREDDIT_NOEXIST": (
        "reddit.subreddit_not_found",
        "Reddit has no such subreddit ({message}). Check the account's subreddit name.",
    ),
    "SUBREDDIT_NOTALLOWED": (
        "reddit.not_allowed",
        "Reddit does not let this account post there ({message}): it may be banned, or the "
        "subreddit only takes approved users.",
    ),
    "ALREADY_SUB": (
        "reddit.already_submitted",
        "That link was already posted to this subreddit ({message}). Post it as text or pick "
        "another link.",
    ),
    "NO_SELFS": (
        "reddit.kind_not_allowed",
        "The subreddit does not take text posts ({message}). Post a link instead.",
    ),
    "NO_LINKS": (
        "reddit.kind_not_allowed",
        "The subreddit does not take link posts ({message}). Post it as text instead.",
    ),
    "TOO_LONG": ("reddit.too_long", "Reddit refused it as too long ({message}). Shorten it."),
    "NO_TEXT": ("reddit.text_required", "Reddit wants some text there ({message})."),
    "BAD_URL": ("reddit.bad_url", "Reddit refused the link ({message}). Check the URL."),
    "NO_URL": ("reddit.bad_url", "Reddit wants a link for a link post ({message})."),
    "THREAD_LOCKED": (
        "reddit.reply_not_allowed",
        "The thread is locked or archived ({message}): Reddit takes no more comments there.",
    ),
    "TOO_OLD": (
        "reddit.reply_not_allowed",
        "The thread is archived ({message}): Reddit takes no more comments there.",
    ),
    "DELETED_LINK": (
        "reddit.reply_target_missing",
        "The post being answered was deleted ({message}).",
    ),
    "DELETED_COMMENT": (
        "reddit.reply_target_missing",
        "The comment being answered was deleted ({message}).",
    ),
    "SUBMIT_VALIDATION_FLAIR_REQUIRED": (
        "reddit.flair_required",
        "The subreddit requires a flair on posts ({message}); post it by hand with a flair.",
    ),
    "USER_REQUIRED": (
        "reddit.token_invalid",
        "Reddit did not accept the account's login ({message}). Reconnect the Reddit account.",
    ),
}


def _form_error(
    errors: Sequence[object], result: Mapping[str, Any], req: PostRequest
) -> DeliveryError:
    """The error of a refused form: a permanent one wins over RATELIMIT (waiting would not help)."""
    parsed = [_triple(e) for e in errors]
    refusals = [e for e in parsed if e[0] != "RATELIMIT"]
    if not refusals:
        message = parsed[0][1]
        return RateLimitedDeliveryError(
            f"Reddit asks the account to slow down: {message}", _break(message, result)
        )
    code, message, field = refusals[0]
    if code == "NO_TEXT" and field == "title":
        return PermanentDeliveryError(
            "reddit.title_required", f"Reddit wants a title ({message}). Add one."
        )
    if code == "TOO_LONG" and field == "title":
        return PermanentDeliveryError(
            "reddit.title_too_long", f"Reddit refused the title as too long ({message})."
        )
    known = _FORM_ERRORS.get(code)
    if known is not None:
        return PermanentDeliveryError(known[0], known[1].format(message=message))
    where = f"the subreddit {subreddit_of(req.account_id)}" if req.in_reply_to is None else "it"
    return PermanentDeliveryError(
        "reddit.rejected",
        f"Reddit refused to publish to {where}: {message} ({code}). Fix it and try again.",
    )


def _triple(error: object) -> tuple[str, str, str]:
    parts = [str(p) for p in error] if isinstance(error, list) else [str(error)]
    parts += ["", "", ""]
    return parts[0] or "UNKNOWN", short(parts[1]) or "no reason given", parts[2]


def _break(message: str, result: Mapping[str, Any]) -> float:
    """The break a RATELIMIT asks for: ``json.ratelimit`` seconds, else the message's words."""
    seconds = result.get("ratelimit")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return max(1.0, float(seconds))
    match = _WAIT.search(message)
    if match is None:
        return DEFAULT_POST_BREAK_S
    unit = match.group(2).lower()
    if unit.startswith(("ms", "milli")):
        factor = 0.001
    elif unit.startswith("h"):
        factor = 3600.0
    elif unit.startswith("m"):
        factor = 60.0
    else:
        factor = 1.0
    return max(1.0, float(match.group(1)) * factor)
