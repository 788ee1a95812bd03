"""Contests on our posts: entry rules, eligibility and a draw anyone can check. Pure Python.

Lifecycle::

    draft ──▶ open ──▶ closed ──▶ drawn ──▶ announced

* ``draft``: being set up; entries are refused (``contest.not_open``).
* ``open``: the seed's commitment is published; entries made inside the window count.
* ``closed``: the window is over. Entries made *inside* the window that reach us late (the
  networks are polled) are still judged, so a poll lag cannot cost an entrant their chance;
  entries made after ``closes_at`` are refused by the window check anyway.
* ``drawn``: the seed is revealed and the certificate fixed; nothing enters any more
  (``contest.already_drawn``).
* ``announced``: the winners were told.

Entry rules (``Contest.methods``, any of them qualifies an entry):

* ``hashtag``: a comment, reply or quote (``post`` kind) on the contest post whose text holds
  the contest hashtag: ``#`` not glued to a word, then the tag as a whole word, compared after
  NFKC normalisation and case folding (``#ConcursoAcme!`` is ``#concursoacme``;
  ``#concursoacme2`` is not).
* ``reply``: any comment or reply on the contest post, whatever it says.
* ``repost``: a repost of the contest post.

"On the contest post" means the entry's parent or thread is the post (or its thread id,
for networks where comments live in a separate thread). The window is half-open,
``opens_at <= created_at < closes_at``, on the network's own timestamp of the entry.

Eligibility checks run in this order and the first failure is the decision's reason:
status, network, post, window, kind, hashtag, block list, employees, followers, account
age, one entry per author. The block and employee lists hold author ids or handles; an
author matches when their id equals an item, or their handle equals it ignoring case and a
leading ``@``. Where a network does not report followers (or the account's creation time),
``unknown_followers`` (``unknown_account_age``) decides; both default to ``accept``, since
several networks (Telegram, Reddit comments) never report them and rejecting would shut
out every entrant there. One entry per author: the first *valid* entry by the network's
timestamp counts; later valid ones are ``entry.duplicate`` (``tally`` is the authoritative
judge, as entries may reach us out of order).

The draw (``ALGORITHM`` version ``ALGORITHM_VERSION``), reproducible from the certificate
with nothing but SHA-256 and HMAC-SHA256:

1. ``seed``: 32 random bytes, made by ``new_seed`` before the contest opens. Its
   commitment, the lower-case hex SHA-256 of the raw seed bytes, is published when the
   contest opens; the seed itself (lower-case hex in the certificate) only at the draw.
2. Each eligible entry's key is ``"<network>|<author id>"`` (e.g. ``x|12345``); the keys are
   sorted ascending by Unicode code point (the same order as their UTF-8 bytes); each
   author appears once.
3. ``digest``: SHA-256 of the UTF-8 bytes of the sorted keys joined by ``"\\n"`` (no trailing
   newline; no entries hash the empty string), lower-case hex.
4. ``k = min(winner_count, number of keys)``: when fewer entries are eligible than there are
   prizes, everyone eligible wins, in an order drawn the same way. ``pool`` is the sorted
   key list, ``counter`` starts at 0.
5. While fewer than ``k`` winners are drawn: ``m = len(pool)``;
   ``block = HMAC-SHA256(key=seed, msg=bytes.fromhex(digest) + counter.to_bytes(8, "big"))``;
   ``counter += 1``; ``x = int.from_bytes(block, "big")``; if ``x >= 2**256 - 2**256 % m``
   the block is rejected (so every index is equally likely; this happens with probability
   below ``m / 2**256``) and the next counter is tried; otherwise the winner is
   ``pool.pop(x % m)`` (drawn without replacement).
6. The winners are listed in the order drawn: the first drawn takes the first prize.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from smm_shared.events import Mention, MentionKind, Network

ALGORITHM: Final = "smm-contest-draw"
ALGORITHM_VERSION: Final = 1
SEED_BYTES: Final = 32

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HASHTAG_IN_TEXT = re.compile(r"(?<!\w)#(\w+)")
_TAG = re.compile(r"\w+")
_SPACE: Final = 2**256


class ContestError(ValueError):
    """A contest, entry or draw that cannot be used as given; ``code`` is stable for APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ContestStatus(StrEnum):
    """Where a contest stands (see the module docstring)."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DRAWN = "drawn"
    ANNOUNCED = "announced"


#: Every allowed move; anything else is refused.
TRANSITIONS: Final[Mapping[ContestStatus, frozenset[ContestStatus]]] = {
    ContestStatus.DRAFT: frozenset({ContestStatus.OPEN}),
    ContestStatus.OPEN: frozenset({ContestStatus.CLOSED}),
    ContestStatus.CLOSED: frozenset({ContestStatus.DRAWN}),
    ContestStatus.DRAWN: frozenset({ContestStatus.ANNOUNCED}),
    ContestStatus.ANNOUNCED: frozenset(),
}


def can_transition(current: ContestStatus, target: ContestStatus) -> bool:
    """Whether a contest in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: ContestStatus, target: ContestStatus) -> None:
    """Raise ``ContestError`` (``contest.invalid_transition``) unless the move is allowed."""
    if not can_transition(current, target):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise ContestError(
            "contest.invalid_transition",
            f"A {current.value} contest cannot become {target.value} (allowed: {allowed}).",
        )


