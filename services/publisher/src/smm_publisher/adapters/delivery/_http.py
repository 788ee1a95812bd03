"""What every delivery client shares: sending without guessing, reading JSON without crashing.

Also fetching a post's media from its URL (:func:`fetch_media`) for networks that want the
bytes uploaded rather than a URL (X, Mastodon).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from smm_publisher.domain.delivery import (
    AmbiguousDeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

Json = dict[str, Any]

#: Failures raised before a byte of the request left us: nothing can have been posted.
NOT_SENT: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
#: A gateway that lost the origin's answer (502 Bad Gateway, 504 Gateway Timeout): the origin
#: may have posted. Other 5xx come from the origin itself and are taken as "not posted".
LOST_ANSWER = frozenset({502, 504})
#: The default request timeout; every deliverer takes its own ``timeout_s``.
TIMEOUT_S = 30.0

#: A multipart file part: (file name, bytes, content type).
FilePart = tuple[str, bytes, str]


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    network: str,
    what: str,
    creates: bool,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str | int] | None = None,
    json_body: Json | None = None,
    form: Mapping[str, str] | None = None,
    files: Mapping[str, FilePart] | None = None,
    timeout_s: float = TIMEOUT_S,
    lost_answer: frozenset[int] = LOST_ANSWER,
) -> httpx.Response:
    """One request; a failure after sending is ambiguous when the request ``creates`` a post.

    Write errors count as "after sending" too: part of the request may have reached the
    server, and the cost of that caution is one ``find``, never a duplicate post.

    The body is ``json_body``, or ``form`` fields (URL-encoded; multipart when ``files`` are
    given too). ``lost_answer`` are the statuses that mean "a gateway lost the origin's
    answer" for this network (:data:`LOST_ANSWER` unless the network's CDN says more).
    """
    try:
        response = await client.request(
            method,
            url,
            headers=headers,
            params=params,
            json=json_body,
            data=form,
            files=files,
            timeout=timeout_s,
        )
    except NOT_SENT as exc:
        raise TransientDeliveryError(
            f"{network} could not be reached to {what} ({type(exc).__name__}); nothing was sent"
        ) from exc
    except httpx.HTTPError as exc:
        if creates:
            raise AmbiguousDeliveryError(
                f"{network} did not answer after the request to {what} was sent "
                f"({type(exc).__name__}); it may have been published"
            ) from exc
        raise TransientDeliveryError(f"{network} failed to {what} ({type(exc).__name__})") from exc
    if creates and response.status_code in lost_answer:
        raise AmbiguousDeliveryError(
            f"{network} answered {response.status_code} from a gateway to {what}; "
            "the post may have been published"
        )
    return response


def json_object(response: httpx.Response) -> Json | None:
    """The response's JSON object; None when the body is not one."""
    try:
        body = response.json()
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return None
    return body if isinstance(body, dict) else None


def created_body(response: httpx.Response, network: str) -> Json:
    """The JSON object of a 2xx answer to a create; unreadable means it may well have posted."""
    body = json_object(response)
    if body is None:
        # Not "transient": a 2xx says the network acted, and a blind retry could post twice.
        raise AmbiguousDeliveryError(
            f"{network} answered {response.status_code} with an unreadable body; "
            "the post was probably published"
        )
    return body


def short(text: str, limit: int = 300) -> str:
    """A network's message cut to ``limit`` characters, printable."""
    cut = text.strip()[:limit]
    return cut if cut.isprintable() else repr(cut)


# --- media -----------------------------------------------------------------------------------

#: Leading bytes of the image formats networks take, to tell the type when a CDN does not.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True, slots=True)
class Media:
    """A media file fetched from its URL: the bytes and what they are."""

    url: str
    content: bytes
    #: The sniffed type when the bytes say (``image/jpeg``...), else the server's header.
    content_type: str

    @property
    def file_name(self) -> str:
        """A file name for a multipart upload (the URL's last path segment, or ``media``)."""
        tail = httpx.URL(self.url).path.rstrip("/").rpartition("/")[2]
        return tail if tail and tail.isprintable() and len(tail) <= 100 else "media"


def sniff_type(content: bytes) -> str | None:
    """The image type the leading bytes show; None when they show none we know."""
    for magic, kind in _MAGIC:
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


