"""Property tests: any JSON, or a broken sample, parses or raises PayloadError — nothing else.

And whatever parses must satisfy the contract (``check_parse`` in conftest): every draft
normalises into a valid ``Mention``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smm_ingest.adapters.networks import meta, telegram, vk
from smm_ingest.domain.items import AccountContext, ParsedPayload, PayloadError
from smm_shared.events import Network
from smm_shared.testing import json_properties as jp

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"
PROPERTY = jp.property_settings(max_examples=200)

PARSERS: dict[str, Callable[[Any], ParsedPayload]] = {
    "vk": lambda p: vk.parse(p, AccountContext(Network.VK, frozenset({"-123456", "123456"}))),
    "meta": lambda p: meta.parse(
        p, AccountContext(Network.FACEBOOK, frozenset({"104538921177423"}))
    ),
    "telegram": lambda p: telegram.parse(
        p, AccountContext(Network.TELEGRAM, frozenset({"7012345678"}))
    ),
}
SOURCES = ["any json", "json in the samples' vocabulary", "broken samples", "every single mutation"]
SAMPLES = {network: jp.load_samples(PAYLOADS / network) for network in PARSERS}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("network", list(PARSERS))
def test_payloads_parse_or_raise_payload_error(
    network: str, source: str, check_parser: Callable[..., None]
) -> None:
    check_parser(PARSERS[network], SAMPLES[network], source, max_examples=200, min_single=1000)


@PROPERTY
@given(payload=jp.json_values(SAMPLES["vk"]))
def test_vk_envelope_checks_never_raise_anything_else(
    payload: Any, read_payload: Callable[..., Any]
) -> None:
    assert isinstance(read_payload(vk.classify, payload), vk.VkCallback | PayloadError)
    assert vk.verify_secret(payload, "s3cr3t-Key") in (True, False)


@PROPERTY
@given(body=st.binary(max_size=64), header=st.none() | st.text(max_size=80), secret=st.text())
def test_signature_checks_never_raise(body: bytes, header: str | None, secret: str) -> None:
    meta.verify_signature(body, header, secret)
    telegram.verify_secret_token(header, secret)
    meta.verify_handshake({"hub.mode": "subscribe", "hub.verify_token": header or ""}, secret)


def test_samples_are_all_exercised() -> None:
    """The mutation tests draw from every fixture directory; an empty one would test nothing."""
    assert all(len(found) >= 8 for found in SAMPLES.values())
