"""Property tests: any JSON, or a broken sample, parses or raises PayloadError — nothing else.

And whatever parses must satisfy the contract: every draft normalises into a valid ``Mention``.
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

from smm_ingest.adapters.networks import meta, telegram, vk
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
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

Parser = Callable[[Mapping[str, Any]], ParsedPayload]
CODES = frozenset({"payload.missing_field", "payload.bad_type", "payload.bad_value"})

PARSERS: dict[str, Parser] = {
    "vk": lambda p: vk.parse(p, AccountContext(Network.VK, frozenset({"-123456", "123456"}))),
    "meta": lambda p: meta.parse(
        p, AccountContext(Network.FACEBOOK, frozenset({"104538921177423"}))
    ),
    "telegram": lambda p: telegram.parse(
        p, AccountContext(Network.TELEGRAM, frozenset({"7012345678"}))
    ),
}


def samples(network: str) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((PAYLOADS / network).glob("*.json"))
    ]


SAMPLES = {network: samples(network) for network in PARSERS}


def vocabulary(node: Any, keys: set[str], strings: set[str], ints: set[int]) -> None:
    """Collect the keys, strings and integers a network's samples use."""
    if isinstance(node, dict):
        for key, child in node.items():
            keys.add(key)
            vocabulary(child, keys, strings, ints)
    elif isinstance(node, list):
        for child in node:
            vocabulary(child, keys, strings, ints)
    elif isinstance(node, str):
        strings.add(node)
    elif isinstance(node, int) and not isinstance(node, bool):
        ints.add(node)


@functools.cache
def json_like(network: str | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value; with a network, keys and scalars also come from its samples' vocabulary.

    Plain random dicts rarely get past the first required key; the vocabulary makes the
    generator reach the per-event handlers with wrong shapes, which is where bugs hide.
    """
    scalars: st.SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats()
        | st.text(max_size=20)
        | st.text(alphabet=string.ascii_letters + string.digits + "_-", max_size=12)  # id-like
    )
    keys: st.SearchStrategy[str] = st.text(max_size=12)
    if network is not None:
        found_keys: set[str] = set()
        strings: set[str] = set()
        ints: set[int] = set()
        for sample in SAMPLES[network]:
            vocabulary(sample, found_keys, strings, ints)
        scalars = scalars | st.sampled_from(sorted(strings)) | st.sampled_from(sorted(ints))
        keys = keys | st.sampled_from(sorted(found_keys))
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6)
        ),
        max_leaves=25,
    )


def outcome(call: Callable[..., Any], *args: Any) -> Any:
    """What ``call`` returns, or the PayloadError it raises (any other exception propagates)."""
    try:
        return call(*args)
    except PayloadError as error:
        return error


def check(parser: Parser, payload: Any) -> None:
    """The property: a ParsedPayload whose drafts are valid mentions, or a PayloadError."""
    parsed = outcome(parser, payload)
    if isinstance(parsed, PayloadError):
        assert parsed.code in CODES
        return
    assert isinstance(parsed, ParsedPayload)
    for item in parsed.items:
        if isinstance(item, NewItem | EditedItem):
            normalise(item.draft)  # raises if the draft breaks the Mention contract
        elif isinstance(item, DeletedItem):
            assert 0 < len(item.native_id) <= 256
            assert item.deleted_at.tzinfo is not None


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (keys and indexes)."""
    found: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


DROP = object()
#: Values of every JSON type, and edge values of the right type, for "change a value's type".
HOSTILE: list[Any] = [
    None, True, 0, -1, 2**64, 1.5, float("nan"), "", "abc", "1_2", "ü", " ", [], {}, [{}], [None],
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, network: str) -> Any:
    """A documented sample with one to three keys dropped, retyped or replaced by any JSON."""
    payload = copy.deepcopy(draw(st.sampled_from(SAMPLES[network])))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = paths(payload)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        operation = draw(st.sampled_from(["drop", "retype", "replace"]))
        if operation == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif operation == "retype":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(HOSTILE)))
        else:
            parent[path[-1]] = draw(json_like(network))
    return payload


@pytest.mark.parametrize("network", list(PARSERS))
@PROPERTY
@given(payload=json_like())
def test_any_json_parses_or_raises_payload_error(network: str, payload: Any) -> None:
    check(PARSERS[network], payload)


@pytest.mark.parametrize("network", list(PARSERS))
@PROPERTY
@given(data=st.data())
def test_json_in_the_networks_vocabulary_parses_or_raises_payload_error(
    network: str, data: st.DataObject
) -> None:
    check(PARSERS[network], data.draw(json_like(network)))


@pytest.mark.parametrize("network", list(PARSERS))
@PROPERTY
@given(data=st.data())
def test_broken_samples_parse_or_raise_payload_error(network: str, data: st.DataObject) -> None:
    check(PARSERS[network], data.draw(mutated(network)))


@pytest.mark.parametrize("network", list(PARSERS))
def test_every_single_drop_or_retype_of_every_sample(network: str) -> None:
    """Exhaustive where random search is thin: each path of each sample, each hostile value."""
    checked = 0
    for sample in SAMPLES[network]:
        for path in paths(sample):
            for value in [DROP, *HOSTILE]:
                payload = copy.deepcopy(sample)
                parent = payload
                for key in path[:-1]:
                    parent = parent[key]
                if value is DROP:
                    if not isinstance(parent, dict):
                        continue
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = copy.deepcopy(value)
                check(PARSERS[network], payload)
                checked += 1
    assert checked > 1000


@PROPERTY
@given(payload=json_like("vk"))
def test_vk_envelope_checks_never_raise_anything_else(payload: Any) -> None:
    callback = outcome(vk.classify, payload)
    assert isinstance(callback, vk.VkCallback) or callback.code in CODES
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
