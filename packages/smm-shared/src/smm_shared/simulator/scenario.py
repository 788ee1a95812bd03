"""The scenario: who writes what, where and when. A pure, seeded stream of abstract events.

Nothing here knows a wire format. Time is seconds from the start of the run (``at``); the
caller turns it into wall-clock time. Equal configurations give equal streams.

The model, in short:

* Arrivals are a Poisson process of rate ``rate`` (exponential gaps), plus, inside the burst
  window, a second Poisson process of new negative conversations (an outage) whose rate makes
  the rate of *new negative conversations* ``burst_factor`` times the usual one.
* Each base arrival is a follow-up in an open conversation (same author, same thread), an
  edit or a deletion of a recent message, or else a new conversation: a complaint, praise,
  a question, or an entry in the giveaway under the one contest post.
* New conversations mention the trending feature with a probability that grows linearly
  from 0 to ``trend_max_share`` over ``trend_ramp_s`` seconds.
* On X people write public posts that mention the brand (``@DemoBank``) or reply under the
  brand's own posts, and go on in threads of replies; X posts are never edited or deleted
  here (the filtered stream does not carry either). ``play_x=False`` leaves X out, and the
  stream is then exactly the one of VK, Facebook, Instagram and Telegram alone.
* Follow-ups, edits and deletions wait at least ``think_s`` after the message they touch, so
  a sender with some concurrency still delivers a message before its edit.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TypeVar

from smm_shared.simulator import texts
from smm_shared.simulator.texts import PHRASEBOOKS, Phrasebook


class Network(StrEnum):
    """The networks the simulator plays."""

    VK = "vk"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"
    # Last, so the other networks' people (drawn in this order) stay who they were before X.
    X = "x"


class Action(StrEnum):
    """What happens to a message."""

    NEW = "new"
    EDIT = "edit"
    DELETE = "delete"


class Surface(StrEnum):
    """Where a message is written."""

    POST = "post"  # a post on the brand's wall or page (VK, Facebook); a post naming it (X)
    COMMENT = "comment"  # under a post or a media (VK, Facebook, Instagram); a reply (X)
    DIRECT = "direct"  # a private message to the brand (VK community dialog, Telegram bot)
    GROUP = "group"  # the brand's community chat (Telegram supergroup)


class Intent(StrEnum):
    """Why a conversation was started."""

    COMPLAINT = "complaint"
    OUTAGE = "outage"  # the complaints of the burst
    PRAISE = "praise"
    QUESTION = "question"
    CONTEST = "contest"

    @property
    def sentiment(self) -> str:
        """``negative``, ``positive`` or ``neutral``."""
        return _SENTIMENT[self]


_SENTIMENT: Final = {
    Intent.COMPLAINT: "negative",
    Intent.OUTAGE: "negative",
    Intent.PRAISE: "positive",
    Intent.QUESTION: "neutral",
    Intent.CONTEST: "positive",
}

# The mix of a base arrival. What is left after follow-ups, edits and deletions starts a
# new conversation; when no message qualifies for the drawn action, a conversation starts too.
P_FOLLOW_UP: Final = 0.30
P_EDIT: Final = 0.06
P_DELETE: Final = 0.04
P_OPEN: Final = 1.0 - P_FOLLOW_UP - P_EDIT - P_DELETE
INTENT_WEIGHTS: Final[Mapping[Intent, float]] = {
    Intent.COMPLAINT: 0.30,
    Intent.PRAISE: 0.22,
    Intent.QUESTION: 0.33,
    Intent.CONTEST: 0.15,
}
#: How many messages a conversation has in all, by intent: (1, 2, 3, ...) with these weights.
LENGTH_WEIGHTS: Final[Mapping[Intent, tuple[float, ...]]] = {
    Intent.COMPLAINT: (0.30, 0.30, 0.20, 0.12, 0.08),
    Intent.OUTAGE: (0.30, 0.35, 0.20, 0.15),
    Intent.PRAISE: (0.60, 0.30, 0.10),
    Intent.QUESTION: (0.40, 0.35, 0.15, 0.10),
    Intent.CONTEST: (0.90, 0.10),
}
NETWORK_WEIGHTS: Final[Mapping[Network, float]] = {
    Network.VK: 0.30,
    Network.FACEBOOK: 0.25,
    Network.INSTAGRAM: 0.25,
    Network.TELEGRAM: 0.20,
    Network.X: 0.20,  # weights are relative: X gets 1/6 of new conversations
}
#: Where a new conversation starts, by network.
SURFACE_WEIGHTS: Final[Mapping[Network, Mapping[Surface, float]]] = {
    Network.VK: {Surface.COMMENT: 0.65, Surface.POST: 0.15, Surface.DIRECT: 0.20},
    Network.FACEBOOK: {Surface.COMMENT: 0.80, Surface.POST: 0.20},
    Network.INSTAGRAM: {Surface.COMMENT: 1.0},
    Network.TELEGRAM: {Surface.GROUP: 0.60, Surface.DIRECT: 0.40},
    Network.X: {Surface.POST: 0.70, Surface.COMMENT: 0.30},
}
#: Who writes on each network, by language.
LANGUAGE_WEIGHTS: Final[Mapping[Network, Mapping[str, float]]] = {
    Network.VK: {"ru": 0.60, "uk": 0.25, "en": 0.15},
    Network.TELEGRAM: {"ru": 0.35, "uk": 0.25, "en": 0.20, "de": 0.10, "es": 0.10},
    Network.FACEBOOK: {"en": 0.30, "es": 0.20, "pt": 0.15, "tl": 0.15, "fr": 0.10, "de": 0.10},
    Network.INSTAGRAM: {"en": 0.30, "pt": 0.20, "es": 0.15, "tl": 0.15, "fr": 0.10, "de": 0.10},
    Network.X: {
        "en": 0.35,
        "es": 0.15,
        "pt": 0.10,
        "ru": 0.10,
        "de": 0.08,
        "fr": 0.08,
        "uk": 0.07,
        "tl": 0.07,
    },
}
#: The brand's own posts (VK wall post ids, Facebook story ids, Instagram media ids, X post
#: ids) that people comment under. They exist before the run; the simulator never sends them.
ANCHOR_POSTS: Final[Mapping[Network, tuple[int, ...]]] = {
    Network.VK: (4101, 4102, 4117, 4123),
    Network.FACEBOOK: (1022334455667001, 1022334455667002, 1022334455667003),
    Network.INSTAGRAM: (17946000000000001, 17946000000000002, 17946000000000003),
    Network.X: (1859310000000000101, 1859310000000000202, 1859310000000000303),
}
#: The Instagram media of the giveaway: every contest entry is a comment under it.
CONTEST_POST: Final = 17946000000009999
#: Messages a later edit or deletion may pick from (the most recent ones).
RECENT_MESSAGES: Final = 300
#: Conversations still expecting follow-ups; the oldest are dropped beyond this.
OPEN_CONVERSATIONS: Final = 300
AUTHORS_PER_NETWORK: Final = 48
MAX_EDITS: Final = 2
#: (network, surface) pairs whose messages can be edited / deleted by webhooks we play.
EDITABLE: Final = frozenset(
    {
        (Network.VK, Surface.COMMENT),
        (Network.FACEBOOK, Surface.COMMENT),
        (Network.TELEGRAM, Surface.GROUP),
        (Network.TELEGRAM, Surface.DIRECT),
    }
)
DELETABLE: Final = frozenset({(Network.VK, Surface.COMMENT), (Network.FACEBOOK, Surface.COMMENT)})
_HASHTAG = re.compile(r"#\w+")
_K = TypeVar("_K")
_AMOUNTS: Final = (15, 40, 75, 120, 250, 480, 1250, 3000, 12500)


@dataclass(frozen=True, slots=True)
class Author:
    """A person on one network: a stable id, names, a handle and a follower count."""

    network: Network
    user_id: int
    first_name: str
    last_name: str
    handle: str
    language: str
    followers: int

    @property
    def display_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message another one answers."""

    message_id: int
    author: Author
    created_at: float
    text: str


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One thing that happens on a network: a message is written, edited or deleted."""

    seq: int  # 1, 2, 3 ... within the run
    uid: int  # unique across runs (id_base + seq); a new message's id is its event's uid
    at: float  # seconds from the start of the run
    network: Network
    action: Action
    surface: Surface
    conversation: int
    position: int  # 0 for the message that opened the conversation
    message_id: int
    post_id: int | None  # the post or media of a comment; a post's own id for POST
    reply_to: MessageRef | None
    author: Author
    intent: Intent
    text: str  # the current text (for DELETE: the text that disappears)
    created_at: float  # when the message was first written (== at for NEW)
    burst: bool = False

    @property
    def language(self) -> str:
        """The language the author writes in."""
        return self.author.language

    @property
    def sentiment(self) -> str:
        """``negative``, ``positive`` or ``neutral``, from the conversation's intent."""
        return self.intent.sentiment

    @property
    def opens_conversation(self) -> bool:
        """Whether this is the first message of a new conversation."""
        return self.action is Action.NEW and self.position == 0

    @property
    def hashtags(self) -> tuple[str, ...]:
        """The hashtags in the text, in order."""
        return tuple(_HASHTAG.findall(self.text))


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """Everything that shapes a run; equal configs give equal event streams."""

    seed: int = 1
    rate: float = 2.0  # base events per second
    burst_at: float = 120.0  # seconds from the start
    burst_for: float = 60.0  # seconds; 0 disables the burst
    burst_factor: float = 5.0  # new negative conversations per second, times the usual
    trend_ramp_s: float = 300.0
    trend_max_share: float = 0.6
    think_s: float = 2.0
    id_base: int = 1_000_000_000
    play_x: bool = True  # False: no X posts (the stream of the other networks is unchanged)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError("rate must be a positive number of events per second")
        if self.burst_at < 0 or self.burst_for < 0:
            raise ValueError("burst_at and burst_for must not be negative")
        if self.burst_factor < 1:
            raise ValueError("burst_factor must be at least 1")
        if self.trend_ramp_s <= 0 or not 0 <= self.trend_max_share <= 1:
            raise ValueError("trend_ramp_s must be positive and trend_max_share within [0, 1]")
        if self.think_s < 0 or self.id_base < 0:
            raise ValueError("think_s and id_base must not be negative")

    @property
    def negative_open_rate(self) -> float:
        """New negative conversations per second outside the burst (in steady state)."""
        return self.rate * P_OPEN * INTENT_WEIGHTS[Intent.COMPLAINT]

    @property
    def burst_rate(self) -> float:
        """Extra arrivals per second inside the burst window."""
        return (self.burst_factor - 1) * self.negative_open_rate

    def trend_share(self, at: float) -> float:
        """The probability that a new conversation at ``at`` mentions the trending feature."""
        return self.trend_max_share * min(1.0, max(0.0, at) / self.trend_ramp_s)

    def expected_count(self, duration: float) -> float:
        """The mean number of events in the first ``duration`` seconds."""
        start, end = self.burst_at, self.burst_at + self.burst_for
        overlap = max(0.0, min(duration, end) - min(duration, start))
        return self.rate * duration + self.burst_rate * overlap


