"""VK Callback API: envelope, secret, and documented event payloads parsed into exact items."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import vk
from smm_ingest.adapters.networks.common import TEXT_LIMIT
from smm_ingest.domain.items import (
    AccountContext,
    DeletedItem,
    EditedItem,
    NewItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft, normalise
from smm_shared.events import Attachment, Author, MentionKind, Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "vk"
GROUP = 123456
ACCOUNT = AccountContext(Network.VK, frozenset({"-123456", "123456"}))
RECEIVED = datetime(2025, 11, 27, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-Key"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def parse(payload: dict[str, Any]) -> ParsedPayload:
    return vk.parse(payload, ACCOUNT, received_at=RECEIVED)


def only_new(parsed: ParsedPayload) -> MentionDraft:
    assert parsed.ignored == ()
    assert len(parsed.items) == 1
    item = parsed.items[0]
    assert isinstance(item, NewItem)
    return item.draft


def only_edit(parsed: ParsedPayload) -> EditedItem:
    assert parsed.ignored == ()
    assert len(parsed.items) == 1
    item = parsed.items[0]
    assert isinstance(item, EditedItem)
    return item


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 11, 27, hour, minute, second, tzinfo=UTC)


# --- envelope and secret ---------------------------------------------------------------------


def test_classify_confirmation() -> None:
    callback = vk.classify(load("confirmation"))

    assert callback == vk.VkCallback(type="confirmation", group_id=GROUP)
    assert callback.is_confirmation


def test_classify_event_reads_the_envelope() -> None:
    callback = vk.classify(load("wall_reply_new"))

    assert callback == vk.VkCallback(
        type="wall_reply_new",
        group_id=GROUP,
        event_id="4f1c2a0b9e7d6c5b4a3928171615141312111009",
        secret=SECRET,
    )
    assert not callback.is_confirmation


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"type": "confirmation"}, "payload.missing_field"),
        ({"group_id": GROUP}, "payload.missing_field"),
        ({"type": "confirmation", "group_id": "123456"}, "payload.bad_type"),
        ({"type": "confirmation", "group_id": True}, "payload.bad_type"),
        ({"type": "confirmation", "group_id": 0}, "payload.bad_value"),
        ({"type": "", "group_id": GROUP}, "payload.bad_value"),
        ({"type": 5, "group_id": GROUP}, "payload.bad_type"),
        ({"type": "message_new", "group_id": GROUP, "secret": 42}, "payload.bad_type"),
    ],
)
def test_classify_rejects_a_malformed_envelope(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(PayloadError) as caught:
        vk.classify(payload)
    assert caught.value.code == code


def test_classify_rejects_a_payload_that_is_not_an_object() -> None:
    with pytest.raises(PayloadError) as caught:
        vk.classify([1, 2])  # type: ignore[arg-type]
    assert caught.value.code == "payload.bad_type"


def test_verify_secret_accepts_our_secret() -> None:
    assert vk.verify_secret(load("wall_reply_new"), SECRET)


@pytest.mark.parametrize(
    "secret",
    [SECRET[:-1], SECRET + "x", SECRET.upper(), "", None, 12345, ["s3cr3t-Key"]],
)
def test_verify_secret_rejects_a_wrong_or_missing_secret(secret: object) -> None:
    payload = load("wall_reply_new")
    if secret is None:
        del payload["secret"]
    else:
        payload["secret"] = secret

    assert not vk.verify_secret(payload, SECRET)


def test_verify_secret_without_a_configured_secret_accepts_any_call() -> None:
    payload = load("wall_reply_new")
    del payload["secret"]

    assert vk.verify_secret(payload, None)


def test_verify_secret_with_a_blank_setting_fails_closed() -> None:
    payload = load("wall_reply_new")
    payload["secret"] = ""

    assert not vk.verify_secret(payload, "")


# --- events ----------------------------------------------------------------------------------


def test_confirmation_and_unknown_types_are_ignored_not_errors() -> None:
    assert parse(load("confirmation")) == ParsedPayload(
        ignored=("confirmation: server confirmation, not an event",)
    )
    assert parse(load("group_join")) == ParsedPayload(
        ignored=("group_join: event type not handled",)
    )
    forged = load("group_join") | {"type": "x\nERROR forged"}
    assert parse(forged).ignored == ("'x\\nERROR forged': event type not handled",)


def test_wall_comment_on_our_post() -> None:
    draft = only_new(parse(load("wall_reply_new")))

    assert draft == MentionDraft(
        network=Network.VK,
        kind=MentionKind.COMMENT,
        native_id="wall-123456_45_r801",
        author=Author(id="5501"),
        text="Когда будет доставка в Казань?",
        created_at=at(10, 15),
        thread_id="wall-123456_45",
        url="https://vk.com/wall-123456_45?reply=801",
        on_own_post=True,
    )
    assert normalise(draft).conversation_key == "vk:wall-123456_45"


def test_reply_in_a_comment_thread_names_its_parent_and_keeps_the_post_thread() -> None:
    draft = only_new(parse(load("wall_reply_new_reply")))

    assert draft.kind is MentionKind.REPLY
    assert draft.native_id == "wall-123456_45_r805"
    assert draft.parent_native_id == "wall-123456_45_r803"
    assert draft.thread_id == "wall-123456_45"
    assert draft.url == "https://vk.com/wall-123456_45?reply=805&thread=801"
    assert draft.created_at == at(10, 16)
    # The largest photo size and the link; the sticker has no URL and is skipped.
    assert draft.attachments == (
        Attachment(kind="image", url="https://sun9-1.userapi.com/s/v1/large.jpg"),
        Attachment(kind="link", url="https://example.org/page"),
    )


def test_reply_known_only_from_parents_stack_uses_its_last_entry() -> None:
    payload = load("wall_reply_new_reply")
    del payload["object"]["reply_to_comment"]

    draft = only_new(parse(payload))

    assert draft.parent_native_id == "wall-123456_45_r801"


def test_comment_on_someone_elses_wall_is_not_on_our_post() -> None:
    payload = load("wall_reply_new")
    payload["object"]["owner_id"] = payload["object"]["post_owner_id"] = 777

    draft = only_new(parse(payload))

    assert not draft.on_own_post
    assert draft.native_id == "wall777_45_r801"


def test_comment_by_a_community_has_a_negative_author_id() -> None:
    payload = load("wall_reply_new")
    payload["object"]["from_id"] = -999

    assert only_new(parse(payload)).author == Author(id="-999")


def test_wall_comment_edit_is_an_edit_of_the_same_item() -> None:
    edit = only_edit(parse(load("wall_reply_edit")))

    assert edit.edited_at == RECEIVED
    assert edit.draft.native_id == "wall-123456_45_r801"
    assert edit.draft.text == "Когда будет доставка в Казань и Самару?"
    assert edit.draft.created_at == at(10, 15)


def test_restored_comment_is_new_again_with_the_same_id() -> None:
    restored = only_new(parse(load("wall_reply_restore")))

    assert restored == only_new(parse(load("wall_reply_new")))


def test_own_comment_is_skipped() -> None:
    parsed = parse(load("wall_reply_own"))

    assert parsed.items == ()
    assert parsed.ignored == ("wall_reply_new: own comment under wall-123456_45",)


def test_wall_comment_deleted_by_its_author() -> None:
    assert parse(load("wall_reply_delete")).items == (
        DeletedItem(
            network=Network.VK,
            native_id="wall-123456_45_r801",
            deleted_at=RECEIVED,
            deleted_by="author",
        ),
    )


@pytest.mark.parametrize(
    ("deleter", "author", "expected"),
    [
        (-GROUP, 5501, "moderator"),  # the community itself
        (-GROUP, None, "moderator"),
        (7001, 5501, "moderator"),  # a manager: only they may delete others' comments here
        (7001, None, "unknown"),  # author not in the payload: cannot tell
        (None, 5501, "unknown"),
    ],
)
def test_who_deleted_a_wall_comment(deleter: int | None, author: int | None, expected: str) -> None:
    payload = load("wall_reply_delete")
    obj = payload["object"]
    for key, value in (("deleter_id", deleter), ("user_id", author)):
        if value is None:
            del obj[key]
        else:
            obj[key] = value

    (item,) = parse(payload).items

    assert isinstance(item, DeletedItem)
    assert item.deleted_by == expected


def test_deleter_on_a_foreign_wall_is_unknown() -> None:
    payload = load("wall_reply_delete")
    payload["object"].update(owner_id=777, deleter_id=7001)

    (item,) = parse(payload).items

    assert isinstance(item, DeletedItem)
    assert item.deleted_by == "unknown"


def test_visitor_post_on_our_wall_is_a_post_mention() -> None:
    draft = only_new(parse(load("wall_post_new_visitor")))

    assert draft == MentionDraft(
        network=Network.VK,
        kind=MentionKind.POST,
        native_id="wall-123456_46",
        author=Author(id="5503"),
        text="Заказ #4411 не пришёл уже две недели",
        created_at=at(10, 23, 20),
        thread_id="wall-123456_46",
        url="https://vk.com/wall-123456_46",
    )


def test_our_own_post_is_skipped() -> None:
    parsed = parse(load("wall_post_new_own"))

    assert parsed == ParsedPayload(ignored=("wall_post_new: own post wall-123456_47",))


def test_own_post_recognised_by_own_ids_when_group_differs() -> None:
    payload = load("wall_post_new_own")
    payload["object"]["from_id"] = payload["object"]["owner_id"] = -555
    account = AccountContext(Network.VK, frozenset({"555"}))

    assert vk.parse(payload, account, received_at=RECEIVED).items == ()


def test_a_user_whose_id_equals_our_group_id_is_not_us() -> None:
    payload = load("wall_post_new_visitor")
    payload["object"]["from_id"] = GROUP  # user 123456, not community 123456

    assert only_new(parse(payload)).author == Author(id="123456")


def test_suggested_post_is_a_mention() -> None:
    draft = only_new(parse(load("wall_post_new_suggest")))

    assert draft.kind is MentionKind.POST
    assert draft.native_id == "wall-123456_48"
    assert draft.author == Author(id="5504")


def test_scheduled_post_is_ours_and_skipped() -> None:
    payload = load("wall_post_new_visitor")
    payload["object"]["post_type"] = "postpone"

    assert parse(payload).items == ()


def test_repost_of_our_post() -> None:
    draft = only_new(parse(load("wall_repost")))

    assert draft == MentionDraft(
        network=Network.VK,
        kind=MentionKind.REPOST,
        native_id="wall5505_912",
        author=Author(id="5505"),
        text="Смотрите, что нашёл",
        created_at=at(10, 40),
        thread_id="wall5505_912",
        url="https://vk.com/wall5505_912",
        parent_native_id="wall-123456_45",
        on_own_post=True,
    )


def test_board_post_in_our_topic() -> None:
    draft = only_new(parse(load("board_post_new")))

    assert draft == MentionDraft(
        network=Network.VK,
        kind=MentionKind.COMMENT,
        native_id="topic-123456_39001_p17",
        author=Author(id="5506"),
        text="Где найти таблицу размеров?",
        created_at=at(10, 56, 40),
        thread_id="topic-123456_39001",
        url="https://vk.com/topic-123456_39001?post=17",
        on_own_post=True,
    )


def test_board_post_edit_and_delete_use_the_same_id() -> None:
    payload = load("board_post_new")
    payload["type"] = "board_post_edit"

    assert only_edit(parse(payload)).draft.native_id == "topic-123456_39001_p17"
    assert parse(load("board_post_delete")).items == (
        DeletedItem(Network.VK, "topic-123456_39001_p17", RECEIVED, "unknown"),
    )


def test_photo_comment() -> None:
    draft = only_new(parse(load("photo_comment_new")))

    assert draft == MentionDraft(
        network=Network.VK,
        kind=MentionKind.COMMENT,
        native_id="photo-123456_457239100_c3",
        author=Author(id="5507"),
        text="А есть такая же в синем?",
        created_at=at(11, 13, 20),
        thread_id="photo-123456_457239100",
        url="https://vk.com/photo-123456_457239100",
        on_own_post=True,
    )


def test_photo_comment_deleted_by_a_manager() -> None:
    assert parse(load("photo_comment_delete")).items == (
        DeletedItem(Network.VK, "photo-123456_457239100_c3", RECEIVED, "moderator"),
    )


def test_video_comment_edit_is_a_reply_edit() -> None:
    edit = only_edit(parse(load("video_comment_edit")))

    assert edit.edited_at == RECEIVED
    assert edit.draft.kind is MentionKind.REPLY
    assert edit.draft.native_id == "video-123456_456239020_c9"
    assert edit.draft.parent_native_id == "video-123456_456239020_c8"
    assert edit.draft.thread_id == "video-123456_456239020"


def test_video_comment_deleted_by_the_community() -> None:
    assert parse(load("video_comment_delete")).items == (
        DeletedItem(Network.VK, "video-123456_456239020_c9", RECEIVED, "moderator"),
    )


def test_message_new_is_a_direct_message() -> None:
    draft = only_new(parse(load("message_new")))

    assert draft == MentionDraft(
        network=Network.VK,
        kind=MentionKind.DIRECT_MESSAGE,
        native_id="dm123456_5510_m77",
        author=Author(id="5510"),
        text="Здравствуйте! Хочу вернуть товар",
        created_at=at(10, 15),
        thread_id="dm123456_5510",
    )
    assert normalise(draft).conversation_key == "vk:dm123456_5510"


def test_message_in_the_pre_5_103_shape_parses_the_same() -> None:
    payload = load("message_new")
    payload["object"] = payload["object"]["message"]

    assert only_new(parse(payload)) == only_new(parse(load("message_new")))


def test_message_reply_names_its_parent() -> None:
    payload = load("message_new")
    payload["object"]["message"]["reply_message"] = {"conversation_message_id": 70, "text": "x"}

    assert only_new(parse(payload)).parent_native_id == "dm123456_5510_m70"


def test_message_edit_uses_update_time() -> None:
    edit = only_edit(parse(load("message_edit")))

    assert edit.edited_at == at(10, 16)
    assert edit.draft.native_id == "dm123456_5510_m77"
    assert edit.draft.text == "Здравствуйте! Хочу вернуть товар, чек есть"


def test_outgoing_messages_are_ours() -> None:
    payload = load("message_new")
    payload["object"]["message"]["out"] = 1

    assert parse(payload).items == ()
    assert parse(load("message_reply")).items == ()


def test_text_is_cut_to_the_contract_limit() -> None:
    payload = load("wall_reply_new")
    payload["object"]["text"] = "я" * (TEXT_LIMIT + 10)

    assert only_new(parse(payload)).text == "я" * TEXT_LIMIT


def test_missing_text_is_empty_text() -> None:
    payload = load("wall_reply_new")
    del payload["object"]["text"]

    assert only_new(parse(payload)).text == ""


def test_without_received_at_deletions_are_dated_now() -> None:
    before = datetime.now(UTC)
    (item,) = vk.parse(load("wall_reply_delete"), ACCOUNT).items
    after = datetime.now(UTC)

    assert isinstance(item, DeletedItem)
    assert before <= item.deleted_at <= after


def test_a_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        vk.parse(load("wall_reply_delete"), ACCOUNT, received_at=datetime(2025, 11, 27))


@pytest.mark.parametrize(
    ("mutate", "code", "where"),
    [
        (lambda p: p.pop("object"), "payload.missing_field", "object"),
        (lambda p: p.update(object=[1]), "payload.bad_type", "object"),
        (lambda p: p["object"].pop("from_id"), "payload.missing_field", "object.from_id"),
        (lambda p: p["object"].update(from_id="5501"), "payload.bad_type", "object.from_id"),
        (lambda p: p["object"].update(date=-1), "payload.bad_value", "object.date"),
        (lambda p: p["object"].update(date=10**12), "payload.bad_value", "object.date"),
        (lambda p: p["object"].update(id=2**64), "payload.bad_value", "object.id"),
        (lambda p: p["object"].update(text=["hi"]), "payload.bad_type", "object.text"),
    ],
)
def test_malformed_events_raise_payload_errors_naming_the_field(
    mutate: Any, code: str, where: str
) -> None:
    payload = copy.deepcopy(load("wall_reply_new"))
    mutate(payload)

    with pytest.raises(PayloadError) as caught:
        parse(payload)

    assert caught.value.code == code
    assert where in caught.value.message


def test_every_sample_normalises_into_a_valid_mention() -> None:
    for path in sorted(PAYLOADS.glob("*.json")):
        for item in parse(load(path.stem)).items:
            if isinstance(item, NewItem | EditedItem):
                mention = normalise(item.draft)
                assert mention.conversation_key.startswith("vk:")
                assert mention.created_at.tzinfo is not None
