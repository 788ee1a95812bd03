"""Property tests for Mastodon: any JSON or broken sample parses or raises PayloadError only.

Whatever parses must satisfy the contract (every draft normalises into a valid ``Mention``);
the HTML and server-sent-event readers never raise and do not depend on how input is cut.
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

from smm_ingest.adapters.networks import mastodon
from smm_ingest.adapters.pollers.mastodon import SseComment, SseDecoder, SseEvent
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

PAYLOADS = Path(__file__).parent / "payloads" / "mastodon"
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
CODES = frozenset({"payload.missing_field", "payload.bad_type", "payload.bad_value"})
ACCOUNT = AccountContext(Network.MASTODON, frozenset({"14715", "trwnh"}))

Parser = Callable[[Mapping[str, Any]], ParsedPayload]
#: Samples are read by the parser their file name starts with.
PARSERS: dict[str, Parser] = {
    "notification": lambda p: mastodon.parse_notification(p, ACCOUNT, instance="mastodon.social"),
    "status": lambda p: mastodon.parse_status(p, ACCOUNT, instance="mastodon.social"),
    "stream": lambda p: mastodon.parse_stream_event(p, ACCOUNT),
}
SAMPLES: dict[str, list[dict[str, Any]]] = {
    kind: [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(PAYLOADS.glob(f"{kind}_*.json"))
    ]
    for kind in PARSERS
}


def vocabulary(node: Any, keys: set[str], strings: set[str]) -> None:
    """Collect the keys and strings the samples use."""
    if isinstance(node, dict):
        for key, child in node.items():
            keys.add(key)
            vocabulary(child, keys, strings)
    elif isinstance(node, list):
        for child in node:
            vocabulary(child, keys, strings)
    elif isinstance(node, str):
        strings.add(node)


@functools.cache
def json_like(kind: str | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value; with a kind, keys and strings also come from its samples."""
    scalars: st.SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats()
        | st.text(max_size=20)
        | st.text(alphabet=string.ascii_letters + string.digits + "_-", max_size=12)
    )
    keys: st.SearchStrategy[str] = st.text(max_size=12)
    if kind is not None:
        found_keys: set[str] = set()
        strings: set[str] = set()
        for sample in SAMPLES[kind]:
            vocabulary(sample, found_keys, strings)
        scalars = scalars | st.sampled_from(sorted(strings))
        keys = keys | st.sampled_from(sorted(found_keys))
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6)
        ),
        max_leaves=25,
    )


def outcome(parser: Parser, payload: Any) -> ParsedPayload | PayloadError:
    """What ``parser`` returns, or the PayloadError it raises (anything else propagates)."""
    try:
        return parser(payload)
    except PayloadError as error:
        return error


def check(parser: Parser, payload: Any) -> None:
    """The property: a ParsedPayload whose items are valid, or a PayloadError with a known code."""
    parsed = outcome(parser, payload)
    if isinstance(parsed, PayloadError):
        assert parsed.code in CODES
        return
    for item in parsed.items:
        if isinstance(item, NewItem | EditedItem):
            normalise(item.draft)  # raises if the draft breaks the Mention contract
            host, _, status_id = item.draft.native_id.partition("/")
            assert host
            assert status_id
        else:
            assert isinstance(item, DeletedItem)
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


DROP = object()
HOSTILE: list[Any] = [
    None, True, 0, -1, 2**64, 1.5, float("nan"), "", "abc", "1_2", "ü", " ", [], {}, [{}], [None],
    "<p>", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "https://", "\ud800",
]  # fmt: skip