def poisson_arrivals(
    rng: random.Random, rate: float, *, start: float = 0.0, end: float = math.inf
) -> Iterator[float]:
    """Times of a Poisson process of ``rate`` per second on [start, end): exponential gaps."""
    if rate <= 0:
        return
    at = start
    while True:
        at += rng.expovariate(rate)
        if at >= end:
            return
        yield at


def take(
    events: Iterable[SimEvent], *, duration: float | None = None, count: int | None = None
) -> Iterator[SimEvent]:
    """The events before ``duration`` seconds, at most ``count`` of them (None: no limit)."""
    stream: Iterator[SimEvent] = iter(events)
    if duration is not None:
        stream = itertools.takewhile(lambda e: e.at < duration, stream)
    if count is not None:
        stream = itertools.islice(stream, count)
    return stream


@dataclass(slots=True)
class _Message:
    message_id: int
    network: Network
    surface: Surface
    post_id: int | None
    reply_to: MessageRef | None
    conversation: _Conversation
    position: int
    created_at: float
    text: str
    changed_at: float
    edits: int = 0
    deleted: bool = False

    def ref(self) -> MessageRef:
        return MessageRef(self.message_id, self.conversation.author, self.created_at, self.text)


@dataclass(slots=True)
class _Conversation:
    number: int
    network: Network
    surface: Surface
    author: Author
    intent: Intent
    burst: bool
    remaining: int  # follow-ups still to come
    messages: list[_Message] = field(default_factory=list)

    @property
    def root(self) -> _Message:
        return self.messages[0]

    @property
    def last_at(self) -> float:
        return self.messages[-1].created_at


