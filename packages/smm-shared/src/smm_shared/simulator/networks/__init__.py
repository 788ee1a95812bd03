"""Local fakes of the networks' publishing APIs, for the publisher's tests and ``make run``.

One FastAPI app (:func:`create_app`) serves every network's documented posting endpoints
under its own prefix, so a publishing account points its ``api_base_url`` at
``{fake}/{network}`` (``/x``, ``/telegram``, ``/mastodon``, ``/vk``, ``/graph``,
``/youtube``, ``/reddit``; each module says which endpoints it serves). What was posted is
kept in :class:`FakeNetworks` and readable at ``GET /_fake/posts``; a test makes the next
request to a network fail in a chosen way with :meth:`FakeNetworks.inject` (or
``POST /_fake/faults``):

* ``drop_after_accept``: the post is stored, then a gateway answers 504 instead of the
  network: the publisher cannot tell whether it was posted (the ambiguous failure).
* ``expired_token``: the network's own answer for an expired or revoked token.
* ``rate_limited``: the network's rate-limit answer (``Retry-After`` where it sends one).
* ``server_error``: a 500 from the network itself (nothing posted).
* ``reject_content``: the network refuses the content (duplicate, policy).

Tokens: any non-empty token is valid unless it starts with ``expired``.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel


class Fault(StrEnum):
    """How the next request to a network fails (module docstring)."""

    DROP_AFTER_ACCEPT = "drop_after_accept"
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a fault name, not a secret
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    REJECT_CONTENT = "reject_content"


@dataclass(frozen=True, slots=True)
class FakePost:
    """One post or reply a fake network accepted."""

    network: str
    #: The posting account as the network knows it (user id, chat id, page id, ...).
    account: str
    native_id: str
    text: str
    created_at: datetime
    media_urls: tuple[str, ...] = ()
    in_reply_to: str | None = None
    url: str | None = None
    #: Anything else the network keeps (a title, a link, a subreddit).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What ``GET /_fake/posts`` shows."""
        return {
            "network": self.network,
            "account": self.account,
            "native_id": self.native_id,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "media_urls": list(self.media_urls),
            "in_reply_to": self.in_reply_to,
            "url": self.url,
            "extra": self.extra,
        }


def token_valid(token: str | None) -> bool:
    """Any non-empty token is valid unless it starts with ``expired``."""
    return bool(token) and not str(token).startswith("expired")


class FakeNetworks:
    """What the fake networks hold: posts, pending faults, id sequences. Thread-safe."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._posts: list[FakePost] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._ids = itertools.count(1_000_001)
        self._clock = clock or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """The fake's clock."""
        return self._clock()

    def next_id(self) -> int:
        """A new numeric id, unique across the fake networks."""
        with self._lock:
            return next(self._ids)

    def add(self, post: FakePost) -> FakePost:
        """Keep an accepted post."""
        with self._lock:
            self._posts.append(post)
        return post

    def posts(self, network: str | None = None) -> list[FakePost]:
        """Accepted posts, oldest first, of one network or all."""
        with self._lock:
            return [p for p in self._posts if network is None or p.network == network]

    def find(self, network: str, native_id: str) -> FakePost | None:
        """An accepted post by its native id."""
        return next((p for p in self.posts(network) if p.native_id == native_id), None)

    def inject(self, network: str, fault: Fault, times: int = 1) -> None:
        """Make the next ``times`` posting requests to ``network`` fail with ``fault``."""
        with self._lock:
            self._faults.setdefault(network, deque()).extend([fault] * times)

    def take_fault(self, network: str) -> Fault | None:
        """The fault the current posting request must show, if one is pending."""
        with self._lock:
            pending = self._faults.get(network)
            return pending.popleft() if pending else None

    def clear(self) -> None:
        """Forget every post and fault."""
        with self._lock:
            self._posts.clear()
            self._faults.clear()


class FaultIn(BaseModel):
    """``POST /_fake/faults``."""

    network: str
    fault: Fault
    times: int = 1


NetworkRouter = Callable[[FakeNetworks], APIRouter]


def _routers() -> dict[str, NetworkRouter]:
    # Imported here so each network module can import this package's names.
    from smm_shared.simulator.networks import mastodon, meta, reddit, telegram, vk, x, youtube

    return {
        "x": x.router,
        "telegram": telegram.router,
        "mastodon": mastodon.router,
        "vk": vk.router,
        "graph": meta.router,
        "youtube": youtube.router,
        "reddit": reddit.router,
    }


def create_app(state: FakeNetworks | None = None) -> FastAPI:
    """The fake networks as one app; ``app.state.networks`` is the :class:`FakeNetworks`."""
    networks = state or FakeNetworks()
    app = FastAPI(title="Fake social networks", docs_url="/_fake/docs", openapi_url=None)
    app.state.networks = networks

    @app.get("/_fake/posts")
    async def list_posts(network: str | None = None) -> list[dict[str, Any]]:
        return [p.to_json() for p in networks.posts(network)]

    @app.post("/_fake/faults", status_code=204)
    async def add_fault(body: FaultIn) -> None:
        networks.inject(body.network, body.fault, body.times)

    @app.delete("/_fake/posts", status_code=204)
    async def clear() -> None:
        networks.clear()

    for prefix, make in _routers().items():
        app.include_router(make(networks), prefix=f"/{prefix}")
    return app
