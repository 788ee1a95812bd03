"""The JSON property-test support itself: paths, single and random mutations, seeded values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import find, given

from smm_shared.testing.json_properties import (
    HOSTILE,
    drop_at,
    json_values,
    mutations,
    paths,
    property_settings,
    replace_at,
    single_mutations,
    vocabulary,
)

pytestmark = pytest.mark.unit

DOCUMENT = {"a": {"b": 1}, "c": ["x"]}
SAMPLES = [DOCUMENT, {"zz_only_here": "needle", "n": 424242}]


def canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True)


def test_paths_reach_every_key_and_index() -> None:
    assert paths(DOCUMENT) == [("a",), ("a", "b"), ("c",), ("c", 0)]


def test_replace_and_drop_change_a_copy() -> None:
    assert replace_at(DOCUMENT, ("a", "b"), [2]) == {"a": {"b": [2]}, "c": ["x"]}
    assert drop_at(DOCUMENT, ("c", 0)) == {"a": {"b": 1}, "c": []}
    assert drop_at(DOCUMENT, ("a",)) == {"c": ["x"]}
    assert DOCUMENT == {"a": {"b": 1}, "c": ["x"]}


def test_single_mutations_are_every_drop_and_retype_at_every_path() -> None:
    expected = set()
    for path in paths(DOCUMENT):
        expected.add(canonical(drop_at(DOCUMENT, path)))
        expected |= {canonical(replace_at(DOCUMENT, path, value)) for value in HOSTILE}
    found = [canonical(document) for document in single_mutations(DOCUMENT)]
    assert len(found) == len(paths(DOCUMENT)) * (1 + len(HOSTILE))
    assert set(found) == expected
    assert canonical({"a": {"b": 1}}) in found  # "c" dropped
    assert canonical({"a": {"b": None}, "c": ["x"]}) in found  # retyped
    assert found == [canonical(document) for document in single_mutations(DOCUMENT)]


def test_vocabulary_collects_keys_strings_and_numbers_not_bools() -> None:
    found = vocabulary([{"k": [1, 2.5, "s", True, None]}])
    assert (found.keys, found.strings, found.numbers) == ({"k"}, {"s"}, {1, 2.5})


@property_settings(max_examples=300)
@given(document=mutations(SAMPLES))
def test_mutations_never_return_a_sample_unchanged(document: Any) -> None:
    assert canonical(document) not in {canonical(sample) for sample in SAMPLES}


@pytest.mark.parametrize("word", ["zz_only_here", "needle", "424242"])
def test_json_values_with_samples_draw_their_vocabulary(word: str) -> None:
    def uses(value: Any) -> bool:
        return word in canonical(value)

    assert uses(find(json_values(SAMPLES), uses, settings=property_settings(max_examples=2000)))