class Scenario:
    """The seeded event stream of one run; ``events()`` may be called once per instance."""

    def __init__(self, config: ScenarioConfig) -> None:
        self.config = config
        seed = config.seed
        # Independent streams, so changing one draw never shifts the others.
        self._arrival_rng = random.Random(f"{seed}/arrivals")
        self._burst_rng = random.Random(f"{seed}/burst")
        self._rng = random.Random(f"{seed}/content")
        self.authors: Mapping[Network, tuple[Author, ...]] = make_authors(
            random.Random(f"{seed}/authors")
        )
        self._network_weights = {
            network: weight
            for network, weight in NETWORK_WEIGHTS.items()
            if config.play_x or network is not Network.X
        }
        self._seq = 0
        self._conversations = 0
        self._open: deque[_Conversation] = deque()
        self._recent: deque[_Message] = deque(maxlen=RECENT_MESSAGES)

    def events(self) -> Iterator[SimEvent]:
        """The endless, time-ordered stream of events."""
        cfg = self.config
        base = ((at, False) for at in poisson_arrivals(self._arrival_rng, cfg.rate))
        burst = (
            (at, True)
            for at in poisson_arrivals(
                self._burst_rng,
                cfg.burst_rate,
                start=cfg.burst_at,
                end=cfg.burst_at + cfg.burst_for,
            )
        )
        for at, is_burst in heapq.merge(base, burst):
            yield self._next(at, burst=is_burst)

    # -- one arrival ---------------------------------------------------------------------------

    def _next(self, at: float, *, burst: bool) -> SimEvent:
        if burst:
            return self._open_conversation(at, Intent.OUTAGE, burst=True)
        draw = self._rng.random()
        event: SimEvent | None = None
        if draw < P_FOLLOW_UP:
            event = self._follow_up(at)
        elif draw < P_FOLLOW_UP + P_EDIT:
            event = self._edit(at)
        elif draw < P_FOLLOW_UP + P_EDIT + P_DELETE:
            event = self._delete(at)
        if event is None:
            intent = _weighted(self._rng, INTENT_WEIGHTS)
            event = self._open_conversation(at, intent, burst=False)
        return event

    def _open_conversation(self, at: float, intent: Intent, *, burst: bool) -> SimEvent:
        rng = self._rng
        if intent is Intent.CONTEST:
            network, surface = Network.INSTAGRAM, Surface.COMMENT
        else:
            network = _weighted(rng, self._network_weights)
            surface = _weighted(rng, SURFACE_WEIGHTS[network])
        author = rng.choice(self.authors[network])
        lengths = LENGTH_WEIGHTS[intent]
        total = rng.choices(range(1, len(lengths) + 1), weights=lengths)[0]
        self._conversations += 1
        conv = _Conversation(
            number=self._conversations,
            network=network,
            surface=surface,
            author=author,
            intent=intent,
            burst=burst,
            remaining=total - 1,
        )
        uid = self._next_uid()
        if intent is Intent.CONTEST:
            post_id: int | None = CONTEST_POST
        elif surface is Surface.COMMENT:
            post_id = rng.choice(ANCHOR_POSTS[network])
        elif surface is Surface.POST:
            post_id = uid
        else:
            post_id = None
        text = self._opening_text(intent, author.language, at)
        if network is Network.X:
            text = _addressed(text, reply=surface is Surface.COMMENT)
        message = self._remember(
            _Message(uid, network, surface, post_id, None, conv, 0, at, text, at)
        )
        if conv.remaining > 0:
            self._open.append(conv)
            if len(self._open) > OPEN_CONVERSATIONS:
                self._open.popleft()
        return self._event(Action.NEW, at, message, uid)

    def _follow_up(self, at: float) -> SimEvent | None:
        ready = [c for c in self._open if c.last_at <= at - self.config.think_s]
        if not ready:
            return None
        conv = self._rng.choice(ready)
        root = conv.root
        if conv.surface is Surface.POST and conv.network is Network.X:
            # A thread: the author replies to their own post (its id is the conversation's).
            surface, post_id, reply_to = Surface.COMMENT, root.message_id, root.ref()
        elif conv.surface is Surface.POST:
            # The author comments under their own post.
            surface, post_id, reply_to = Surface.COMMENT, root.message_id, None
        elif conv.surface is Surface.DIRECT:
            surface, post_id, reply_to = Surface.DIRECT, None, None
        else:
            surface, post_id, reply_to = conv.surface, root.post_id, root.ref()
        uid = self._next_uid()
        text = self._fill(_FOLLOW_UPS[conv.intent], conv.author.language)
        if conv.network is Network.X:
            text = _addressed(text, reply=True)
        message = self._remember(
            _Message(
                uid,
                conv.network,
                surface,
                post_id,
                reply_to,
                conv,
                len(conv.messages),
                at,
                text,
                at,
            )
        )
        conv.remaining -= 1
        if conv.remaining <= 0:
            self._open.remove(conv)
        return self._event(Action.NEW, at, message, uid)

    def _edit(self, at: float) -> SimEvent | None:
        candidates = [
            m
            for m in self._recent
            if (m.network, m.surface) in EDITABLE
            and not m.deleted
            and m.edits < MAX_EDITS
            and m.changed_at <= at - self.config.think_s
        ]
        if not candidates:
            return None
        message = self._rng.choice(candidates)
        suffix = self._fill(
            _EDITS[message.conversation.intent], message.conversation.author.language
        )
        message.text = f"{message.text}\n{suffix}"
        message.edits += 1
        message.changed_at = at
        return self._event(Action.EDIT, at, message, self._next_uid())

    def _delete(self, at: float) -> SimEvent | None:
        candidates = [
            m
            for m in self._recent
            if (m.network, m.surface) in DELETABLE
            and not m.deleted
            and m.changed_at <= at - self.config.think_s
        ]
        if not candidates:
            return None
        message = self._rng.choice(candidates)
        message.deleted = True
        message.changed_at = at
        conv = message.conversation
        if message.position == 0 and conv in self._open:
            # Follow-ups answer the first message; with it gone the conversation is over.
            self._open.remove(conv)
        return self._event(Action.DELETE, at, message, self._next_uid())

    # -- helpers ---------------------------------------------------------------------------------

    def _next_uid(self) -> int:
        self._seq += 1
        return self.config.id_base + self._seq

    def _remember(self, message: _Message) -> _Message:
        message.conversation.messages.append(message)
        self._recent.append(message)
        return message

    def _event(self, action: Action, at: float, message: _Message, uid: int) -> SimEvent:
        conv = message.conversation
        return SimEvent(
            seq=self._seq,
            uid=uid,
            at=at,
            network=message.network,
            action=action,
            surface=message.surface,
            conversation=conv.number,
            position=message.position,
            message_id=message.message_id,
            post_id=message.post_id,
            reply_to=message.reply_to,
            author=conv.author,
            intent=conv.intent,
            text=message.text,
            created_at=message.created_at,
            burst=conv.burst,
        )

    def _opening_text(self, intent: Intent, language: str, at: float) -> str:
        rng = self._rng
        group = _OPENINGS[intent]
        trend = _TRENDING.get(intent)
        if trend is not None and rng.random() < self.config.trend_share(at):
            group = trend
        text = self._fill(group, language)
        if intent is not Intent.CONTEST and group is not trend and rng.random() < 0.3:
            text = f"{rng.choice(PHRASEBOOKS[language].greetings)} {text}"
        return text

    def _fill(self, group: str, language: str) -> str:
        rng = self._rng
        book: Phrasebook = PHRASEBOOKS[language]
        template = rng.choice(book.texts[group])
        return template.format(
            amount=book.money(rng.choice(_AMOUNTS)),
            days=book.days(rng.randint(2, 9)),
            hours=book.hours(rng.randint(2, 12)),
            last4=f"{rng.randrange(10_000):04d}",
            ref=str(rng.randint(100_000, 999_999)),
            friend=rng.choice(self.authors[Network.INSTAGRAM]).handle,
            giveaway=texts.GIVEAWAY_TAG,
            trend=texts.TREND_TAG,
            feature=texts.TREND_FEATURE,
        )


