"""Property tests for the polled networks: any JSON, or a broken sample, parses or raises PayloadError.

Whatever parses must satisfy the contract (``check_parse`` in conftest): every draft normalises
into a valid ``Mention``; the helpers the pollers call on raw payloads never raise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import reddit, youtube
from smm_ingest.domain.items import AccountContext, ParsedPayload
from smm_shared.events import Network
from smm_shared.testing import json_properties as jp

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"

PARSERS: dict[str, Callable[[Any], ParsedPayload]] = {
    "youtube": lambda p: youtube.parse_comment_thread(
        p, AccountContext(Network.YOUTUBE, frozenset({"UCx7AcmeBrandChannel0001"}))
    ),
    "reddit": lambda p: reddit.parse_listing_child(
        p, AccountContext(Network.REDDIT, frozenset({"acmeofficial", "t2_acme01"}))
    ),
}
#: The helpers the pollers call on raw payloads: they answer None, never raise.
PROBES: dict[str, Callable[[Any], object]] = {
    "youtube": youtube.thread_latest_at,
    "reddit": reddit.child_created_utc,
}
SAMPLES = {network: jp.load_samples(PAYLOADS / network) for network in PARSERS}
SOURCES = ["any json", "json in the samples' vocabulary", "broken samples", "every single mutation"]


def probed(network: str, payload: Any) -> ParsedPayload:
    """The network's parser, after its poller's probe has read the same payload."""
    PROBES[network](payload)
    return PARSERS[network](payload)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("network", list(PARSERS))
def test_payloads_parse_or_raise_payload_error(
    network: str, source: str, check_parser: Callable[..., None]
) -> None:
    parse = functools.partial(probed, network)
    check_parser(parse, SAMPLES[network], source, max_examples=150, min_single=3000)


@pytest.mark.parametrize("network", list(PARSERS))
def test_every_sample_parses_into_items_or_reasons(network: str) -> None:
    """The samples themselves are readable; an unreadable fixture would test only the error path."""
    assert len(SAMPLES[network]) >= 6
    for sample in SAMPLES[network]:
        parsed = PARSERS[network](sample)
        assert parsed.items or parsed.ignored
