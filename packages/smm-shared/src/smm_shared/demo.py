"""Demo data for the local stack, posted through the real ingest API (idempotent on re-run).

This seeds a few conversations so a new user sees cases and numbers at once; the network
simulator (signed webhooks at a steady rate) replaces it when ingest's connectors land.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

DEMO_BRAND = "demo"

_THREADS: list[tuple[str, str, list[tuple[str, str, str, str]]]] = [
    # network, thread id, [(native id, author, language, text)]
    (
        "vk",
        "wall-100_501",
        [
            (
                "wall-100_501_1",
                "anna.k",
                "ru",
                "Третий день не могу войти в приложение, пишет «ошибка 502». Что происходит?",
            ),
            (
                "wall-100_501_2",
                "anna.k",
                "ru",
                "Поддержка по телефону не отвечает, очень неудобно.",
            ),
        ],
    ),
    (
        "x",
        "1861234567890",
        [
            (
                "1861234567890",
                "jmiller",
                "en",
                "@DemoBank my card got declined twice today at checkout, no SMS, nothing. Fix this please",
            ),
            ("1861234567999", "jmiller", "en", "Still waiting for an answer @DemoBank ..."),
        ],
    ),
    (
        "telegram",
        "chat-77",
        [
            (
                "chat-77_12",
                "lucia_p",
                "es",
                "Hola, ¿cuándo abren la nueva sucursal en Valencia? ¡Me encanta la app!",
            ),
        ],
    ),
    (
        "facebook",
        "post-3001",
        [
            (
                "comment-3001_1",
                "paulo.s",
                "pt",
                "Atendimento excelente ontem na agência, parabéns à equipe!",
            ),
        ],
    ),
    (
        "instagram",
        "media-9001",
        [
            (
                "ig-c-9001_1",
                "maria.santos",
                "tl",
                "Ang bilis ng transfer ngayon, salamat DemoBank!",
            ),
        ],
    ),
    (
        "vk",
        "wall-100_502",
        [
            (
                "wall-100_502_1",
                "oleg_v",
                "uk",
                "Дякую за швидку відповідь у чаті, все вирішили за 5 хвилин.",
            ),
        ],
    ),
]


def demo_mentions(now: datetime | None = None) -> list[dict[str, Any]]:
    """The demo mentions as ``POST /v1/mentions`` bodies, spread over the last hours."""
    now = now or datetime.now(UTC)
    bodies: list[dict[str, Any]] = []
    step = 0
    for network, thread, items in _THREADS:
        for native_id, author, language, text in items:
            step += 1
            bodies.append(
                {
                    "brand_id": DEMO_BRAND,
                    "network": network,
                    "kind": "comment" if network in {"vk", "facebook", "instagram"} else "reply",
                    "native_id": native_id,
                    "thread_id": thread,
                    "author": {"id": f"{network}-{author}", "handle": author},
                    "text": text,
                    "language": language,
                    "created_at": (now - timedelta(minutes=7 * (12 - step))).isoformat(),
                }
            )
    return bodies


def seed(ingest_url: str, token: str) -> tuple[int, int]:
    """Post the demo mentions; returns (new, already there)."""
    created = existing = 0
    with httpx.Client(
        base_url=ingest_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        for body in demo_mentions():
            response = client.post("/v1/mentions", json=body)
            response.raise_for_status()
            if response.status_code == 201:
                created += 1
            else:
                existing += 1
    return created, existing


#: The demo brand's responder set-up, posted through the responder's API before any mention.
DEMO_CALENDAR: dict[str, Any] = {
    "name": "Moscow office hours",
    "time_zone": "Europe/Moscow",
    "week": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays_country": "RU",
}
DEMO_POLICIES: list[dict[str, Any]] = [
    {
        "name": "Social care 24/7",
        "targets": [
            {"metric": "first_response", "target_s": 600, "warn_percent": 70},
            {"metric": "next_response", "target_s": 900, "warn_percent": 70},
            {"metric": "time_to_assignment", "target_s": 300, "warn_percent": 60},
            {"metric": "resolution", "target_s": 86_400, "warn_before_s": 3_600},
        ],
    },
]
DEMO_DEPARTMENTS: list[dict[str, Any]] = [
    {"id": "support", "name": "Customer support"},
    {"id": "billing", "name": "Billing", "response_target_s": 14_400, "warn_percent": 75},
    {"id": "delivery", "name": "Card delivery", "response_target_s": 28_800, "warn_percent": 75},
    {"id": "legal", "name": "Legal"},
]
DEMO_AGENTS: list[dict[str, Any]] = [
    {"user_id": "anna", "name": "Anna", "departments": ["support", "billing"],
     "languages": ["ru", "uk", "en"], "capacity": 8, "availability": "online"},
    {"user_id": "boris", "name": "Boris", "departments": ["support", "delivery"],
     "languages": ["ru", "en", "de"], "capacity": 8, "availability": "online"},
    {"user_id": "carmen", "name": "Carmen", "departments": ["support", "billing", "delivery"],
     "languages": ["es", "pt", "en", "tl", "fr"], "capacity": 6, "availability": "online"},
]  # fmt: skip
DEMO_RULES: list[dict[str, Any]] = [
    {
        "name": "Outage reports",
        "position": 10,
        "conditions": {
            "text_keywords": ["502", "outage", "не работает", "сбой", "down", "no funciona"]
        },
        "actions": {"department": "support", "priority": "urgent", "tags": ["outage"],
                    "assignment": "least_loaded"},
    },
    {
        "name": "Money complaints",
        "position": 20,
        "conditions": {
            "sentiment_labels": ["negative", "mixed"],
            "text_keywords": ["refund", "charge", "fee", "списали", "комиссия", "возврат",
                              "cobro", "reembolso"],
        },
        "actions": {"department": "billing", "priority": "high", "tags": ["money"],
                    "assignment": "least_loaded"},
    },
]  # fmt: skip
DEMO_ESCALATIONS: list[dict[str, Any]] = [
    {"name": "First response breached", "trigger": "breach", "metrics": ["first_response"],
     "raise_priority": True, "notify": ["team-lead"]},
    {"name": "Nobody took it", "trigger": "warning", "metrics": ["time_to_assignment"],
     "notify": ["team-lead"]},
]  # fmt: skip
DEMO_CANNED: list[dict[str, Any]] = [
    {"name": "Apology, looking into it",
     "text": "Hi {{author_name}}, sorry about this! {{agent_name}} from {{brand}} here: "
             "we are looking into it and will come back to you shortly."},
    {"name": "Resolution from the department",
     "text": "Hi {{author_name}}, good news: {{department_answer}}. Thank you for your patience!"},
]  # fmt: skip


def seed_responder(responder_url: str, token: str) -> int:
    """Set up the demo brand's responder (calendar, policy, departments, rules, agents,
    escalations, canned responses) unless it already is; returns how many things were made."""
    made = 0
    with httpx.Client(
        base_url=responder_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:

        def existing(path: str, key: str = "name") -> dict[str, Any]:
            response = client.get(path, params={"brand_id": DEMO_BRAND})
            response.raise_for_status()
            return {str(item[key]): item for item in response.json()}

        def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json={"brand_id": DEMO_BRAND, **body})
            response.raise_for_status()
            return dict(response.json())

        calendars = existing("/v1/calendars")
        if DEMO_CALENDAR["name"] not in calendars:
            calendars[str(DEMO_CALENDAR["name"])] = create("/v1/calendars", DEMO_CALENDAR)
            made += 1
        calendar_id = calendars[str(DEMO_CALENDAR["name"])]["id"]
        policies = existing("/v1/sla-policies")
        for policy in DEMO_POLICIES:
            if policy["name"] not in policies:
                policies[str(policy["name"])] = create("/v1/sla-policies", policy)
                made += 1
        policy_id = policies[str(DEMO_POLICIES[0]["name"])]["id"]
        departments = existing("/v1/departments", key="id")
        for dept in DEMO_DEPARTMENTS:
            if dept["id"] not in departments:
                body = {**dept, "sla_policy_id": policy_id}
                if "response_target_s" in dept:
                    body["calendar_id"] = calendar_id  # handoffs count office hours
                create("/v1/departments", body)
                made += 1
        agents = existing("/v1/agents", key="user_id")
        for agent in DEMO_AGENTS:
            if agent["user_id"] not in agents:
                create("/v1/agents", agent)
                made += 1
        for path, items in (
            ("/v1/routing-rules", DEMO_RULES),
            ("/v1/escalation-rules", DEMO_ESCALATIONS),
            ("/v1/canned-responses", DEMO_CANNED),
        ):
            have = existing(path)
            for item in items:
                if item["name"] not in have:
                    create(path, item)
                    made += 1
        default = client.get("/v1/routing-rules/default/current", params={"brand_id": DEMO_BRAND})
        default.raise_for_status()
        if default.json()["actions"].get("department") != "support":
            response = client.put(
                "/v1/routing-rules/default/current",
                json={
                    "brand_id": DEMO_BRAND,
                    "actions": {"department": "support", "assignment": "least_loaded"},
                },
            )
            response.raise_for_status()
            made += 1
        config = client.get(f"/v1/brand-config/{DEMO_BRAND}")
        config.raise_for_status()
        if config.json().get("default_sla_policy_id") != policy_id:
            response = client.put(
                f"/v1/brand-config/{DEMO_BRAND}",
                json={
                    "brand_name": "Demo Bank",
                    "default_sla_policy_id": policy_id,
                    "approval": {"tags": ["legal"]},
                },
            )
            response.raise_for_status()
            made += 1
    return made


#: The demo brand's publishing accounts: (id, network, native id, fake network prefix).
DEMO_ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("demo-x", "x", "1861000000000000001", "x"),
    ("demo-telegram", "telegram", "@demobank", "telegram"),
    ("demo-vk", "vk", "-100", "vk"),
    ("demo-facebook", "facebook", "100200300400500", "graph"),
    ("demo-instagram", "instagram", "17841400000000001", "graph"),
    ("demo-mastodon", "mastodon", "109000000000000001", "mastodon"),
    ("demo-youtube", "youtube", "UCdemobank000000000000", "youtube"),
    ("demo-reddit", "reddit", "demobank", "reddit"),
]


def seed_publisher(publisher_url: str, token: str, networks_url: str) -> int:
    """Connect the demo brand's accounts to the local fake networks and plan a few posts.

    Idempotent: accounts and the workflow are made once; the posts only on the first run.
    Returns how many things were made.
    """
    made = 0
    with httpx.Client(
        base_url=publisher_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        accounts = client.get("/v1/accounts", params={"brand_id": DEMO_BRAND})
        accounts.raise_for_status()
        have = {a["id"] for a in accounts.json()}
        for account_id, network, native_id, prefix in DEMO_ACCOUNTS:
            if account_id in have:
                continue
            response = client.post(
                "/v1/accounts",
                json={
                    "id": account_id,
                    "brand_id": DEMO_BRAND,
                    "network": network,
                    "native_id": native_id,
                    "name": f"Demo Bank on {network}",
                    "token": {"value": f"demo-{network}-token@{native_id}"},
                    "api_base_url": f"{networks_url}/{prefix}",
                    "replies": True,
                },
            )
            response.raise_for_status()
            made += 1
        workflows = client.get("/v1/workflows", params={"brand_id": DEMO_BRAND})
        workflows.raise_for_status()
        if any(w["id"] == "promo-review" for w in workflows.json()):
            return made
        response = client.post(
            "/v1/workflows",
            json={
                "id": "promo-review",
                "brand_id": DEMO_BRAND,
                "name": "Promo review",
                "labels": ["promo"],
                "steps": [{"name": "SMM manager", "roles": ["smm_manager"], "mode": "any"}],
            },
        )
        response.raise_for_status()
        made += 1
        now = datetime.now(UTC)
        posts: list[tuple[dict[str, Any], datetime | None]] = [
            (
                {
                    "title": "Welcome to Demo Bank's new app",
                    "variants": [
                        {"network": "x", "text": "Our new app is out! Faster transfers, "
                         "card controls and 24/7 chat.", "link": "https://demobank.example/app"},
                        {"network": "telegram", "text": "Наше новое приложение уже доступно: "
                         "быстрые переводы и чат 24/7.", "link": "https://demobank.example/app"},
                    ],
                    "targets": ["demo-x", "demo-telegram"],
                    "campaign_id": "app-launch",
                },
                now + timedelta(seconds=30),  # published while a new user looks around
            ),
            (
                {
                    "title": "Spring cashback promo",
                    "variants": [
                        {"network": "vk", "text": "Весной кешбэк 5% на всё! Подробности по ссылке.",
                         "link": "https://demobank.example/spring"},
                    ],
                    "targets": ["demo-vk"],
                    "campaign_id": "spring",
                    "labels": ["promo"],
                },
                now + timedelta(days=1),
            ),
            (
                {
                    "title": "Weekly security tip (draft)",
                    "variants": [
                        {"network": "mastodon", "text": "Tip of the week: we never ask for your "
                         "card PIN. Never share it with anyone."},
                    ],
                    "targets": ["demo-mastodon"],
                },
                None,
            ),
        ]  # fmt: skip
        for body, at in posts:
            schedule = {"at": at.isoformat(), "time_zone": "Europe/Moscow"} if at else None
            response = client.post(
                "/v1/content", json={"brand_id": DEMO_BRAND, **body, "schedule": schedule}
            )
            response.raise_for_status()
            made += 1
            if at is not None:  # the promo waits for approval; the welcome post is scheduled
                submitted = client.post(
                    f"/v1/content/{response.json()['id']}/submit", params={"brand_id": DEMO_BRAND}
                )
                submitted.raise_for_status()
    return made
