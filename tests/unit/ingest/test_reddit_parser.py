"""Reddit listing children: documented comments and posts parsed into exact items."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import reddit
from smm_ingest.domain.items import (
    AccountContext,
    DeletedItem,
    EditedItem,
    NewItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.events import Attachment, Author, DeletedBy, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "reddit"
# Our account by name (in another case than Reddit writes it) and by fullname.
ACCOUNT = AccountContext(Network.REDDIT, frozenset({"acmeofficial", "t2_acme01"}))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 11, 27, hour, minute, second, tzinfo=UTC)


def only(parsed: ParsedPayload) -> Any:
    assert parsed.ignored == ()
    (item,) = parsed.items
    return item


def test_comment_on_a_post_is_a_comment_in_the_posts_thread() -> None:
    item = only(reddit.parse_listing_child(load("comment"), ACCOUNT))

    assert item == NewItem(
        MentionDraft(
            network=Network.REDDIT,
            kind=MentionKind.COMMENT,
            native_id="t1_m1a2b3c",
            author=Author(id="t2_8f3k2j", handle="gadget_fan"),
            text="Has anyone tried the Acme X200 with a USB-C dock?",
            created_at=at(10, 16),
            thread_id="t3_1h0abcd",
            url="https://www.reddit.com/r/acme/comments/1h0abcd/acme_x200_after_one_month/m1a2b3c/",
        )
    )
    assert normalise(item.draft).conversation_key == "reddit:t3_1h0abcd"


def test_reply_to_a_comment_names_its_parent_and_keeps_raw_text() -> None:
    item = only(reddit.parse_listing_child(load("comment_reply"), ACCOUNT))

    assert isinstance(item, NewItem)
    assert item.draft.kind is MentionKind.REPLY
    assert item.draft.parent_native_id == "t1_m1a2b3c"
    assert item.draft.thread_id == "t3_1h0abcd"
    assert item.draft.text == "Works fine with mine & the firmware <2.1> fix."
    assert item.draft.created_at == at(10, 17)


def test_comment_under_our_post_is_on_our_post() -> None:
    item = only(reddit.parse_listing_child(load("comment_on_own_post"), ACCOUNT))

    assert item.draft.on_own_post
    assert item.draft.thread_id == "t3_1h0own1"


def test_edited_comment_is_only_an_edit_at_its_edit_time() -> None:
    item = only(reddit.parse_listing_child(load("comment_edited"), ACCOUNT))

    assert isinstance(item, EditedItem)
    assert item.edited_at == at(10, 31)
    assert item.draft.created_at == at(10, 19)
    assert item.draft.text == "Returned it. EDIT: support called back, keeping it."


def test_edited_true_without_a_time_stays_new() -> None:
    payload = load("comment")
    payload["data"]["edited"] = True

    assert isinstance(only(reddit.parse_listing_child(payload, ACCOUNT)), NewItem)


@pytest.mark.parametrize(
    ("name", "native", "by", "when"),
    [
        ("comment_deleted", "t1_m1a2b7g", "author", at(10, 20)),
        ("comment_removed", "t1_m1a2b8h", "moderator", at(10, 21)),
    ],
)
def test_deleted_and_removed_bodies_are_deletions(
    name: str, native: str, by: DeletedBy, when: datetime
) -> None:
    item = only(reddit.parse_listing_child(load(name), ACCOUNT))

    assert item == DeletedItem(
        network=Network.REDDIT, native_id=native, deleted_at=when, deleted_by=by
    )


def test_removed_after_an_edit_is_dated_at_the_edit() -> None:
    payload = load("comment_edited")
    payload["data"]["body"] = "[removed]"

    item = only(reddit.parse_listing_child(payload, ACCOUNT))

    assert isinstance(item, DeletedItem)
    assert item.deleted_at == at(10, 31)


def test_our_own_comment_is_skipped() -> None:
    parsed = reddit.parse_listing_child(load("comment_own"), ACCOUNT)

    assert parsed.items == ()
    assert parsed.ignored == ("own comment t1_m1a2b9i",)


def test_our_own_comment_is_skipped_by_fullname_alone() -> None:
    account = AccountContext(Network.REDDIT, frozenset({"t2_acme01"}))

    assert reddit.parse_listing_child(load("comment_own"), account).items == ()


def test_self_post_joins_title_and_text_in_its_own_thread() -> None:
    item = only(reddit.parse_listing_child(load("post_self"), ACCOUNT))

    assert item == NewItem(
        MentionDraft(
            network=Network.REDDIT,
            kind=MentionKind.POST,
            native_id="t3_1h0abcd",
            author=Author(id="t2_8f3k2j", handle="gadget_fan"),
            text="Acme X200 after one month\n\nBattery is great, the hinge squeaks though.\n\nAnyone else?",
            created_at=at(9, 16),
            thread_id="t3_1h0abcd",
            url="https://www.reddit.com/r/gadgets/comments/1h0abcd/acme_x200_after_one_month/",
        )
    )


def test_link_post_carries_its_link() -> None:
    item = only(reddit.parse_listing_child(load("post_link"), ACCOUNT))

    assert isinstance(item, NewItem)
    assert item.draft.text == "Acme announces the X300"
    assert item.draft.attachments == (
        Attachment(kind="link", url="https://acme.example/press/x300?utm_source=reddit"),
    )


def test_edited_post_is_an_edit() -> None:
    item = only(reddit.parse_listing_child(load("post_edited"), ACCOUNT))

    assert isinstance(item, EditedItem)
    assert item.draft.kind is MentionKind.POST
    assert item.edited_at == at(10, 17)


def test_other_kinds_are_ignored() -> None:
    parsed = reddit.parse_listing_child({"kind": "more", "data": {"children": []}}, ACCOUNT)

    assert parsed.items == ()
    assert parsed.ignored == ("more: listing kind not handled",)


def test_author_without_fullname_uses_the_name_and_odd_permalinks_make_no_url() -> None:
    payload = load("comment")
    del payload["data"]["author_fullname"]
    payload["data"]["permalink"] = "javascript:alert(1)"

    item = only(reddit.parse_listing_child(payload, ACCOUNT))

    assert item.draft.author == Author(id="gadget_fan", handle="gadget_fan")
    assert item.draft.url is None


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.pop("created_utc"), "payload.missing_field"),
        (lambda d: d.update(created_utc="1764238560"), "payload.bad_type"),
        (lambda d: d.update(created_utc=float("nan")), "payload.bad_value"),
        (lambda d: d.update(created_utc=-1.0), "payload.bad_value"),
        (lambda d: d.update(edited="yes"), "payload.bad_type"),
        (lambda d: d.pop("body"), "payload.missing_field"),
        (lambda d: d.pop("link_id"), "payload.missing_field"),
        (lambda d: d.update(id="has space"), "payload.bad_value"),
    ],
)
def test_unreadable_comments_raise_payload_errors(mutate: Any, code: str) -> None:
    payload = load("comment")
    mutate(payload["data"])

    with pytest.raises(PayloadError) as caught:
        reddit.parse_listing_child(payload, ACCOUNT)
    assert caught.value.code == code


def test_child_created_utc_reads_seconds_or_gives_none() -> None:
    assert reddit.child_created_utc(load("comment")) == 1764238560.0
    assert reddit.child_created_utc({"kind": "t1", "data": {"created_utc": 17}}) == 17.0
    assert reddit.child_created_utc({"kind": "t1", "data": {}}) is None
    assert reddit.child_created_utc({"kind": "t1"}) is None
