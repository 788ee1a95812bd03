"""The simulated X API's rule language: what X's documented operators match, and what X refuses."""

from __future__ import annotations

from typing import Any

import pytest

from smm_shared.simulator.payloads import Accounts, Tweet, tweet
from smm_shared.simulator.scenario import Network, Scenario, ScenarioConfig, Surface, take
from smm_shared.simulator.x_rules import All, AnyOf, Not, RuleError, Term, matches, parse_rule

pytestmark = pytest.mark.unit

BRAND_ID = "1500000000000000001"


def post(
    text: str,
    *,
    username: str = "jane_doe",
    lang: str = "en",
    reply_to: str | None = None,
    verified: bool = False,
    urls: bool = False,
) -> Tweet:
    data: dict[str, Any] = {
        "id": "1900000000000000001",
        "text": text,
        "author_id": "42",
        "conversation_id": "1900000000000000001",
        "lang": lang,
    }
    users: dict[str, dict[str, Any]] = {
        "42": {"id": "42", "username": username, "name": "Jane", "verified": verified},
        BRAND_ID: {"id": BRAND_ID, "username": "DemoBank", "name": "DemoBank"},
    }
    if reply_to is not None:
        data["in_reply_to_user_id"] = reply_to
        data["referenced_tweets"] = [{"type": "replied_to", "id": "1800000000000000001"}]
        data["conversation_id"] = "1800000000000000001"
    if urls:
        data["entities"] = {"urls": [{"start": 0, "end": 23, "expanded_url": "https://x.test"}]}
    return Tweet(data=data, users=users, referenced=(), text=text)


def hit(rule: str, target: Tweet) -> bool:
    return matches(parse_rule(rule), target)


def test_keywords_are_tokenized_and_case_insensitive() -> None:
    assert hit("DemoBank", post("Is the demobank app down?"))
    assert hit("DemoBank", post("@DemoBank help"))  # punctuation separates tokens
    assert hit("DemoBank", post("DemoBank's app"))
    assert not hit("DemoBank", post("DemoBanking is a word"))
    assert hit("card declined", post("my card was declined"))  # AND, any order
    assert not hit("card declined", post("my card works"))
    assert hit('"card was declined"', post("My CARD was declined."))
    assert not hit('"card was declined"', post("was my card declined"))


def test_mentions_and_hashtags_are_exact() -> None:
    assert hit("@DemoBank", post("thanks @demobank!"))
    assert not hit("@DemoBank", post("thanks DemoBank"))  # named, not mentioned
    assert not hit("@DemoBank", post("thanks @DemoBankHelp"))
    assert hit("#DemoPay", post("love it #demopay"))
    assert not hit("#DemoPay", post("love it #DemoPayFail"))
    assert not hit("#DemoPay", post("love DemoPay"))


def test_or_negation_and_groups() -> None:
    rule = "(@DemoBank OR DemoBank) -giveaway"
    assert hit(rule, post("@DemoBank where is my money"))
    assert hit(rule, post("DemoBank where is my money"))
    assert not hit(rule, post("DemoBank giveaway time"))
    assert not hit(rule, post("where is my money"))
    # AND binds tighter than OR, as on X: "a b OR c" is "(a b) OR c".
    assert hit("card blocked OR outage", post("outage again"))
    assert not hit("card blocked OR outage", post("card again"))
    assert hit("DemoBank -(card OR app)", post("DemoBank is fine"))
    assert not hit("DemoBank -(card OR app)", post("DemoBank app is down"))
    assert parse_rule("a b OR c") == AnyOf(
        (
            All((Term("keyword", "a", ("a",)), Term("keyword", "b", ("b",)))),
            Term("keyword", "c", ("c",)),
        )
    )
    assert parse_rule("-x y") == All(
        (Not(Term("keyword", "x", ("x",))), Term("keyword", "y", ("y",)))
    )


def test_operators() -> None:
    assert hit("from:jane_doe", post("hi", username="Jane_Doe"))
    assert hit("from:42", post("hi"))
    assert not hit("from:someone", post("hi"))
    assert hit("DemoBank lang:uk", post("DemoBank привіт", lang="uk"))
    assert not hit("DemoBank lang:uk", post("DemoBank hello"))
    assert hit("to:DemoBank", post("@DemoBank help", reply_to=BRAND_ID))
    assert hit(f"to:{BRAND_ID}", post("@DemoBank help", reply_to=BRAND_ID))
    assert not hit("to:DemoBank", post("@DemoBank help"))
    assert hit("DemoBank is:reply", post("@DemoBank help", reply_to=BRAND_ID))
    assert hit("DemoBank -is:reply", post("DemoBank help"))
    assert hit("DemoBank is:verified", post("DemoBank", verified=True))
    assert not hit("DemoBank is:verified", post("DemoBank"))
    assert hit("DemoBank has:links", post("DemoBank https://t.co/x", urls=True))
    assert hit("DemoBank has:hashtags", post("DemoBank #DemoPay"))
    assert not hit("DemoBank has:mentions", post("DemoBank #DemoPay"))
    assert not hit("DemoBank has:media", post("DemoBank"))
    assert hit("conversation_id:1800000000000000001", post("hi", reply_to="7"))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 1025, "at most 1024"),
        ("-DemoBank", "positive standalone"),
        ("is:reply has:links", "positive standalone"),
        ("lang:en", "positive standalone"),
        ("DemoBank OR -app", "positive standalone"),
        ("colour:red DemoBank", "invalid operator 'colour'"),
        ("DemoBank is:famous", "invalid field 'is:famous'"),
        ("(DemoBank", "not closed"),
        ("DemoBank)", "Unexpected"),
        ("DemoBank OR", "missing"),
        ("OR DemoBank", "missing"),
        ("()", "missing"),
        ("@not-a-username!", "not a username"),
        ("#", "not a hashtag"),
        ('"" DemoBank', "no words"),
        ("!!!", "no letters"),
    ],
)
def test_rules_x_refuses_are_refused(value: str, reason: str) -> None:
    with pytest.raises(RuleError, match=reason):
        parse_rule(value)


def test_the_connectors_rule_matches_every_simulated_x_post() -> None:
    accounts = Accounts()
    config = ScenarioConfig(seed=12, rate=10, burst_at=30, burst_for=30)
    events = [e for e in take(Scenario(config).events(), duration=240) if e.network is Network.X]
    rule = parse_rule(f"@{accounts.x_username} OR {accounts.x_username}")

    assert {e.surface for e in events} == {Surface.POST, Surface.COMMENT}
    assert all(matches(rule, tweet(e, accounts=accounts, epoch=0.0)) for e in events)
    assert not any(
        matches(parse_rule("#DemoBankGiveaway"), tweet(e, accounts=accounts, epoch=0.0))
        for e in events
    )
