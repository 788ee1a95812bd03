"""Delivery requests and the text match ``find`` relies on."""

from __future__ import annotations

from datetime import datetime

import pytest

from smm_publisher.domain.content import Variant
from smm_publisher.domain.delivery import PostRequest, normalized_text, same_text
from smm_shared.events import Network

pytestmark = pytest.mark.unit

LINK = "https://shop.example.com/spring"


def test_from_variant_posts_the_text_with_the_link_where_the_network_has_no_link_field() -> None:
    variant = Variant(network=Network.X, text="Spring sale", link=LINK)

    req = PostRequest.from_variant(
        variant, account_id="1", access_token="t", idempotency_key="c1:a1"
    )

    assert req.text == f"Spring sale\n\n{LINK}"
    assert req.link == LINK
    assert req.in_reply_to is None


def test_a_link_outside_the_text_is_refused_where_it_would_be_dropped() -> None:
    with pytest.raises(ValueError, match="from_variant"):
        PostRequest(
            network=Network.MASTODON, account_id="1", access_token="t", text="Sale", link=LINK
        )
    # Networks with a link field take it separately.
    PostRequest(network=Network.FACEBOOK, account_id="1", access_token="t", text="Sale", link=LINK)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"account_id": " "}, "account_id"),
        ({"access_token": ""}, "access_token"),
        ({"attempted_at": datetime(2025, 1, 1)}, "timezone-aware"),
    ],
)
def test_incomplete_requests_are_refused(fields: dict[str, object], problem: str) -> None:
    base: dict[str, object] = {
        "network": Network.X,
        "account_id": "1",
        "access_token": "t",
        "text": "hi",
    }
    with pytest.raises(ValueError, match=problem):
        PostRequest(**{**base, **fields})  # type: ignore[arg-type]


def test_the_token_stays_out_of_the_repr() -> None:
    req = PostRequest(network=Network.X, account_id="1", access_token="secret", text="hi")

    assert "secret" not in repr(req)


def test_text_match_allows_for_escaping_shortened_urls_and_whitespace() -> None:
    assert normalized_text("a &amp; b\n\n https://t.co/x ") == "a & b <url>"
    assert same_text("Sale &amp; more https://t.co/AbC", f"Sale & more\n{LINK}")
    assert not same_text("Sale today", "Sale tomorrow")