def set_path(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
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
def mutated(draw: st.DrawFn, kind: str) -> Any:
    """A sample with one to three keys dropped, retyped or replaced by any JSON."""
    payload = copy.deepcopy(draw(st.sampled_from(SAMPLES[kind])))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = paths(payload)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        value = draw(st.sampled_from([DROP, *HOSTILE]) | json_like(kind))
        set_path(payload, path, value)
    return payload


@pytest.mark.parametrize("kind", list(PARSERS))
@PROPERTY
@given(payload=json_like())
def test_any_json_parses_or_raises_payload_error(kind: str, payload: Any) -> None:
    check(PARSERS[kind], payload)


@pytest.mark.parametrize("kind", list(PARSERS))
@PROPERTY
@given(data=st.data())
def test_json_in_mastodons_vocabulary_parses_or_raises_payload_error(
    kind: str, data: st.DataObject
) -> None:
    check(PARSERS[kind], data.draw(json_like(kind)))


@pytest.mark.parametrize("kind", list(PARSERS))
@PROPERTY
@given(data=st.data())
def test_broken_samples_parse_or_raise_payload_error(kind: str, data: st.DataObject) -> None:
    check(PARSERS[kind], data.draw(mutated(kind)))


@pytest.mark.parametrize("kind", list(PARSERS))
def test_every_single_drop_or_retype_of_every_sample(kind: str) -> None:
    """Exhaustive where random search is thin: each path of each sample, each hostile value."""
    checked = 0
    for sample in SAMPLES[kind]:
        for path in paths(sample):
            for value in [DROP, *HOSTILE]:
                check(PARSERS[kind], set_path(copy.deepcopy(sample), path, value))
                checked += 1
    assert checked > 1000


def test_samples_are_all_exercised() -> None:
    """Every parser has samples to mutate; an empty group would test nothing."""
    assert {kind: len(found) >= 4 for kind, found in SAMPLES.items()} == dict.fromkeys(
        PARSERS, True
    )


# --- HTML -------------------------------------------------------------------------------------

HTML_PIECES = st.sampled_from(
    ["<p>", "</p>", "<br>", "<br/>", "<a href='x'>", "</a>", "<span class=\"invisible\">",
     "</span>", "<pre>", "</pre>", "<li>", "<script>", "</script>", "<![", "]>", "<!--", "-->",
     "&amp;", "&#39;", "&#x1F600;", "&bogus;", "&", "<", ">", " ", "\n", "\t", "text", "ü"]
)  # fmt: skip


@PROPERTY
@given(html=st.lists(HTML_PIECES | st.text(max_size=8), max_size=30).map("".join))
def test_html_to_text_never_raises_and_leaves_no_surrounding_space(html: str) -> None:
    text = mastodon.html_to_text(html)
    assert text == text.strip()
    assert "\n\n\n" not in text


@PROPERTY
@given(words=st.lists(st.text(alphabet=string.ascii_letters + "!?.,'", min_size=1), max_size=8))
def test_plain_words_survive_html_as_written(words: list[str]) -> None:
    html = "<p>" + "</p><p>".join(" <b>" + w + "</b> " for w in words) + "</p>"
    assert mastodon.html_to_text(html) == "\n\n".join(words)


# --- server-sent events -----------------------------------------------------------------------

SSE_LINES = st.sampled_from(
    ["event: update", "event:notification", "data: {\"a\": 1}", "data:x", "data", "data: ",
     ":thump", ":", "id: 7", "retry: 10", "bogus field", "", "", "data: \u2028 inside"]
)  # fmt: skip


@PROPERTY
@given(
    lines=st.lists(SSE_LINES, max_size=20),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_sse_events_do_not_depend_on_how_the_stream_is_cut(
    lines: list[str], newline: str, cuts: list[int]
) -> None:
    # A final "x" keeps a trailing CR from waiting for a possible LF: everything is decided.
    text = newline.join(lines) + newline + "x"
    whole = SseDecoder().feed(text)
    decoder = SseDecoder()
    pieces: list[SseEvent | SseComment] = []
    start = 0
    for cut in sorted({min(c, len(text)) for c in cuts}):
        pieces += decoder.feed(text[start:cut])
        start = cut
    pieces += decoder.feed(text[start:])
    assert pieces == whole
    assert all(item.name for item in whole if isinstance(item, SseEvent))
