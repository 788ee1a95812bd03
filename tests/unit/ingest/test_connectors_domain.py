"""Connector rules: our own ids per kind, required secrets, which kinds poll."""

from __future__ import annotations

from typing import Any

import pytest

from smm_ingest.domain.connectors import POLL_KINDS, REQUIRED_SECRETS, Connector, ConnectorKind
from smm_shared.events import Network

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("kind", "config", "own"),
    [
        (ConnectorKind.VK, {"group_id": 123}, {"123", "-123"}),
        (ConnectorKind.VK_STREAMING, {"group_id": 123, "rules": []}, {"123", "-123"}),
        (ConnectorKind.META, {"page_ids": ["p1"], "instagram_account_ids": ["ig1"]}, {"p1", "ig1"}),
        (ConnectorKind.INSTAGRAM, {"ig_user_id": "178414", "username": "acme"}, {"178414", "acme"}),
        (ConnectorKind.INSTAGRAM, {"ig_user_id": "178414"}, {"178414"}),
        (ConnectorKind.TELEGRAM, {"bot_id": "77"}, {"77"}),
        (ConnectorKind.TELEGRAM_POLL, {"bot_id": "77"}, {"77"}),
        (ConnectorKind.TELEGRAM_POLL, {}, set()),
        (ConnectorKind.X_MENTIONS, {"user_id": "150"}, {"150"}),
        (ConnectorKind.X_STREAM, {"user_id": "150", "rules": []}, {"150"}),
        (ConnectorKind.YOUTUBE, {"channel_id": "UCabcdefghij"}, {"UCabcdefghij"}),
        (ConnectorKind.REDDIT, {"own_usernames": ["demobank_support"]}, {"demobank_support"}),
        (ConnectorKind.MASTODON, {"account_id": "109", "acct": "demobank"}, {"109", "demobank"}),
        (ConnectorKind.MASTODON_STREAM, {"acct": "demobank"}, {"demobank"}),
    ],
)
def test_our_own_ids_per_kind(kind: ConnectorKind, config: dict[str, Any], own: set[str]) -> None:
    connector = Connector(id="c", brand_id="b", kind=kind, name="n", config=config)
    assert connector.account_context(Network.X).own_ids == frozenset(own)


def test_every_kind_declares_its_secrets_and_poll_kinds_are_kinds() -> None:
    assert set(REQUIRED_SECRETS) == set(ConnectorKind)
    assert {k.value for k in ConnectorKind} >= POLL_KINDS
    connector = Connector(id="c", brand_id="b", kind=ConnectorKind.X_STREAM, name="n", config={})
    assert connector.polls
    assert connector.missing_secrets() == frozenset({"bearer_token"})
    instagram = Connector(id="c", brand_id="b", kind=ConnectorKind.INSTAGRAM, name="n", config={})
    assert instagram.polls
    assert instagram.missing_secrets() == frozenset({"access_token"})
    webhook = Connector(
        id="c",
        brand_id="b",
        kind=ConnectorKind.VK,
        name="n",
        config={},
        secret_names=frozenset({"secret"}),
    )
    assert not webhook.polls
    assert webhook.missing_secrets() == frozenset()
