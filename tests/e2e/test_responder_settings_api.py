"""The responder's settings API, black box on the real stack: every settings kind is
created, listed, read, replaced optimistically and deleted; bodies are checked by the
domain (422 with what to fix); the default routing rule stays; agents change only their own
availability; the brand configuration names only real policies; every route checks role
and brand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.events import new_ulid
from smm_shared.stack import Stack

pytestmark = pytest.mark.e2e

BRAND = "brand-settings"
OTHER_BRAND = "brand-settings-other"
Api = Callable[..., httpx.AsyncClient]
TokenFactory = Callable[..., str]


def manager(token: TokenFactory, brand: str = BRAND) -> str:
    return token(roles=(Role.SMM_MANAGER,), brands=(brand,), subject=f"manager-{brand}")


def agent(token: TokenFactory, user_id: str) -> str:
    return token(roles=(Role.AGENT,), brands=(BRAND,), subject=user_id)


def suffix() -> str:
    return new_ulid()[-8:].lower()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The ``{"error": {"code", "message", ...}}`` body of a response with ``status``."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    return error


async def create_policy(responder: httpx.AsyncClient, name: str) -> str:
    created = await responder.post(
        "/v1/sla-policies",
        json={
            "brand_id": BRAND,
            "name": name,
            "targets": [{"metric": "first_response", "target_s": 3600, "warn_percent": 80}],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


# --- CRUD of every kind ---------------------------------------------------------------------

# (path, the singular in error codes, a valid body, the fields a replace changes)
KINDS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "routing-rules",
        "routing-rule",
        {
            "name": "Refunds",
            "position": 100,
            "conditions": {"text_keywords": ["refund"]},
            "actions": {"priority": "high", "tags": ["refund"]},
        },
        {"name": "Refunds and returns", "actions": {"priority": "urgent", "tags": ["refund"]}},
    ),
    (
        "sla-policies",
        "sla-policy",
        {
            "name": "Standard",
            "targets": [{"metric": "first_response", "target_s": 3600, "warn_percent": 80}],
        },
        {
            "name": "Standard, faster",
            "targets": [{"metric": "first_response", "target_s": 1800, "warn_before_s": 300}],
        },
    ),
    (
        "calendars",
        "calendar",
        {"name": "Office", "time_zone": "Europe/Moscow", "week": {"mon": [["09:00", "18:00"]]}},
        {"name": "Office and night", "week": {"mon": [["09:00", "18:00"], ["22:00", "06:00"]]}},
    ),
    (
        "departments",
        "department",
        {"id": "billing", "name": "Billing"},
        {"name": "Billing and refunds", "description": "Money matters"},
    ),
    (
        "escalation-rules",
        "escalation-rule",
        {"name": "On breach", "trigger": "breach", "notify": ["supervisors"]},
        {"name": "On breach, louder", "raise_priority": True},
    ),
    (
        "canned-responses",
        "canned-response",
        {"name": "Sorry", "text": "Sorry {{author_name}}, we are on it."},
        {"text": "Sorry {{author_name}}, {{agent_name}} is checking case {{case_id}}."},
    ),
]


@pytest.mark.parametrize(("path", "singular", "body", "change"), KINDS, ids=[k[0] for k in KINDS])
async def test_each_settings_kind_is_created_listed_read_replaced_optimistically_and_deleted(
    api: Api,
    token: TokenFactory,
    path: str,
    singular: str,
    body: dict[str, Any],
    change: dict[str, Any],
) -> None:
    responder = api("responder", manager(token))
    tag = suffix()
    original = {**body, "brand_id": BRAND}
    if "id" in original:  # departments are named by their slug, unique per run here
        original["id"] = f"{original['id']}-{tag}"
    original["name"] = f"{original['name']} {tag}"
    url = f"/v1/{path}"

    created = await responder.post(url, json=original)
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    assert doc_id
    assert created.json()["version"] == 1
    if "id" in original:
        assert doc_id == original["id"]

    listed = await responder.get(url, params={"brand_id": BRAND})
    assert listed.status_code == 200, listed.text
    assert doc_id in [d["id"] for d in listed.json()]

    read = await responder.get(f"{url}/{doc_id}", params={"brand_id": BRAND})
    assert read.status_code == 200, read.text
    assert read.json()["version"] == 1
    assert read.json()["name"] == original["name"]

    replacement = {**original, **change}
    replaced = await responder.put(f"{url}/{doc_id}", params={"version": 1}, json=replacement)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    stored = (await responder.get(f"{url}/{doc_id}", params={"brand_id": BRAND})).json()
    assert stored["version"] == 2
    for key, value in change.items():
        if key == "actions":  # the stored rule spells out every action
            assert {k: stored[key][k] for k in value} == value
        elif key == "targets":
            assert stored[key][0]["target_s"] == value[0]["target_s"]
            assert stored[key][0]["warn_before_s"] == value[0]["warn_before_s"]
        else:
            assert stored[key] == value, key

    stale = await responder.put(
        f"{url}/{doc_id}", params={"version": 1}, json={**original, "name": f"Stale {tag}"}
    )
    assert error_of(stale, 409)["code"] == f"{singular}.changed"
    after_stale = (await responder.get(f"{url}/{doc_id}", params={"brand_id": BRAND})).json()
    assert (after_stale["version"], after_stale["name"]) == (2, stored["name"])

    deleted = await responder.delete(f"{url}/{doc_id}", params={"brand_id": BRAND})
    assert deleted.status_code == 204, deleted.text
    gone = await responder.get(f"{url}/{doc_id}", params={"brand_id": BRAND})
    assert error_of(gone, 404)["code"] == f"{singular}.not_found"
    listed = await responder.get(url, params={"brand_id": BRAND})
    assert doc_id not in [d["id"] for d in listed.json()]


# --- validation ------------------------------------------------------------------------------

# (path, an invalid body, the error code, a fragment of the message that says what to fix)
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "calendars",
        {"name": "Bad zone", "time_zone": "Mars/Olympus", "week": {"mon": [["09:00", "18:00"]]}},
        "calendar.invalid",
        "unknown time zone 'Mars/Olympus'",
    ),
    (
        "sla-policies",
        {
            "name": "Two warnings",
            "targets": [
                {
                    "metric": "first_response",
                    "target_s": 600,
                    "warn_percent": 50,
                    "warn_before_s": 60,
                }
            ],
        },
        "sla-policy.invalid",
        "not both",
    ),
    (
        "routing-rules",
        {
            "name": "Ghost policy",
            "position": 300,
            "actions": {"sla_policy_id": "no-such-policy"},
        },
        "routing.unknown_policy",
        "no-such-policy",
    ),
    (
        "canned-responses",
        {"name": "Unknown variable", "text": "Hello {{customer_iq}}!"},
        "canned.unknown_variable",
        "customer_iq",
    ),
]


@pytest.mark.parametrize(("path", "body", "code", "fragment"), INVALID, ids=[i[2] for i in INVALID])
async def test_an_invalid_body_is_422_saying_what_to_fix_and_nothing_is_saved(
    api: Api, token: TokenFactory, path: str, body: dict[str, Any], code: str, fragment: str
) -> None:
    responder = api("responder", manager(token))
    response = await responder.post(f"/v1/{path}", json={**body, "brand_id": BRAND})
    error = error_of(response, 422)
    assert error["code"] == code
    assert fragment in error["message"]
    listed = await responder.get(f"/v1/{path}", params={"brand_id": BRAND})
    assert body["name"] not in [d["name"] for d in listed.json()]


async def test_two_routing_rules_of_a_brand_cannot_share_a_position(
    api: Api, token: TokenFactory
) -> None:
    responder = api("responder", manager(token))
    first = await responder.post(
        "/v1/routing-rules", json={"brand_id": BRAND, "name": "First at 400", "position": 400}
    )
    assert first.status_code == 201, first.text
    second = await responder.post(
        "/v1/routing-rules", json={"brand_id": BRAND, "name": "Also at 400", "position": 400}
    )
    error = error_of(second, 422)
    assert error["code"] == "routing.duplicate_position"
    assert first.json()["id"] in error["message"]
    third = await responder.post(
        "/v1/routing-rules", json={"brand_id": BRAND, "name": "At 401", "position": 401}
    )
    assert third.status_code == 201, third.text
    moved = await responder.put(
        f"/v1/routing-rules/{third.json()['id']}",
        params={"version": 1},
        json={"brand_id": BRAND, "name": "Moved onto 400", "position": 400},
    )
    assert error_of(moved, 422)["code"] == "routing.duplicate_position"
    names = [
        r["name"]
        for r in (await responder.get("/v1/routing-rules", params={"brand_id": BRAND})).json()
    ]
    assert "Also at 400" not in names
    assert "Moved onto 400" not in names


# --- the default routing rule -----------------------------------------------------------------


async def test_the_default_rule_exists_changes_only_its_actions_and_cannot_be_deleted(
    api: Api, token: TokenFactory
) -> None:
    responder = api("responder", manager(token))
    params = {"brand_id": BRAND}
    current = await responder.get("/v1/routing-rules/default/current", params=params)
    assert current.status_code == 200, current.text
    assert current.json()["is_default"] is True
    assert current.json()["id"] == f"default-{BRAND}"

    actions = {
        "department": "general",
        "priority": "low",
        "tags": ["unsorted"],
        "assignment": "round_robin",
    }
    changed = await responder.put(
        "/v1/routing-rules/default/current", json={"brand_id": BRAND, "actions": actions}
    )
    assert changed.status_code == 200, changed.text
    after = (await responder.get("/v1/routing-rules/default/current", params=params)).json()
    assert after["is_default"] is True
    assert {k: after["actions"][k] for k in actions} == actions

    refused = await responder.delete(f"/v1/routing-rules/default-{BRAND}", params=params)
    assert error_of(refused, 409)["code"] == "routing.default_not_deletable"
    still = (await responder.get("/v1/routing-rules/default/current", params=params)).json()
    assert still["is_default"] is True
    assert still["actions"]["priority"] == "low"


async def test_the_default_rule_cannot_name_a_missing_sla_policy(
    api: Api, token: TokenFactory
) -> None:
    responder = api("responder", manager(token))
    response = await responder.put(
        "/v1/routing-rules/default/current",
        json={"brand_id": BRAND, "actions": {"sla_policy_id": "no-such-policy"}},
    )
    assert error_of(response, 422)["code"] == "routing.unknown_policy"
    current = await responder.get("/v1/routing-rules/default/current", params={"brand_id": BRAND})
    assert current.json()["actions"]["sla_policy_id"] != "no-such-policy"


# --- agents ----------------------------------------------------------------------------------


async def test_agents_change_their_own_availability_and_managers_the_rest(
    api: Api, token: TokenFactory
) -> None:
    responder = api("responder", manager(token))
    ana, ben = f"ana-{suffix()}", f"ben-{suffix()}"
    created = await responder.post(
        "/v1/agents", json={"brand_id": BRAND, "user_id": ana, "name": "Ana", "capacity": 3}
    )
    assert created.status_code == 201, created.text
    profile = created.json()
    assert (profile["user_id"], profile["active_cases"], profile["capacity"]) == (ana, 0, 3)
    assert profile["version"] == 1
    again = await responder.post("/v1/agents", json={"brand_id": BRAND, "user_id": ana})
    assert error_of(again, 409)["code"] == "agent.exists"
    other = await responder.post("/v1/agents", json={"brand_id": BRAND, "user_id": ben})
    assert other.status_code == 201, other.text

    as_ana = api("responder", agent(token, ana))
    online = await as_ana.patch(
        f"/v1/agents/{ana}",
        params={"brand_id": BRAND, "version": 1},
        json={"availability": "online"},
    )
    assert online.status_code == 200, online.text
    assert (online.json()["availability"], online.json()["version"]) == ("online", 2)

    more = await as_ana.patch(
        f"/v1/agents/{ana}", params={"brand_id": BRAND, "version": 2}, json={"capacity": 50}
    )
    assert error_of(more, 403)["code"] == "auth.forbidden_role"
    for_ben = await as_ana.patch(
        f"/v1/agents/{ben}", params={"brand_id": BRAND, "version": 1}, json={"availability": "away"}
    )
    assert error_of(for_ben, 403)["code"] == "auth.forbidden_role"

    raised = await responder.patch(
        f"/v1/agents/{ana}", params={"brand_id": BRAND, "version": 2}, json={"capacity": 5}
    )
    assert raised.status_code == 200, raised.text
    stale = await responder.patch(
        f"/v1/agents/{ana}", params={"brand_id": BRAND, "version": 2}, json={"capacity": 7}
    )
    assert error_of(stale, 409)["code"] == "agent.changed"

    team = await responder.get("/v1/agents", params={"brand_id": BRAND})
    assert team.status_code == 200, team.text
    by_user = {a["user_id"]: a for a in team.json()}
    assert by_user[ana]["capacity"] == 5
    assert by_user[ana]["availability"] == "online"
    assert by_user[ana]["version"] == 3
    assert by_user[ben]["availability"] == "offline"


# --- brand configuration ------------------------------------------------------------------------


async def test_the_brand_configuration_has_defaults_and_names_only_real_policies(
    api: Api, token: TokenFactory
) -> None:
    responder = api("responder", manager(token))
    url = f"/v1/brand-config/{BRAND}"
    defaults = await responder.get(url)
    assert defaults.status_code == 200, defaults.text
    assert defaults.json()["reopen_window_h"] == 168
    assert defaults.json()["default_sla_policy_id"] is None
    assert defaults.json()["review_follow_up"]["days"] == 7

    unknown = await responder.put(url, json={"default_sla_policy_id": "no-such-policy"})
    assert error_of(unknown, 422)["code"] == "brand.unknown_policy"
    assert (await responder.get(url)).json()["default_sla_policy_id"] is None

    policy_id = await create_policy(responder, f"Brand default {suffix()}")
    saved = await responder.put(
        url, json={"default_sla_policy_id": policy_id, "reopen_window_h": 48}
    )
    assert saved.status_code == 200, saved.text
    stored = (await responder.get(url)).json()
    assert stored["default_sla_policy_id"] == policy_id
    assert stored["reopen_window_h"] == 48


# --- authorization ---------------------------------------------------------------------------


async def test_settings_check_role_and_brand_and_need_a_token(
    api: Api, token: TokenFactory, stack: Stack
) -> None:
    ours = api("responder", manager(token))
    canned = {"brand_id": BRAND, "name": f"Ours {suffix()}", "text": "Thanks {{author_name}}!"}
    made = await ours.post("/v1/canned-responses", json=canned)
    assert made.status_code == 201, made.text
    canned_id = made.json()["id"]
    calendar = {"brand_id": BRAND, "name": "Agent's", "time_zone": "UTC", "always_open": True}

    as_agent = api("responder", agent(token, f"agent-{suffix()}"))
    readable = await as_agent.get("/v1/calendars", params={"brand_id": BRAND})
    assert readable.status_code == 200, readable.text
    refused = await as_agent.post("/v1/calendars", json=calendar)
    assert error_of(refused, 403)["code"] == "auth.forbidden_role"
    refused = await as_agent.put(
        f"/v1/canned-responses/{canned_id}",
        params={"version": 1},
        json={**canned, "text": "Agent's own words"},
    )
    assert error_of(refused, 403)["code"] == "auth.forbidden_role"

    theirs = api("responder", manager(token, OTHER_BRAND))
    listed = await theirs.get("/v1/canned-responses", params={"brand_id": BRAND})
    assert error_of(listed, 403)["code"] == "auth.forbidden_brand"
    created = await theirs.post("/v1/calendars", json=calendar)
    assert error_of(created, 403)["code"] == "auth.forbidden_brand"
    config = await theirs.get(f"/v1/brand-config/{BRAND}")
    assert error_of(config, 403)["code"] == "auth.forbidden_brand"
    # Asked through their own brand, ours does not exist for them.
    hidden = await theirs.get(f"/v1/canned-responses/{canned_id}", params={"brand_id": OTHER_BRAND})
    assert error_of(hidden, 404)["code"] == "canned-response.not_found"

    async with httpx.AsyncClient(base_url=stack.config.url("responder"), timeout=10) as anonymous:
        listed = await anonymous.get("/v1/calendars", params={"brand_id": BRAND})
        assert error_of(listed, 401)["code"] == "auth.missing_token"
        created = await anonymous.post("/v1/calendars", json=calendar)
        assert error_of(created, 401)["code"] == "auth.missing_token"

    names = [
        c["name"] for c in (await ours.get("/v1/calendars", params={"brand_id": BRAND})).json()
    ]
    assert "Agent's" not in names
    kept = await ours.get(f"/v1/canned-responses/{canned_id}", params={"brand_id": BRAND})
    assert (kept.json()["text"], kept.json()["version"]) == (canned["text"], 1)


async def test_two_brands_may_each_have_a_department_with_the_same_slug(
    api: Api, token: TokenFactory
) -> None:
    slug = f"support-{suffix()}"
    ours = api("responder", manager(token))
    theirs = api("responder", manager(token, OTHER_BRAND))
    mine = await ours.post("/v1/departments", json={"brand_id": BRAND, "id": slug, "name": "Ours"})
    assert mine.status_code == 201, mine.text
    other = await theirs.post(
        "/v1/departments", json={"brand_id": OTHER_BRAND, "id": slug, "name": "Theirs"}
    )
    assert other.status_code == 201, other.text
    read_ours = await ours.get(f"/v1/departments/{slug}", params={"brand_id": BRAND})
    read_theirs = await theirs.get(f"/v1/departments/{slug}", params={"brand_id": OTHER_BRAND})
    assert (read_ours.json()["name"], read_theirs.json()["name"]) == ("Ours", "Theirs")