_OPENINGS: Final[Mapping[Intent, str]] = {
    Intent.COMPLAINT: texts.COMPLAINT,
    Intent.OUTAGE: texts.OUTAGE,
    Intent.PRAISE: texts.PRAISE,
    Intent.QUESTION: texts.QUESTION,
    Intent.CONTEST: texts.CONTEST,
}
_TRENDING: Final[Mapping[Intent, str]] = {
    Intent.COMPLAINT: texts.TREND_COMPLAINT,
    Intent.PRAISE: texts.TREND_PRAISE,
    Intent.QUESTION: texts.TREND_QUESTION,
}
_FOLLOW_UPS: Final[Mapping[Intent, str]] = {
    Intent.COMPLAINT: texts.FOLLOW_UP_NEGATIVE,
    Intent.OUTAGE: texts.FOLLOW_UP_NEGATIVE,
    Intent.PRAISE: texts.FOLLOW_UP_POSITIVE,
    Intent.QUESTION: texts.FOLLOW_UP_QUESTION,
    Intent.CONTEST: texts.CONTEST,  # another entry, tagging another friend
}
_EDITS: Final[Mapping[Intent, str]] = {
    Intent.COMPLAINT: texts.EDIT_NEGATIVE,
    Intent.OUTAGE: texts.EDIT_NEGATIVE,
    Intent.PRAISE: texts.EDIT_POSITIVE,
    Intent.QUESTION: texts.EDIT_QUESTION,
    Intent.CONTEST: texts.EDIT_POSITIVE,
}
#: Id ranges per network, shaped like the real ones (VK and Telegram ids are numbers,
#: Meta's are long numeric strings).
_USER_ID_RANGES: Final[Mapping[Network, tuple[int, int]]] = {
    Network.VK: (10_000_000, 899_999_999),
    Network.FACEBOOK: (10**15, 10**16 - 1),
    Network.INSTAGRAM: (10**16, 10**17 - 1),
    Network.TELEGRAM: (100_000_000, 7_999_999_999),
    # Early accounts have short ids; since 2016 they are 19-digit snowflakes.
    Network.X: (10_000_000, 1_899_999_999_999_999_999),
}


