"""Property-test support for JSON readers: generated documents, paths into them, and mutations."""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

#: Values of every JSON type, and edge values of the right type, for "change a value's type".
HOSTILE: tuple[Any, ...] = (
    None, True, 0, -1, 2**64, 1.5, float("nan"), float("inf"), "", " ", "abc", "1_2", "ü",
    "\ud800", "[deleted]", "<p>", "https://", "2025-11-27T10:15:00", "2025-02-30T00:00:00Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", [], {}, [{}], [None],
)  # fmt: skip


@dataclass
class Vocabulary:
    """The keys, strings and numbers a set of JSON documents uses."""

    keys: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)
    numbers: set[int | float] = field(default_factory=set)


def property_settings(max_examples: int) -> settings:
    """Hypothesis settings for slow, database-free property tests of parsers."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def load_samples(directory: Path, pattern: str = "*.json") -> list[Any]:
    """The JSON documents in ``directory`` whose names match ``pattern``, in name order."""
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob(pattern))
    ]


def vocabulary(samples: Sequence[Any]) -> Vocabulary:
    """Collect the keys, strings and (non-bool) numbers used anywhere in ``samples``."""
    found = Vocabulary()
    pending = list(samples)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            found.keys.update(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str):
            found.strings.add(node)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            found.numbers.add(node)
    return found


def json_values(samples: Sequence[Any] = ()) -> st.SearchStrategy[Any]:
    """Any JSON value; with samples, keys and scalars also come from their vocabulary."""
    scalars: st.SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats()
        | st.text(max_size=20)
        | st.text(alphabet=string.ascii_letters + string.digits + "_-.", max_size=12)
        | st.text(alphabet=string.digits, min_size=1, max_size=20)
    )
    keys: st.SearchStrategy[str] = st.text(max_size=12)
    found = vocabulary(samples)
    if found.keys:
        keys = keys | st.sampled_from(sorted(found.keys))
    for seeds in (found.strings, found.numbers):
        if seeds:
            scalars = scalars | st.sampled_from(sorted(seeds, key=repr))
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6)
        ),
        max_leaves=30,
    )


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) to a value inside a JSON document."""
    children: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    found: list[tuple[Any, ...]] = []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    """The container holding the value at ``path``."""
    for key in path[:-1]:
        document = document[key]
    return document


def replace_at(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced by (a copy of) ``value``."""
    changed = copy.deepcopy(document)
    _parent(changed, path)[path[-1]] = copy.deepcopy(value)
    return changed


def drop_at(document: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``document`` without the key or list item at ``path``."""
    changed = copy.deepcopy(document)
    del _parent(changed, path)[path[-1]]
    return changed


def _canonical(document: Any) -> str:
    """A text that differs whenever two documents differ (also ``1`` against ``True``)."""
    return json.dumps(document, sort_keys=True)


@st.composite
def _mutations(
    draw: st.DrawFn, samples: Sequence[Any], replacements: st.SearchStrategy[Any]
) -> Any:
    """A sample with one to three values dropped, retyped or replaced by any JSON."""
    sample = draw(st.sampled_from(samples))
    document = sample
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = paths(document)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        operation = draw(st.sampled_from(["drop", "retype", "replace"]))
        if operation == "drop":
            document = drop_at(document, path)
        elif operation == "retype":
            document = replace_at(document, path, draw(st.sampled_from(HOSTILE)))
        else:
            document = replace_at(document, path, draw(replacements))
    assume(_canonical(document) != _canonical(sample))
    return document


def mutations(samples: Sequence[Any]) -> st.SearchStrategy[Any]:
    """One of ``samples``, changed by one to three random drops, retypes or replacements."""
    return _mutations(list(samples), json_values(samples))


def single_mutations(sample: Any) -> Iterator[Any]:
    """Every single drop, and every single retype to each ``HOSTILE`` value, at every path."""
    for path in paths(sample):
        yield drop_at(sample, path)
        for value in HOSTILE:
            yield replace_at(sample, path, value)
