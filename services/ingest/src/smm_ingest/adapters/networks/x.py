"""X (Twitter) API v2: one tweet envelope parsed into items. Pure functions, no I/O.

The envelope is what a filtered-stream line carries, and what the mentions poller hands in for
each tweet of a timeline page: ``{"data": tweet, "includes": {"users": [...], "tweets":
[...]}, "matching_rules": [...]}``; ``matching_rules`` is not read (the stream client filters on
it).

Identifiers: ``native_id`` is the tweet id; ``thread_id`` is ``conversation_id`` (the id of
the tweet that started the conversation); ``parent_native_id`` is the tweet a reply answers,
or the tweet a quote or a retweet refers to.

Kinds: a tweet that replies (``referenced_tweets`` type ``replied_to``) → ``reply``; a
retweet (``retweeted``) → ``repost``, its text as X writes it (``RT @user: ...``); anything
else → ``post``, quote tweets included. ``on_own_post`` is true when ``in_reply_to_user_id``
is one of ours. Tweets written by one of our accounts (``author_id`` in
``AccountContext.own_ids``) are skipped into ``ignored``.

Long posts: ``text`` holds at most the first 280 characters of a post longer than that; the
whole text is in ``note_tweet.text`` when ``tweet.fields`` asks for ``note_tweet``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from smm_ingest.adapters.networks.common import (
    BAD_TYPE,
    BAD_VALUE,
    Fields,
    as_fields,
    check_id,
    make_attachment,
    make_author,
    truncate_text,
)
from smm_ingest.domain.items import AccountContext, NewItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.events import Attachment, Author, MentionKind, Network

#: ``lang`` values that name no language: undetermined, no linguistic content, and X's own
#: codes for tweets of only mentions, cashtags, hashtags, media links or very short text.
NO_LANGUAGE = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst"})
#: X still writes withdrawn ISO 639 codes for some languages (Hebrew is ``iw`` in its list).
LEGACY_LANGUAGES = {"iw": "he", "in": "id", "ji": "yi"}
#: ``Mention.language`` accepts at most this many characters.
LANGUAGE_LIMIT = 16
#: A BCP 47 tag as X writes them (``en``, ``pt``, ``hi-Latn``, ``zh-TW``); anything else is dropped.
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")
#: Usernames: 1-15 letters, digits and underscores; anything else makes no URL.
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")


def parse_tweet_envelope(payload: Mapping[str, Any], account: AccountContext) -> ParsedPayload:
    """Turn one tweet envelope into a mention; our own tweets land in ``ignored``."""
    envelope = as_fields(payload, "")
    tweet = envelope.req_obj("data")
    tweet_id = _snowflake(tweet, "id")
    author_id = _snowflake(tweet, "author_id")
    if author_id in account.own_ids:
        return ParsedPayload(ignored=(f"own tweet {tweet_id}",))
    includes = envelope.opt_obj("includes")
    user = _user(includes, author_id)
    handle = user.opt_str("username") if user is not None else None

    kind, parent = MentionKind.POST, None
    references = {
        ref.req_str("type"): _snowflake(ref, "id") for ref in tweet.objs("referenced_tweets")
    }
    if "replied_to" in references:
        kind, parent = MentionKind.REPLY, references["replied_to"]
    elif "retweeted" in references:
        kind, parent = MentionKind.REPOST, references["retweeted"]
    elif "quoted" in references:
        parent = references["quoted"]

    reply_to_user = _opt_snowflake(tweet, "in_reply_to_user_id")
    draft = MentionDraft(
        network=Network.X,
        kind=kind,
        native_id=tweet_id,
        author=_author(author_id, user),
        text=truncate_text(_text(tweet)),
        created_at=_utc_from_iso(tweet, "created_at"),
        thread_id=_opt_snowflake(tweet, "conversation_id"),
        url=tweet_url(handle, tweet_id),
        language=_language(tweet.opt_str("lang")),
        parent_native_id=parent,
        on_own_post=reply_to_user is not None and reply_to_user in account.own_ids,
        attachments=_links(tweet),
    )
    return ParsedPayload(items=(NewItem(draft=draft),))


def tweet_url(username: str | None, tweet_id: str) -> str:
    """The tweet's public URL; ``/i/web/status`` when the author's username is unknown."""
    if username and _USERNAME.fullmatch(username):
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def _snowflake(fields: Fields, key: str) -> str:
    """A required X id: a decimal string (an integer is accepted too)."""
    value = fields.req_id(key)
    if not value.isdigit():
        raise PayloadError(BAD_VALUE, f"{fields.where(key)} is not an X id")
    return value


def _opt_snowflake(fields: Fields, key: str) -> str | None:
    return _snowflake(fields, key) if fields.has(key) else None


def _user(includes: Fields | None, user_id: str) -> Fields | None:
    """The expanded user object with ``user_id``, if X included it."""
    if includes is None:
        return None
    for user in includes.objs("users"):
        if user.has("id") and check_id(user.raw("id"), user.where("id")) == user_id:
            return user
    return None


def _author(author_id: str, user: Fields | None) -> Author:
    if user is None:
        return make_author(author_id)
    author = make_author(
        author_id, handle=user.opt_str("username"), display_name=user.opt_str("name")
    )
    metrics = user.opt_obj("public_metrics")
    followers = metrics.opt_int("followers_count") if metrics is not None else None
    if followers is not None and followers < 0:
        raise PayloadError(BAD_VALUE, f"{user.where('public_metrics.followers_count')} is negative")
    verified = user.raw("verified")
    if verified is not None and not isinstance(verified, bool):
        raise PayloadError(BAD_TYPE, f"{user.where('verified')} must be a boolean")
    # make_author checks and cuts the names; the counters are checked above.
    return author.model_copy(update={"followers": followers, "verified": verified})


def _text(tweet: Fields) -> str:
    note = tweet.opt_obj("note_tweet")
    if note is not None and note.has("text"):
        return note.req_str("text")
    return tweet.req_str("text")


def _language(lang: str | None) -> str | None:
    if lang is None or lang.lower() in NO_LANGUAGE:
        return None
    if len(lang) > LANGUAGE_LIMIT or not _LANGUAGE.fullmatch(lang):
        return None  # a language is a hint for enrichment: an odd one is dropped, not fatal
    return LEGACY_LANGUAGES.get(lang.lower(), lang)


def _links(tweet: Fields) -> tuple[Attachment, ...]:
    """Links the tweet carries (``entities.urls``); links to its own media are not attachments."""
    entities = tweet.opt_obj("entities")
    if entities is None:
        return ()
    found: list[Attachment] = []
    for url in entities.objs("urls"):
        if url.has("media_key"):
            continue
        link = make_attachment("link", url.raw("unwound_url") or url.raw("expanded_url"))
        if link is not None:
            found.append(link)
    return tuple(found)


def _utc_from_iso(fields: Fields, key: str) -> datetime:
    """A required ISO 8601 timestamp (X writes ``2025-11-27T10:15:00.000Z``) as UTC."""
    text = fields.req_str(key)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(BAD_VALUE, f"{fields.where(key)} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise PayloadError(BAD_VALUE, f"{fields.where(key)} has no time zone")
    try:
        return when.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 falls before year 1 in UTC
        raise PayloadError(BAD_VALUE, f"{fields.where(key)} is out of range") from None
