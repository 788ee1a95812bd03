"""Per-account publishing rate limits: each network's documented limits as fixed windows.

Every delivery takes one slot in each :class:`Window` that :func:`windows_for` returns for
its network and kind (``post`` or ``reply``); a window counts per account and per aligned
period of ``seconds`` since the UTC epoch (:func:`window_start`). A kind that shares a limit
with the other kind on its network (an X reply is a tweet like a post) gets the *same*
window, same name, so both count against one counter.

Fixed windows and the 2x problem
--------------------------------
A fixed window of ``limit`` per ``seconds`` lets ``limit`` deliveries through at the end of
one window and ``limit`` more at the start of the next: up to 2x the limit inside one
interval of ``seconds`` that straddles the boundary. A network that counts in rolling
windows (Instagram's "24-hour moving period", Meta's Page budget) or in windows aligned
differently from ours (YouTube's quota resets at midnight Pacific time, X's 15-minute
windows are not said to start on our boundaries) would refuse the excess. A sliding log avoids it
but stores one entry per delivery and needs a read-modify-write that is not one atomic
single-document update (docs/mongo-subset.md: no transactions); a sliding counter is an
estimate. So each documented limit says how it is enforced (:class:`Enforcement`):

* ``ALIGNED``: the network itself counts in epoch-aligned fixed windows of the same size
  (Mastodon's ``RateLimiter`` and Rack::Attack key their counters by ``epoch // period``),
  so our window *is* theirs (clocks kept in sync) and the documented figure is used as is.
* ``SPLIT``: a documented ``L`` per ``W`` becomes ``L // (k + 1)`` per ``W / k`` (k = 4 when
  the numbers allow, else fewer parts). Any interval of length ``W``, wherever it starts,
  touches at most ``k + 1`` of these windows, so it never sees more than ``L``: no 2x,
  for one counter document per window as before. The price is a smaller burst
  (``L / (k + 1)`` at once) and a steady rate of ``k / (k + 1)`` of the limit (80 %), which
  suits publishing: brands post a few times a day, far under every cap here. A side gain:
  a full daily cap asks to retry after 6 h (the sub-window), not 24 h.
* ``BURST``: a plain fixed window of the documented size, where the network says it allows
  short bursts over the figure (Telegram's one message per second per chat) and the figure
  is too small to split (one cannot take a quarter of one message).

The network remains the authority: a 429 still comes back as ``RateLimitedDeliveryError``
with the network's own wait. These windows keep us from asking in the first place.

Limits that are not per account are not modelled here, as the key is the account: X's
10,000 tweets per 24 h per app, Telegram's ~30 messages per second per bot (across all
chats), YouTube's 10,000 quota units per day per Google Cloud project and Reddit's
100 queries per minute per OAuth client. YouTube's and Reddit's are treated per account
(as if each account had the whole budget), with part of it left for ingest's reads; with
many accounts behind one project or client the network's 429 is what slows us down.
Media uploads (Mastodon: 30 per 30 min) have no window yet because no deliverer uploads
media; add a kind when one does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, Literal

from smm_shared.events import Network

Kind = Literal["post", "reply"]
#: The kinds of delivery a window may count.
KINDS: Final[tuple[Kind, ...]] = ("post", "reply")
POST: Final[frozenset[Kind]] = frozenset({"post"})
REPLY: Final[frozenset[Kind]] = frozenset({"reply"})
BOTH: Final[frozenset[Kind]] = frozenset(KINDS)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
#: Sub-windows a split limit is cut into when its numbers allow (module doc).
SPLIT_PARTS: Final = 4

HOUR: Final = 3600
DAY: Final = 24 * HOUR


def parse_kind(kind: str) -> Kind:
    """``kind`` as a :data:`Kind`; ValueError for anything but ``post`` and ``reply``."""
    if kind in KINDS:  # narrows ``kind`` to Kind
        return kind
    raise ValueError(f"kind must be 'post' or 'reply', not {kind!r}")


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed window we enforce: at most ``limit`` deliveries per epoch-aligned ``seconds``.

    ``name`` identifies the counter: windows with the same name share it (per account).
    """

    name: str
    limit: int
    seconds: int

    def __post_init__(self) -> None:
        if not self.name or "|" in self.name:
            raise ValueError("a window name must be non-empty and free of '|'")
        if self.limit < 1:
            raise ValueError(f"window {self.name}: limit must be at least 1")
        if self.seconds < 1:
            raise ValueError(f"window {self.name}: seconds must be at least 1")