def make_authors(rng: random.Random) -> dict[Network, tuple[Author, ...]]:
    """Every network's people: stable ids, names in their language, handles and followers."""
    pools: dict[Network, tuple[Author, ...]] = {}
    for network in Network:
        languages = LANGUAGE_WEIGHTS[network]
        low, high = _USER_ID_RANGES[network]
        ids: set[int] = set()
        handles: set[str] = set()
        authors: list[Author] = []
        for _ in range(AUTHORS_PER_NETWORK):
            language = _weighted(rng, languages)
            book = PHRASEBOOKS[language]
            first = rng.choice(book.first_names)
            last = rng.choice(book.last_names)
            user_id = rng.randint(low, high)
            while user_id in ids:
                user_id = rng.randint(low, high)
            ids.add(user_id)
            handle = _fit(_handle(rng, first.latin, last.latin), network)
            while handle in handles:
                handle = _fit(f"{handle}{rng.randint(0, 9)}", network)
            handles.add(handle)
            authors.append(
                Author(
                    network=network,
                    user_id=user_id,
                    first_name=first.native,
                    last_name=last.feminine if first.female else last.masculine,
                    handle=handle,
                    language=language,
                    # Heavy-tailed like real audiences: most have a few hundred, a few are big.
                    followers=min(2_000_000, int(30 * rng.paretovariate(1.16))),
                )
            )
        pools[network] = tuple(authors)
    return pools


