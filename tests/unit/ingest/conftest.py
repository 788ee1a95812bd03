"""Ingest test support: the contract every payload parser's outcome must meet, and its checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given

from smm_ingest.domain.items import (
    DeletedItem,
    EditedItem,
    EngagementItem,
    FetchRequest,
    NewItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import normalise
from smm_shared.testing import json_properties as jp

#: The only error codes a parser may answer a bad payload with.
CODES = frozenset({"payload.missing_field", "payload.bad_type", "payload.bad_value"})

Outcome = ParsedPayload | PayloadError


def read_outcome(read: Callable[[Any], Any], payload: Any) -> Any:
    """What ``read`` returns, or the PayloadError with a known code it raises; else it fails."""
    try:
        return read(payload)
    except PayloadError as error:
        raised = error
    assert raised.code in CODES, raised.code
    return raised


def parse_outcome(parse: Callable[[Any], ParsedPayload], payload: Any) -> Outcome:
    """Parse ``payload``: items that meet the Mention contract, or a PayloadError (known code)."""
    parsed = read_outcome(parse, payload)
    if isinstance(parsed, PayloadError):
        return parsed
    assert isinstance(parsed, ParsedPayload)
    for item in parsed.items:
        if isinstance(item, NewItem | EditedItem):
            mention = normalise(item.draft)  # raises if the draft breaks the Mention contract
            assert mention.created_at.tzinfo is not None
        elif isinstance(item, DeletedItem):
            assert 0 < len(item.native_id) <= 256
            assert item.deleted_at.tzinfo is not None
        elif isinstance(item, FetchRequest):
            # Its ids are stored as its key and sent back to the network in a Graph query.
            for value in (item.account_id, item.media_id, item.comment_id):
                assert value is None or (0 < len(value) <= 128 and value.isprintable())
        else:
            assert isinstance(item, EngagementItem)
    return parsed


@pytest.fixture(scope="session")
def read_payload() -> Callable[[Callable[[Any], Any], Any], Any]:
    """Any raw-payload reader's contract: ``read_payload(read, payload)`` returns the outcome."""
    return read_outcome


@pytest.fixture(scope="session")
def check_parse() -> Callable[[Callable[[Any], ParsedPayload], Any], Outcome]:
    """The parser contract as a function: ``check_parse(parse, payload)`` returns the outcome."""
    return parse_outcome


def check_source(
    parse: Callable[[Any], ParsedPayload],
    samples: list[Any],
    source: str,
    *,
    max_examples: int,
    min_single: int,
) -> None:
    """Every payload from ``source`` meets ``parse_outcome`` (exhaustive for single mutations).

    Sources: "any json", "json in the samples' vocabulary", "broken samples" (one to three random
    mutations) and "every single mutation" (of which there must be more than ``min_single``).
    """
    if source == "every single mutation":
        payloads = [payload for sample in samples for payload in jp.single_mutations(sample)]
        assert len(payloads) > min_single  # random search is thin; this is where it is not
        for payload in payloads:
            parse_outcome(parse, payload)
        return
    strategies = {
        "any json": jp.json_values(),
        # Random dicts rarely get past the first required key; the samples' vocabulary
        # reaches the per-event handlers with wrong shapes, which is where bugs hide.
        "json in the samples' vocabulary": jp.json_values(samples),
        "broken samples": jp.mutations(samples),
    }

    @jp.property_settings(max_examples)
    @given(payload=strategies[source])
    def meets_the_contract(payload: Any) -> None:
        parse_outcome(parse, payload)

    meets_the_contract()


@pytest.fixture(scope="session")
def check_parser() -> Callable[..., None]:
    """``check_parser(parse, samples, source, ...)``: see ``check_source``."""
    return check_source