class Enforcement(StrEnum):
    """How a documented limit becomes a fixed window (module doc)."""

    ALIGNED = "aligned"
    SPLIT = "split"
    BURST = "burst"


@dataclass(frozen=True, slots=True)
class DocumentedLimit:
    """A network's limit per account: at most ``limit`` per any ``seconds``, for ``kinds``.

    ``limit`` is the documented figure, or the share of it we claim when other calls with the
    same token count too (said in ``note``). ``source`` is where the figure is published.
    """

    network: Network
    name: str
    limit: int
    seconds: int
    kinds: frozenset[Kind]
    enforcement: Enforcement
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if not self.kinds or not self.kinds <= BOTH:
            raise ValueError(f"{self.name}: kinds must be a non-empty subset of {KINDS}")
        if not self.name.startswith(f"{self.network.value}."):
            raise ValueError(f"{self.name}: a limit's name starts with its network's value")
        self.window  # noqa: B018 - fail at import, not at the first delivery

    @property
    def parts(self) -> int:
        """How many windows the documented period is cut into (1 unless split)."""
        if self.enforcement is not Enforcement.SPLIT:
            return 1
        for parts in range(SPLIT_PARTS, 0, -1):
            if self.seconds % parts == 0 and self.limit // (parts + 1) >= 1:
                return parts
        raise ValueError(f"{self.name}: {self.limit} per {self.seconds} s cannot be split")

    @property
    def window(self) -> Window:
        """The fixed window that enforces this limit."""
        if self.enforcement is not Enforcement.SPLIT:
            return Window(self.name, self.limit, self.seconds)
        parts = self.parts
        return Window(self.name, self.limit // (parts + 1), self.seconds // parts)

    @property
    def worst_case(self) -> int:
        """The most deliveries :attr:`window` lets into one interval of ``seconds``."""
        if self.enforcement is Enforcement.ALIGNED:
            return self.limit
        if self.enforcement is Enforcement.BURST:
            return 2 * self.limit
        return (self.parts + 1) * self.window.limit


_X_API = "https://docs.x.com/x-api/fundamentals/rate-limits (Manage Posts: POST /2/tweets)"
_X_LIMITS = "https://help.x.com/en/rules-and-policies/x-limits"
_TELEGRAM = "https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this"
_MASTODON = "https://github.com/mastodon/mastodon/blob/main/app/lib/rate_limiter.rb"
_MASTODON_API = "https://docs.joinmastodon.org/api/rate-limits/"
_VK_API = "https://dev.vk.com/ru/api/api-requests (request frequency limits)"
_VK_WALL = "https://dev.vk.com/ru/reference/errors (214) and https://dev.vk.com/ru/method/wall.post"
_META_RATE = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting#pages"
_IG_PUBLISH = (
    "https://developers.facebook.com/docs/instagram-platform/content-publishing (rate limit) "
    "and .../reference/ig-user/content_publishing_limit (config.quota_total)"
)
_IG_COMMENTS = "https://developers.facebook.com/docs/instagram-api (legacy rate limits)"
_YOUTUBE = "https://developers.google.com/youtube/v3/determine_quota_cost"
_REDDIT = "https://support.reddithelp.com/hc/en-us/articles/16160319875092-Reddit-Data-API-Wiki"

#: Every limit we enforce, per network; :func:`windows_for` reads it.
# fmt: off
LIMITS: Final[tuple[DocumentedLimit, ...]] = (
    # X. POST /2/tweets: 100 requests per 15 min per user (a reply is a tweet: shared).
    DocumentedLimit(
        Network.X, "x.tweets.15m", 100, 15 * 60, BOTH, Enforcement.SPLIT, _X_API,
        "X does not say where its 15-minute windows begin.",
    ),
    # X account limits (all clients, API included): unverified accounts get 50 original
    # posts and 200 replies a day, within the 2,400 updates a day of every account. We do
    # not know whether an account is verified, so the unverified figures apply.
    DocumentedLimit(
        Network.X, "x.posts.24h", 50, DAY, POST, Enforcement.SPLIT, _X_LIMITS,
        "Unverified accounts; the daily cap is further cut into semi-hourly limits.",
    ),
    DocumentedLimit(
        Network.X, "x.replies.24h", 200, DAY, REPLY, Enforcement.SPLIT, _X_LIMITS,
        "Unverified accounts; the daily cap is further cut into semi-hourly limits.",
    ),
    # Telegram bots: about one message per second in one chat (short bursts tolerated) and
    # at most 20 messages per minute to one group or channel. A reply is a message.
    DocumentedLimit(
        Network.TELEGRAM, "telegram.chat.1s", 1, 1, BOTH, Enforcement.BURST, _TELEGRAM,
        "'We may allow short bursts that go over this limit'; one message cannot be split.",
    ),
    DocumentedLimit(
        Network.TELEGRAM, "telegram.group.1m", 20, 60, BOTH, Enforcement.SPLIT, _TELEGRAM,
    ),
    # Mastodon: 300 statuses (replies included) per 3 h per account, counted by the server
    # in epoch-aligned windows (key = epoch // 10800), exactly like ours. Upstream defaults:
    # an instance may change them, and then its 429 is what we go by.
    DocumentedLimit(
        Network.MASTODON, "mastodon.statuses.3h", 300, 3 * HOUR, BOTH, Enforcement.ALIGNED,
        _MASTODON,
    ),
    # Mastodon: 300 API calls per 5 min per account (Rack::Attack, also epoch-aligned); half
    # for deliveries, the rest for `find` after an ambiguous post and other reads.
    DocumentedLimit(
        Network.MASTODON, "mastodon.api.5m", 150, 5 * 60, BOTH, Enforcement.ALIGNED,
        _MASTODON_API, "Half of the documented 300 calls per 5 min.",
    ),
    # VK: 3 requests per second per user token (wall.post needs one; 20/s with a community
    # token, which wall.createComment may use). Every method counts, so one per second is
    # ours (a split of 3/s: any second then sees at most 2).
    DocumentedLimit(
        Network.VK, "vk.api.1s", 3, 1, BOTH, Enforcement.SPLIT, _VK_API,
        "The user-token figure; the community-token 20/s is not relied on.",
    ),
    # VK: wall.post answers error 214 "you can only add 50 posts a day".
    DocumentedLimit(Network.VK, "vk.wall_posts.24h", 50, DAY, POST, Enforcement.SPLIT, _VK_WALL),
    # Facebook Pages: Meta documents no per-Page posting count. Calls with a Page token are
    # limited to 4,800 x engaged users per rolling 24 h, shared by every call with that
    # token (ingest's polling, our lookups). page_engaged_users was removed in March 2024, so
    # we assume the floor of one engaged user and claim half of the 4,800 for deliveries.
    DocumentedLimit(
        Network.FACEBOOK, "facebook.page_calls.24h", 2_400, DAY, BOTH, Enforcement.SPLIT,
        _META_RATE, "Half of 4,800 calls / 24 h (one engaged user): posts and comments.",
    ),
    # Instagram: POST /{ig-user-id}/media_publish, per account per 24-hour moving period.
    # The guide says 100; content_publishing_limit's config.quota_total has said 50. The
    # lower one holds under both (the live figure is that endpoint's quota_total).
    DocumentedLimit(
        Network.INSTAGRAM, "instagram.publish.24h", 50, DAY, POST, Enforcement.SPLIT,
        _IG_PUBLISH, "The lower of the two documented figures (50 and 100).",
    ),
    # Instagram: replies to comments are comment writes, limited to 60 per user per hour in
    # Instagram's API docs; they do not count against the publishing limit.
    DocumentedLimit(
        Network.INSTAGRAM, "instagram.comments.1h", 60, HOUR, REPLY, Enforcement.SPLIT,
        _IG_COMMENTS, "The legacy Instagram API figure; we found no current one.",
    ),
    # YouTube: the Data API cannot create community posts; a post is a top-level comment
    # (commentThreads.insert) and a reply comments.insert, 50 units each out of 10,000 a day
    # per project: 200 a day, treated per account. It resets at midnight Pacific time.
    DocumentedLimit(
        Network.YOUTUBE, "youtube.comments.24h", 200, DAY, BOTH, Enforcement.SPLIT, _YOUTUBE,
        "Per project in truth; the split's 80 % leaves 2,000 units a day for reads.",
    ),
    # Reddit: 100 queries per minute per OAuth client, averaged over 10 minutes; submit and
    # comment share it with every read. Half of it for deliveries. Posting also meets
    # undocumented spam limits (the API answers RATELIMIT with a wait: the deliverer's job).
    DocumentedLimit(
        Network.REDDIT, "reddit.api.10m", 500, 10 * 60, BOTH, Enforcement.SPLIT, _REDDIT,
        "Half of 1,000 queries per 10 min, per client id in truth.",
    ),
)
# fmt: on


def _index(limits: Iterable[DocumentedLimit]) -> Mapping[tuple[Network, Kind], tuple[Window, ...]]:
    table: dict[tuple[Network, Kind], tuple[Window, ...]] = {}
    by_name: dict[str, Window] = {}
    for limit in limits:
        window = limit.window
        if by_name.setdefault(window.name, window) != window:
            raise ValueError(f"two different windows are named {window.name}")
        for kind in sorted(limit.kinds):
            key = (limit.network, kind)
            table[key] = (*table.get(key, ()), window)
    # Longest first: the daily caps are the ones that fill, and a refusal by the first window
    # takes no slot that must then be given back.
    return {key: tuple(sorted(ws, key=lambda w: -w.seconds)) for key, ws in table.items()}


_TABLE: Final = _index(LIMITS)


def windows_for(network: Network, kind: Kind) -> tuple[Window, ...]:
    """The windows a ``kind`` delivery on ``network`` takes one slot in, longest first."""
    try:
        return _TABLE[(network, parse_kind(kind))]
    except KeyError:
        raise ValueError(f"no rate limits are known for {network.value} {kind}s") from None


def epoch_ms(now: datetime) -> int:
    """``now`` (timezone-aware) as integer milliseconds since the UTC epoch."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("rate-limit times must be timezone-aware")
    return (now - _EPOCH) // _ONE_MS


def window_start_ms(now: datetime, window: Window) -> int:
    """Epoch milliseconds at which the ``window`` period containing ``now`` began."""
    size = window.seconds * 1000
    return epoch_ms(now) // size * size


def window_start(now: datetime, window: Window) -> datetime:
    """When the ``window`` period containing ``now`` began (aligned to the UTC epoch)."""
    return _EPOCH + timedelta(milliseconds=window_start_ms(now, window))


def window_end(now: datetime, window: Window) -> datetime:
    """When the ``window`` period containing ``now`` ends (the next one's start)."""
    return window_start(now, window) + timedelta(seconds=window.seconds)


def retry_at(now: datetime, full: Iterable[Window]) -> datetime:
    """The earliest time every window in ``full`` (full at ``now``) has opened a new period."""
    ends = [window_end(now, w) for w in full]
    if not ends:
        raise ValueError("retry_at needs at least one full window")
    return max(ends)