class EntryMethod(StrEnum):
    """A way to enter a contest (see the module docstring)."""

    HASHTAG = "hashtag"
    REPLY = "reply"
    REPOST = "repost"


#: The mention kinds each method can accept; which one qualifies is checked in this order.
METHOD_KINDS: Final[Mapping[EntryMethod, frozenset[MentionKind]]] = {
    EntryMethod.HASHTAG: frozenset({MentionKind.COMMENT, MentionKind.REPLY, MentionKind.POST}),
    EntryMethod.REPLY: frozenset({MentionKind.COMMENT, MentionKind.REPLY}),
    EntryMethod.REPOST: frozenset({MentionKind.REPOST}),
}


class UnknownPolicy(StrEnum):
    """What to do when the network does not tell a figure a rule needs."""

    ACCEPT = "accept"
    REJECT = "reject"


class Ineligible(StrEnum):
    """Why an entry does not count; the values are stable codes."""

    NOT_OPEN = "contest.not_open"
    ALREADY_DRAWN = "contest.already_drawn"
    WRONG_NETWORK = "entry.wrong_network"
    NOT_ON_POST = "entry.not_on_post"
    TOO_EARLY = "entry.too_early"
    TOO_LATE = "entry.too_late"
    KIND_NOT_ACCEPTED = "entry.kind_not_accepted"
    MISSING_HASHTAG = "entry.missing_hashtag"
    BLOCKED = "entry.blocked"
    EMPLOYEE = "entry.employee"
    TOO_FEW_FOLLOWERS = "entry.too_few_followers"
    FOLLOWERS_UNKNOWN = "entry.followers_unknown"
    ACCOUNT_TOO_NEW = "entry.account_too_new"
    ACCOUNT_AGE_UNKNOWN = "entry.account_age_unknown"
    DUPLICATE = "entry.duplicate"


def fold(text: str) -> str:
    """The form in which hashtags are compared: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def has_hashtag(text: str, hashtag: str) -> bool:
    """Whether ``text`` holds ``#hashtag`` as a whole hashtag (case-insensitive, Unicode)."""
    wanted = fold(hashtag.removeprefix("#"))
    return any(tag == wanted for tag in _HASHTAG_IN_TEXT.findall(fold(text)))


def _handle(value: str) -> str:
    return fold(value.strip().removeprefix("@"))


def _aware(value: datetime, name: str, code: str = "contest.invalid") -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ContestError(code, f"{name} must carry a time zone.")


