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