#: Checks a media URL before it is downloaded (and each redirect); raises PermanentDeliveryError.
MediaGuard = Callable[[str], Awaitable[None]]
MAX_REDIRECTS = 5


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_global
    return address.is_global


async def public_hosts_only(url: str) -> None:
    """Refuse media on private, loopback, link-local or reserved addresses (SSRF).

    Content managers choose media URLs and the publisher downloads them: without this check
    a URL could make it fetch from the internal network (a cloud metadata endpoint, an
    admin console). The host is resolved here; every address it resolves to must be public.
    """
    host = urlsplit(url).hostname
    if not host:
        raise PermanentDeliveryError("media.invalid_url", f"The media URL {url} has no host.")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError:
            raise PermanentDeliveryError(
                "media.unresolvable",
                f"The media host {host} cannot be resolved; check the URL {url}.",
            ) from None
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    private = next((a for a in addresses if not _public(a)), None)
    if private is not None or not addresses:
        raise PermanentDeliveryError(
            "media.private_host",
            f"The media file {url} is on a private or local address ({private}); media must "
            "be on a public server.",
        )


async def fetch_media(
    client: httpx.AsyncClient,
    url: str,
    *,
    network: str,
    code_prefix: str,
    max_bytes: int,
    timeout_s: float = TIMEOUT_S,
    guard: MediaGuard | None = None,
    accept: frozenset[str] | None = None,
) -> Media:
    """Download one media file to upload it; PermanentDeliveryError when it cannot be used.

    With a ``guard``, redirects are followed here (at most five), each target checked first.
    With ``accept``, a file of another type is ``{code_prefix}.media_unsupported``.

    ``{code_prefix}.media_unavailable``: the URL did not give the file (an error status, no
    connection, a timeout); ``{code_prefix}.media_too_large``: more than ``max_bytes`` (the
    download stops there). Nothing was posted in either case; the message names the URL.
    """

    def unavailable(reason: str) -> PermanentDeliveryError:
        return PermanentDeliveryError(
            f"{code_prefix}.media_unavailable",
            f"The media file {url} could not be downloaded to post it on {network} ({reason}). "
            "Check that the URL opens in a browser without logging in, or replace the file.",
        )

    def too_large() -> PermanentDeliveryError:
        return PermanentDeliveryError(
            f"{code_prefix}.media_too_large",
            f"The media file {url} is larger than {network} accepts "
            f"({max_bytes // (1024 * 1024)} MB at most). Use a smaller or more compressed file.",
        )

    try:
        async with _open(client, url, timeout_s=timeout_s, guard=guard) as response:
            if not response.is_success:
                raise unavailable(f"the server answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large()
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise too_large()
                chunks.append(chunk)
            header_type = response.headers.get("content-type", "").partition(";")[0].strip()
    except httpx.HTTPError as exc:
        raise unavailable(type(exc).__name__) from exc
    content = b"".join(chunks)
    if not content:
        raise unavailable("the file is empty")
    kind = sniff_type(content) or header_type.lower() or "application/octet-stream"
    if accept is not None and kind not in accept:
        names = ", ".join(sorted(t.removeprefix("image/").upper() for t in accept))
        raise PermanentDeliveryError(
            f"{code_prefix}.media_unsupported",
            f"The media file {url} is {kind}; this client posts {names} images to {network} "
            "(videos are not supported yet). Replace it with an image or post it by hand.",
        )
    return Media(url=url, content=content, content_type=kind)


@contextlib.asynccontextmanager
async def _open(
    client: httpx.AsyncClient, url: str, *, timeout_s: float, guard: MediaGuard | None
) -> AsyncIterator[httpx.Response]:
    """A streamed GET of ``url``; with a guard every hop of the redirect chain is checked."""
    if guard is None:
        async with client.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
            yield response
        return
    target = url
    for _ in range(MAX_REDIRECTS + 1):
        await guard(target)
        async with client.stream(
            "GET", target, timeout=timeout_s, follow_redirects=False
        ) as response:
            location = response.headers.get("location")
            if response.is_redirect and location:
                target = urljoin(target, location)
                continue
            yield response
            return
    raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {url}")
