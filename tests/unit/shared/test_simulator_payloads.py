"""The simulator's webhook payloads: the networks' documented shapes, signed, and readable by ingest.

Shapes are checked key by key against the networks' documentation; the last tests also feed
every delivery to ingest's own parsers (tests may import services; the simulator may not).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from typing import Any

import pytest

from smm_ingest.adapters.networks import meta, telegram, vk
from smm_ingest.domain.items import AccountContext, DeletedItem, EditedItem, NewItem
from smm_shared.events import Network as ContractNetwork
from smm_shared.simulator.payloads import (
    SIGNATURE_HEADER,
    TELEGRAM_SECRET_HEADER,
    Accounts,
    ConnectorKind,
    Delivery,
    WebhookSecrets,
    delivery,
    meta_handshake_params,
    meta_signature,
    telegram_entities,
    vk_confirmation_body,
)
from smm_shared.simulator.scenario import (
    Action,
    Network,
    Scenario,
    ScenarioConfig,
    SimEvent,
    Surface,
    take,
)

pytestmark = pytest.mark.unit

ACCOUNTS = Accounts()
SECRETS = WebhookSecrets(
    vk_secret="vk-secret-1",
    meta_app_secret="meta-app-secret-2",
    meta_verify_token="meta-verify-3",
    telegram_secret_token="tg-secret-4",
)
EPOCH = 1_764_000_000.0


@pytest.fixture(scope="module")
def played() -> list[tuple[SimEvent, Delivery]]:
    config = ScenarioConfig(seed=3, rate=8, burst_at=60, burst_for=30)
    events = take(Scenario(config).events(), duration=300)
    return [(e, delivery(e, accounts=ACCOUNTS, secrets=SECRETS, epoch=EPOCH)) for e in events]


def of(played: list[tuple[SimEvent, Delivery]], network: Network) -> list[tuple[SimEvent, Any]]:
    found = [(e, json.loads(d.body)) for e, d in played if e.network is network]
    assert len(found) > 50
    return found


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def numeric_string(value: object) -> bool:
    return isinstance(value, str) and value.isdigit()


# --- routing and headers -------------------------------------------------------------------------


def test_each_network_goes_to_its_connector(played: list[tuple[SimEvent, Delivery]]) -> None:
    expected = {
        Network.VK: ConnectorKind.VK,
        Network.FACEBOOK: ConnectorKind.META,
        Network.INSTAGRAM: ConnectorKind.META,
        Network.TELEGRAM: ConnectorKind.TELEGRAM,
    }
    for event, sent in played:
        assert sent.connector is expected[event.network]
        assert sent.network is event.network
        assert sent.headers["Content-Type"] == "application/json"


def test_meta_signatures_verify_with_an_independent_hmac(
    played: list[tuple[SimEvent, Delivery]],
) -> None:
    signed = [d for _, d in played if d.connector is ConnectorKind.META]
    assert signed

    for sent in signed:
        header = sent.headers[SIGNATURE_HEADER]
        expected = hmac.new(b"meta-app-secret-2", sent.body, hashlib.sha256).hexdigest()
        assert header == f"sha256={expected}"
        tampered = sent.body.replace(b'"entry"', b'"entry" ')
        assert header != meta_signature(SECRETS.meta_app_secret, tampered)
        # Meta escapes non-ASCII text as \uXXXX; the signature covers those exact bytes.
        assert sent.body.isascii()


def test_vk_and_telegram_carry_their_secrets(played: list[tuple[SimEvent, Delivery]]) -> None:
    for event, sent in played:
        if event.network is Network.VK:
            assert json.loads(sent.body)["secret"] == "vk-secret-1"
            assert TELEGRAM_SECRET_HEADER not in sent.headers
        elif event.network is Network.TELEGRAM:
            assert sent.headers[TELEGRAM_SECRET_HEADER] == "tg-secret-4"
            assert b"tg-secret-4" not in sent.body


# --- VK Callback API -----------------------------------------------------------------------------


def test_vk_callbacks_have_the_documented_shape(played: list[tuple[SimEvent, Delivery]]) -> None:
    types: set[str] = set()
    for event, body in of(played, Network.VK):
        assert set(body) == {"group_id", "type", "event_id", "v", "object", "secret"}
        assert body["group_id"] == ACCOUNTS.vk_group_id
        assert body["v"] == "5.199"
        assert len(body["event_id"]) == 40
        assert int(body["event_id"], 16) >= 0
        obj = body["object"]
        types.add(body["type"])
        if body["type"] in ("wall_reply_new", "wall_reply_edit"):
            for key in ("id", "from_id", "post_id", "owner_id", "date", "post_owner_id"):
                assert is_int(obj[key]), key
            assert obj["owner_id"] == -ACCOUNTS.vk_group_id
            assert obj["text"] == event.text
            assert isinstance(obj["parents_stack"], list)
            if event.reply_to is not None:
                assert obj["reply_to_comment"] == event.reply_to.message_id
                assert obj["parents_stack"] == [event.reply_to.message_id]
                assert obj["reply_to_user"] == event.reply_to.author.user_id
        elif body["type"] == "wall_reply_delete":
            assert set(obj) == {"owner_id", "id", "deleter_id", "user_id", "post_id"}
            assert all(is_int(v) for v in obj.values())
        elif body["type"] == "wall_post_new":
            for key in ("id", "from_id", "owner_id", "date"):
                assert is_int(obj[key]), key
            assert obj["post_type"] == "post"
            assert obj["text"] == event.text
        else:
            assert body["type"] == "message_new"
            message = obj["message"]
            for key in ("date", "from_id", "id", "out", "peer_id", "conversation_message_id"):
                assert is_int(message[key]), key
            assert message["out"] == 0
            assert message["peer_id"] == message["from_id"] == event.author.user_id
            assert isinstance(obj["client_info"], dict)
    assert types == {
        "wall_reply_new",
        "wall_reply_edit",
        "wall_reply_delete",
        "wall_post_new",
        "message_new",
    }


def test_vk_event_ids_are_unique(played: list[tuple[SimEvent, Delivery]]) -> None:
    ids = [body["event_id"] for _, body in of(played, Network.VK)]

    assert len(set(ids)) == len(ids)


def test_vk_confirmation_is_the_documented_handshake() -> None:
    assert json.loads(vk_confirmation_body(ACCOUNTS)) == {
        "type": "confirmation",
        "group_id": ACCOUNTS.vk_group_id,
    }


# --- Meta ----------------------------------------------------------------------------------------


def test_facebook_feed_changes_have_the_documented_shape(
    played: list[tuple[SimEvent, Delivery]],
) -> None:
    verbs: set[str] = set()
    for event, body in of(played, Network.FACEBOOK):
        assert body["object"] == "page"
        (entry,) = body["entry"]
        assert entry["id"] == ACCOUNTS.facebook_page_id
        assert is_int(entry["time"])
        (change,) = entry["changes"]
        assert change["field"] == "feed"
        value = change["value"]
        verbs.add(value["verb"])
        assert numeric_string(value["from"]["id"])
        assert value["from"]["name"] == event.author.display_name
        assert is_int(value["created_time"])
        page, _, story = value["post_id"].partition("_")
        assert page == ACCOUNTS.facebook_page_id
        assert story.isdigit()
        if value["item"] == "comment":
            assert value["comment_id"] == f"{story}_{event.message_id}"
            if event.reply_to is None:  # a top-level comment's parent is the post
                assert value["parent_id"] == value["post_id"]
            else:
                assert value["parent_id"] == f"{story}_{event.reply_to.message_id}"
            assert ("message" in value) == (value["verb"] != "remove")
        else:
            assert (value["item"], value["verb"], value["message"]) == ("status", "add", event.text)
    assert verbs == {"add", "edited", "remove"}


def test_instagram_comments_have_the_documented_shape(
    played: list[tuple[SimEvent, Delivery]],
) -> None:
    replies = 0
    for event, body in of(played, Network.INSTAGRAM):
        assert body["object"] == "instagram"
        (entry,) = body["entry"]
        assert entry["id"] == ACCOUNTS.instagram_account_id
        (change,) = entry["changes"]
        assert change["field"] == "comments"
        value = change["value"]
        assert set(value) <= {"from", "media", "id", "text", "parent_id"}
        assert numeric_string(value["id"])
        assert value["text"] == event.text
        assert numeric_string(value["from"]["id"])
        assert value["from"]["username"] == event.author.handle
        assert numeric_string(value["media"]["id"])
        assert value["media"]["media_product_type"] == "FEED"
        if "parent_id" in value:
            replies += 1
            assert numeric_string(value["parent_id"])
    assert replies > 0


def test_meta_handshake_params() -> None:
    assert meta_handshake_params("token", "1234") == {
        "hub.mode": "subscribe",
        "hub.verify_token": "token",
        "hub.challenge": "1234",
    }


# --- Telegram ------------------------------------------------------------------------------------


def test_telegram_updates_have_the_documented_shape(
    played: list[tuple[SimEvent, Delivery]],
) -> None:
    kinds: set[tuple[str, str]] = set()
    for event, update in of(played, Network.TELEGRAM):
        assert is_int(update["update_id"])
        (kind,) = set(update) - {"update_id"}
        message = update[kind]
        kinds.add((kind, message["chat"]["type"]))
        assert is_int(message["message_id"])
        assert is_int(message["date"])
        assert message["text"] == event.text
        user = message["from"]
        assert is_int(user["id"])
        assert user["is_bot"] is False
        assert user["first_name"]
        assert "." not in user.get("username", "")  # Telegram usernames: letters, digits, _
        chat = message["chat"]
        if chat["type"] == "private":
            assert chat["id"] == user["id"]
        else:
            assert (chat["id"], chat["type"]) == (ACCOUNTS.telegram_group_id, "supergroup")
        if kind == "edited_message":
            assert message["edit_date"] > message["date"]
        if event.reply_to is not None:
            assert message["reply_to_message"]["message_id"] == event.reply_to.message_id
    assert kinds == {
        ("message", "supergroup"),
        ("message", "private"),
        ("edited_message", "supergroup"),
        ("edited_message", "private"),
    }


def test_telegram_entities_count_utf16_code_units() -> None:
    text = "🎉 #DemoBankGiveaway @lea_m12 ok"

    assert telegram_entities(text) == [
        {"offset": 3, "length": 17, "type": "hashtag"},  # the emoji is two code units
        {"offset": 21, "length": 8, "type": "mention"},
    ]


# --- what ingest makes of it ---------------------------------------------------------------------

VK_ACCOUNT = AccountContext(
    ContractNetwork.VK,
    frozenset({str(ACCOUNTS.vk_group_id), f"-{ACCOUNTS.vk_group_id}"}),
)
META_OWN = frozenset({ACCOUNTS.facebook_page_id, ACCOUNTS.instagram_account_id})
TELEGRAM_ACCOUNT = AccountContext(
    ContractNetwork.TELEGRAM, frozenset({str(ACCOUNTS.telegram_bot_id)})
)


def parse(event: SimEvent, sent: Delivery) -> object:
    payload = json.loads(sent.body)
    if sent.connector is ConnectorKind.VK:
        assert vk.verify_secret(payload, SECRETS.vk_secret)
        parsed = vk.parse(payload, VK_ACCOUNT)
    elif sent.connector is ConnectorKind.META:
        assert meta.verify_signature(
            sent.body, sent.headers[SIGNATURE_HEADER], SECRETS.meta_app_secret
        )
        parsed = meta.parse(payload, AccountContext(ContractNetwork.FACEBOOK, META_OWN))
    else:
        assert telegram.verify_secret_token(
            sent.headers[TELEGRAM_SECRET_HEADER], SECRETS.telegram_secret_token
        )
        parsed = telegram.parse(payload, TELEGRAM_ACCOUNT)
    assert parsed.ignored == (), (event, parsed.ignored)
    assert len(parsed.items) == 1
    return parsed.items[0]


def test_ingest_reads_every_delivery_as_one_mention_change(
    played: list[tuple[SimEvent, Delivery]],
) -> None:
    native_ids: dict[tuple[Network, int], str] = {}
    threads: dict[int, set[str | None]] = defaultdict(set)
    for event, sent in played:
        item = parse(event, sent)
        if event.action is Action.DELETE:
            assert isinstance(item, DeletedItem)
            assert item.native_id == native_ids[(event.network, event.message_id)]
            continue
        expected = NewItem if event.action is Action.NEW else EditedItem
        assert isinstance(item, expected)
        draft = item.draft
        assert draft.network.value == event.network.value
        assert draft.author.id == str(event.author.user_id)
        assert draft.text == event.text
        key = (event.network, event.message_id)
        if event.action is Action.NEW:
            assert key not in native_ids
            native_ids[key] = draft.native_id
            threads[event.conversation].add(draft.thread_id)
        else:
            assert draft.native_id == native_ids[key]
        if event.reply_to is not None and event.surface is not Surface.DIRECT:
            assert draft.parent_native_id == native_ids[(event.network, event.reply_to.message_id)]
    # A conversation is one thread in ingest's terms: replies land where they belong.
    assert all(len(ids) == 1 for ids in threads.values())
