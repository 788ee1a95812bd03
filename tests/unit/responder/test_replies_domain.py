"""Replies: per-network limits, canned responses, idempotency keys, approval policy."""

from __future__ import annotations

import pytest

from smm_responder.domain.replies import (
    ApprovalPolicy,
    ReplyError,
    check_reply,
    check_template,
    render_template,
    reply_id,
    reply_length,
)
from smm_shared.events import Network

pytestmark = pytest.mark.unit


def test_x_counts_every_url_as_23_characters() -> None:
    text = "See https://example.com/a/very/long/path/that/goes/on/and/on/and/on/for/ever"
    assert reply_length(Network.X, text) == len("See ") + 23
    assert reply_length(Network.VK, text) == len(text)


@pytest.mark.parametrize(
    ("network", "limit"),
    [
        (Network.X, 280),
        (Network.MASTODON, 500),
        (Network.INSTAGRAM, 2200),
        (Network.TELEGRAM, 4096),
    ],
)
def test_the_limit_is_accepted_and_one_more_is_refused_with_how_much_to_cut(
    network: Network, limit: int
) -> None:
    assert check_reply(network, "я" * limit) == "я" * limit
    with pytest.raises(ReplyError, match="Shorten it by 1") as info:
        check_reply(network, "я" * (limit + 1))
    assert info.value.code == "reply.too_long"


def test_blank_replies_are_refused_and_text_is_stripped() -> None:
    assert check_reply(Network.VK, "  thanks \n") == "thanks"
    with pytest.raises(ReplyError) as info:
        check_reply(Network.VK, " \n\t")
    assert info.value.code == "reply.empty"


def test_canned_responses_fill_known_variables() -> None:
    text = render_template(
        "Hi {{ author_name }}, {{agent_name}} here about case {{case_id}}. {{brand}}",
        {"author_name": "Анна", "agent_name": "Bob", "case_id": "C1"},
    )
    assert text == "Hi Анна, Bob here about case C1. "


def test_unknown_variables_are_refused_by_name() -> None:
    with pytest.raises(ReplyError, match="order_no") as info:
        check_template("Your order {{order_no}} is late")
    assert info.value.code == "canned.unknown_variable"


def test_reply_ids_are_stable_per_case_and_key() -> None:
    assert reply_id("c1", "k1") == reply_id("c1", "k1")
    assert len({reply_id("c1", "k1"), reply_id("c1", "k2"), reply_id("c2", "k1")}) == 3
    assert len(reply_id("c1", "k1")) <= 64


@pytest.mark.parametrize(
    ("agent", "priority", "tags", "department", "manager", "expected"),
    [
        (False, "normal", frozenset(), None, False, False),
        (True, "normal", frozenset(), None, False, True),
        (False, "urgent", frozenset(), None, False, True),
        (False, "normal", frozenset({"legal"}), None, False, True),
        (False, "normal", frozenset(), "press", False, True),
        (True, "urgent", frozenset({"legal"}), "press", True, False),  # managers approve themselves
    ],
)
def test_approval_policy(
    agent: bool,
    priority: str,
    tags: frozenset[str],
    department: str | None,
    manager: bool,
    expected: bool,
) -> None:
    policy = ApprovalPolicy(
        priorities=frozenset({"urgent"}),
        tags=frozenset({"legal"}),
        departments=frozenset({"press"}),
    )
    assert (
        policy.needs_approval(
            agent_requires=agent,
            priority=priority,
            tags=tags,
            department=department,
            sender_is_manager=manager,
        )
        is expected
    )
