"""The first slice, black box: a mention in at ingest becomes a case and a counted bucket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from smm_shared.auth import Role
from smm_shared.events import new_ulid
from smm_shared.stack import Stack
from smm_shared.testing import OtlpReceiver, eventually

pytestmark = pytest.mark.e2e

BRAND = "brand-e2e"
Api = Callable[..., httpx.AsyncClient]


def mention_body(
    thread: str, *, native_id: str | None = None, text: str = "card declined again"
) -> dict[str, Any]:
    return {
        "brand_id": BRAND,
        "network": "x",
        "kind": "reply",
        "native_id": native_id or new_ulid(),
        "thread_id": thread,
        "author": {"id": "u-1", "handle": "jmiller", "followers": 1200},
        "text": text,
        "language": "en",
        "created_at": datetime.now(UTC).isoformat(),
    }


async def cases_of(api: Api, thread: str) -> list[dict[str, Any]]:
    response = await api("responder").get("/v1/cases", params={"brand_id": BRAND, "limit": 200})
    response.raise_for_status()
    return [c for c in response.json()["items"] if c["conversation_key"] == f"x:{thread}"]


async def mention_total(api: Api) -> int:
    response = await api("analytics").get(
        "/v1/metrics/series", params={"brand_id": BRAND, "metric": "mentions", "network": "x"}
    )
    response.raise_for_status()
    return int(response.json()["totals"].get("count", 0))


async def test_a_mention_opens_a_case_and_is_counted_once(api: Api) -> None:
    thread = f"t-{new_ulid()}"
    before = await mention_total(api)
    first = mention_body(thread)
    created = await api("ingest").post("/v1/mentions", json=first)
    assert created.status_code == 201, created.text
    mention_id = created.json()["mention"]["mention_id"]
    assert created.json()["mention"]["conversation_key"] == f"x:{thread}"

    again = await api("ingest").post("/v1/mentions", json=first)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["mention"]["mention_id"] == mention_id

    second = await api("ingest").post(
        "/v1/mentions", json=mention_body(thread, text="still waiting")
    )
    assert second.status_code == 201

    async def case_with_two() -> list[dict[str, Any]] | None:
        found = await cases_of(api, thread)
        return found if found and found[0]["mention_count"] == 2 else None

    cases = await eventually(case_with_two, timeout_s=20, what="case with both mentions")
    assert len(cases) == 1
    assert cases[0]["mention_ids"][0] == mention_id
    assert cases[0]["status"] == "new"

    async def counted() -> bool:
        return await mention_total(api) == before + 2

    await eventually(counted, timeout_s=20, what="two mentions counted")

    fetched = await api("ingest").get(f"/v1/mentions/{mention_id}")
    assert fetched.status_code == 200
    assert fetched.json()["mention"]["text"] == "card declined again"


async def test_one_trace_covers_every_hop(api: Api, otlp_receiver: OtlpReceiver) -> None:
    thread = f"t-{new_ulid()}"
    response = await api("ingest").post("/v1/mentions", json=mention_body(thread))
    assert response.status_code == 201

    def server_span_trace() -> str | None:
        for span in otlp_receiver.spans():
            if span.service == "smm-ingest" and span.name == "POST /v1/mentions" and span.kind == 2:
                trace_id = span.trace_id
                if any(
                    s.trace_id == trace_id and s.service == "smm-analytics" and s.kind == 5
                    for s in otlp_receiver.spans()
                ) and any(
                    s.trace_id == trace_id and s.service == "smm-responder" and s.kind == 5
                    for s in otlp_receiver.spans()
                ):
                    return trace_id
        return None

    async def full_trace() -> str | None:
        return server_span_trace()

    trace_id = await eventually(full_trace, timeout_s=30, what="a trace from ingest to analytics")
    spans = [s for s in otlp_receiver.spans() if s.trace_id == trace_id]
    by_service: dict[str, list[tuple[str, int]]] = {}
    for s in spans:
        by_service.setdefault(s.service, []).append((s.name, s.kind))
    # SpanKind in OTLP: 2 server, 3 client, 4 producer, 5 consumer.
    assert ("POST /v1/mentions", 2) in by_service["smm-ingest"]
    assert any(
        kind == 4 and "smm.mentions.v1" in name for name, kind in by_service["smm-ingest"]
    ), by_service
    assert any(
        kind == 5 and "smm.mentions.v1" in name for name, kind in by_service["smm-responder"]
    ), by_service
    responder_db = [
        s
        for s in spans
        if s.service == "smm-responder" and s.attributes.get("db.system") == "mongodb"
    ]
    assert any(s.name.startswith("insert") or "insert" in s.name for s in responder_db), by_service
    assert any(
        kind == 5 and "smm.mentions.v1" in name for name, kind in by_service["smm-analytics"]
    ), by_service
    # The outbox relay publishes from the stored context: the request's trace, not a new one.
    assert len({s.trace_id for s in spans}) == 1


async def test_bad_requests_get_a_reason(api: Api, stack: Stack, token: Callable[..., str]) -> None:
    anonymous = httpx.AsyncClient(base_url=stack.config.url("ingest"))
    try:
        no_token = await anonymous.post("/v1/mentions", json=mention_body("t"))
    finally:
        await anonymous.aclose()
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "auth.missing_token"

    invalid = await api("ingest").post(
        "/v1/mentions", json={"brand_id": BRAND, "network": "myspace"}
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "request.invalid"

    other_brand = await api("ingest", token(brands=("someone-else",))).post(
        "/v1/mentions", json=mention_body("t")
    )
    assert other_brand.status_code == 403
    assert other_brand.json()["error"]["code"] == "auth.forbidden_brand"

    viewer = await api("ingest", token(roles=(Role.VIEWER,))).post(
        "/v1/mentions", json=mention_body("t")
    )
    assert viewer.status_code == 403
    assert viewer.json()["error"]["code"] == "auth.forbidden_role"

    foreign_cases = await api("responder", token(brands=("someone-else",))).get(
        "/v1/cases", params={"brand_id": BRAND}
    )
    assert foreign_cases.status_code == 403


async def test_a_poison_message_is_dead_lettered_and_consumption_goes_on(
    api: Api, stack: Stack
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    thread = f"t-{new_ulid()}"
    try:
        await producer.send_and_wait(
            "smm.mentions.v1",
            b'{"mention": "not a mention"}',
            key=f"x:{thread}".encode(),
            headers=[("ce_type", b"smm.mention.received"), ("ce_id", b"poison-1")],
        )
    finally:
        await producer.stop()
    ok = await api("ingest").post("/v1/mentions", json=mention_body(thread))
    assert ok.status_code == 201

    async def case_opened() -> list[dict[str, Any]]:
        return await cases_of(api, thread)

    await eventually(case_opened, timeout_s=20, what="case after the poison message")

    consumer = AIOKafkaConsumer(
        "smm.dlq.responder.mentions",
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def poison_dead_lettered() -> dict[str, bytes] | None:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    headers = dict(record.headers)
                    if headers.get("ce_id") == b"poison-1":
                        return headers
            return None

        headers = await eventually(
            poison_dead_lettered, timeout_s=20, what="poison message on the DLQ"
        )
    finally:
        await consumer.stop()
    assert headers["dlq_error_code"] == b"contract.invalid"
    assert headers["dlq_origin_topic"] == b"smm.mentions.v1"
    assert headers["dlq_consumer_group"] == b"responder.mentions"


async def test_nothing_lost_nothing_doubled_when_the_responder_is_killed(
    api: Api, stack: Stack
) -> None:
    """SIGKILL the responder mid-stream; after restart every mention is in exactly one case."""
    threads = [f"t-{new_ulid()}" for _ in range(5)]
    posted: list[str] = []

    async def post_round(n: int) -> None:
        for i in range(n):
            thread = threads[i % len(threads)]
            response = await api("ingest").post(
                "/v1/mentions", json=mention_body(thread, text=f"msg {i}")
            )
            assert response.status_code == 201
            posted.append(response.json()["mention"]["mention_id"])

    await post_round(15)
    stack.processes["responder"].kill()
    await post_round(15)
    stack.restart_service("responder")

    async def all_recorded() -> list[dict[str, Any]] | None:
        found = [c for t in threads for c in await cases_of(api, t)]
        total = sum(c["mention_count"] for c in found)
        return found if total >= len(posted) else None

    cases = await eventually(all_recorded, timeout_s=60, what="every mention in a case")
    recorded = [m for c in cases for m in c["mention_ids"]]
    assert sorted(recorded) == sorted(posted)  # none lost, none twice
    assert len(cases) == len(threads)  # one case per conversation
    for case in cases:
        assert case["mention_count"] == len(case["mention_ids"])


async def test_services_expose_prometheus_metrics(api: Api, stack: Stack) -> None:
    await api("ingest").get("/v1/mentions/does-not-exist")

    async def metrics_of(service: str) -> str:
        async with httpx.AsyncClient(base_url=stack.config.url(service)) as client:
            return (await client.get("/metrics")).text

    ingest = await metrics_of("ingest")
    assert (
        'smm_http_request_duration_seconds_count{method="GET",route="/v1/mentions/{mention_id}",status="404"}'
        in ingest
    )

    async def lag_reported() -> bool:
        return (
            'smm_consumer_lag{group="responder.mentions",topic="smm.mentions.v1"}'
            in await metrics_of("responder")
        )

    await eventually(lag_reported, timeout_s=20, what="consumer lag gauge")
    responder = await metrics_of("responder")
    assert "smm_consumer_handler_seconds_bucket" in responder
