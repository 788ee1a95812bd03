"""Mastodon: documented statuses, notifications and stream envelopes parsed into exact items."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import mastodon
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

PAYLOADS = Path(__file__).parent / "payloads" / "mastodon"
HOST = "mastodon.social"
#: Our account on mastodon.social: its instance-local id and its ``acct``.
ACCOUNT = AccountContext(Network.MASTODON, frozenset({"14715", "trwnh"}))
NOBODY = AccountContext(Network.MASTODON, frozenset())


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def at(hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 11, 27, hour, minute, second, micro, tzinfo=UTC)


def only_new(parsed: ParsedPayload) -> MentionDraft:
    assert parsed.ignored == ()
    (item,) = parsed.items
    assert isinstance(item, NewItem)
    normalise(item.draft)  # every draft must satisfy the Mention contract
    return item.draft


def only_edit(parsed: ParsedPayload) -> EditedItem:
    assert parsed.ignored == ()
    (item,) = parsed.items
    assert isinstance(item, EditedItem)
    return item


def wrap(event: str, payload: object, received_at: str = "2025-11-27T18:00:00+00:00") -> Any:
    return {"event": event, "payload": payload, "instance": HOST, "received_at": received_at}


ZSC = Author(id="zsc@mastodon.social", handle="zsc@mastodon.social", display_name="Zoe S. C.")
ZSC_REPLY = MentionDraft(
    network=Network.MASTODON,
    kind=MentionKind.REPLY,
    native_id="mastodon.social/113541234567890123",
    author=ZSC.model_copy(update={"followers": 120}),
    text="@trwnh my order & the refund haven't arrived :(\nOrder #4411, placed last week\n\n"
    "Can you help?",
    created_at=at(10, 15, 1, 940000),
    thread_id="mastodon.social/113541000000000001",
    url="https://mastodon.social/@zsc/113541234567890123",
    language="en",
    parent_native_id="mastodon.social/113541000000000001",
    on_own_post=True,
    attachments=(
        Attachment(
            kind="image",
            url="https://files.mastodon.social/media_attachments/files/1/original/receipt.png",
        ),
    ),
)
HASHTAG_POST = MentionDraft(
    network=Network.MASTODON,
    kind=MentionKind.POST,
    native_id="mastodon.social/109348684737626801",
    author=Author(
        id="chrismo@ruby.social", handle="chrismo@ruby.social", display_name="chrismo", followers=40
    ),
    text="#OurBrand\n\nHere's a solo #piano track of mine called Gravity Assist\n\n"
    "https://cstudios.bandcamp.com/track/celestia-gravity-assist-no-19-var-2",
    created_at=at(16, 8, 30),
    thread_id="mastodon.social/109348684737626801",
    url="https://ruby.social/@chrismo/109348684454557541",
    language="en-GB",
)


# --- notifications ----------------------------------------------------------------------------


def test_mention_notification_is_the_status_as_a_reply_to_our_post() -> None:
    draft = only_new(
        mastodon.parse_notification(load("notification_mention"), ACCOUNT, instance=HOST)
    )
    assert draft == ZSC_REPLY


def test_direct_mention_is_a_direct_message_with_full_link_text_and_remote_media() -> None:
    draft = only_new(
        mastodon.parse_notification(load("notification_mention_direct"), ACCOUNT, instance=HOST)
    )

    assert draft == MentionDraft(
        network=Network.MASTODON,
        kind=MentionKind.DIRECT_MESSAGE,
        native_id="mastodon.social/113541299999999999",
        author=Author(
            id="chrismo@ruby.social",
            handle="chrismo@ruby.social",
            display_name="chrismo",
            followers=40,
        ),
        # The link's hidden "https://" and "ise-plan" spans are part of the text a reader copies.
        text="@trwnh hi, a private question about https://example.com/pricing/enterprise-plan",
        created_at=at(10, 59, 59),
        thread_id="mastodon.social/113541299999999999",
        url="https://ruby.social/@chrismo/113541299999999999",
        language=None,
        attachments=(
            Attachment(kind="video", url="https://files.ruby.social/media/clip.mp4"),
            Attachment(kind="other", url="https://files.ruby.social/media/file.bin"),
        ),
    )


def test_update_notification_of_a_mention_is_an_edit_at_edited_at() -> None:
    edit = only_edit(
        mastodon.parse_notification(load("notification_update"), ACCOUNT, instance=HOST)
    )

    assert edit.edited_at == at(12, 30)
    assert edit.draft == replace(
        ZSC_REPLY, text="@trwnh the refund arrived, thanks!", attachments=()
    )


def test_update_notification_without_edited_at_uses_the_notification_time() -> None:
    payload = load("notification_update")
    payload["status"]["edited_at"] = None

    edit = only_edit(mastodon.parse_notification(payload, ACCOUNT, instance=HOST))

    assert edit.edited_at == at(12, 30, 5)


def test_update_notification_of_a_status_that_is_not_a_mention_is_ignored() -> None:
    parsed = mastodon.parse_notification(
        load("notification_update_unrelated"), ACCOUNT, instance=HOST
    )
    assert parsed == ParsedPayload(
        ignored=("notification 34976001: edit of a status that is not a mention",)
    )


def test_update_notification_counts_a_mention_by_our_full_address() -> None:
    payload = load("notification_update_unrelated")
    payload["status"]["mentions"] = [
        {"id": "999", "username": "brand", "acct": "Brand@Other.Example", "url": "https://x.test"}
    ]
    own = AccountContext(Network.MASTODON, frozenset({"brand@other.example"}))

    edit = only_edit(mastodon.parse_notification(payload, own, instance=HOST))

    assert edit.draft.native_id == "mastodon.social/113541300000000000"


def test_other_notification_types_are_ignored() -> None:
    parsed = mastodon.parse_notification(load("notification_favourite"), ACCOUNT, instance=HOST)
    assert parsed == ParsedPayload(ignored=("notification 34975535: type favourite not handled",))


def test_mention_notification_without_a_status_is_a_missing_field() -> None:
    payload = load("notification_mention")
    del payload["status"]

    with pytest.raises(PayloadError) as raised:
        mastodon.parse_notification(payload, ACCOUNT, instance=HOST)

    assert raised.value.code == "payload.missing_field"
    assert raised.value.message == "status is required"


# --- statuses ---------------------------------------------------------------------------------


def test_hashtag_status_is_a_post_with_paragraphs_and_the_full_link() -> None:
    draft = only_new(mastodon.parse_status(load("status_hashtag"), ACCOUNT, instance=HOST))
    assert draft == HASHTAG_POST


def test_boost_of_our_post_is_a_repost_with_the_boosted_text_media_and_link() -> None:
    draft = only_new(mastodon.parse_status(load("status_reblog"), ACCOUNT, instance=HOST))

    assert draft == MentionDraft(
        network=Network.MASTODON,
        kind=MentionKind.REPOST,
        native_id="mastodon.social/113541400000000000",
        # An empty display name falls back to the username; the handle keeps the case of acct.
        author=Author(
            id="anna@fosstodon.org", handle="Anna@fosstodon.org", display_name="anna", followers=7
        ),
        text="Our new release is out: faster sync & offline mode",
        created_at=at(13, 0),
        thread_id="mastodon.social/113541000000000001",
        url="https://mastodon.social/@trwnh/113541000000000001",
        language="en",
        parent_native_id="mastodon.social/113541000000000001",
        on_own_post=True,
        attachments=(Attachment(kind="video", url="https://files.mastodon.social/media/demo.mp4"),),
    )


def test_content_warning_comes_first_and_times_convert_to_utc() -> None:
    draft = only_new(mastodon.parse_status(load("status_content_warning"), ACCOUNT, instance=HOST))

    assert draft.text == "OurBrand Akku-Kritik\n\nDer Akku hält keine zwei Stunden.\n\nzitiert"
    assert draft.created_at == at(13, 0)  # 14:00+01:00
    assert draft.kind is MentionKind.REPLY
    assert draft.on_own_post is False
    assert draft.language == "de"


def test_our_own_status_is_ignored() -> None:
    parsed = mastodon.parse_status(load("status_own"), ACCOUNT, instance=HOST)
    assert parsed == ParsedPayload(ignored=("own status mastodon.social/113541000000000002",))


@pytest.mark.parametrize("own", ["trwnh", "TRWNH@mastodon.social", "14715"])
def test_own_status_is_recognised_by_id_acct_or_full_address(own: str) -> None:
    account = AccountContext(Network.MASTODON, frozenset({own}))
    parsed = mastodon.parse_status(load("status_own"), account, instance=HOST)
    assert parsed.items == ()


def test_the_same_acct_on_another_instance_is_not_ours() -> None:
    payload = load("status_hashtag")
    payload["account"]["acct"] = "trwnh@elsewhere.example"
    own = AccountContext(Network.MASTODON, frozenset({"trwnh@mastodon.social"}))

    draft = only_new(mastodon.parse_status(payload, own, instance=HOST))

    assert draft.author.id == "trwnh@elsewhere.example"


def test_ids_are_scoped_by_the_instance_we_read_from() -> None:
    draft = only_new(
        mastodon.parse_status(load("status_hashtag"), NOBODY, instance="Social.Example:8443")
    )
    assert draft.native_id == "social.example:8443/109348684737626801"
    assert draft.thread_id == draft.native_id


def test_status_without_url_links_to_its_uri() -> None:
    payload = load("status_hashtag")
    payload["url"] = None
    draft = only_new(mastodon.parse_status(payload, NOBODY, instance=HOST))
    assert draft.url == "https://ruby.social/users/chrismo/statuses/109348684454557541"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "not a url", "", 42])
def test_unusable_urls_are_dropped_not_fatal(url: object) -> None:
    payload = load("status_hashtag")
    payload["url"] = url
    payload["uri"] = "tag:server,2025:status/1"
    draft = only_new(mastodon.parse_status(payload, NOBODY, instance=HOST))
    assert draft.url is None


@pytest.mark.parametrize("language", ["english", "e", "en_US", "x" * 17])
def test_unusable_language_tags_become_none(language: str) -> None:
    payload = load("status_hashtag")
    payload["language"] = language
    assert only_new(mastodon.parse_status(payload, NOBODY, instance=HOST)).language is None


@pytest.mark.parametrize(
    ("created_at", "code"),
    [
        ("yesterday", "payload.bad_value"),
        ("0001-01-01T00:00:00+01:00", "payload.bad_value"),
        (1700000000, "payload.bad_type"),
        (None, "payload.missing_field"),
    ],
)
def test_unreadable_creation_times_are_payload_errors(created_at: object, code: str) -> None:
    payload = load("status_hashtag")
    payload["created_at"] = created_at
    with pytest.raises(PayloadError) as raised:
        mastodon.parse_status(payload, NOBODY, instance=HOST)
    assert raised.value.code == code


def test_a_time_without_a_zone_is_taken_as_utc() -> None:
    payload = load("status_hashtag")
    payload["created_at"] = "2025-11-27T16:08:30"
    assert only_new(mastodon.parse_status(payload, NOBODY, instance=HOST)).created_at == at(
        16, 8, 30
    )


@pytest.mark.parametrize("instance", ["", "https://mastodon.social", "a b", "x" * 121 + ".org"])
def test_an_unusable_instance_is_a_bad_value(instance: str) -> None:
    with pytest.raises(PayloadError) as raised:
        mastodon.parse_status(load("status_hashtag"), NOBODY, instance=instance)
    assert raised.value.code == "payload.bad_value"


def test_huge_content_is_cut_to_the_contract_limit() -> None:
    payload = load("status_hashtag")
    payload["content"] = "<p>" + "a" * 150_000 + "</p>"
    assert len(only_new(mastodon.parse_status(payload, NOBODY, instance=HOST)).text) == 100_000


# --- stream envelopes -------------------------------------------------------------------------


def test_stream_update_is_a_new_status() -> None:
    assert only_new(mastodon.parse_stream_event(load("stream_update"), ACCOUNT)) == HASHTAG_POST


def test_stream_notification_reads_like_a_polled_one() -> None:
    assert only_new(mastodon.parse_stream_event(load("stream_notification"), ACCOUNT)) == ZSC_REPLY


def test_stream_status_update_without_edited_at_is_edited_when_received() -> None:
    edit = only_edit(mastodon.parse_stream_event(load("stream_status_update"), ACCOUNT))

    assert edit.edited_at == at(16, 10, 44)
    assert edit.draft.text == "#OurBrand but edited"
    assert edit.draft.native_id == HASHTAG_POST.native_id


def test_stream_status_update_prefers_edited_at() -> None:
    payload = load("stream_status_update")
    payload["payload"]["edited_at"] = "2025-11-27T16:10:43.000Z"
    assert only_edit(mastodon.parse_stream_event(payload, ACCOUNT)).edited_at == at(16, 10, 43)


def test_stream_delete_removes_the_status_by_its_scoped_id() -> None:
    parsed = mastodon.parse_stream_event(load("stream_delete"), ACCOUNT)

    assert parsed == ParsedPayload(
        items=(
            DeletedItem(
                network=Network.MASTODON,
                native_id="mastodon.social/109348684737626801",
                deleted_at=at(17, 0),
            ),
        )
    )


def test_stream_delete_matches_the_mention_a_stream_update_created() -> None:
    created = only_new(mastodon.parse_stream_event(load("stream_update"), ACCOUNT))
    (deleted,) = mastodon.parse_stream_event(load("stream_delete"), ACCOUNT).items
    assert isinstance(deleted, DeletedItem)
    assert deleted.native_id == created.native_id


def test_stream_delete_needs_the_time_it_was_received() -> None:
    payload = load("stream_delete")
    del payload["received_at"]
    with pytest.raises(PayloadError) as raised:
        mastodon.parse_stream_event(payload, ACCOUNT)
    assert raised.value.message == "received_at is required"


def test_unhandled_stream_events_are_ignored() -> None:
    parsed = mastodon.parse_stream_event(load("stream_filters_changed"), ACCOUNT)
    assert parsed == ParsedPayload(ignored=("filters_changed: stream event not handled",))


def test_stream_update_of_our_own_status_is_ignored() -> None:
    parsed = mastodon.parse_stream_event(wrap("update", load("status_own")), ACCOUNT)
    assert parsed == ParsedPayload(ignored=("own status mastodon.social/113541000000000002",))


def test_a_stream_event_whose_json_did_not_decode_is_a_bad_type() -> None:
    with pytest.raises(PayloadError) as raised:
        mastodon.parse_stream_event(wrap("update", '{"id": "1", truncated'), ACCOUNT)
    assert raised.value.code == "payload.bad_type"
    assert raised.value.message == "payload must be an object, not str"


def test_envelope_round_trips_through_the_parser() -> None:
    built = mastodon.envelope(
        "update", copy.deepcopy(load("status_hashtag")), instance=HOST, received_at=at(16, 9)
    )
    assert built["received_at"] == "2025-11-27T16:09:00+00:00"
    assert only_new(mastodon.parse_stream_event(built, ACCOUNT)) == HASHTAG_POST


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Mastodon.Social/", "mastodon.social"),
        ("https://social.example:8443", "social.example:8443"),
        ("http://localhost:3000/api", "localhost:3000"),
    ],
)
def test_instance_host(url: str, host: str) -> None:
    assert mastodon.instance_host(url) == host


@pytest.mark.parametrize("url", ["mastodon.social", "", "https://", "https://a b.example"])
def test_instance_host_rejects_urls_without_a_host(url: str) -> None:
    with pytest.raises(ValueError, match="is not an instance URL"):
        mastodon.instance_host(url)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("a<br>b<br />c", "a\nb\nc"),
        ("<p>a</p>\n<p>b</p>", "a\n\nb"),
        ("a <b> b</b>   c\n d", "a b c d"),
        ("&lt;script&gt; &amp;amp; &#39;q&#39; &eacute;", "<script> &amp; 'q' é"),
        ('<span class="h-card"><a class="u-url mention">@<span>x</span></a></span>', "@x"),
        ("<ul><li>one</li><li>two</li></ul><p>after</p>", "one\ntwo\n\nafter"),
        ("<blockquote><p>quoted</p></blockquote>reply", "quoted\n\nreply"),
        ("<pre>x =  1\n  y</pre>", "x =  1\n  y"),
        ("<script>alert(1)</script><style>p{}</style>visible", "visible"),
        ("<p>a<br><br><br><br>b</p>", "a\n\nb"),
        ("<![ x ]>after", "after"),
        ("unclosed <p>tag", "unclosed\n\ntag"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert mastodon.html_to_text(html) == text