def _time(value: Any, name: str, code: str = "contest.invalid") -> datetime:
    """A stored time: a datetime or an ISO 8601 string, with a time zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ContestError(code, f"{name} is not an ISO 8601 time.") from None
    _aware(moment, name, code)
    return moment


@dataclass(frozen=True, slots=True)
class Contest:
    """A contest on one of our posts: where, how to enter, who may win, and how many."""

    id: str
    brand_id: str
    network: Network
    post_native_id: str
    opens_at: datetime
    closes_at: datetime
    methods: frozenset[EntryMethod]
    #: Needed when ``hashtag`` is a method; stored without the ``#``.
    hashtag: str | None = None
    #: The post's thread id where comments live apart from the post (else ``None``).
    thread_native_id: str | None = None
    title: str = ""
    winner_count: int = 1
    min_followers: int = 0
    unknown_followers: UnknownPolicy = UnknownPolicy.ACCEPT
    min_account_age_days: int = 0
    unknown_account_age: UnknownPolicy = UnknownPolicy.ACCEPT
    #: Author ids or handles that may not enter (see the module docstring).
    blocked: frozenset[str] = frozenset()
    employees: frozenset[str] = frozenset()
    status: ContestStatus = ContestStatus.DRAFT
    #: SHA-256 of the seed, published when the contest opens.
    commitment: str | None = None
    #: Canonical keys of the winners, in prize order, once drawn.
    winners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        def invalid(message: str) -> ContestError:
            return ContestError("contest.invalid", message)

        if not self.post_native_id.strip():
            raise invalid("A contest needs the native id of its post.")
        _aware(self.opens_at, "opens_at")
        _aware(self.closes_at, "closes_at")
        if self.closes_at <= self.opens_at:
            raise invalid("A contest must close after it opens.")
        if not self.methods:
            raise invalid("A contest needs at least one way to enter: hashtag, reply or repost.")
        if self.hashtag is not None:
            tag = self.hashtag.strip().removeprefix("#")
            if not _TAG.fullmatch(fold(tag)):
                raise invalid(f"'{self.hashtag}' is not a hashtag: use letters, digits and _.")
            object.__setattr__(self, "hashtag", tag)
        elif EntryMethod.HASHTAG in self.methods:
            raise invalid("Entering by hashtag needs the hashtag.")
        if self.winner_count < 1:
            raise invalid("A contest has at least one winner.")
        if self.min_followers < 0 or self.min_account_age_days < 0:
            raise invalid("Minimum followers and account age cannot be negative.")
        if self.status is not ContestStatus.DRAFT and self.commitment is None:
            raise invalid("An opened contest carries its seed's commitment.")
        if self.commitment is not None and not _HEX64.fullmatch(self.commitment):
            raise invalid("The commitment is a lower-case hex SHA-256 (64 characters).")

    @property
    def targets(self) -> frozenset[str]:
        """Native ids an entry's parent or thread must be to be on the contest post."""
        ids = {self.post_native_id}
        if self.thread_native_id:
            ids.add(self.thread_native_id)
        return frozenset(ids)

    def _move(self, target: ContestStatus, **changes: Any) -> Contest:
        check_transition(self.status, target)
        return replace(self, status=target, **changes)

    def opened(self, *, commitment: str) -> Contest:
        """The contest opened, with the seed's commitment published."""
        return self._move(ContestStatus.OPEN, commitment=commitment)

    def closed(self) -> Contest:
        """The contest closed to new entries."""
        return self._move(ContestStatus.CLOSED)

    def drawn(self, certificate: Certificate) -> Contest:
        """The contest drawn: it records the certificate's winners."""
        if (
            certificate.contest_id != self.id
            or certificate.commitment != self.commitment
            or certificate.winner_count != self.winner_count
        ):
            raise ContestError(
                "contest.certificate_mismatch",
                "The certificate belongs to another contest or another seed.",
            )
        if not verify(certificate):
            raise ContestError("contest.certificate_invalid", "The certificate does not verify.")
        return self._move(ContestStatus.DRAWN, winners=certificate.winners)

    def announced(self) -> Contest:
        """The winners were announced."""
        return self._move(ContestStatus.ANNOUNCED)

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage (times as ISO 8601 strings)."""
        return {
            "_id": self.id,
            "brand_id": self.brand_id,
            "network": self.network.value,
            "post_native_id": self.post_native_id,
            "thread_native_id": self.thread_native_id,
            "title": self.title,
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "methods": sorted(m.value for m in self.methods),
            "hashtag": self.hashtag,
            "winner_count": self.winner_count,
            "min_followers": self.min_followers,
            "unknown_followers": self.unknown_followers.value,
            "min_account_age_days": self.min_account_age_days,
            "unknown_account_age": self.unknown_account_age.value,
            "blocked": sorted(self.blocked),
            "employees": sorted(self.employees),
            "status": self.status.value,
            "commitment": self.commitment,
            "winners": list(self.winners),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Contest:
        """A contest from its stored (or submitted) fields."""
        try:
            network = Network(doc["network"])
            methods = frozenset(EntryMethod(m) for m in doc.get("methods") or ())
            status = ContestStatus(doc.get("status", ContestStatus.DRAFT.value))
            unknown_followers = UnknownPolicy(doc.get("unknown_followers", "accept"))
            unknown_account_age = UnknownPolicy(doc.get("unknown_account_age", "accept"))
            return cls(
                id=str(doc["_id"]),
                brand_id=str(doc["brand_id"]),
                network=network,
                post_native_id=str(doc["post_native_id"]),
                thread_native_id=doc.get("thread_native_id"),
                title=str(doc.get("title", "")),
                opens_at=_time(doc["opens_at"], "opens_at"),
                closes_at=_time(doc["closes_at"], "closes_at"),
                methods=methods,
                hashtag=doc.get("hashtag"),
                winner_count=int(doc.get("winner_count", 1)),
                min_followers=int(doc.get("min_followers", 0)),
                unknown_followers=unknown_followers,
                min_account_age_days=int(doc.get("min_account_age_days", 0)),
                unknown_account_age=unknown_account_age,
                blocked=frozenset(str(b) for b in doc.get("blocked") or ()),
                employees=frozenset(str(e) for e in doc.get("employees") or ()),
                status=status,
                commitment=doc.get("commitment"),
                winners=tuple(str(w) for w in doc.get("winners") or ()),
            )
        except KeyError as missing:
            raise ContestError("contest.invalid", f"A contest needs {missing}.") from None
        except ContestError:
            raise
        except (TypeError, ValueError) as exc:
            raise ContestError("contest.invalid", f"Invalid contest field: {exc}.") from None


@dataclass(frozen=True, slots=True)
class ContestEntry:
    """A mention that may enter a contest: the fields the rules look at."""

    mention_id: str
    network: Network
    kind: MentionKind
    author_id: str
    created_at: datetime
    author_handle: str | None = None
    #: ``None`` where the network does not report followers.
    author_followers: int | None = None
    #: When the author's account was created, where known.
    account_created_at: datetime | None = None
    text: str = ""
    parent_native_id: str | None = None
    thread_native_id: str | None = None

    def __post_init__(self) -> None:
        if not self.mention_id or not self.author_id:
            raise ContestError("entry.invalid", "An entry needs its mention id and author id.")
        if "\n" in self.author_id or "\r" in self.author_id:
            # The draw joins keys by newlines: a newline inside one would be ambiguous.
            raise ContestError("entry.invalid", "An author id cannot contain a line break.")
        _aware(self.created_at, "created_at", "entry.invalid")
        if self.account_created_at is not None:
            _aware(self.account_created_at, "account_created_at", "entry.invalid")
        if self.author_followers is not None and self.author_followers < 0:
            raise ContestError("entry.invalid", "Followers cannot be negative.")

    @property
    def author_key(self) -> str:
        """The canonical key of the author in a draw: ``network|author_id``."""
        return f"{self.network.value}|{self.author_id}"

    @classmethod
    def from_mention(
        cls, mention: Mention, *, account_created_at: datetime | None = None
    ) -> ContestEntry:
        """An entry from a mention (the account's creation time comes from elsewhere)."""
        return cls(
            mention_id=mention.mention_id,
            network=mention.network,
            kind=mention.kind,
            author_id=mention.author.id,
            author_handle=mention.author.handle,
            author_followers=mention.author.followers,
            account_created_at=account_created_at,
            text=mention.text,
            parent_native_id=mention.parent_native_id,
            thread_native_id=mention.thread_native_id,
            created_at=mention.created_at,
        )

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage (times as ISO 8601 strings)."""
        return {
            "mention_id": self.mention_id,
            "network": self.network.value,
            "kind": self.kind.value,
            "author_id": self.author_id,
            "author_handle": self.author_handle,
            "author_followers": self.author_followers,
            "account_created_at": (
                None if self.account_created_at is None else self.account_created_at.isoformat()
            ),
            "text": self.text,
            "parent_native_id": self.parent_native_id,
            "thread_native_id": self.thread_native_id,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ContestEntry:
        """An entry from its stored fields."""
        try:
            followers = doc.get("author_followers")
            account_created_at = doc.get("account_created_at")
            return cls(
                mention_id=str(doc["mention_id"]),
                network=Network(doc["network"]),
                kind=MentionKind(doc["kind"]),
                author_id=str(doc["author_id"]),
                author_handle=doc.get("author_handle"),
                author_followers=None if followers is None else int(followers),
                account_created_at=(
                    None
                    if account_created_at is None
                    else _time(account_created_at, "account_created_at", "entry.invalid")
                ),
                text=str(doc.get("text", "")),
                parent_native_id=doc.get("parent_native_id"),
                thread_native_id=doc.get("thread_native_id"),
                created_at=_time(doc["created_at"], "created_at", "entry.invalid"),
            )
        except KeyError as missing:
            raise ContestError("entry.invalid", f"An entry needs {missing}.") from None
        except ContestError:
            raise
        except (TypeError, ValueError) as exc:
            raise ContestError("entry.invalid", f"Invalid entry field: {exc}.") from None


@dataclass(frozen=True, slots=True)
class EntryDecision:
    """Whether an entry counts: eligible (with the method it used) or the reason it does not."""

    reason: Ineligible | None = None
    method: EntryMethod | None = None
    message: str = ""

    @property
    def eligible(self) -> bool:
        """Whether the entry takes part in the draw."""
        return self.reason is None

    @property
    def code(self) -> str:
        """``eligible`` or the stable code of the reason."""
        return "eligible" if self.reason is None else self.reason.value

    def to_doc(self) -> dict[str, Any]:
        """Plain fields for storage."""
        return {
            "code": self.code,
            "method": None if self.method is None else self.method.value,
            "message": self.message,
        }


def _no(reason: Ineligible, message: str) -> EntryDecision:
    return EntryDecision(reason=reason, message=message)


def _listed(entry: ContestEntry, items: Collection[str]) -> bool:
    if not items:
        return False
    if entry.author_id in items:
        return True
    if entry.author_handle is None:
        return False
    handle = _handle(entry.author_handle)
    return any(_handle(item) == handle for item in items)


def _method(contest: Contest, entry: ContestEntry) -> EntryMethod | EntryDecision:
    """The first method the entry qualifies by, or why it qualifies by none."""
    candidates = [m for m in EntryMethod if m in contest.methods and entry.kind in METHOD_KINDS[m]]
    if not candidates:
        allowed = ", ".join(sorted(contest.methods))
        return _no(
            Ineligible.KIND_NOT_ACCEPTED,
            f"A {entry.kind.value} does not enter this contest (it accepts: {allowed}).",
        )
    for method in candidates:
        if method is not EntryMethod.HASHTAG:
            return method
        if contest.hashtag is not None and has_hashtag(entry.text, contest.hashtag):
            return method
    return _no(Ineligible.MISSING_HASHTAG, f"The entry does not contain #{contest.hashtag}.")


def evaluate(
    contest: Contest, entry: ContestEntry, *, entered_authors: Collection[str] = frozenset()
) -> EntryDecision:
    """Judge one entry; ``entered_authors`` holds keys of authors who already have a valid one."""
    if contest.status is ContestStatus.DRAFT:
        return _no(Ineligible.NOT_OPEN, "The contest is not open yet.")
    if contest.status in (ContestStatus.DRAWN, ContestStatus.ANNOUNCED):
        return _no(Ineligible.ALREADY_DRAWN, "The contest has been drawn.")
    if entry.network is not contest.network:
        return _no(Ineligible.WRONG_NETWORK, f"The contest runs on {contest.network.value} only.")
    if not ({entry.parent_native_id, entry.thread_native_id} & contest.targets):
        return _no(Ineligible.NOT_ON_POST, "The entry is not on the contest post.")
    if entry.created_at < contest.opens_at:
        return _no(Ineligible.TOO_EARLY, "The entry was made before the contest opened.")
    if entry.created_at >= contest.closes_at:
        return _no(Ineligible.TOO_LATE, "The entry was made after the contest closed.")
    method = _method(contest, entry)
    if isinstance(method, EntryDecision):
        return method
    if _listed(entry, contest.blocked):
        return _no(Ineligible.BLOCKED, "The author may not enter this contest.")
    if _listed(entry, contest.employees):
        return _no(Ineligible.EMPLOYEE, "Employees may not enter this contest.")
    if contest.min_followers > 0:
        if entry.author_followers is None:
            if contest.unknown_followers is UnknownPolicy.REJECT:
                return _no(
                    Ineligible.FOLLOWERS_UNKNOWN,
                    "The network does not tell the author's followers, and this contest "
                    "requires a minimum.",
                )
        elif entry.author_followers < contest.min_followers:
            return _no(
                Ineligible.TOO_FEW_FOLLOWERS,
                f"The author has {entry.author_followers} followers; at least "
                f"{contest.min_followers} are required.",
            )
    if contest.min_account_age_days > 0:
        if entry.account_created_at is None:
            if contest.unknown_account_age is UnknownPolicy.REJECT:
                return _no(
                    Ineligible.ACCOUNT_AGE_UNKNOWN,
                    "The author's account age is unknown, and this contest requires a minimum.",
                )
        elif entry.created_at - entry.account_created_at < timedelta(
            days=contest.min_account_age_days
        ):
            return _no(
                Ineligible.ACCOUNT_TOO_NEW,
                f"The author's account must be at least {contest.min_account_age_days} days "
                "old when entering.",
            )
    if entry.author_key in entered_authors:
        return _no(Ineligible.DUPLICATE, "The author has already entered; one entry each.")
    return EntryDecision(method=method, message="The entry counts.")


@dataclass(frozen=True, slots=True)
class JudgedEntry:
    """An entry and its decision."""

    entry: ContestEntry
    decision: EntryDecision


@dataclass(frozen=True, slots=True)
class Tally:
    """Every entry judged, in the order they were made."""

    judged: tuple[JudgedEntry, ...] = field(default=())

    @property
    def eligible(self) -> tuple[ContestEntry, ...]:
        """The entries that take part in the draw (one per author)."""
        return tuple(j.entry for j in self.judged if j.decision.eligible)

    @property
    def duplicates(self) -> tuple[ContestEntry, ...]:
        """Later valid entries of authors who had already entered."""
        return tuple(j.entry for j in self.judged if j.decision.reason is Ineligible.DUPLICATE)


def tally(contest: Contest, entries: Iterable[ContestEntry]) -> Tally:
    """Judge all entries in the order they were made (created_at, then mention id).

    A mention given twice is judged once.
    """
    seen: set[str] = set()
    unique: list[ContestEntry] = []
    for entry in entries:
        if entry.mention_id not in seen:
            seen.add(entry.mention_id)
            unique.append(entry)
    unique.sort(key=lambda e: (e.created_at, e.mention_id))
    entered: set[str] = set()
    judged: list[JudgedEntry] = []
    for entry in unique:
        decision = evaluate(contest, entry, entered_authors=entered)
        if decision.eligible:
            entered.add(entry.author_key)
        judged.append(JudgedEntry(entry, decision))
    return Tally(tuple(judged))


def new_seed() -> bytes:
    """A fresh secret seed for a draw: 32 random bytes."""
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    """The published commitment to a seed: lower-case hex SHA-256 of its bytes."""
    return hashlib.sha256(seed).hexdigest()


def entry_list_digest(keys: Sequence[str]) -> str:
    """SHA-256 (hex) of the sorted keys joined by newlines (step 3 of the algorithm)."""
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()


def select_winners(seed: bytes, keys: Sequence[str], winner_count: int) -> tuple[str, ...]:
    """Steps 4-6 of the algorithm over already sorted keys: the winners in prize order."""
    digest = bytes.fromhex(entry_list_digest(keys))
    pool = list(keys)
    winners: list[str] = []
    counter = 0
    while len(winners) < min(winner_count, len(keys)):
        size = len(pool)
        block = hmac.new(seed, digest + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
        value = int.from_bytes(block, "big")
        if value >= _SPACE - _SPACE % size:
            continue  # the top, incomplete stretch of values would favour low indexes
        winners.append(pool.pop(value % size))
    return tuple(winners)


@dataclass(frozen=True, slots=True)
class Certificate:
    """What a draw publishes: enough to recompute the winners with SHA-256 and HMAC alone."""

    contest_id: str
    seed: str  # lower-case hex of the revealed seed
    commitment: str
    winner_count: int
    entries: tuple[str, ...]  # sorted canonical keys of the eligible entries
    entry_list_digest: str
    winners: tuple[str, ...]  # in prize order
    drawn_at: datetime
    algorithm: str = ALGORITHM
    algorithm_version: int = ALGORITHM_VERSION

    def to_doc(self) -> dict[str, Any]:
        """Plain JSON-ready fields, as published."""
        return {
            "contest_id": self.contest_id,
            "algorithm": self.algorithm,
            "algorithm_version": self.algorithm_version,
            "seed": self.seed,
            "commitment": self.commitment,
            "winner_count": self.winner_count,
            "entries": list(self.entries),
            "entry_list_digest": self.entry_list_digest,
            "winners": list(self.winners),
            "drawn_at": self.drawn_at.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Certificate:
        """A certificate from its published fields (not verified: call ``verify``)."""
        try:
            return cls(
                contest_id=str(doc["contest_id"]),
                algorithm=str(doc["algorithm"]),
                algorithm_version=int(doc["algorithm_version"]),
                seed=str(doc["seed"]),
                commitment=str(doc["commitment"]),
                winner_count=int(doc["winner_count"]),
                entries=tuple(str(e) for e in doc["entries"]),
                entry_list_digest=str(doc["entry_list_digest"]),
                winners=tuple(str(w) for w in doc["winners"]),
                drawn_at=_time(doc["drawn_at"], "drawn_at", "certificate.invalid"),
            )
        except KeyError as missing:
            raise ContestError("certificate.invalid", f"A certificate needs {missing}.") from None
        except ContestError as exc:
            raise ContestError("certificate.invalid", exc.message) from None
        except (TypeError, ValueError) as exc:
            raise ContestError(
                "certificate.invalid", f"Invalid certificate field: {exc}."
            ) from None


def draw(
    contest: Contest, eligible_entries: Iterable[ContestEntry], seed: bytes, *, drawn_at: datetime
) -> Certificate:
    """Draw the winners of a closed contest with its committed seed (see the module docstring).

    Every entry must be eligible (as ``tally`` judges them); the list may be empty.
    """
    if contest.status is not ContestStatus.CLOSED:
        raise ContestError("contest.not_closed", "Only a closed contest can be drawn.")
    if len(seed) != SEED_BYTES:
        raise ContestError("contest.invalid_seed", f"The seed is {SEED_BYTES} bytes.")
    published = commitment(seed)
    if published != contest.commitment:
        raise ContestError(
            "contest.seed_mismatch", "The seed does not match the contest's published commitment."
        )
    _aware(drawn_at, "drawn_at")
    judged = tally(contest, eligible_entries)
    refused = [j for j in judged.judged if not j.decision.eligible]
    if refused:
        first = refused[0]
        raise ContestError(
            "contest.ineligible_entry",
            f"Entry {first.entry.mention_id} is not eligible ({first.decision.code}).",
        )
    keys = tuple(sorted(e.author_key for e in judged.eligible))
    return Certificate(
        contest_id=contest.id,
        seed=seed.hex(),
        commitment=published,
        winner_count=contest.winner_count,
        entries=keys,
        entry_list_digest=entry_list_digest(keys),
        winners=select_winners(seed, keys, contest.winner_count),
        drawn_at=drawn_at,
    )


def verify(certificate: Certificate) -> bool:
    """Whether the certificate holds together: seed, commitment, entry list and winners."""
    if certificate.algorithm != ALGORITHM or certificate.algorithm_version != ALGORITHM_VERSION:
        return False
    if not _HEX64.fullmatch(certificate.seed) or certificate.winner_count < 1:
        return False
    seed = bytes.fromhex(certificate.seed)
    keys = certificate.entries
    if commitment(seed) != certificate.commitment:
        return False
    if list(keys) != sorted(set(keys)) or any("\n" in k for k in keys):
        return False
    if entry_list_digest(keys) != certificate.entry_list_digest:
        return False
    return select_winners(seed, keys, certificate.winner_count) == certificate.winners
