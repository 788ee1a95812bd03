"""Meta webhooks: handshake, X-Hub-Signature-256, and Page/Instagram payloads parsed exactly."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import meta
from smm_ingest.domain.items import (
    AccountContext,
    DeletedItem,
    EditedItem,
    FetchRequest,
    NewItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.events import Attachment, Author, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "meta"
PAGE = "104538921177423"
IG = "17841405822304914"
POST = f"{PAGE}_2204718893213921"
COMMENT = "2204718893213921_1143096470521744"
FACEBOOK = AccountContext(Network.FACEBOOK, frozenset({PAGE}))
INSTAGRAM = AccountContext(Network.INSTAGRAM, frozenset({IG}))
APP_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
VERIFY_TOKEN = "verify-me-7f3a"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def at(hour: int, minute: int, second: int = 0, ms: int = 0) -> datetime:
    return datetime(2025, 11, 27, hour, minute, second, ms * 1000, tzinfo=UTC)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def only(parsed: ParsedPayload) -> object:
    assert len(parsed.items) == 1, parsed
    return parsed.items[0]


# --- handshake -------------------------------------------------------------------------------


def handshake(**overrides: str) -> dict[str, str]:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    params.update(overrides)
    return params


def test_handshake_returns_the_challenge_when_the_token_matches() -> None:
    assert meta.verify_handshake(handshake(), VERIFY_TOKEN) == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        handshake(**{"hub.verify_token": "verify-me-7f3b"}),
        handshake(**{"hub.verify_token": ""}),
        handshake(**{"hub.mode": "unsubscribe"}),
        handshake(**{"hub.challenge": ""}),
        handshake(**{"hub.challenge": "<script>alert(1)</script>"}),
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
    ],
)
def test_handshake_refuses_anything_else(params: dict[str, str]) -> None:
    assert meta.verify_handshake(params, VERIFY_TOKEN) is None


def test_handshake_with_a_blank_setting_fails_closed() -> None:
    assert meta.verify_handshake(handshake(**{"hub.verify_token": ""}), "") is None


# --- signature -------------------------------------------------------------------------------

BODY = json.dumps(load("fb_comment_add")).encode()


def test_signature_of_the_raw_body_is_accepted() -> None:
    assert meta.verify_signature(BODY, sign(BODY), APP_SECRET)


def test_signature_hex_is_case_insensitive() -> None:
    header = sign(BODY)
    assert meta.verify_signature(BODY, "sha256=" + header[7:].upper(), APP_SECRET)


def test_signature_for_a_tampered_body_is_rejected() -> None:
    tampered = bytearray(BODY)
    tampered[10] ^= 0x01

    assert not meta.verify_signature(bytes(tampered), sign(BODY), APP_SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        sign(BODY, "another-app-secret"),
        sign(BODY).replace("sha256=", "sha1="),
        sign(BODY).replace("sha256=", "SHA256="),
        sign(BODY)[7:],  # no prefix
        sign(BODY)[:-1],  # one hex digit short
        sign(BODY)[:-1] + "g",  # not hex
        "sha256=" + "zz" * 32,
        "sha256=",
    ],
)
def test_signature_rejects_missing_wrong_or_malformed_headers(header: str | None) -> None:
    assert not meta.verify_signature(BODY, header, APP_SECRET)


def test_signature_with_a_blank_app_secret_fails_closed() -> None:
    assert not meta.verify_signature(BODY, sign(BODY, ""), "")


# --- Facebook Page feed ----------------------------------------------------------------------


def test_comment_on_our_post() -> None:
    item = only(meta.parse(load("fb_comment_add"), FACEBOOK))

    assert item == NewItem(
        MentionDraft(
            network=Network.FACEBOOK,
            kind=MentionKind.COMMENT,
            native_id=COMMENT,
            author=Author(id="6725461197529311", display_name="Anna Petrova"),
            text="Is the blue one back in stock?",
            created_at=at(10, 15),
            thread_id=POST,
            url=f"https://www.facebook.com/{PAGE}/posts/2204718893213921?comment_id=1143096470521744",
            on_own_post=True,
        )
    )
    assert isinstance(item, NewItem)
    assert normalise(item.draft).conversation_key == f"facebook:{POST}"


def test_reply_to_a_comment_names_the_parent() -> None:
    item = only(meta.parse(load("fb_comment_reply"), FACEBOOK))

    assert isinstance(item, NewItem)
    assert item.draft.kind is MentionKind.REPLY
    assert item.draft.parent_native_id == COMMENT
    assert item.draft.thread_id == POST
    assert item.draft.attachments == (
        Attachment(kind="image", url="https://scontent.xx.fbcdn.net/v/t39.30808-6/reply.jpg"),
    )


def test_edited_comment() -> None:
    item = only(meta.parse(load("fb_comment_edited"), FACEBOOK))

    assert isinstance(item, EditedItem)
    assert item.edited_at == at(10, 23, 20)
    assert item.draft.native_id == COMMENT
    assert item.draft.created_at == at(10, 15)
    assert item.draft.text == "Is the blue one back in stock? Size M"


def test_removed_comment() -> None:
    assert meta.parse(load("fb_comment_remove"), FACEBOOK).items == (
        DeletedItem(Network.FACEBOOK, COMMENT, at(10, 40), "unknown"),
    )


def test_our_own_comment_is_skipped() -> None:
    parsed = meta.parse(load("fb_comment_own"), FACEBOOK)

    assert parsed.items == ()
    assert parsed.ignored == ("facebook: own comment 2204718893213921_5566778899001122",)


def test_the_entry_page_is_ours_even_when_own_ids_are_empty() -> None:
    account = AccountContext(Network.FACEBOOK)

    assert meta.parse(load("fb_comment_own"), account).items == ()


def test_hidden_comment_is_not_a_deletion() -> None:
    parsed = meta.parse(load("fb_comment_hide"), FACEBOOK)

    assert parsed.items == ()
    assert len(parsed.ignored) == 1


def test_comment_without_from_needs_a_fetch() -> None:
    payload = load("fb_comment_add")
    del payload["entry"][0]["changes"][0]["value"]["from"]

    parsed = meta.parse(payload, FACEBOOK)

    assert parsed.items == ()
    assert "needs Graph API fetch" in parsed.ignored[0]


def test_visitor_post_on_our_page() -> None:
    item = only(meta.parse(load("fb_visitor_post"), FACEBOOK))

    post_id = f"{PAGE}_2205000000000001"
    assert item == NewItem(
        MentionDraft(
            network=Network.FACEBOOK,
            kind=MentionKind.POST,
            native_id=post_id,
            author=Author(id="6725461197529311", display_name="Anna Petrova"),
            text="My order #4411 never arrived",
            created_at=at(10, 56, 40),
            thread_id=post_id,
            url=f"https://www.facebook.com/{PAGE}/posts/2205000000000001",
        )
    )


def test_our_own_post_is_skipped() -> None:
    payload = load("fb_visitor_post")
    payload["entry"][0]["changes"][0]["value"]["from"] = {"id": PAGE, "name": "Acme Store"}

    assert meta.parse(payload, FACEBOOK).items == ()


def test_reactions_and_messenger_are_ignored() -> None:
    reaction = meta.parse(load("fb_reaction"), FACEBOOK)
    messaging = meta.parse(load("fb_messaging"), FACEBOOK)

    assert reaction.items == messaging.items == ()
    assert reaction.ignored == ("facebook: feed reaction add: engagement comes from snapshots",)
    assert messaging.ignored == (
        f"facebook: messaging entry for {PAGE}: Messenger is not in scope",
    )


def test_batch_of_entries_and_changes() -> None:
    parsed = meta.parse(load("batch"), FACEBOOK)

    ids = [item.draft.native_id for item in parsed.items if isinstance(item, NewItem)]
    assert ids == ["2204718893213921_100", "2204718893213921_101"]
    assert len(parsed.ignored) == 1


def test_unknown_object_is_ignored() -> None:
    parsed = meta.parse({"object": "whatsapp_business_account", "entry": []}, FACEBOOK)

    assert parsed == ParsedPayload(ignored=("object whatsapp_business_account: not handled",))


# --- Instagram -------------------------------------------------------------------------------


def test_instagram_comment_on_our_media() -> None:
    item = only(meta.parse(load("ig_comment"), INSTAGRAM))

    assert item == NewItem(
        MentionDraft(
            network=Network.INSTAGRAM,
            kind=MentionKind.COMMENT,
            native_id="17865799348089039",
            author=Author(id="232323232", handle="masha.travels"),
            text="Where was this taken? 😍",
            created_at=at(11, 13, 20),
            thread_id="17887498072083520",
            on_own_post=True,
        )
    )
    assert isinstance(item, NewItem)
    assert normalise(item.draft).conversation_key == "instagram:17887498072083520"


def test_instagram_reply_with_time_in_milliseconds() -> None:
    item = only(meta.parse(load("ig_comment_reply_ms"), INSTAGRAM))

    assert isinstance(item, NewItem)
    assert item.draft.kind is MentionKind.REPLY
    assert item.draft.parent_native_id == "17865799348089039"
    assert item.draft.created_at == at(11, 13, 20, ms=500)


def test_instagram_own_comment_is_skipped() -> None:
    assert meta.parse(load("ig_comment_own"), INSTAGRAM).items == ()


def test_instagram_mention_in_a_comment_is_a_fetch_request_for_the_entry_account() -> None:
    parsed = meta.parse(load("ig_mention"), INSTAGRAM)

    assert parsed.items == (
        FetchRequest(
            network=Network.INSTAGRAM,
            account_id=IG,
            media_id="17918195224117851",
            comment_id="17894227972186120",
        ),
    )
    assert parsed.ignored == ()


def test_instagram_mention_in_a_caption_is_a_fetch_request_for_the_media() -> None:
    (item,) = meta.parse(load("ig_mention_caption"), INSTAGRAM).items

    assert item == FetchRequest(Network.INSTAGRAM, IG, "17918195224117851")
    assert isinstance(item, FetchRequest)
    assert item.key("b1") == f"b1|instagram|{IG}|media:17918195224117851"


def test_a_redelivered_mention_asks_for_the_same_fetch() -> None:
    first = meta.parse(load("ig_mention"), INSTAGRAM).items[0]
    again = load("ig_mention")
    again["entry"][0]["time"] += 60  # Meta redelivers later, with a new entry time

    (second,) = meta.parse(again, INSTAGRAM).items

    assert isinstance(first, FetchRequest)
    assert isinstance(second, FetchRequest)
    assert first.key("b1") == second.key("b1")
    assert first.key("b1") != first.key("b2")  # brands keep their own requests


def test_instagram_mention_without_media_is_unreadable() -> None:
    payload = load("ig_mention")
    del payload["entry"][0]["changes"][0]["value"]["media_id"]

    with pytest.raises(PayloadError) as caught:
        meta.parse(payload, INSTAGRAM)

    assert caught.value.code == "payload.missing_field"
    assert "entry[0].changes[0].value.media_id" in caught.value.message


def test_instagram_change_on_the_entry_itself_is_read_too() -> None:
    payload = load("ig_comment")
    entry = payload["entry"][0]
    change = entry.pop("changes")[0]
    entry.update(change)

    assert meta.parse(payload, INSTAGRAM) == meta.parse(load("ig_comment"), INSTAGRAM)


# --- malformed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "code", "where"),
    [
        (lambda p: p.pop("object"), "payload.missing_field", "object"),
        (lambda p: p.pop("entry"), "payload.missing_field", "entry"),
        (lambda p: p.update(entry={"id": PAGE}), "payload.bad_type", "entry"),
        (lambda p: p["entry"][0].update(time="now"), "payload.bad_type", "entry[0].time"),
        (lambda p: p["entry"][0].update(time=-5), "payload.bad_value", "entry[0].time"),
        (lambda p: p["entry"][0].update(id="has space"), "payload.bad_value", "entry[0].id"),
        (
            lambda p: p["entry"][0]["changes"][0]["value"].pop("comment_id"),
            "payload.missing_field",
            "entry[0].changes[0].value.comment_id",
        ),
        (
            lambda p: p["entry"][0]["changes"][0]["value"].update(message={"text": "x"}),
            "payload.bad_type",
            "entry[0].changes[0].value.message",
        ),
    ],
)
def test_malformed_payloads_raise_payload_errors(mutate: Any, code: str, where: str) -> None:
    payload = load("fb_comment_add")
    mutate(payload)

    with pytest.raises(PayloadError) as caught:
        meta.parse(payload, FACEBOOK)

    assert caught.value.code == code
    assert where in caught.value.message


def test_every_sample_normalises_into_a_valid_mention() -> None:
    for path in sorted(PAYLOADS.glob("*.json")):
        account = INSTAGRAM if path.stem.startswith("ig_") else FACEBOOK
        for item in meta.parse(load(path.stem), account).items:
            if isinstance(item, NewItem | EditedItem):
                assert normalise(item.draft).network is account.network
