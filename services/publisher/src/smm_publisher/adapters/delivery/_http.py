"""What every delivery client shares: sending without guessing, reading JSON without crashing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from smm_publisher.domain.delivery import AmbiguousDeliveryError, TransientDeliveryError

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
TIMEOUT_S = 30.0


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
) -> httpx.Response:
    """One request; a failure after sending is ambiguous when the request ``creates`` a post.

    Write errors count as "after sending" too: part of the request may have reached the
    server, and the cost of that caution is one ``find``, never a duplicate post.
    """
    try:
        response = await client.request(
            method, url, headers=headers, params=params, json=json_body, timeout=TIMEOUT_S
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
    if creates and response.status_code in LOST_ANSWER:
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
