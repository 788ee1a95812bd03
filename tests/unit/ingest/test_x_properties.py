"""Property tests for the X parser: any JSON, or a broken sample, parses or raises PayloadError.

Whatever parses must satisfy the contract: every draft normalises into a valid ``Mention``.
"""

from __future__ import annotations

import copy
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smm_ingest.adapters.networks import x
from smm_ingest.domain.items import AccountContext, NewItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import normalise
from smm_shared.events import Network

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "x"
ACCOUNT = AccountContext(Network.X, frozenset({"1580000000000000001"}))
CODES = frozenset({"payload.missing_field", "payload.bad_type", "payload.bad_value"})
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SAMPLES: list[dict[str, Any]] = [
    json.loads(path.read_text(encoding="utf-8")) for path in sorted(PAYLOADS.glob("*.json"))
]
#: Values of every JSON type, and edge values of the right type, for "change a value's type".
HOSTILE: list[Any] = [
    None, True, 0, -1, 2**64, 1.5, float("nan"), "", "abc", "1_2", "ü", " ", "\ud800",
    "9999-12-31T23:59:59-01:00", "2025-02-30T00:00:00Z", [], {}, [{}], [None],
]  # fmt: skip
DROP = object()


def outcome(payload: Any) -> ParsedPayload | PayloadError:
    """What the parser returns, or the PayloadError it raises (any other exception propagates)."""
    try:
        return x.parse_tweet_envelope(payload, ACCOUNT)
    except PayloadError as error:
        return error


def check(payload: Any) -> None:
    """The property: a ParsedPayload whose drafts are valid mentions, or a PayloadError."""
    parsed = outcome(payload)
    if isinstance(parsed, PayloadError):
        assert parsed.code in CODES
        return
    assert isinstance(parsed, ParsedPayload)
    for item in parsed.items:
        assert isinstance(item, NewItem)
        mention = normalise(item.draft)  # raises if the draft breaks the Mention contract
        assert mention.created_at.tzinfo is not None


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (keys and indexes)."""
    found: list[tuple[Any, ...]] = []
    children: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def vocabulary(node: Any, keys: set[str], scalars: set[Any]) -> None:
    """The keys and scalar values the samples use."""
    if isinstance(node, dict):
        for key, child in node.items():
            keys.add(key)
            vocabulary(child, keys, scalars)
    elif isinstance(node, list):
        for child in node:
            vocabulary(child, keys, scalars)
    else:
        scalars.add(node)


def json_like() -> st.SearchStrategy[Any]:
    """Any JSON value, with keys and scalars also drawn from the samples' vocabulary.

    Plain random dicts rarely get past ``data``; the vocabulary makes the generator reach the
    tweet, user and entity readers with wrong shapes, which is where bugs hide.
    """
    keys: set[str] = set()
    found: set[Any] = set()
    for sample in SAMPLES:
        vocabulary(sample, keys, found)
    scalars: st.SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=20)
        | st.text(alphabet=string.digits, min_size=1, max_size=20)  # id-like
        | st.sampled_from(sorted(found, key=repr))
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.text(max_size=12) | st.sampled_from(sorted(keys)), children, max_size=6
            )
        ),
        max_leaves=30,
    )


JSON = json_like()


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A documented sample with one to three values dropped, retyped or replaced by any JSON."""
    payload = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
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
            parent[path[-1]] = draw(JSON)
    return payload


@PROPERTY
@given(payload=JSON)
def test_any_json_parses_or_raises_payload_error(payload: Any) -> None:
    check(payload)


@PROPERTY
@given(payload=mutated())
def test_broken_samples_parse_or_raise_payload_error(payload: Any) -> None:
    check(payload)


def test_every_single_drop_or_retype_of_every_sample() -> None:
    """Exhaustive where random search is thin: each path of each sample, each hostile value."""
    checked = 0
    for sample in SAMPLES:
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
                check(payload)
                checked += 1
    assert checked > 3000


def test_every_sample_parses_into_a_valid_mention_or_is_ignored() -> None:
    """The mutations start from good samples: each one must parse cleanly as it is."""
    assert len(SAMPLES) >= 8
    for sample in SAMPLES:
        parsed = x.parse_tweet_envelope(sample, ACCOUNT)
        assert len(parsed.items) + len(parsed.ignored) == 1
        check(sample)
