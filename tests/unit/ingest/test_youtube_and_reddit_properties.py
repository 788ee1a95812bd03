"""Property tests for the polled networks: any JSON, or a broken sample, parses or raises PayloadError.

Whatever parses must satisfy the contract: every draft normalises into a valid ``Mention``.
"""

from __future__ import annotations

import copy
import functools
import json
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smm_ingest.adapters.networks import reddit, youtube
from smm_ingest.domain.items import (
    AccountContext,
    DeletedItem,
    EditedItem,
    NewItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import normalise
from smm_shared.events import Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
CODES = frozenset({"payload.missing_field", "payload.bad_type", "payload.bad_value"})

Parser = Callable[[Mapping[str, Any]], ParsedPayload]
PARSERS: dict[str, Parser] = {
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
SAMPLES = {
    network: [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((PAYLOADS / network).glob("*.json"))
    ]
    for network in PARSERS
}
#: Values of every JSON type, and edge values of the right type, for "change a value's type".
HOSTILE: list[Any] = [
    None, True, 0, -1, 2**64, 1.5, float("nan"), float("inf"), "", "abc", "[deleted]", " ",
    "2025-11-27T10:15:00", "9999-12-31T23:59:59-01:00", [], {}, [{}], [None],
]  # fmt: skip
DROP = object()


def vocabulary(node: Any, keys: set[str], scalars: set[Any]) -> None:
    """Collect the keys and scalar values a network's samples use."""
    if isinstance(node, dict):
        for key, child in node.items():
            keys.add(key)
            vocabulary(child, keys, scalars)
    elif isinstance(node, list):
        for child in node:
            vocabulary(child, keys, scalars)
    elif isinstance(node, str | int | float) and not isinstance(node, bool):
        scalars.add(node)


@functools.cache
def json_like(network: str | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value; with a network, keys and scalars also come from its samples."""
    scalars: st.SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats()
        | st.text(max_size=20)
        | st.text(alphabet=string.ascii_letters + string.digits + "_-.", max_size=12)
    )
    keys: st.SearchStrategy[str] = st.text(max_size=12)
    if network is not None:
        found_keys: set[str] = set()
        found: set[Any] = set()
        for sample in SAMPLES[network]:
            vocabulary(sample, found_keys, found)
        scalars = scalars | st.sampled_from(sorted(found, key=repr))
        keys = keys | st.sampled_from(sorted(found_keys))
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6)
        ),
        max_leaves=25,
    )


def outcome(parser: Parser, payload: Any) -> ParsedPayload | PayloadError:
    """What the parser returns, or the PayloadError it raises (anything else propagates)."""
    try:
        return parser(payload)
    except PayloadError as error:
        return error


def check(network: str, payload: Any) -> None:
    """The property: valid drafts or a PayloadError with a known code; probes never raise."""
    PROBES[network](payload)
    parsed = outcome(PARSERS[network], payload)
    if isinstance(parsed, PayloadError):
        assert parsed.code in CODES
        return
    assert isinstance(parsed, ParsedPayload)
    for item in parsed.items:
        if isinstance(item, NewItem | EditedItem):
            normalise(item.draft)  # raises if the draft breaks the Mention contract
            assert item.draft.created_at.tzinfo is not None
        elif isinstance(item, DeletedItem):
            assert 0 < len(item.native_id) <= 256
            assert item.deleted_at.tzinfo is not None


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (keys and indexes)."""
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    found: list[tuple[Any, ...]] = []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def replaced(sample: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``sample`` with the value at ``path`` dropped (``DROP``) or replaced."""
    payload = copy.deepcopy(sample)
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    if value is DROP:
        if isinstance(parent, dict):
            del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return payload


@st.composite
def mutated(draw: st.DrawFn, network: str) -> Any:
    """A documented sample with one to three values dropped, retyped or replaced by any JSON."""
    payload = draw(st.sampled_from(SAMPLES[network]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = paths(payload)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        value = draw(st.sampled_from([DROP, *HOSTILE]) | json_like(network))
        payload = replaced(payload, path, value)
    return payload


@pytest.mark.parametrize("network", list(PARSERS))
@PROPERTY
@given(data=st.data())
def test_any_json_parses_or_raises_payload_error(network: str, data: st.DataObject) -> None:
    check(network, data.draw(json_like() | json_like(network)))


@pytest.mark.parametrize("network", list(PARSERS))
@PROPERTY
@given(data=st.data())
def test_broken_samples_parse_or_raise_payload_error(network: str, data: st.DataObject) -> None:
    check(network, data.draw(mutated(network)))


@pytest.mark.parametrize("network", list(PARSERS))
def test_every_single_drop_or_retype_of_every_sample(network: str) -> None:
    """Exhaustive where random search is thin: each path of each sample, each hostile value."""
    checked = 0
    for sample in SAMPLES[network]:
        for path in paths(sample):
            for value in [DROP, *HOSTILE]:
                check(network, replaced(sample, path, value))
                checked += 1
    assert checked > 3000


@pytest.mark.parametrize("network", list(PARSERS))
def test_every_sample_parses_into_items_or_reasons(network: str) -> None:
    """The samples themselves are readable; an unreadable fixture would test only the error path."""
    assert len(SAMPLES[network]) >= 6
    for sample in SAMPLES[network]:
        parsed = PARSERS[network](sample)
        assert parsed.items or parsed.ignored