def _addressed(text: str, *, reply: bool) -> str:
    """An X text as people write it: a post names the brand; a reply starts with its handle.

    X puts the handles of a conversation's people in front of a reply, and the brand is in
    every conversation played here (its post, or a post that mentions it).
    """
    if reply:
        return text if text.startswith(texts.BRAND_HANDLE) else f"{texts.BRAND_HANDLE} {text}"
    return text if texts.BRAND in text else f"{texts.BRAND_HANDLE} {text}"


#: X usernames: letters, digits and underscores, at most 15 of them.
X_HANDLE_LIMIT: Final = 15


def _fit(handle: str, network: Network) -> str:
    """The handle as the network allows it (only X is strict: no dots, 15 characters)."""
    if network is not Network.X:
        return handle
    handle = handle.replace(".", "_")
    # Keep the last character (the digit that makes a taken handle unique) when cutting.
    return handle if len(handle) <= X_HANDLE_LIMIT else handle[: X_HANDLE_LIMIT - 1] + handle[-1]


def _handle(rng: random.Random, first: str, last: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{first}.{last}"
    if style == 1:
        return f"{first}_{last[0]}{rng.randint(10, 99)}"
    if style == 2:
        return f"{first}{last}{rng.randint(1975, 2007)}"
    return f"{last}.{first[0]}"


def _weighted(rng: random.Random, weights: Mapping[_K, float]) -> _K:
    keys: Sequence[_K] = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]
