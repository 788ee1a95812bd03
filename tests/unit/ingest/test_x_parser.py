"""X API v2: documented tweet envelopes parsed into exact drafts; broken ones into PayloadError."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import x
from smm_ingest.domain.items import AccountContext, NewItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.events import Attachment, Author, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "x"
OUR_ID = "1580000000000000001"
ACCOUNT = AccountContext(Network.X, frozenset({OUR_ID}))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 11, 27, hour, minute, second, tzinfo=UTC)


def only_new(parsed: ParsedPayload) -> MentionDraft:
    assert parsed.ignored == ()
    (item,) = parsed.items
    assert isinstance(item, NewItem)
    return item.draft


def test_a_mention_on_the_stream_is_a_post_with_its_author_and_link() -> None:
    draft = only_new(x.parse_tweet_envelope(load("stream_mention"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.X,
        kind=MentionKind.POST,
        native_id="1861234567890123456",
        author=Author(
            id="2244994945",
            handle="devperson",
            display_name="Dev Person",
            followers=5123,
            verified=True,
        ),
        text="Loving the new @acme headphones, battery lasts forever https://t.co/AbCdEf123",
        created_at=at(10, 15),
        thread_id="1861234567890123456",
        url="https://x.com/devperson/status/1861234567890123456",
        language="en",
        attachments=(Attachment(kind="link", url="https://acme.example/headphones"),),
    )
    assert normalise(draft).conversation_key == "x:1861234567890123456"


def test_a_reply_to_our_tweet_is_a_reply_on_our_post_in_its_conversation() -> None:
    draft = only_new(x.parse_tweet_envelope(load("stream_reply_to_us"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.X,
        kind=MentionKind.REPLY,
        native_id="1861234999000000001",
        author=Author(
            id="98765432", handle="olga_k", display_name="Olga K", followers=87, verified=False
        ),
        text="@acme my order 4411 never arrived, can you check?",
        created_at=at(10, 20, 5),
        thread_id="1861230000000000000",
        url="https://x.com/olga_k/status/1861234999000000001",
        language="en",
        parent_native_id="1861230000000000000",
        on_own_post=True,
    )
    assert normalise(draft).conversation_key == "x:1861230000000000000"


def test_a_reply_to_someone_else_is_not_on_our_post_and_its_time_is_converted_to_utc() -> None:
    draft = only_new(x.parse_tweet_envelope(load("reply_to_other"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.X,
        kind=MentionKind.REPLY,
        native_id="1861235100000000002",
        # The author is found among several included users; a zero follower count is kept.
        author=Author(id="55551111", handle="yuki_1990", display_name="ゆき", followers=0),
        text="@sam_w さんと同じく、@acme のサポートはとても速かったです",
        created_at=at(10, 40),
        thread_id="1861200000000000000",
        url="https://x.com/yuki_1990/status/1861235100000000002",
        language="ja",
        parent_native_id="1861210000000000000",
        on_own_post=False,
    )


def test_a_retweet_is_a_repost_of_the_original_with_the_rt_text() -> None:
    draft = only_new(x.parse_tweet_envelope(load("retweet"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.X,
        kind=MentionKind.REPOST,
        native_id="1861236000000000003",
        author=Author(id="77770000", handle="rt_fan", display_name="Retweeter", verified=False),
        text=(
            "RT @devperson: Loving the new @acme headphones, battery lasts forever "
            "https://t.co/AbCdEf123"
        ),
        created_at=at(10, 30),
        thread_id="1861236000000000003",
        url="https://x.com/rt_fan/status/1861236000000000003",
        language="en",
        parent_native_id="1861234567890123456",
    )


def test_a_quote_tweet_is_a_post_with_the_quoted_tweet_as_parent() -> None:
    draft = only_new(x.parse_tweet_envelope(load("quote"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.X,
        kind=MentionKind.POST,
        native_id="1861237000000000004",
        author=Author(id="66660000", handle="quoter", display_name="Quoter"),
        text="@acme 👀 https://t.co/QuOtE12345",
        created_at=at(11, 0),
        thread_id="1861237000000000004",
        url="https://x.com/quoter/status/1861237000000000004",
        language=None,  # "qme": media links only, no language
        parent_native_id="1861230000000000000",
        # The quoted tweet's link is an attachment; the link to the tweet's own photo is not.
        attachments=(
            Attachment(kind="link", url="https://twitter.com/acme/status/1861230000000000000"),
        ),
    )


def test_a_long_post_is_read_from_its_note_tweet() -> None:
    payload = load("long_post")
    draft = only_new(x.parse_tweet_envelope(payload, ACCOUNT))

    assert draft.text == payload["data"]["note_tweet"]["text"]
    assert draft.text.endswith("since the summer sale. Still recommended.")
    assert draft.author == Author(
        id="33330000",
        handle="gadget_reviews",
        display_name="Reviewer",
        followers=120000,
        verified=True,
    )


def test_a_tweet_without_its_author_expanded_gets_the_author_id_and_a_generic_link() -> None:
    draft = only_new(x.parse_tweet_envelope(load("without_includes"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.X,
        kind=MentionKind.POST,
        native_id="1861240000000000007",
        author=Author(id="12121212"),
        text="#acme #blackfriday",
        created_at=at(13, 0),
        thread_id="1861240000000000007",
        url="https://x.com/i/web/status/1861240000000000007",
        language=None,  # "qht": hashtags only
    )


def test_our_own_tweet_is_ignored() -> None:
    parsed = x.parse_tweet_envelope(load("own_tweet"), ACCOUNT)

    assert parsed == ParsedPayload(ignored=("own tweet 1861239000000000006",))


def test_without_our_ids_the_same_tweet_is_a_mention() -> None:
    draft = only_new(x.parse_tweet_envelope(load("own_tweet"), AccountContext(Network.X)))

    assert draft.author.id == OUR_ID
    assert draft.kind is MentionKind.REPLY


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "en"),
        ("pt", "pt"),
        ("hi-Latn", "hi-Latn"),
        ("zh-TW", "zh-TW"),
        ("iw", "he"),  # X's Hebrew code, withdrawn from ISO 639
        ("und", None),
        ("UND", None),
        ("zxx", None),
        ("qam", None),
        ("qct", None),
        ("qht", None),
        ("qme", None),
        ("qst", None),
        ("", None),
        ("e n", None),
        ("english-language-of-england", None),
        (None, None),
    ],
)
def test_language_is_the_tweets_lang_unless_it_names_none(
    lang: str | None, expected: str | None
) -> None:
    payload = load("stream_mention")
    payload["data"]["lang"] = lang

    assert only_new(x.parse_tweet_envelope(payload, ACCOUNT)).language == expected


def test_a_reply_that_also_quotes_is_a_reply_to_the_replied_tweet() -> None:
    payload = load("stream_reply_to_us")
    payload["data"]["referenced_tweets"] = [
        {"type": "quoted", "id": "1800000000000000000"},
        {"type": "replied_to", "id": "1861230000000000000"},
    ]
    draft = only_new(x.parse_tweet_envelope(payload, ACCOUNT))

    assert (draft.kind, draft.parent_native_id) == (MentionKind.REPLY, "1861230000000000000")


def test_an_odd_username_still_gets_a_working_link() -> None:
    payload = load("stream_mention")
    payload["includes"]["users"][0]["username"] = "../evil?x="
    draft = only_new(x.parse_tweet_envelope(payload, ACCOUNT))

    assert draft.url == "https://x.com/i/web/status/1861234567890123456"
    assert draft.author.handle == "../evil?x="


def test_a_name_longer_than_the_contract_allows_is_cut() -> None:
    payload = load("stream_mention")
    payload["includes"]["users"][0]["name"] = "N" * 1000

    draft = only_new(x.parse_tweet_envelope(payload, ACCOUNT))
    assert draft.author.display_name == "N" * 256
    normalise(draft)


BROKEN: list[tuple[str, Any, str]] = [
    ("data", None, "payload.missing_field"),
    ("data", [], "payload.bad_type"),
    ("data.id", "18612345/../1", "payload.bad_value"),
    ("data.id", "12ab", "payload.bad_value"),
    ("data.id", True, "payload.bad_type"),
    ("data.author_id", None, "payload.missing_field"),
    ("data.text", 42, "payload.bad_type"),
    ("data.created_at", None, "payload.missing_field"),
    ("data.created_at", "yesterday", "payload.bad_value"),
    ("data.created_at", "2025-11-27T10:15:00", "payload.bad_value"),
    ("data.created_at", "0001-01-01T00:00:00+01:00", "payload.bad_value"),
    ("data.created_at", 1764238500, "payload.bad_type"),
    ("data.conversation_id", "abc", "payload.bad_value"),
    ("data.referenced_tweets", {"type": "quoted"}, "payload.bad_type"),
    ("data.entities", "links", "payload.bad_type"),
    ("includes", [], "payload.bad_type"),
    ("includes.users", [None], "payload.bad_type"),
]


@pytest.mark.parametrize(("path", "value", "code"), BROKEN)
def test_broken_envelopes_raise_payload_error_naming_the_field(
    path: str, value: Any, code: str
) -> None:
    payload = copy.deepcopy(load("stream_mention"))
    *parents, key = path.split(".")
    node = payload
    for name in parents:
        node = node[name]
    if value is None:
        del node[key]
    else:
        node[key] = value

    with pytest.raises(PayloadError) as error:
        x.parse_tweet_envelope(payload, ACCOUNT)
    assert error.value.code == code
    assert key in str(error.value)


def test_a_negative_follower_count_is_refused_not_passed_to_the_contract() -> None:
    payload = load("stream_mention")
    payload["includes"]["users"][0]["public_metrics"]["followers_count"] = -1

    with pytest.raises(PayloadError) as error:
        x.parse_tweet_envelope(payload, ACCOUNT)
    assert error.value.code == "payload.bad_value"


def test_a_non_boolean_verified_flag_is_refused() -> None:
    payload = load("stream_mention")
    payload["includes"]["users"][0]["verified"] = "yes"

    with pytest.raises(PayloadError) as error:
        x.parse_tweet_envelope(payload, ACCOUNT)
    assert error.value.code == "payload.bad_type"


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as error:
        x.parse_tweet_envelope([], ACCOUNT)  # type: ignore[arg-type]
    assert error.value.code == "payload.bad_type"
