"""Delivery to a network: what is asked, what comes back, how failures are told apart. Pure Python.

A post is not idempotent on most networks, so the one failure that matters most is the
*ambiguous* one: the request left us and no answer came back (a read timeout, a dropped
connection, a gateway that lost the origin's answer). The network may have posted it. The
service must then call :meth:`Deliverer.find` before anything else: found means published;
``None`` from a network that can look posts up means not posted, so a retry is safe; a
network that cannot look posts up (Telegram) leaves the item for a person. Never resend
blindly: a duplicate post in a brand's feed is worse than a late one.

Errors:

* :class:`TransientDeliveryError`: nothing was posted (the connection failed before the
  request was sent, or the network answered 5xx): retry with backoff.
* :class:`RateLimitedDeliveryError`: nothing was posted; wait ``retry_after_s``.
* :class:`PermanentDeliveryError`: nothing was posted and retrying cannot help until a person
  fixes something; ``code`` is stable (``x.duplicate``, ``telegram.token_invalid``...) and
  ``message`` says what to fix in words an SMM manager understands.
* :class:`AmbiguousDeliveryError`: maybe posted; resolve with ``find`` first.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from smm_publisher.domain.content import LINK_IN_TEXT, Variant
from smm_shared.events import Network


class DeliveryError(Exception):
    """Delivery failed; the subclass says whether it may have posted and whether to retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientDeliveryError(DeliveryError):
    """Nothing was posted and the cause should pass: retry with backoff."""


class RateLimitedDeliveryError(DeliveryError):
    """Nothing was posted; the network asked us to wait ``retry_after_s`` seconds."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentDeliveryError(DeliveryError):
    """Nothing was posted and a person must fix something first; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AmbiguousDeliveryError(DeliveryError):
    """The request was sent and no answer came back: the network may have posted it."""


@dataclass(frozen=True, slots=True)
class PostRequest:
    """One post or reply to deliver from one account.

    ``text`` is exactly what is posted: on networks without a link field (X, Mastodon,
    Telegram) the link is already in it, as :meth:`Variant.post_text` puts it there
    (:meth:`from_variant` does this). ``link`` is for networks that attach a link separately.
    """

    network: Network
    #: The account on its network: an X user id, a Telegram chat id or @channel, a Mastodon
    #: account id.
    account_id: str
    #: The credential the caller resolved from the connector: a user token, a bot token.
    access_token: str = field(repr=False)
    text: str
    media_urls: tuple[str, ...] = ()
    link: str | None = None
    #: A post title where the network has one (Reddit); None elsewhere.
    title: str | None = None
    #: The native id of the post this one answers (a reply); None for a new post.
    in_reply_to: str | None = None
    #: Stable per delivery attempt chain (e.g. ``{content id}:{account}``); sent where the
    #: network honours one (Mastodon's ``Idempotency-Key``).
    idempotency_key: str = ""
    #: When the first attempt was made; ``find`` ignores posts older than this.
    attempted_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.account_id.strip():
            raise ValueError("account_id must not be empty")
        if not self.access_token:
            raise ValueError("access_token must not be empty")
        if self.attempted_at is not None and self.attempted_at.utcoffset() is None:
            raise ValueError("attempted_at must be timezone-aware")
        if self.link and self.network in LINK_IN_TEXT and self.link not in self.text:
            # These networks have no link field: a link outside the text would be dropped.
            raise ValueError(
                f"on {self.network.value} the link must be in the text; "
                "build the request with PostRequest.from_variant"
            )

    @classmethod
    def from_variant(
        cls,
        variant: Variant,
        *,
        account_id: str,
        access_token: str,
        idempotency_key: str,
        in_reply_to: str | None = None,
        attempted_at: datetime | None = None,
    ) -> PostRequest:
        """The request that publishes ``variant`` (its text as posted, media and link)."""
        return cls(
            network=variant.network,
            account_id=account_id,
            access_token=access_token,
            text=variant.post_text(),
            media_urls=variant.media_urls,
            link=variant.link,
            title=variant.title,
            in_reply_to=in_reply_to,
            idempotency_key=idempotency_key,
            attempted_at=attempted_at,
        )


@dataclass(frozen=True, slots=True)
class Published:
    """A post that is on the network: its native id and where people see it (if public)."""

    native_id: str
    url: str | None


class Deliverer(Protocol):
    """Posts to one network; every failure is one of the :class:`DeliveryError` subclasses."""

    async def post(self, req: PostRequest) -> Published:
        """Publish a new post."""
        ...

    async def reply(self, req: PostRequest) -> Published:
        """Publish a reply to ``req.in_reply_to``."""
        ...

    async def find(self, req: PostRequest) -> Published | None:
        """The post ``req`` made if the network has it; None if it has not (or cannot tell)."""
        ...


_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def normalized_text(text: str) -> str:
    """Text as compared by ``find``: entities decoded, URLs masked, whitespace collapsed.

    Networks give a post back changed: X escapes ``&<>`` and shortens every URL to
    ``t.co``; Mastodon renders HTML and elides long URLs. URLs are compared as "a URL here".
    """
    unescaped = html.unescape(text)
    return _SPACE.sub(" ", _URL.sub("<url>", unescaped)).strip()


def same_text(seen: str, ours: str) -> bool:
    """Whether the text a network shows is the text we sent (see :func:`normalized_text`)."""
    return normalized_text(seen) == normalized_text(ours)


#: Networks whose API cannot list what we posted: an ambiguous failure there cannot be
#: resolved by ``find`` and goes to a person instead of being resent.
NO_LOOKUP: frozenset[Network] = frozenset({Network.TELEGRAM})

#: Waits between attempts after transient errors: 2 s, then x3 each time, at most 10 min.
FIRST_RETRY_S = 2.0
RETRY_FACTOR = 3.0
MAX_RETRY_S = 600.0


def retry_delay_s(attempts: int, *, jitter: float = 0.0) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based).

    ``jitter`` in [-1, 1] spreads retries of many deliveries by up to ±20 %, so a network
    that failed for everyone is not hit by all of them at the same instant.
    """
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    if not -1.0 <= jitter <= 1.0:
        raise ValueError("jitter is in [-1, 1]")
    base = min(MAX_RETRY_S, FIRST_RETRY_S * RETRY_FACTOR ** min(attempts - 1, 20))
    return base * (1.0 + 0.2 * jitter)
