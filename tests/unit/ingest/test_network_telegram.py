"""Telegram Bot API: the secret-token header, and documented updates parsed into exact items."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import telegram
from smm_ingest.domain.items import AccountContext, EditedItem, NewItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.events import Author, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
BOT_ID = "7012345678"
OWN_CHANNEL = "-1002000000001"
ACCOUNT = AccountContext(Network.TELEGRAM, frozenset({BOT_ID, OWN_CHANNEL}))
GROUP = -1001987654321
TOKEN = "tg_Secret-token_0123456789"


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


def only_edit(parsed: ParsedPayload) -> EditedItem:
    assert parsed.ignored == ()
    (item,) = parsed.items
    assert isinstance(item, EditedItem)
    return item


# --- secret token ----------------------------------------------------------------------------


def test_secret_token_matches() -> None:
    assert telegram.verify_secret_token(TOKEN, TOKEN)


@pytest.mark.parametrize(
    "header", [None, "", TOKEN[:-1], TOKEN + "0", TOKEN.lower(), " " + TOKEN, "тест"]
)
def test_secret_token_rejects_missing_or_wrong_headers(header: str | None) -> None:
    assert not telegram.verify_secret_token(header, TOKEN)


def test_secret_token_with_a_blank_setting_fails_closed() -> None:
    assert not telegram.verify_secret_token("", "")


# --- updates ---------------------------------------------------------------------------------


def test_private_message_is_a_direct_message() -> None:
    draft = only_new(telegram.parse(load("private_message"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.TELEGRAM,
        kind=MentionKind.DIRECT_MESSAGE,
        native_id="111222333_52",
        author=Author(id="111222333", handle="ivanp", display_name="Ivan Petrov"),
        text="Добрый день, где мой заказ?",
        created_at=at(10, 15),
        thread_id="chat111222333",
    )
    assert normalise(draft).conversation_key == "telegram:chat111222333"


def test_group_message_is_a_comment_in_its_own_thread() -> None:
    draft = only_new(telegram.parse(load("group_message"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.TELEGRAM,
        kind=MentionKind.COMMENT,
        native_id=f"{GROUP}_3301",
        author=Author(id="444555666", display_name="Olga"),
        text="Does anyone know when the sale starts?",
        created_at=at(10, 16),
        thread_id=f"chat{GROUP}_m3301",
        url="https://t.me/acme_customers/3301",
    )


def test_reply_to_our_bot_joins_the_replied_thread_on_our_post() -> None:
    draft = only_new(telegram.parse(load("group_reply_to_bot"), ACCOUNT))

    assert draft.kind is MentionKind.COMMENT
    assert draft.native_id == f"{GROUP}_3305"
    assert draft.parent_native_id == f"{GROUP}_3302"
    assert draft.thread_id == f"chat{GROUP}_m3302"
    assert draft.on_own_post


def test_reply_to_someone_else_is_not_on_our_post() -> None:
    payload = load("group_reply_to_bot")
    payload["message"]["reply_to_message"]["from"] = {"id": 999, "is_bot": False, "first_name": "X"}

    assert not only_new(telegram.parse(payload, ACCOUNT)).on_own_post


def test_edited_message_carries_edit_date() -> None:
    edit = only_edit(telegram.parse(load("edited_message"), ACCOUNT))

    assert edit.edited_at == at(10, 17)
    assert edit.draft.native_id == f"{GROUP}_3301"
    assert edit.draft.created_at == at(10, 16)
    assert edit.draft.text == "Does anyone know when the Black Friday sale starts?"


def test_channel_post_is_a_post_by_the_channel() -> None:
    draft = only_new(telegram.parse(load("channel_post"), ACCOUNT))

    assert draft == MentionDraft(
        network=Network.TELEGRAM,
        kind=MentionKind.POST,
        native_id="-1001555000111_812",
        author=Author(id="-1001555000111", handle="gadgetnews", display_name="Gadget News"),
        text="Acme's new headphones reviewed: great bass, weak battery",
        created_at=at(10, 40),
        thread_id="chat-1001555000111_m812",
        url="https://t.me/gadgetnews/812",
    )


def test_edited_channel_post_in_a_private_channel_uses_the_caption() -> None:
    edit = only_edit(telegram.parse(load("edited_channel_post"), ACCOUNT))

    assert edit.edited_at == at(10, 56, 40)
    assert edit.draft.kind is MentionKind.POST
    assert edit.draft.text == "Acme coupon inside"
    assert edit.draft.url == "https://t.me/c/1777000222/90"
    assert edit.draft.attachments == ()  # file_id only: no URL without a getFile call


def test_posts_in_our_own_channel_are_ours() -> None:
    parsed = telegram.parse(load("own_channel_post"), ACCOUNT)

    assert parsed.items == ()
    assert parsed.ignored == ("channel_post: post in our own channel -1002000000001_15",)


def test_messages_from_our_bot_are_ours() -> None:
    payload = load("group_message")
    payload["message"]["from"] = {"id": int(BOT_ID), "is_bot": True, "first_name": "Acme"}

    assert telegram.parse(payload, ACCOUNT).items == ()


def test_media_without_caption_is_a_mention_with_empty_text() -> None:
    draft = only_new(telegram.parse(load("photo_no_caption"), ACCOUNT))

    assert draft.text == ""
    assert draft.native_id == "111222333_53"
    assert draft.attachments == ()


def test_service_messages_and_other_updates_are_ignored() -> None:
    service = telegram.parse(load("service_message"), ACCOUNT)
    callback = telegram.parse(load("callback_query"), ACCOUNT)

    assert service == ParsedPayload(ignored=(f"message: service message {GROUP}_3310",))
    assert callback == ParsedPayload(ignored=("callback_query: update type not handled",))
    assert telegram.parse({"update_id": 1}, ACCOUNT) == ParsedPayload(
        ignored=("update without content",)
    )


def test_a_group_without_username_has_no_public_url() -> None:
    payload = load("group_message")
    chat = payload["message"]["chat"]
    del chat["username"]
    chat.update(id=-4001234, type="group")

    assert only_new(telegram.parse(payload, ACCOUNT)).url is None


def test_a_message_sent_as_a_channel_in_a_group_is_authored_by_the_channel() -> None:
    payload = load("group_message")
    payload["message"]["sender_chat"] = {"id": -1009, "title": "Fans", "type": "channel"}

    assert only_new(telegram.parse(payload, ACCOUNT)).author == Author(
        id="-1009", display_name="Fans"
    )


@pytest.mark.parametrize(
    ("mutate", "code", "where"),
    [
        (lambda u: u.pop("update_id"), "payload.missing_field", "update_id"),
        (lambda u: u.update(message="hi"), "payload.bad_type", "message"),
        (lambda u: u["message"].pop("chat"), "payload.missing_field", "message.chat"),
        (lambda u: u["message"]["chat"].update(id="x"), "payload.bad_type", "message.chat.id"),
        (lambda u: u["message"].pop("date"), "payload.missing_field", "message.date"),
        (lambda u: u["message"].update(text=5), "payload.bad_type", "message.text"),
        (
            lambda u: u["message"]["from"].update(id=None, username="x"),
            "payload.missing_field",
            "message.from.id",
        ),
    ],
)
def test_malformed_updates_raise_payload_errors(mutate: Any, code: str, where: str) -> None:
    payload = load("group_message")
    mutate(payload)

    with pytest.raises(PayloadError) as caught:
        telegram.parse(payload, ACCOUNT)

    assert caught.value.code == code
    assert where in caught.value.message


def test_edited_message_without_edit_date_is_malformed() -> None:
    payload = load("edited_message")
    del payload["edited_message"]["edit_date"]

    with pytest.raises(PayloadError) as caught:
        telegram.parse(payload, ACCOUNT)
    assert caught.value.code == "payload.missing_field"


def test_every_sample_normalises_into_a_valid_mention() -> None:
    for path in sorted(PAYLOADS.glob("*.json")):
        for item in telegram.parse(load(path.stem), ACCOUNT).items:
            if isinstance(item, NewItem | EditedItem):
                assert normalise(item.draft).conversation_key.startswith("telegram:chat")
