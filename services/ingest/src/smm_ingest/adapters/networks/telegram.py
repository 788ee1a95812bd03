"""Telegram Bot API webhooks: the secret-token header, and an ``Update`` parsed into items.

Pure functions over the header value or the JSON-decoded update; no I/O.

Identifiers: a message's ``native_id`` is ``{chat_id}_{message_id}`` (message ids are unique
only within a chat). ``thread_id`` keeps conversations simple: a private chat is one thread,
``chat{chat_id}``; in a group, supergroup or channel the thread is the message a reply
answers, ``chat{chat_id}_m{reply_to_message.message_id}``, or the message itself. A reply's
``parent_native_id`` is the message it answers.

Kinds: private chat → ``direct_message``; group/supergroup → ``comment``; channel post →
``post``. ``on_own_post`` is true when the message replies to one of ours (our bot, or a post
of our channel forwarded into its discussion group).

Own content, skipped into ``ignored``: messages from an id in ``AccountContext.own_ids``
(our bot; the bot id is the number before the colon in its token), messages sent as one of
our chats (``sender_chat``), and posts in our own channels.

Attachments stay empty: Telegram gives ``file_id`` values, not URLs, and turning one into a
URL needs a ``getFile`` call with the bot token (I/O, and the URL would embed the token).
A message with media but no caption is still a mention, with empty text; service messages
(members joining, pins...) are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from smm_ingest.adapters.networks.common import (
    Fields,
    as_fields,
    join_name,
    loggable,
    make_author,
    same_secret,
    truncate_text,
)
from smm_ingest.domain.items import AccountContext, EditedItem, NewItem, ParsedPayload
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import Author, MentionKind, Network

#: The update fields we turn into items; any other field of an update is skipped.
MESSAGE_FIELDS = ("message", "edited_message", "channel_post", "edited_channel_post")
#: Message fields that make a message without text a real message, not a service message.
CONTENT_FIELDS = frozenset(
    {
        "photo", "document", "video", "audio", "voice", "sticker", "animation", "video_note",
        "contact", "location", "venue", "poll", "dice", "story", "paid_media",
    }
)  # fmt: skip
#: Public usernames: 4-32 of letters, digits and underscores (anything else makes no URL).
_USERNAME = re.compile(r"[A-Za-z0-9_]{4,32}")


def verify_secret_token(header: str | None, expected: str) -> bool:
    """Whether ``X-Telegram-Bot-Api-Secret-Token`` equals our secret (constant time)."""
    if not expected or header is None:
        return False
    return same_secret(header, expected)


def parse(update: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one ``Update`` into items; update types other than messages land in ``ignored``."""
    fields = as_fields(update, "")
    fields.req_int("update_id")
    for name in MESSAGE_FIELDS:
        message = fields.opt_obj(name)
        if message is not None:
            return _message(message, name, account)
    others = sorted(key for key in fields.data if key != "update_id")
    reason = (
        f"{loggable(others[0])}: update type not handled" if others else "update without content"
    )
    return ParsedPayload(ignored=(reason,))


def _message(message: Fields, update_type: str, account: AccountContext) -> ParsedPayload:
    own = account.own_ids
    chat = message.req_obj("chat")
    chat_id = chat.req_int("id")
    chat_type = chat.req_str("type")
    message_id = message.req_int("message_id")
    native = f"{chat_id}_{message_id}"
    sender = message.opt_obj("from")
    sender_chat = message.opt_obj("sender_chat")
    is_channel_post = update_type in ("channel_post", "edited_channel_post")

    def skip(reason: str) -> ParsedPayload:
        return ParsedPayload(ignored=(f"{update_type}: {reason} {native}",))

    if is_channel_post and str(chat_id) in own:
        return skip("post in our own channel")
    if sender is not None and str(sender.req_int("id")) in own:
        return skip("own message")
    if sender_chat is not None and str(sender_chat.req_int("id")) in own:
        return skip("message sent as our chat")
    text = message.opt_str("text")
    if text is None:
        text = message.opt_str("caption")
    if text is None and not CONTENT_FIELDS & message.data.keys():
        return skip("service message")

    reply = message.opt_obj("reply_to_message")
    reply_id = reply.req_int("message_id") if reply is not None else None
    if chat_type == "private":
        kind, thread = MentionKind.DIRECT_MESSAGE, f"chat{chat_id}"
    else:
        kind = MentionKind.POST if is_channel_post else MentionKind.COMMENT
        thread = f"chat{chat_id}_m{reply_id if reply_id is not None else message_id}"
    draft = MentionDraft(
        network=Network.TELEGRAM,
        kind=kind,
        native_id=native,
        author=_author(sender, chat, sender_chat),
        text=truncate_text(text or ""),
        created_at=message.req_time("date"),
        thread_id=thread,
        url=_url(chat, chat_id, chat_type, message_id),
        parent_native_id=f"{chat_id}_{reply_id}" if reply_id is not None else None,
        on_own_post=reply is not None and _is_ours(reply, own),
    )
    if update_type.startswith("edited_"):
        edited_at = message.req_time("edit_date")
        return ParsedPayload(items=(EditedItem(draft=draft, edited_at=edited_at),))
    return ParsedPayload(items=(NewItem(draft=draft),))


def _author(sender: Fields | None, chat: Fields, sender_chat: Fields | None) -> Author:
    """The user who wrote it; a chat when it was sent as one (or a channel post has no user)."""
    if sender_chat is None and sender is not None:
        return make_author(
            str(sender.req_int("id")),
            handle=sender.opt_str("username"),
            display_name=join_name(sender.opt_str("first_name"), sender.opt_str("last_name")),
        )
    as_chat = sender_chat or chat
    return make_author(
        str(as_chat.req_int("id")),
        handle=as_chat.opt_str("username"),
        display_name=as_chat.opt_str("title"),
    )


def _is_ours(message: Fields, own: frozenset[str]) -> bool:
    """Whether a (replied-to) message was written by our bot or sent as one of our chats."""
    for key in ("from", "sender_chat"):
        who = message.opt_obj(key)
        if who is not None and str(who.req_int("id")) in own:
            return True
    return False


def _url(chat: Fields, chat_id: int, chat_type: str, message_id: int) -> str | None:
    """``t.me`` link: public chats by username; private supergroups/channels via ``t.me/c``."""
    username = chat.opt_str("username")
    if chat_type != "private" and username and _USERNAME.fullmatch(username):
        return f"https://t.me/{username}/{message_id}"
    # Private supergroup and channel ids are -100<internal id>; t.me/c/<internal id> opens the
    # message for members, which our team is.
    text = str(chat_id)
    if chat_type in ("supergroup", "channel") and text.startswith("-100") and len(text) > 4:
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return None
