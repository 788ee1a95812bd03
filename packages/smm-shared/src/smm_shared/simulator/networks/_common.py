"""What the fake networks share: reading tokens, forms and multipart bodies, the lost answer.

Forms are parsed here with the standard library because the project does not depend on
``python-multipart`` (which FastAPI's ``Form``/``File`` need); the fakes read the raw body.

Who a token belongs to: a real network knows; a fake has no user directory. A token may name
its account after its last ``@`` (``secret@1580000000000000001``: that account's token); any
other valid token belongs to an account id derived from the token (stable, so every request
with that token is the same account). Lookups of an account's posts list what that account
posted, so a test that names the account in the token finds its posts under that id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a multipart form."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = "text/plain"

    @property
    def text(self) -> str:
        """The part as text (form fields)."""
        return self.data.decode("utf-8", errors="replace")


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (any case of ``bearer``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_owner(token: str, *, numeric: bool = False, prefix: str = "") -> str:
    """The account ``token`` belongs to (module docstring); ``numeric`` for digit-only ids."""
    head, at, named = token.rpartition("@")
    if at and head and named:
        return named
    digest = hashlib.sha256(token.encode()).hexdigest()
    if numeric:
        return str(10**17 + int(digest[:14], 16))
    return f"{prefix}{digest[:10]}"


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the first value of each)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}


async def read_multipart(request: Request) -> dict[str, Part]:
    """The parts of a ``multipart/form-data`` body by name; empty for any other body."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + await request.body()
    message = BytesParser(policy=HTTP).parsebytes(raw)
    if not message.is_multipart():
        return {}
    parts: dict[str, Part] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        parts[name] = Part(
            name=name,
            data=payload if isinstance(payload, bytes) else b"",
            filename=part.get_filename(),
            content_type=part.get_content_type(),
        )
    return parts


def gateway_timeout() -> HTMLResponse:
    """What a gateway answers when it lost the network's answer (``drop_after_accept``)."""
    return HTMLResponse(
        "<html><head><title>504 Gateway Time-out</title></head>"
        "<body><center><h1>504 Gateway Time-out</h1></center></body></html>",
        status_code=504,
    )
