"""Property tests for the X parser: any JSON, or a broken sample, parses or raises PayloadError.

Whatever parses must satisfy the contract (``check_parse`` in conftest): every draft normalises
into a valid ``Mention``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smm_ingest.adapters.networks import x
from smm_ingest.domain.items import AccountContext, NewItem, ParsedPayload
from smm_shared.events import Network
from smm_shared.testing import json_properties as jp

pytestmark = pytest.mark.unit

ACCOUNT = AccountContext(Network.X, frozenset({"1580000000000000001"}))
SAMPLES = jp.load_samples(Path(__file__).parent / "payloads" / "x")
#: Plain random JSON is not a source of its own: the samples' vocabulary includes it.
SOURCES = ["json in the samples' vocabulary", "broken samples", "every single mutation"]


def parse(payload: Any) -> ParsedPayload:
    """The tweet envelope parser; X only ever reports new tweets."""
    parsed = x.parse_tweet_envelope(payload, ACCOUNT)
    assert all(isinstance(item, NewItem) for item in parsed.items)
    return parsed


@pytest.mark.parametrize("source", SOURCES)
def test_payloads_parse_or_raise_payload_error(
    source: str, check_parser: Callable[..., None]
) -> None:
    check_parser(parse, SAMPLES, source, max_examples=300, min_single=3000)


def test_every_sample_parses_into_a_valid_mention_or_is_ignored(
    check_parse: Callable[..., Any],
) -> None:
    """The mutations start from good samples: each one must parse cleanly as it is."""
    assert len(SAMPLES) >= 8
    for sample in SAMPLES:
        parsed = check_parse(parse, sample)
        assert isinstance(parsed, ParsedPayload)
        assert len(parsed.items) + len(parsed.ignored) == 1
