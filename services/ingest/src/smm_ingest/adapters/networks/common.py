"""Helpers shared by the webhook parsers: checked field access, timestamps, contract-safe values.

Every failure here is a :class:`PayloadError` with one of these codes:

* ``payload.missing_field`` — a required key is absent (or JSON ``null``);
* ``payload.bad_type`` — a value has the wrong JSON type;
* ``payload.bad_value`` — the type is right but the value cannot be used (an id out of
  range, a timestamp beyond year 9999, an empty id).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from smm_ingest.domain.items import PayloadError
from smm_shared.events import Attachment, Author

MISSING_FIELD = "payload.missing_field"
BAD_TYPE = "payload.bad_type"
BAD_VALUE = "payload.bad_value"

#: ``Mention.text`` accepts at most this many characters.
TEXT_LIMIT = 100_000
#: ``Author.id`` accepts at most this many characters; handle and display name 256.
AUTHOR_ID_LIMIT = 128
AUTHOR_NAME_LIMIT = 256
#: Longest id string we accept from a network (``Mention.native_id`` allows 256 in all).
ID_LIMIT = 128
#: Ids are 64-bit on every network we read; anything larger is not an id.
INT_LIMIT = 2**63 - 1
#: 9999-12-31T23:59:59Z, the last second ``datetime`` can represent.
MAX_UNIX_SECONDS = 253_402_300_799

AttachmentKind = Literal["image", "video", "audio", "link", "document", "other"]


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def as_fields(value: object, path: str) -> Fields:
    """``value`` as a JSON object, or ``payload.bad_type`` naming ``path``."""
    if not isinstance(value, Mapping):
        raise PayloadError(
            BAD_TYPE, f"{path or 'payload'} must be an object, not {_type_name(value)}"
        )
    return Fields(value, path)


def check_int(value: object, path: str) -> int:
    """``value`` as a JSON integer within 64 bits (booleans are not integers)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(BAD_TYPE, f"{path} must be an integer, not {_type_name(value)}")
    if abs(value) > INT_LIMIT:
        raise PayloadError(BAD_VALUE, f"{path} is out of range")
    return value


def check_str(value: object, path: str) -> str:
    """``value`` as a JSON string."""
    if not isinstance(value, str):
        raise PayloadError(BAD_TYPE, f"{path} must be a string, not {_type_name(value)}")
    return value


