"""The simulator's payloads: webhooks and X stream lines in the networks' documented shapes,
signed where the network signs, and readable by ingest.

Shapes are checked key by key against the networks' documentation; the last tests also feed
every delivery to ingest's own parsers (tests may import services; the simulator may not).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smm_ingest.adapters.networks import meta, telegram, vk, x
from smm_ingest.adapters.pollers.x import EXPANSIONS, TWEET_FIELDS, USER_FIELDS
from smm_ingest.domain.items import AccountContext, DeletedItem, EditedItem, NewItem
from smm_shared.events import MentionKind
from smm_shared.events import Network as ContractNetwork
from smm_shared.simulator import texts
from smm_shared.simulator.payloads import (
    CONNECTOR_OF,
    SIGNATURE_HEADER,
    TELEGRAM_SECRET_HEADER,
    X_DEFAULT_TWEET_FIELDS,
    X_DEFAULT_USER_FIELDS,
    Accounts,
    ConnectorKind,
    Delivery,
    Tweet,
    WebhookSecrets,
    XFields,
    XFieldsError,
    delivery,
    meta_handshake_params,
    meta_signature,
    telegram_entities,
    tweet,
    vk_confirmation_body,
    x_entities,
    x_stream_envelope,
    x_stream_line,
)
from smm_shared.simulator.scenario import (
    ANCHOR_POSTS,
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
    x_bearer_token="x-bearer-5",
)
EPOCH = 1_764_000_000.0


@pytest.fixture(scope="module")
def events() -> list[SimEvent]:
    config = ScenarioConfig(seed=3, rate=8, burst_at=60, burst_for=30)
    return list(take(Scenario(config).events(), duration=300))


@pytest.fixture(scope="module")
def played(events: list[SimEvent]) -> list[tuple[SimEvent, Delivery]]:
    """The webhooks: every event not on X."""
    return [
        (e, delivery(e, accounts=ACCOUNTS, secrets=SECRETS, epoch=EPOCH))
        for e in events
        if e.network is not Network.X
    ]


@pytest.fixture(scope="module")
def posted(events: list[SimEvent]) -> list[tuple[SimEvent, Tweet]]:
    """The X posts: every event on X."""
    found = [
        (e, tweet(e, accounts=ACCOUNTS, epoch=EPOCH)) for e in events if e.network is Network.X
    ]
    assert len(found) > 50
    return found


def of(played: list[tuple[SimEvent, Delivery]], network: Network) -> list[tuple[SimEvent, Any]]:
    found = [(e, json.loads(d.body)) for e, d in played if e.network is network]
    assert len(found) > 50
    return found


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def numeric_string(value: object) -> bool:
    return isinstance(value, str) and value.isdigit()


# --- routing and headers -------------------------------------------------------------------------


def test_each_network_goes_to_its_connector(
    events: list[SimEvent], played: list[tuple[SimEvent, Delivery]]
) -> None:
    expected = {
        Network.VK: ConnectorKind.VK,
        Network.FACEBOOK: ConnectorKind.META,
        Network.INSTAGRAM: ConnectorKind.META,
        Network.TELEGRAM: ConnectorKind.TELEGRAM,
        Network.X: ConnectorKind.X_STREAM,
    }
    assert expected == CONNECTOR_OF
    on_x = next(e for e in events if e.network is Network.X)
    with pytest.raises(ValueError, match="filtered stream"):
        delivery(on_x, accounts=ACCOUNTS, secrets=SECRETS, epoch=EPOCH)
    not_on_x = next(e for e in events if e.network is not Network.X)
    with pytest.raises(ValueError, match="no X post"):
        tweet(not_on_x, accounts=ACCOUNTS, epoch=EPOCH)
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


# --- X (API v2 filtered stream) ------------------------------------------------------------------

#: What ingest's x_stream connector asks the stream for (its own constants).
INGEST_FIELDS = XFields.from_query(
    {"expansions": EXPANSIONS, "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS}
)
RULES = [("1862000000000000001", "smm:brand")]
X_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
X_ACCOUNT = AccountContext(ContractNetwork.X, frozenset({ACCOUNTS.x_user_id}))


def x_time(offset: float) -> str:
    when = datetime.fromtimestamp(EPOCH + offset, tz=UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_x_posts_have_the_documented_shape(posted: list[tuple[SimEvent, Tweet]]) -> None:
    shapes: set[tuple[Surface, bool]] = set()
    for event, post in posted:
        line = x_stream_envelope(post, INGEST_FIELDS, RULES)
        assert set(line) == {"data", "includes", "matching_rules"}
        assert line["matching_rules"] == [{"id": "1862000000000000001", "tag": "smm:brand"}]
        data = line["data"]
        tweet_id = str(event.message_id)
        assert data["id"] == tweet_id
        assert data["edit_history_tweet_ids"] == [tweet_id]
        assert data["text"] == event.text
        assert data["author_id"] == str(event.author.user_id)
        assert X_TIME.fullmatch(data["created_at"])
        assert data["created_at"] == x_time(event.created_at)
        assert data["lang"] == event.language
        assert set(data["public_metrics"]) == {
            "retweet_count",
            "reply_count",
            "like_count",
            "quote_count",
            "bookmark_count",
            "impression_count",
        }
        # The author is expanded with the user fields asked for.
        author = line["includes"]["users"][0]
        assert author["id"] == data["author_id"]
        assert author["username"] == event.author.handle
        assert author["name"] == event.author.display_name
        assert author["public_metrics"]["followers_count"] == event.author.followers
        assert isinstance(author["verified"], bool)
        shapes.add((event.surface, event.reply_to is not None))
        if event.surface is Surface.POST:
            assert data["conversation_id"] == tweet_id
            assert "in_reply_to_user_id" not in data
            assert "referenced_tweets" not in data
            assert "tweets" not in line["includes"]
            continue
        # A reply: to the author's own first post, or (opening) under the brand's post.
        assert data["conversation_id"] == str(event.post_id)
        (parent,) = line["includes"]["tweets"]
        assert data["referenced_tweets"] == [{"type": "replied_to", "id": parent["id"]}]
        assert data["in_reply_to_user_id"] == parent["author_id"]
        assert parent["conversation_id"] == data["conversation_id"]
        if event.reply_to is None:
            assert parent["id"] == str(event.post_id)
            assert int(parent["id"]) in ANCHOR_POSTS[Network.X]
            assert parent["author_id"] == ACCOUNTS.x_user_id
            assert parent["text"] in texts.BRAND_POSTS
        else:
            assert parent["id"] == str(event.reply_to.message_id)
            assert parent["author_id"] == str(event.reply_to.author.user_id) == data["author_id"]
            assert parent["text"] == event.reply_to.text
    assert shapes == {(Surface.POST, False), (Surface.COMMENT, False), (Surface.COMMENT, True)}


def test_x_mentions_of_the_brand_are_entities(posted: list[tuple[SimEvent, Tweet]]) -> None:
    mentioned = 0
    for event, post in posted:
        entities = x_stream_envelope(post, INGEST_FIELDS, RULES)["data"].get("entities", {})
        for mention in entities.get("mentions", []):
            mentioned += 1
            assert (mention["username"], mention["id"]) == (ACCOUNTS.x_username, ACCOUNTS.x_user_id)
            assert event.text[mention["start"] : mention["end"]] == texts.BRAND_HANDLE
        for tag in entities.get("hashtags", []):
            assert event.text[tag["start"] : tag["end"]] == f"#{tag['tag']}"
    assert mentioned > len(posted) // 2


def test_a_request_without_fields_gets_x_defaults(posted: list[tuple[SimEvent, Tweet]]) -> None:
    reply = next(post for event, post in posted if event.reply_to is not None)

    bare = x_stream_envelope(reply, XFields(), [("1", None)])
    assert set(bare) == {"data", "matching_rules"}  # no expansions: no includes
    assert set(bare["data"]) == X_DEFAULT_TWEET_FIELDS == {"id", "text", "edit_history_tweet_ids"}
    assert bare["matching_rules"] == [{"id": "1"}]  # a rule without a tag has no tag

    expanded = x_stream_envelope(
        reply, XFields(expansions=frozenset({"author_id", "referenced_tweets.id"})), RULES
    )
    assert [set(u) for u in expanded["includes"]["users"]] == [X_DEFAULT_USER_FIELDS]
    assert [set(t) for t in expanded["includes"]["tweets"]] == [X_DEFAULT_TWEET_FIELDS]

    brand_too = x_stream_envelope(
        reply,
        XFields(
            expansions=frozenset({"author_id", "in_reply_to_user_id", "entities.mentions.username"})
        ),
        RULES,
    )
    ids = [u["id"] for u in brand_too["includes"]["users"]]
    assert ids == [reply.data["author_id"], ACCOUNTS.x_user_id]  # each person once


def test_unknown_fields_are_refused_as_x_refuses_them() -> None:
    assert INGEST_FIELDS.expansions == {"author_id", "referenced_tweets.id"}
    assert "note_tweet" in INGEST_FIELDS.tweet_fields

    with pytest.raises(
        XFieldsError, match=r"`tweet.fields` query parameter value \[colour\]"
    ) as err:
        XFields.from_query({"tweet.fields": "lang,colour"})
    assert (err.value.parameter, err.value.unknown) == ("tweet.fields", ["colour"])
    with pytest.raises(XFieldsError, match="expansions"):
        XFields.from_query({"expansions": "author"})


def test_x_entities_count_code_points() -> None:
    text = "🎉 @DemoBank love #DemoPay, ask @someone_else"

    assert x_entities(text, {"demobank": "15"}) == {
        # the emoji is one character; @someone_else is no account X knows here
        "mentions": [{"start": 2, "end": 11, "username": "DemoBank", "id": "15"}],
        "hashtags": [{"start": 17, "end": 25, "tag": "DemoPay"}],
    }
    assert x_entities("no entities", {}) == {}


def test_a_long_post_is_whole_in_note_tweet(posted: list[tuple[SimEvent, Tweet]]) -> None:
    event = next(e for e, _ in posted if e.surface is Surface.POST)
    long_text = f"{texts.BRAND_HANDLE} " + "ü" * 300
    post = tweet(dataclasses.replace(event, text=long_text), accounts=ACCOUNTS, epoch=EPOCH)

    data = x_stream_envelope(post, INGEST_FIELDS, RULES)["data"]
    assert data["text"] == long_text[:280]
    assert data["note_tweet"]["text"] == long_text
    assert post.text == long_text
    parsed = x.parse_tweet_envelope(x_stream_envelope(post, INGEST_FIELDS, RULES), X_ACCOUNT)
    assert isinstance(parsed.items[0], NewItem)
    assert parsed.items[0].draft.text == long_text


def test_a_stream_line_is_one_utf8_json_line(posted: list[tuple[SimEvent, Tweet]]) -> None:
    event, post = next((e, p) for e, p in posted if not e.text.isascii())
    envelope = x_stream_envelope(post, INGEST_FIELDS, RULES)

    line = x_stream_line(envelope)
    assert line.endswith(b"\r\n")
    assert line.count(b"\n") == 1
    assert event.text.encode() in line  # UTF-8, not \u escapes
    assert json.loads(line) == envelope


def test_ingest_reads_every_x_post_as_one_mention(posted: list[tuple[SimEvent, Tweet]]) -> None:
    threads: dict[int, set[str | None]] = defaultdict(set)
    on_own_posts = 0
    for event, post in posted:
        envelope = json.loads(x_stream_line(x_stream_envelope(post, INGEST_FIELDS, RULES)))
        parsed = x.parse_tweet_envelope(envelope, X_ACCOUNT)
        assert parsed.ignored == ()
        (item,) = parsed.items
        assert isinstance(item, NewItem)
        draft = item.draft
        assert draft.network is ContractNetwork.X
        assert draft.native_id == str(event.message_id)
        assert draft.text == event.text
        assert draft.language == event.language
        written = datetime.fromtimestamp(EPOCH + event.created_at, tz=UTC)
        assert timedelta(0) <= written - draft.created_at < timedelta(milliseconds=1)  # X: ms
        assert draft.author.id == str(event.author.user_id)
        assert draft.author.handle == event.author.handle
        assert draft.author.followers == event.author.followers
        assert draft.url == f"https://x.com/{event.author.handle}/status/{event.message_id}"
        if event.surface is Surface.POST:
            assert (draft.kind, draft.parent_native_id) == (MentionKind.POST, None)
        else:
            assert draft.kind is MentionKind.REPLY
            parent = event.reply_to.message_id if event.reply_to else event.post_id
            assert draft.parent_native_id == str(parent)
        # Only a reply under the brand's own post is "on our post".
        assert draft.on_own_post == (event.surface is Surface.COMMENT and event.reply_to is None)
        on_own_posts += draft.on_own_post
        threads[event.conversation].add(draft.thread_id)
    assert on_own_posts > 0
    assert all(len(ids) == 1 for ids in threads.values())
