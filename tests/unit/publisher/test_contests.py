"""Contests: entry rules, eligibility, one entry per author, lifecycle and the verifiable draw."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_publisher.domain.contests import (
    ALGORITHM,
    ALGORITHM_VERSION,
    Certificate,
    Contest,
    ContestEntry,
    ContestError,
    ContestStatus,
    EntryMethod,
    Ineligible,
    UnknownPolicy,
    can_transition,
    commitment,
    draw,
    evaluate,
    has_hashtag,
    new_seed,
    tally,
    verify,
)
from smm_shared.events import Author, Mention, MentionKind, Network

pytestmark = pytest.mark.unit

OPENS = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
DURING = OPENS + timedelta(days=1)
DRAWN_AT = CLOSES + timedelta(hours=1)
SEED = bytes(range(32))
POST = "1900000000000000001"


def make_contest(**fields: Any) -> Contest:
    """An open contest on an X post, entered by hashtag, with ``fields`` changed."""
    base: dict[str, Any] = {
        "id": "c1",
        "brand_id": "acme",
        "network": Network.X,
        "post_native_id": POST,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "methods": frozenset({EntryMethod.HASHTAG}),
        "hashtag": "AcmeGiveaway",
        "status": ContestStatus.OPEN,
        "commitment": commitment(SEED),
    }
    return Contest(**{**base, **fields})


_serial = iter(range(10**9))


def make_entry(**fields: Any) -> ContestEntry:
    """A valid hashtag reply on the contest post, with ``fields`` changed."""
    n = next(_serial)
    base: dict[str, Any] = {
        "mention_id": f"m{n:06d}",
        "network": Network.X,
        "kind": MentionKind.REPLY,
        "author_id": f"u{n}",
        "author_handle": f"user{n}",
        "author_followers": 100,
        "text": "I'm in! #AcmeGiveaway",
        "parent_native_id": POST,
        "thread_native_id": POST,
        "created_at": DURING,
    }
    return ContestEntry(**{**base, **fields})


def code(contest: Contest, entry: ContestEntry, **kwargs: Any) -> str:
    return evaluate(contest, entry, **kwargs).code


def closed(contest: Contest | None = None) -> Contest:
    return (contest or make_contest()).closed()


# --- the independent re-implementation, written from the module docstring only -------------


def reference_winners(seed_hex: str, entries: list[str], winner_count: int) -> list[str]:
    """Steps 3-6 of the documented algorithm with hashlib and hmac alone."""
    seed = bytes.fromhex(seed_hex)
    digest = hashlib.sha256("\n".join(entries).encode("utf-8")).digest()
    pool = list(entries)
    k = min(winner_count, len(pool))
    winners: list[str] = []
    counter = 0
    while len(winners) < k:
        m = len(pool)
        msg = digest + counter.to_bytes(8, "big")
        counter += 1
        x = int.from_bytes(hmac.new(seed, msg, hashlib.sha256).digest(), "big")
        if x >= 2**256 - 2**256 % m:
            continue
        winners.append(pool.pop(x % m))
    return winners


def reference_check(doc: dict[str, Any]) -> bool:
    """Check a published certificate document as an outsider would."""
    seed = bytes.fromhex(doc["seed"])
    entries = doc["entries"]
    return bool(
        hashlib.sha256(seed).hexdigest() == doc["commitment"]
        and entries == sorted(entries)
        and hashlib.sha256("\n".join(entries).encode()).hexdigest() == doc["entry_list_digest"]
        and reference_winners(doc["seed"], entries, doc["winner_count"]) == doc["winners"]
    )


# --- contest set-up ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"post_native_id": " "},
        {"closes_at": OPENS},
        {"opens_at": datetime(2026, 3, 1, 9, 0)},
        {"methods": frozenset()},
        {"hashtag": None},
        {"hashtag": "two words"},
        {"hashtag": "#"},
        {"winner_count": 0},
        {"min_followers": -1},
        {"min_account_age_days": -1},
        {"commitment": None},
        {"commitment": "ABC"},
    ],
)
def test_unusable_contests_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ContestError) as caught:
        make_contest(**fields)
    assert caught.value.code == "contest.invalid"
    assert caught.value.message


def test_a_draft_needs_no_commitment_and_the_hashtag_is_stored_without_its_sign() -> None:
    contest = make_contest(status=ContestStatus.DRAFT, commitment=None, hashtag="#Acme_2026")
    assert contest.hashtag == "Acme_2026"
    assert make_contest(methods=frozenset({EntryMethod.REPOST}), hashtag=None).hashtag is None


def test_contest_round_trip() -> None:
    contest = make_contest(
        thread_native_id="t1",
        title="Spring giveaway",
        methods=frozenset(EntryMethod),
        winner_count=3,
        min_followers=10,
        unknown_followers=UnknownPolicy.REJECT,
        min_account_age_days=30,
        unknown_account_age=UnknownPolicy.REJECT,
        blocked=frozenset({"u9", "@Spammer"}),
        employees=frozenset({"staff1"}),
    )
    doc = contest.to_doc()
    assert json.loads(json.dumps(doc)) == doc
    assert Contest.from_doc(doc) == contest


def test_contest_from_doc_reports_bad_fields_with_a_code() -> None:
    doc = make_contest().to_doc()
    for broken in ({**doc, "network": "myspace"}, {**doc, "opens_at": "soon"}, {"_id": "x"}):
        with pytest.raises(ContestError) as caught:
            Contest.from_doc(broken)
        assert caught.value.code == "contest.invalid"


# --- entry rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("#AcmeGiveaway", True),
        ("count me in #acmegiveaway!", True),
        ("#ACMEGIVEAWAY, please", True),
        ("(#AcmeGiveaway)", True),
        ("＃ＡｃｍｅＧｉｖｅａｗａｙ", True),  # full-width forms are the same after NFKC
        ("AcmeGiveaway", False),  # no hashtag sign
        ("#AcmeGiveaway2026", False),  # a longer tag
        ("#AcmeGiveaway_x", False),
        ("#Acme Giveaway", False),
        ("me#AcmeGiveaway", False),  # glued to a word: not a hashtag
        ("", False),
    ],
)
def test_hashtag_is_a_whole_case_insensitive_hashtag(text: str, counts: bool) -> None:
    assert has_hashtag(text, "AcmeGiveaway") is counts
    decision = evaluate(make_contest(), make_entry(text=text))
    assert decision.code == ("eligible" if counts else "entry.missing_hashtag")


def test_hashtags_in_other_scripts() -> None:
    assert has_hashtag("Участвую! #КонкурсАкме", "конкурсакме")
    assert not has_hashtag("#КонкурсАкмеПлюс", "конкурсакме")
    assert has_hashtag("#STRASSENFEST", "Straßenfest")  # case folding, not lower-casing
    assert has_hashtag("#cafe\u0301", "café")  # decomposed é is the composed one
    contest = make_contest(hashtag="#КонкурсАкме")
    assert code(contest, make_entry(text="#конкурсакме")) == "eligible"


@pytest.mark.parametrize("kind", [MentionKind.COMMENT, MentionKind.REPLY, MentionKind.POST])
def test_a_comment_reply_or_quote_with_the_hashtag_enters(kind: MentionKind) -> None:
    decision = evaluate(make_contest(), make_entry(kind=kind, parent_native_id=POST))
    assert decision.eligible
    assert decision.method is EntryMethod.HASHTAG


def test_reposts_enter_only_when_the_contest_takes_them() -> None:
    repost = make_entry(kind=MentionKind.REPOST, text="", thread_native_id=None)
    assert code(make_contest(), repost) == "entry.kind_not_accepted"
    contest = make_contest(methods=frozenset({EntryMethod.REPOST}), hashtag=None)
    decision = evaluate(contest, repost)
    assert decision.eligible
    assert decision.method is EntryMethod.REPOST
    assert code(contest, make_entry()) == "entry.kind_not_accepted"  # a reply


def test_any_reply_enters_when_replies_are_a_method() -> None:
    contest = make_contest(methods=frozenset({EntryMethod.REPLY}), hashtag=None)
    for kind in (MentionKind.COMMENT, MentionKind.REPLY):
        decision = evaluate(contest, make_entry(kind=kind, text="nice"))
        assert decision.eligible
        assert decision.method is EntryMethod.REPLY
    # A quote is a comment only by hashtag.
    assert code(contest, make_entry(kind=MentionKind.POST)) == "entry.kind_not_accepted"


def test_with_several_methods_any_of_them_qualifies() -> None:
    contest = make_contest(methods=frozenset(EntryMethod))
    assert evaluate(contest, make_entry()).method is EntryMethod.HASHTAG
    assert evaluate(contest, make_entry(text="no tag")).method is EntryMethod.REPLY
    repost = make_entry(kind=MentionKind.REPOST)
    assert evaluate(contest, repost).method is EntryMethod.REPOST
    # Hashtag and reposts, but not plain replies: a quote without the tag does not count.
    contest = make_contest(methods=frozenset({EntryMethod.HASHTAG, EntryMethod.REPOST}))
    assert code(contest, make_entry(text="no tag")) == "entry.missing_hashtag"


@pytest.mark.parametrize("kind", [MentionKind.DIRECT_MESSAGE, MentionKind.REVIEW])
def test_messages_and_reviews_never_enter(kind: MentionKind) -> None:
    contest = make_contest(methods=frozenset(EntryMethod))
    assert code(contest, make_entry(kind=kind)) == "entry.kind_not_accepted"


def test_entries_must_be_on_the_contest_post_and_network() -> None:
    contest = make_contest(thread_native_id="thread-9")
    assert code(contest, make_entry(parent_native_id="c77", thread_native_id=POST)) == "eligible"
    assert code(contest, make_entry(parent_native_id=POST, thread_native_id=None)) == "eligible"
    assert code(contest, make_entry(parent_native_id="x", thread_native_id="thread-9")) == (
        "eligible"
    )
    other = make_entry(parent_native_id="123", thread_native_id="123")
    assert code(contest, other) == "entry.not_on_post"
    loose = make_entry(parent_native_id=None, thread_native_id=None)
    assert code(contest, loose) == "entry.not_on_post"
    assert code(contest, make_entry(network=Network.VK)) == "entry.wrong_network"


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        (OPENS - timedelta(microseconds=1), "entry.too_early"),
        (OPENS, "eligible"),
        (CLOSES - timedelta(microseconds=1), "eligible"),
        (CLOSES, "entry.too_late"),
        (CLOSES + timedelta(days=1), "entry.too_late"),
        # The same instants in another time zone.
        (OPENS.astimezone(ZoneInfo("Asia/Tokyo")), "eligible"),
    ],
)
def test_window_is_half_open(created_at: datetime, expected: str) -> None:
    assert code(make_contest(), make_entry(created_at=created_at)) == expected


def test_status_decides_whether_entries_are_judged() -> None:
    draft = make_contest(status=ContestStatus.DRAFT, commitment=None)
    assert code(draft, make_entry()) == "contest.not_open"
    # Closed: entries made inside the window that reach us late still count.
    assert code(closed(), make_entry(created_at=CLOSES - timedelta(seconds=1))) == "eligible"
    assert code(closed(), make_entry(created_at=CLOSES + timedelta(seconds=1))) == (
        "entry.too_late"
    )
    drawn = replace(closed(), status=ContestStatus.DRAWN)
    assert code(drawn, make_entry()) == "contest.already_drawn"
    assert code(replace(drawn, status=ContestStatus.ANNOUNCED), make_entry()) == (
        "contest.already_drawn"
    )


# --- eligibility ---------------------------------------------------------------------------


def test_block_list_matches_ids_and_handles() -> None:
    contest = make_contest(blocked=frozenset({"u-bad", "@Spammer"}))
    assert code(contest, make_entry(author_id="u-bad")) == "entry.blocked"
    assert code(contest, make_entry(author_handle="spammer")) == "entry.blocked"
    assert code(contest, make_entry(author_handle="SPAMMER")) == "entry.blocked"
    assert code(contest, make_entry(author_handle="spammer2")) == "eligible"
    assert code(contest, make_entry(author_handle=None)) == "eligible"


def test_employees_are_excluded() -> None:
    contest = make_contest(employees=frozenset({"u-staff", "acme_jane"}))
    assert code(contest, make_entry(author_id="u-staff")) == "entry.employee"
    assert code(contest, make_entry(author_handle="@Acme_Jane")) == "entry.employee"
    assert code(contest, make_entry(author_handle="acme_john")) == "eligible"


def test_blocked_comes_before_employee() -> None:
    contest = make_contest(blocked=frozenset({"u1"}), employees=frozenset({"u1"}))
    assert code(contest, make_entry(author_id="u1")) == "entry.blocked"


@pytest.mark.parametrize(
    ("followers", "expected"),
    [
        (49, "entry.too_few_followers"),
        (50, "eligible"),
        (10_000, "eligible"),
        (0, "entry.too_few_followers"),
    ],
)
def test_minimum_followers(followers: int, expected: str) -> None:
    contest = make_contest(min_followers=50)
    assert code(contest, make_entry(author_followers=followers)) == expected


def test_unknown_followers_are_accepted_by_default_and_rejected_on_request() -> None:
    unknown = make_entry(author_followers=None)
    assert code(make_contest(min_followers=50), unknown) == "eligible"
    strict = make_contest(min_followers=50, unknown_followers=UnknownPolicy.REJECT)
    assert code(strict, unknown) == "entry.followers_unknown"
    # Without a minimum, nothing about followers is checked.
    assert code(make_contest(unknown_followers=UnknownPolicy.REJECT), unknown) == "eligible"
    assert code(make_contest(), make_entry(author_followers=0)) == "eligible"


def test_minimum_account_age_at_the_time_of_entry() -> None:
    contest = make_contest(min_account_age_days=30)
    exactly = make_entry(account_created_at=DURING - timedelta(days=30))
    assert code(contest, exactly) == "eligible"
    young = make_entry(account_created_at=DURING - timedelta(days=30) + timedelta(seconds=1))
    assert code(contest, young) == "entry.account_too_new"
    assert code(make_contest(), young) == "eligible"  # no minimum


def test_unknown_account_age_is_accepted_by_default_and_rejected_on_request() -> None:
    unknown = make_entry(account_created_at=None)
    assert code(make_contest(min_account_age_days=30), unknown) == "eligible"
    strict = make_contest(min_account_age_days=30, unknown_account_age=UnknownPolicy.REJECT)
    assert code(strict, unknown) == "entry.account_age_unknown"


def test_every_reason_has_a_stable_code_and_a_message() -> None:
    assert {r.value.split(".")[0] for r in Ineligible} == {"contest", "entry"}
    decision = evaluate(make_contest(min_followers=50), make_entry(author_followers=3))
    assert decision.reason is Ineligible.TOO_FEW_FOLLOWERS
    assert not decision.eligible
    assert "50" in decision.message
    assert decision.to_doc() == {
        "code": "entry.too_few_followers",
        "method": None,
        "message": decision.message,
    }
    assert evaluate(make_contest(), make_entry()).to_doc()["method"] == "hashtag"


# --- one entry per author ------------------------------------------------------------------


def test_evaluate_refuses_an_author_who_already_entered() -> None:
    entry = make_entry(author_id="fan")
    assert code(make_contest(), entry, entered_authors={"x|fan"}) == "entry.duplicate"
    assert code(make_contest(), entry, entered_authors={"vk|fan"}) == "eligible"


def test_tally_keeps_the_first_valid_entry_per_author() -> None:
    contest = make_contest()
    t0 = DURING
    invalid_first = make_entry(author_id="a", text="forgot the tag", created_at=t0)
    first_valid = make_entry(author_id="a", created_at=t0 + timedelta(minutes=1))
    again = make_entry(author_id="a", created_at=t0 + timedelta(minutes=2))
    again_invalid = make_entry(author_id="a", text="no tag", created_at=t0 + timedelta(minutes=3))
    other = make_entry(author_id="b", created_at=t0 + timedelta(minutes=4))
    # Given out of order: the network's timestamps decide.
    result = tally(contest, [other, again, again_invalid, first_valid, invalid_first, again])
    codes = [(j.entry.mention_id, j.decision.code) for j in result.judged]
    assert codes == [
        (invalid_first.mention_id, "entry.missing_hashtag"),
        (first_valid.mention_id, "eligible"),
        (again.mention_id, "entry.duplicate"),
        (again_invalid.mention_id, "entry.missing_hashtag"),
        (other.mention_id, "eligible"),
    ]
    assert result.eligible == (first_valid, other)
    assert result.duplicates == (again,)


def test_same_author_id_on_another_network_is_another_author() -> None:
    contest = make_contest(network=Network.VK)
    a = make_entry(network=Network.VK, author_id="1")
    b = make_entry(network=Network.VK, author_id="1", created_at=DURING + timedelta(seconds=1))
    assert tally(contest, [a, b]).eligible == (a,)
    assert a.author_key == "vk|1"


# --- entries from mentions -----------------------------------------------------------------


def test_entry_from_mention() -> None:
    mention = Mention(
        mention_id="01HX",
        network=Network.X,
        kind=MentionKind.REPLY,
        native_id="1900000000000000099",
        conversation_key=f"x:{POST}",
        author=Author(id="42", handle="fan42", followers=7),
        text="#AcmeGiveaway yes",
        created_at=DURING,
        parent_native_id=POST,
        thread_native_id=POST,
    )
    created = datetime(2020, 1, 1, tzinfo=UTC)
    entry = ContestEntry.from_mention(mention, account_created_at=created)
    assert entry == ContestEntry(
        mention_id="01HX",
        network=Network.X,
        kind=MentionKind.REPLY,
        author_id="42",
        author_handle="fan42",
        author_followers=7,
        account_created_at=created,
        text="#AcmeGiveaway yes",
        parent_native_id=POST,
        thread_native_id=POST,
        created_at=DURING,
    )
    assert evaluate(make_contest(), entry).eligible


def test_entry_round_trip_and_validation() -> None:
    entry = make_entry(account_created_at=datetime(2019, 5, 1, tzinfo=UTC), author_followers=None)
    doc = entry.to_doc()
    assert json.loads(json.dumps(doc)) == doc
    assert ContestEntry.from_doc(doc) == entry
    for fields in (
        {"author_id": ""},
        {"author_id": "a\nb"},
        {"created_at": datetime(2026, 3, 2)},
        {"author_followers": -1},
    ):
        with pytest.raises(ContestError) as caught:
            make_entry(**fields)
        assert caught.value.code == "entry.invalid"
    with pytest.raises(ContestError):
        ContestEntry.from_doc({**doc, "kind": "poke"})


# --- lifecycle -----------------------------------------------------------------------------


def test_lifecycle_moves_forward_only() -> None:
    seed = new_seed()
    draft = make_contest(status=ContestStatus.DRAFT, commitment=None)
    opened = draft.opened(commitment=commitment(seed))
    assert opened.status is ContestStatus.OPEN
    assert opened.commitment == commitment(seed)
    shut = opened.closed()
    entries = [make_entry(), make_entry()]
    certificate = draw(shut, entries, seed, drawn_at=DRAWN_AT)
    done = shut.drawn(certificate)
    assert done.status is ContestStatus.DRAWN
    assert done.winners == certificate.winners
    assert done.announced().status is ContestStatus.ANNOUNCED
    assert Contest.from_doc(done.to_doc()) == done

    moves: list[Callable[[], Contest]] = [
        lambda: draft.closed(),
        lambda: opened.opened(commitment=commitment(seed)),
        lambda: opened.announced(),
        lambda: shut.closed(),
        lambda: done.drawn(certificate),
        lambda: done.announced().closed(),
    ]
    for move in moves:
        with pytest.raises(ContestError) as caught:
            move()
        assert caught.value.code == "contest.invalid_transition"
    assert not can_transition(ContestStatus.ANNOUNCED, ContestStatus.DRAFT)


def test_opening_needs_a_well_formed_commitment() -> None:
    draft = make_contest(status=ContestStatus.DRAFT, commitment=None)
    with pytest.raises(ContestError) as caught:
        draft.opened(commitment="not-a-hash")
    assert caught.value.code == "contest.invalid"


def test_a_contest_accepts_only_its_own_valid_certificate() -> None:
    shut = closed()
    certificate = draw(shut, [make_entry()], SEED, drawn_at=DRAWN_AT)
    with pytest.raises(ContestError) as caught:
        shut.drawn(replace(certificate, contest_id="other"))
    assert caught.value.code == "contest.certificate_mismatch"
    with pytest.raises(ContestError) as caught:
        shut.drawn(replace(certificate, winners=()))
    assert caught.value.code == "contest.certificate_invalid"


# --- the draw ------------------------------------------------------------------------------


def keys_entries(n: int, network: Network = Network.X) -> list[ContestEntry]:
    return [make_entry(network=network, author_id=f"fan{i:03d}") for i in range(n)]


def test_seed_and_commitment() -> None:
    seed = new_seed()
    assert len(seed) == 32
    assert new_seed() != seed
    assert commitment(seed) == hashlib.sha256(seed).hexdigest()


def test_certificate_contents() -> None:
    entries = keys_entries(5)
    contest = closed(make_contest(winner_count=2))
    certificate = draw(contest, reversed(entries), SEED, drawn_at=DRAWN_AT)
    assert certificate.contest_id == "c1"
    assert certificate.algorithm == ALGORITHM == "smm-contest-draw"
    assert certificate.algorithm_version == ALGORITHM_VERSION == 1
    assert certificate.seed == SEED.hex()
    assert certificate.commitment == commitment(SEED)
    assert certificate.entries == tuple(f"x|fan{i:03d}" for i in range(5))
    assert (
        certificate.entry_list_digest
        == hashlib.sha256("\n".join(certificate.entries).encode()).hexdigest()
    )
    assert len(certificate.winners) == 2
    assert certificate.drawn_at == DRAWN_AT
    assert verify(certificate)


def test_known_answer() -> None:
    """A fixed vector, to check another implementation of the documented algorithm against."""
    contest = closed(make_contest(winner_count=3))
    certificate = draw(contest, keys_entries(10), SEED, drawn_at=DRAWN_AT)
    assert certificate.commitment == (
        "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
    )
    assert certificate.entry_list_digest == (
        "e790649ce8d550398cd853ce91e6c7e5c3c7ccf4ae02b455a3f083acf2710eb9"
    )
    assert certificate.winners == ("x|fan005", "x|fan006", "x|fan003")
    assert list(certificate.winners) == reference_winners(SEED.hex(), list(certificate.entries), 3)


def test_draw_is_deterministic_for_a_seed() -> None:
    contest = closed(make_contest(winner_count=3))
    entries = keys_entries(20)
    shuffled = random.Random(7).sample(entries, len(entries))
    a = draw(contest, entries, SEED, drawn_at=DRAWN_AT)
    b = draw(contest, shuffled, SEED, drawn_at=DRAWN_AT + timedelta(days=1))
    assert a.winners == b.winners
    assert a.entry_list_digest == b.entry_list_digest


def test_different_seeds_give_different_winners() -> None:
    entries = keys_entries(20)
    outcomes = set()
    for i in range(50):
        seed = hashlib.sha256(f"seed {i}".encode()).digest()
        contest = closed(make_contest(winner_count=3, commitment=commitment(seed)))
        outcomes.add(draw(contest, entries, seed, drawn_at=DRAWN_AT).winners)
    assert len(outcomes) >= 45  # 20*19*18 ordered outcomes: collisions are rare


def test_each_entry_wins_about_equally_often() -> None:
    """Over 3,000 seeds, 10 entries, 2 prizes: each is expected to win 600 times (sd ≈ 22)."""
    entries = keys_entries(10)
    wins: Counter[str] = Counter()
    first_prizes: Counter[str] = Counter()
    rng = random.Random(2026)
    for _ in range(3000):
        seed = rng.randbytes(32)
        contest = closed(make_contest(winner_count=2, commitment=commitment(seed)))
        winners = draw(contest, entries, seed, drawn_at=DRAWN_AT).winners
        wins.update(winners)
        first_prizes[winners[0]] += 1
    assert set(wins) == {e.author_key for e in entries}
    assert all(450 <= n <= 750 for n in wins.values()), wins
    assert all(200 <= n <= 400 for n in first_prizes.values()), first_prizes


@settings(max_examples=150, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    ids=st.sets(
        st.text(min_size=1, max_size=12).filter(lambda s: "\n" not in s and "\r" not in s),
        max_size=25,
    ),
    winner_count=st.integers(min_value=1, max_value=30),
)
def test_independent_implementation_agrees_with_draw(
    seed: bytes, ids: set[str], winner_count: int
) -> None:
    entries = [make_entry(author_id=i) for i in ids]
    contest = closed(make_contest(winner_count=winner_count, commitment=commitment(seed)))
    certificate = draw(contest, entries, seed, drawn_at=DRAWN_AT)
    assert list(certificate.entries) == sorted(f"x|{i}" for i in ids)
    expected = reference_winners(seed.hex(), sorted(f"x|{i}" for i in ids), winner_count)
    assert list(certificate.winners) == expected
    assert len(set(certificate.winners)) == len(certificate.winners)  # no one wins twice
    assert len(certificate.winners) == min(winner_count, len(ids))
    assert set(certificate.winners) <= set(certificate.entries)
    assert reference_check(certificate.to_doc())
    assert verify(certificate)


def test_fewer_entries_than_prizes_everyone_wins() -> None:
    entries = keys_entries(3)
    contest = closed(make_contest(winner_count=5))
    certificate = draw(contest, entries, SEED, drawn_at=DRAWN_AT)
    assert sorted(certificate.winners) == sorted(e.author_key for e in entries)
    assert verify(certificate)
    empty = draw(contest, [], SEED, drawn_at=DRAWN_AT)
    assert empty.winners == ()
    assert empty.entry_list_digest == hashlib.sha256(b"").hexdigest()
    assert verify(empty)


def test_draw_refuses_what_it_cannot_stand_behind() -> None:
    entries = keys_entries(3)

    def refused(contest: Contest, seed: bytes, items: list[ContestEntry]) -> str:
        with pytest.raises(ContestError) as caught:
            draw(contest, items, seed, drawn_at=DRAWN_AT)
        return caught.value.code

    assert refused(make_contest(), SEED, entries) == "contest.not_closed"
    assert refused(closed(), SEED[:16], entries) == "contest.invalid_seed"
    assert refused(closed(), bytes(32), entries) == "contest.seed_mismatch"
    late = make_entry(created_at=CLOSES)
    assert refused(closed(), SEED, [*entries, late]) == "contest.ineligible_entry"
    twice = make_entry(author_id=entries[0].author_id, created_at=DURING + timedelta(hours=1))
    assert refused(closed(), SEED, [*entries, twice]) == "contest.ineligible_entry"
    with pytest.raises(ContestError):
        draw(closed(), entries, SEED, drawn_at=datetime(2026, 3, 9))


# --- verify --------------------------------------------------------------------------------


@pytest.fixture
def certificate() -> Certificate:
    return draw(closed(make_contest(winner_count=3)), keys_entries(8), SEED, drawn_at=DRAWN_AT)


def test_verify_accepts_a_genuine_certificate(certificate: Certificate) -> None:
    assert verify(certificate)
    assert reference_check(certificate.to_doc())


def tampered(certificate: Certificate) -> list[tuple[str, Certificate]]:
    other_seed = bytes(reversed(SEED))
    entries = certificate.entries
    winners = certificate.winners
    loser = next(k for k in entries if k not in winners)
    extra = (*entries, "x|zzz-late")
    return [
        ("another seed", replace(certificate, seed=other_seed.hex())),
        (
            "another seed with its commitment",
            replace(certificate, seed=other_seed.hex(), commitment=commitment(other_seed)),
        ),
        ("another commitment", replace(certificate, commitment=commitment(other_seed))),
        ("malformed seed", replace(certificate, seed="zz" * 32)),
        ("short seed", replace(certificate, seed=SEED[:16].hex())),
        ("an entry added", replace(certificate, entries=extra)),
        (
            "an entry added, digest fixed",
            replace(
                certificate,
                entries=extra,
                entry_list_digest=hashlib.sha256("\n".join(extra).encode()).hexdigest(),
            ),
        ),
        ("an entry removed", replace(certificate, entries=entries[1:])),
        ("entries reordered", replace(certificate, entries=tuple(reversed(entries)))),
        ("an entry twice", replace(certificate, entries=tuple(sorted((*entries, entries[0]))))),
        ("another digest", replace(certificate, entry_list_digest="0" * 64)),
        ("winner replaced", replace(certificate, winners=(loser, *winners[1:]))),
        ("winners reordered", replace(certificate, winners=tuple(reversed(winners)))),
        ("winner dropped", replace(certificate, winners=winners[:-1])),
        ("winner added", replace(certificate, winners=(*winners, loser))),
        ("more prizes", replace(certificate, winner_count=4)),
        ("no prizes", replace(certificate, winner_count=0)),
        ("another algorithm", replace(certificate, algorithm="coin-flip")),
        ("another version", replace(certificate, algorithm_version=2)),
    ]


def test_verify_rejects_tampering(certificate: Certificate) -> None:
    for name, forged in tampered(certificate):
        assert not verify(forged), name


def test_certificate_round_trip(certificate: Certificate) -> None:
    doc = certificate.to_doc()
    assert json.loads(json.dumps(doc)) == doc
    back = Certificate.from_doc(json.loads(json.dumps(doc)))
    assert back == certificate
    assert verify(back)
    with pytest.raises(ContestError) as caught:
        Certificate.from_doc({**doc, "drawn_at": "2026-03-08T10:00:00"})
    assert caught.value.code == "certificate.invalid"
    with pytest.raises(ContestError) as caught:
        Certificate.from_doc({k: v for k, v in doc.items() if k != "winners"})
    assert caught.value.code == "certificate.invalid"