def check_id(value: object, path: str) -> str:
    """An identifier given as a string or an integer, as short printable ASCII without spaces."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(check_int(value, path))
    text = check_str(value, path)
    # Network ids are digits, letters, "_" and "-": anything else would leak into URLs and keys.
    if not (0 < len(text) <= ID_LIMIT and text.isascii() and text.isprintable()) or " " in text:
        raise PayloadError(BAD_VALUE, f"{path} is not a usable id")
    return text


@dataclass(frozen=True, slots=True)
class Fields:
    """A JSON object read with checks: every getter names the full path when it fails."""

    data: Mapping[str, Any]
    path: str = ""

    def has(self, key: str) -> bool:
        """Whether ``key`` is present and not null."""
        return self.data.get(key) is not None

    def raw(self, key: str) -> object:
        """The value as it is (None when absent), for callers that branch on its type."""
        return self.data.get(key)

    def where(self, key: str) -> str:
        """The dotted path of ``key``, for error messages."""
        return _where(self.path, key)

    def _required(self, key: str) -> object:
        value = self.data.get(key)
        if value is None:
            raise PayloadError(MISSING_FIELD, f"{self.where(key)} is required")
        return value

    def req_int(self, key: str) -> int:
        """A required integer."""
        return check_int(self._required(key), self.where(key))

    def opt_int(self, key: str) -> int | None:
        """An optional integer (None when absent or null)."""
        value = self.data.get(key)
        return None if value is None else check_int(value, self.where(key))

    def req_str(self, key: str) -> str:
        """A required string."""
        return check_str(self._required(key), self.where(key))

    def opt_str(self, key: str) -> str | None:
        """An optional string (None when absent or null)."""
        value = self.data.get(key)
        return None if value is None else check_str(value, self.where(key))

    def req_id(self, key: str) -> str:
        """A required id, given as a string or an integer."""
        return check_id(self._required(key), self.where(key))

    def opt_id(self, key: str) -> str | None:
        """An optional id, given as a string or an integer."""
        value = self.data.get(key)
        return None if value is None else check_id(value, self.where(key))

    def req_obj(self, key: str) -> Fields:
        """A required nested object."""
        return as_fields(self._required(key), self.where(key))

    def opt_obj(self, key: str) -> Fields | None:
        """An optional nested object."""
        value = self.data.get(key)
        return None if value is None else as_fields(value, self.where(key))

    def opt_list(self, key: str) -> Sequence[object]:
        """An optional array (empty when absent or null)."""
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise PayloadError(
                BAD_TYPE, f"{self.where(key)} must be an array, not {_type_name(value)}"
            )
        return value

    def objs(self, key: str) -> list[Fields]:
        """An optional array of objects (empty when absent or null)."""
        where = self.where(key)
        return [as_fields(item, f"{where}[{i}]") for i, item in enumerate(self.opt_list(key))]

    def req_objs(self, key: str) -> list[Fields]:
        """A required array of objects (it may be empty)."""
        self._required(key)
        return self.objs(key)

    def req_time(self, key: str) -> datetime:
        """A required unix timestamp in seconds, as a UTC datetime."""
        return utc_from_unix(self._required(key), self.where(key))

    def opt_time(self, key: str) -> datetime | None:
        """An optional unix timestamp in seconds, as a UTC datetime."""
        value = self.data.get(key)
        return None if value is None else utc_from_unix(value, self.where(key))


def utc_from_unix(value: object, path: str) -> datetime:
    """Unix seconds (an integer) as an aware UTC datetime."""
    seconds = check_int(value, path)
    if not 0 <= seconds <= MAX_UNIX_SECONDS:
        raise PayloadError(BAD_VALUE, f"{path} is not a plausible unix time")
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_rfc3339(value: object, path: str) -> datetime:
    """An RFC 3339 timestamp with a zone (``2025-11-27T10:15:00Z``) as an aware UTC datetime.

    The Graph API's ``2025-11-27T10:15:00+0000`` (no colon in the offset) is read too.
    """
    if not isinstance(value, str):
        raise PayloadError(BAD_TYPE, f"{path} must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("no time zone")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 9999 with a negative offset
        raise PayloadError(BAD_VALUE, f"{path} is not an RFC 3339 time") from None


def _clean(text: str) -> str:
    # JSON can carry lone surrogates ("\ud800"), which no UTF-8 encoder downstream accepts.
    return text.encode("utf-8", "replace").decode("utf-8")


def truncate_text(text: str) -> str:
    """Text cut to the contract limit, so one huge post cannot fail the whole payload."""
    return _clean(text[:TEXT_LIMIT])


def make_author(
    author_id: str, *, handle: str | None = None, display_name: str | None = None
) -> Author:
    """An ``Author`` that always validates: names are cut to the contract limit."""
    if not author_id or len(author_id) > AUTHOR_ID_LIMIT:
        raise PayloadError(BAD_VALUE, f"author id {author_id[:20]!r} is not usable")
    return Author(
        id=author_id,
        handle=_clean(handle[:AUTHOR_NAME_LIMIT]) if handle else None,
        display_name=_clean(display_name[:AUTHOR_NAME_LIMIT]) if display_name else None,
    )


def make_attachment(kind: AttachmentKind, url: object) -> Attachment | None:
    """An attachment when ``url`` is a usable http(s) URL; None otherwise (skipped, not fatal)."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    try:
        return Attachment(kind=kind, url=url)
    except ValueError:  # pydantic's ValidationError: a malformed URL is skipped, not fatal
        return None


def loggable(text: str, limit: int = 64) -> str:
    """A payload-chosen name (event type, field, verb) made safe for an ``ignored`` log line."""
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text
    # repr() escapes newlines and control characters, so a payload cannot forge log lines.
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def join_name(*parts: str | None) -> str | None:
    """Non-empty parts joined by a space, or None when there are none."""
    joined = " ".join(p for p in parts if p)
    return joined or None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of two strings (any characters, compared as UTF-8)."""
    # surrogatepass: JSON may decode a lone "\ud800" escape, which strict UTF-8 refuses.
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
