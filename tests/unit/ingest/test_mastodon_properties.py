"""Property tests for Mastodon: any JSON or broken sample parses or raises PayloadError only.

Whatever parses must satisfy the contract (``check_parse`` in conftest: every draft normalises
into a valid ``Mention``); the HTML and server-sent-event readers never raise and do not depend
on how input is cut.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smm_ingest.adapters.networks import mastodon
from smm_ingest.adapters.pollers.mastodon import SseComment, SseDecoder, SseEvent
from smm_ingest.domain.items import AccountContext, DeletedItem, EditedItem, NewItem, ParsedPayload
from smm_shared.events import Network
from smm_shared.testing import json_properties as jp

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads" / "mastodon"
PROPERTY = jp.property_settings(max_examples=200)
ACCOUNT = AccountContext(Network.MASTODON, frozenset({"14715", "trwnh"}))

#: Samples are read by the parser their file name starts with.
PARSERS: dict[str, Callable[[Any], ParsedPayload]] = {
    "notification": lambda p: mastodon.parse_notification(p, ACCOUNT, instance="mastodon.social"),
    "status": lambda p: mastodon.parse_status(p, ACCOUNT, instance="mastodon.social"),
    "stream": lambda p: mastodon.parse_stream_event(p, ACCOUNT),
}
SAMPLES = {kind: jp.load_samples(PAYLOADS, f"{kind}_*.json") for kind in PARSERS}
SOURCES = ["any json", "json in the samples' vocabulary", "broken samples", "every single mutation"]


def parsed_with_ids(kind: str, payload: Any) -> ParsedPayload:
    """The kind's parser, also requiring mentions and deletions only, ids as ``host/status``."""
    parsed = PARSERS[kind](payload)
    for item in parsed.items:
        if isinstance(item, NewItem | EditedItem):
            host, _, status_id = item.draft.native_id.partition("/")
            assert host
            assert status_id
        else:
            assert isinstance(item, DeletedItem)
    return parsed


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", list(PARSERS))
def test_payloads_parse_or_raise_payload_error(
    kind: str, source: str, check_parser: Callable[..., None]
) -> None:
    parse = functools.partial(parsed_with_ids, kind)
    check_parser(parse, SAMPLES[kind], source, max_examples=200, min_single=1000)


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
