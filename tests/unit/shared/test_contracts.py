"""Published contracts: committed schemas match the models, and the v1 compatibility rule holds."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from smm_shared import contracts
from smm_shared.contracts import (
    JsonSchema,
    check_compatible,
    check_contracts,
    event_schema,
    event_schemas,
    load_schemas,
    model_schema,
    render,
    schema_filename,
    schema_id,
    write_contracts,
)
from smm_shared.events import (
    AlertAcknowledged,
    AlertClosed,
    AlertExplanation,
    AlertKind,
    AlertOpened,
    AlertSeverity,
    AlertUpdated,
    Attachment,
    Author,
    CaseAssigned,
    CaseDepartmentAnswered,
    CaseEscalated,
    CaseHandedOff,
    CaseMentionAdded,
    CaseNoteAdded,
    CaseOpened,
    CasePriorityChanged,
    CaseReopened,
    CaseReplied,
    CaseReplyFailed,
    CaseReplyRequested,
    CaseResolved,
    CaseRouted,
    CaseStatusChanged,
    CaseTagsChanged,
    ContentApproved,
    ContentCreated,
    ContentRejected,
    ContentScheduled,
    ContentSubmitted,
    ContentUnscheduled,
    ContestClosed,
    ContestDrawn,
    ContestOpened,
    Contract,
    EngagementObserved,
    Event,
    Mention,
    MentionDeleted,
    MentionKind,
    MentionReceived,
    MentionUpdated,
    Network,
    PostFailed,
    PostPublished,
    ReplyFailed,
    ReplyPublished,
    ReplyRequested,
    ReviewOutcome,
    Sentiment,
    SlaApplied,
    SlaBreached,
    SlaMet,
    SlaPaused,
    SlaRebound,
    SlaResumed,
    SlaWarning,
    TermCount,
    cloudevent_headers,
    decode_event,
    event_types,
)

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
CONTRACTS = REPO / "contracts"
T0 = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- samples


def _mention(**overrides: Any) -> Mention:
    fields: dict[str, Any] = {
        "mention_id": "m-1",
        "network": Network.VK,
        "kind": MentionKind.COMMENT,
        "native_id": "wall-1_2",
        "conversation_key": "vk:wall-1_1",
        "author": Author(id="u1"),
        "text": "hello",
        "created_at": T0,
    }
    fields.update(overrides)
    return Mention(**fields)


def _full_mention() -> Mention:
    return _mention(
        url="https://vk.com/wall-1_2",
        author=Author(id="u1", handle="ann", display_name="Ann", followers=10, verified=True),
        language="ru",
        edited_at=T0,
        parent_native_id="wall-1_1",
        thread_native_id="wall-1_1",
        on_own_post=True,
        attachments=(Attachment(kind="image", url="https://img.example/a.png"),),
        keywords=("brand",),
        topics=("delivery",),
        sentiment=Sentiment(label="negative", score=-0.7, analyzer="dostoevsky"),
        priority_hint="urgent",
    )


# Every registered event type needs at least one sample here: the round-trip and
# schema-validation tests below run on each.
SAMPLES: dict[type[Event], list[Callable[[], Event]]] = {
    MentionReceived: [
        lambda: MentionReceived(brand_id="b1", mention=_mention()),
        lambda: MentionReceived(brand_id="b1", mention=_full_mention(), occurred_at=T0),
    ],
    CaseOpened: [
        lambda: CaseOpened(
            brand_id="b1",
            case_id="c1",
            conversation_key="vk:wall-1_1",
            network=Network.VK,
            mention_id="m-1",
        )
    ],
    CaseMentionAdded: [
        lambda: CaseMentionAdded(
            brand_id="b1", case_id="c1", conversation_key="x:1", mention_id="m-2", mention_count=2
        )
    ],
    MentionUpdated: [
        lambda: MentionUpdated(brand_id="b1", mention=_mention()),
        lambda: MentionUpdated(
            brand_id="b1",
            mention=_full_mention(),
            changed=("text", "sentiment"),
            previous_text="before",
        ),
    ],
    MentionDeleted: [
        lambda: MentionDeleted(
            brand_id="b1",
            mention_id="m-1",
            network=Network.VK,
            native_id="wall-1_2_r3",
            conversation_key="vk:wall-1_2",
            deleted_at=T0,
            deleted_by="moderator",
        )
    ],
    EngagementObserved: [
        lambda: EngagementObserved(
            brand_id="b1", network=Network.VK, native_post_id="wall-1_2", observed_at=T0
        ),
        lambda: EngagementObserved(
            brand_id="b1",
            network=Network.INSTAGRAM,
            native_post_id="179",
            url="https://www.instagram.com/p/abc/",
            observed_at=T0,
            likes=10,
            comments=2,
            shares=1,
            views=300,
            clicks=4,
        ),
    ],
}

_CASE = {"brand_id": "b1", "case_id": "c1", "conversation_key": "x:1"}
_CHANGE = {**_CASE, "actor": "user:ann", "reason": "because"}
_SLA = {"brand_id": "b1", "case_id": "c1", "metric": "first_response", "policy_id": "p1"}
_REPLY = {"brand_id": "b1", "reply_id": "r1", "case_id": "c1", "network": Network.X}
SAMPLES.update(
    {
        CaseStatusChanged: [lambda: CaseStatusChanged(**_CHANGE, previous="new", current="open")],
        CaseAssigned: [
            lambda: CaseAssigned(**_CHANGE, assignee_id="ann"),
            lambda: CaseAssigned(**_CHANGE, previous_assignee_id="bob"),
        ],
        CaseRouted: [
            lambda: CaseRouted(
                **_CHANGE,
                department="billing",
                priority="high",
                tags=("refund",),
                sla_policy_id="p1",
                rule_id="r1",
                rule_name="Refunds",
            )
        ],
        CasePriorityChanged: [
            lambda: CasePriorityChanged(**_CHANGE, previous="normal", current="urgent")
        ],
        CaseTagsChanged: [lambda: CaseTagsChanged(**_CHANGE, added=("a",), tags=("a", "b"))],
        CaseNoteAdded: [lambda: CaseNoteAdded(**_CHANGE, note_id="n1")],
        CaseReplyRequested: [lambda: CaseReplyRequested(**_CHANGE, reply_id="r1", automatic=True)],
        CaseReplied: [
            lambda: CaseReplied(
                **_CASE, reply_id="r1", native_id="9", url="https://x.com/a/status/9"
            )
        ],
        CaseReplyFailed: [
            lambda: CaseReplyFailed(**_CASE, reply_id="r1", code="x.403", message="blocked")
        ],
        CaseResolved: [lambda: CaseResolved(**_CHANGE, resolution_s=61.5, assignee_id="ann")],
        CaseReopened: [lambda: CaseReopened(**_CHANGE)],
        CaseHandedOff: [lambda: CaseHandedOff(**_CHANGE, department="billing", handoff_id="h1")],
        CaseDepartmentAnswered: [
            lambda: CaseDepartmentAnswered(**_CHANGE, department="billing", handoff_id="h1")
        ],
        CaseEscalated: [
            lambda: CaseEscalated(
                **_CHANGE,
                trigger="breach",
                metric="first_response",
                rule_id="e1",
                actions=("priority→urgent",),
                notify=("lead",),
            )
        ],
        ReviewOutcome: [
            lambda: ReviewOutcome(
                **_CASE,
                mention_id="m1",
                outcome="improved",
                sentiment_before=-0.6,
                sentiment_after=0.4,
            )
        ],
        SlaApplied: [
            lambda: SlaApplied(**_SLA, target_s=600, warn_due_at=T0, breach_due_at=T0),
        ],
        SlaWarning: [lambda: SlaWarning(**_SLA, due_at=T0, breach_due_at=T0, lateness_ms=12)],
        SlaBreached: [lambda: SlaBreached(**_SLA, due_at=T0, lateness_ms=40, department="care")],
        SlaMet: [lambda: SlaMet(**_SLA, elapsed_s=120.5, within_target=True)],
        SlaPaused: [lambda: SlaPaused(**_SLA, consumed_s=30)],
        SlaResumed: [lambda: SlaResumed(**_SLA, warn_due_at=T0, breach_due_at=T0)],
        SlaRebound: [
            lambda: SlaRebound(
                **_SLA,
                previous_policy_id="p0",
                previous_breach_due_at=T0,
                breach_due_at=T0,
                reason="moved to billing",
            )
        ],
        ReplyRequested: [
            lambda: ReplyRequested(
                brand_id="b1",
                reply_id="r1",
                case_id="c1",
                network=Network.X,
                conversation_key="x:1",
                in_reply_to_mention_id="m1",
                in_reply_to_native_id="123",
                thread_native_id="100",
                author_id="u1",
                text="Sorry!",
                requested_by="user:ann",
            )
        ],
        ReplyPublished: [lambda: ReplyPublished(**_REPLY, native_id="9", url="https://x.com/9")],
        ReplyFailed: [
            lambda: ReplyFailed(**_REPLY, code="x.403", message="The author blocked us.")
        ],
    }
)

_CONTENT = {"brand_id": "acme", "content_id": "01JCONTENT000000000000001", "actor": "cm-olga"}
_DELIVERY = {
    "brand_id": "acme",
    "content_id": "01JCONTENT000000000000001",
    "actor": "system:publisher",
    "delivery_id": "01JCONTENT000000000000001:acme-x",
    "account_id": "acme-x",
    "network": Network.X,
    "attempts": 1,
}
_CONTEST = {"brand_id": "acme", "contest_id": "01JCONTEST0000000000000001"}
_COMMIT = (
    "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"  # sha256(bytes(range(32)))
)
_DIGEST = "e790649ce8d550398cd853ce91e6c7e5c3c7ccf4ae02b455a3f083acf2710eb9"  # x|fan000..x|fan009

SAMPLES.update(
    {
        ContentCreated: [
            lambda: ContentCreated(
                **_CONTENT,
                title="Spring sale",
                networks=[Network.X, Network.TELEGRAM],
                targets=["acme-x", "acme-tg"],
                campaign_id="spring",
                labels=["promo"],
            )
        ],
        ContentSubmitted: [lambda: ContentSubmitted(**_CONTENT, workflow_id="promo-review")],
        ContentApproved: [lambda: ContentApproved(**_CONTENT, workflow_id="promo-review")],
        ContentRejected: [
            lambda: ContentRejected(
                **_CONTENT, workflow_id="promo-review", step=0, reason="Wrong discount"
            )
        ],
        ContentScheduled: [
            lambda: ContentScheduled(**_CONTENT, publish_at=T0, time_zone="Europe/Moscow"),
            lambda: ContentScheduled(
                **_CONTENT,
                publish_at=T0 + timedelta(hours=1),
                time_zone="UTC",
                previous_publish_at=T0,
            ),
        ],
        ContentUnscheduled: [
            lambda: ContentUnscheduled(**_CONTENT, reason="the content changed after approval")
        ],
        PostPublished: [
            lambda: PostPublished(
                **_DELIVERY,
                native_id="1900000000000000001",
                url="https://x.com/i/web/status/1900000000000000001",
            )
        ],
        PostFailed: [
            lambda: PostFailed(
                **_DELIVERY,
                code="x.token_invalid",
                message="The X token is invalid or expired; reconnect the account.",
                retryable=True,
            )
        ],
        ContestOpened: [
            lambda: ContestOpened(
                **_CONTEST,
                network=Network.X,
                post_native_id="1900000000000000001",
                opens_at=T0,
                closes_at=T0 + timedelta(days=7),
                winner_count=3,
                commitment=_COMMIT,
            )
        ],
        ContestClosed: [lambda: ContestClosed(**_CONTEST, entries=12)],
        ContestDrawn: [
            lambda: ContestDrawn(
                **_CONTEST,
                algorithm="smm-contest-draw",
                algorithm_version=1,
                seed=bytes(range(32)).hex(),
                commitment=_COMMIT,
                winner_count=3,
                entry_count=10,
                entry_list_digest=_DIGEST,
                winners=["x|fan005", "x|fan006", "x|fan003"],
                drawn_at=T0 + timedelta(days=7, hours=1),
            )
        ],
    }
)

_ALERT = {
    "brand_id": "acme",
    "episode_id": "5f0c8a8e2b7d4c1e9a6b3d2f1e0c9b8a",
    "kind": AlertKind.NEGATIVE_SPIKE,
    "subject": "negative",
    "opened_at": T0,
}
_FIGURES = {
    "interval_start": T0 - timedelta(hours=1),
    "interval_end": T0,
    "observed": 40,
    "expected": 2.0,
    "ratio": 20.0,
    "p_value": 1e-30,
    "detections": 1,
}
_WHY = AlertExplanation(
    top_terms=[TermCount(term="#outage", count=38), TermCount(term="refund", count=12)],
    sample_mention_ids=["m-1", "m-2"],
    networks=[Network.VK, Network.X],
)
_CRITICAL = {"severity": AlertSeverity.CRITICAL, "peak_severity": AlertSeverity.CRITICAL}

SAMPLES.update(
    {
        AlertOpened: [
            lambda: AlertOpened(**_ALERT, **_CRITICAL, **_FIGURES, explanation=_WHY),
            lambda: AlertOpened(
                **{**_ALERT, "kind": AlertKind.RISING_TERM, "subject": "#outage"},
                severity=AlertSeverity.LOW,
                peak_severity=AlertSeverity.LOW,
                **{**_FIGURES, "p_value": None},
            ),
        ],
        AlertUpdated: [
            lambda: AlertUpdated(
                **_ALERT,
                severity=AlertSeverity.HIGH,
                peak_severity=AlertSeverity.CRITICAL,
                **{**_FIGURES, "detections": 2},
                explanation=_WHY,
                reasons=["severity_lowered", "volume"],
            )
        ],
        AlertAcknowledged: [
            lambda: AlertAcknowledged(
                **_ALERT, **_CRITICAL, acknowledged_by="an-petr", acknowledged_at=T0
            )
        ],
        AlertClosed: [
            lambda: AlertClosed(
                **_ALERT, **_CRITICAL, **_FIGURES, reason="quiet", closed_at=T0 + timedelta(hours=2)
            ),
            lambda: AlertClosed(
                **_ALERT,
                **_CRITICAL,
                **_FIGURES,
                explanation=_WHY,
                reason="resolved",
                closed_at=T0 + timedelta(minutes=20),
                resolved_by="mgr-igor",
                acknowledged_by="an-petr",
            ),
        ],
    }
)

SAMPLE_CASES = [
    pytest.param(factory, id=f"{cls.event_type}-{i}")
    for cls, factories in SAMPLES.items()
    for i, factory in enumerate(factories)
]


def test_every_registered_event_type_has_a_sample() -> None:
    missing = sorted(t for t, cls in event_types().items() if cls not in SAMPLES)
    assert not missing, f"add a sample event to SAMPLES in {__file__} for: {missing}"


# --------------------------------------------------------------------------- committed files


def test_committed_contracts_match_the_models() -> None:
    problems = check_contracts(CONTRACTS)
    assert not problems, (
        "contracts/ does not match smm_shared.events; run `make contracts` "
        "(.venv/bin/python -m smm_shared.contracts write) and commit contracts/:\n  "
        + "\n  ".join(problems)
    )


@pytest.mark.parametrize("ce_type", sorted(event_types()))
def test_committed_schema_is_byte_identical(ce_type: str) -> None:
    cls = event_types()[ce_type]
    path = CONTRACTS / "schemas" / schema_filename(ce_type, 1)
    assert path.is_file(), f"no {path.relative_to(REPO)}; run `make contracts`"
    assert path.read_text(encoding="utf-8") == render(event_schema(cls)), (
        f"{path.relative_to(REPO)} is stale; run `make contracts`"
    )


def test_committed_topics_json_is_byte_identical() -> None:
    text = (CONTRACTS / "topics.json").read_text(encoding="utf-8")
    assert text == render(contracts.topics_document()), (
        "contracts/topics.json is stale; run `make contracts`"
    )


def test_schema_shape() -> None:
    schema = event_schema(CaseOpened)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:smm:schema:smm.case.opened:v1"
    assert schema["title"] == "CaseOpened"
    assert schema["description"] == "A mention started a new case (``smm.case.opened``)."
    assert schema["x-smm"] == {
        "ce_type": "smm.case.opened",
        "schema_version": 1,
        "topic": "smm.cases.v1",
        "key": "case id",
    }
    assert schema["additionalProperties"] is False
    # Always on the wire (to_json drops only None): defaults are required too.
    assert {"event_id", "occurred_at", "schema_version", "brand_id"} <= set(schema["required"])


def test_nullable_fields_are_not_required_because_to_json_omits_none() -> None:
    mention = event_schema(MentionReceived)["$defs"]["Mention"]
    assert "url" not in mention["required"]
    assert "edited_at" not in mention["required"]
    assert {"on_own_post", "attachments", "sentiment", "priority_hint"} <= set(mention["required"])


def test_schema_id_matches_ce_dataschema_header() -> None:
    for factories in SAMPLES.values():
        event = factories[0]()
        headers = cloudevent_headers(event, source="/smm/test")
        assert headers["ce_dataschema"] == schema_id(event.event_type, event.schema_version)
        assert headers["ce_dataschema"] == event_schema(type(event))["$id"]


def test_write_is_stable_and_formatted(tmp_path: Path) -> None:
    first = write_contracts(tmp_path)
    assert {p.name for p in first} == {*event_schemas(), "topics.json"}
    assert write_contracts(tmp_path) == []  # nothing changes the second time
    for path in (tmp_path / "schemas").glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
        assert text.startswith('{\n  "')


def test_write_removes_schemas_of_retired_types(tmp_path: Path) -> None:
    write_contracts(tmp_path)
    stale = tmp_path / "schemas" / "smm.gone.v1.json"
    stale.write_text("{}\n", encoding="utf-8")
    write_contracts(tmp_path)
    assert not stale.exists()


# --------------------------------------------------------------------------- CLI


def test_check_fails_when_a_schema_was_never_committed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_contracts(tmp_path)
    (tmp_path / "schemas" / "smm.case.opened.v1.json").unlink()
    assert contracts.main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no committed schema for event type smm.case.opened" in err
    assert "make contracts" in err


def test_check_passes_on_fresh_contracts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert contracts.main(["write", str(tmp_path)]) == 0
    assert contracts.main(["check", str(tmp_path)]) == 0
    assert "contracts OK" in capsys.readouterr().out


def test_check_lists_breaking_changes_against_committed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_contracts(tmp_path)
    path = tmp_path / "schemas" / "smm.case.opened.v1.json"
    published = json.loads(path.read_text(encoding="utf-8"))
    # Pretend v1 was published with a field the model no longer has, and a wider enum.
    published["properties"]["channel"] = {"type": "string"}
    published["$defs"]["Network"]["enum"].append("myspace")
    path.write_text(render(published), encoding="utf-8")

    assert contracts.main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "smm.case.opened.v1.json: channel: property removed" in err
    assert "smm.case.opened.v1.json: network: enum values removed: 'myspace'" in err
    # The breaking file is reported once, as breaking, not also as merely stale.
    assert "out of date" not in err

    # `write` refuses to paper over it …
    assert contracts.main(["write", str(tmp_path)]) == 1
    assert "channel" in json.loads(path.read_text(encoding="utf-8"))["properties"]
    # … unless told to (pre-release only).
    assert contracts.main(["write", str(tmp_path), "--allow-breaking"]) == 0
    assert contracts.main(["check", str(tmp_path)]) == 0


def test_check_reports_a_removed_event_type(tmp_path: Path) -> None:
    write_contracts(tmp_path)
    extra = json.loads(
        (tmp_path / "schemas" / "smm.case.opened.v1.json").read_text(encoding="utf-8")
    )
    (tmp_path / "schemas" / "smm.case.closed.v1.json").write_text(render(extra), encoding="utf-8")
    problems = check_contracts(tmp_path)
    assert problems == [
        "smm.case.closed.v1.json: event type removed or its schema_version changed; subscribers "
        "still expect it (retire it by deleting the file after the deprecation window)"
    ]


def test_check_reports_topic_changes(tmp_path: Path) -> None:
    write_contracts(tmp_path)
    doc = json.loads((tmp_path / "topics.json").read_text(encoding="utf-8"))
    doc["topics"][0]["partitions"] = 24
    doc["topics"].append({"name": "smm.gone.v1", "key": "x", "partitions": None})
    (tmp_path / "topics.json").write_text(render(doc), encoding="utf-8")
    problems = check_contracts(tmp_path)
    assert "topics.json: smm.mentions.v1 partitions changed from 24 to None" in problems
    assert "topics.json: topic smm.gone.v1 removed" in problems


# --------------------------------------------------------------------------- compatibility


def _schemas(old: type[BaseModel], new: type[BaseModel]) -> tuple[JsonSchema, JsonSchema]:
    return model_schema(old), model_schema(new)


def _breaks(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return check_compatible(*_schemas(old, new))


class Inner(Contract):
    """Nested value."""

    code: str
    note: str | None = None


class Base(Contract):
    """Baseline v1 model for the compatibility tests."""

    name: str = Field(max_length=64)
    count: int
    label: str | None = None
    level: Literal["low", "high"] = "low"
    inner: Inner
    tags: tuple[str, ...] = ()


def test_identical_schemas_are_compatible() -> None:
    assert _breaks(Base, Base) == []
    for schema in event_schemas().values():
        assert check_compatible(schema, schema) == []


def test_adding_an_optional_property_is_fine() -> None:
    class Added(Base):
        """With a new optional field."""

        extra: str | None = None

    assert _breaks(Base, Added) == []


def test_adding_an_enum_value_is_fine() -> None:
    class Wider(Contract):
        """Wider Literal."""

        level: Literal["low", "high", "urgent"]

    class Narrow(Contract):
        """Narrow Literal."""

        level: Literal["low", "high"]

    assert _breaks(Narrow, Wider) == []
    assert _breaks(Wider, Narrow) == ["level: enum values removed: 'urgent'"]


def test_adding_a_str_enum_member_is_fine_removing_one_breaks() -> None:
    class Old(StrEnum):
        A = "a"
        B = "b"

    class New(StrEnum):
        A = "a"
        B = "b"
        C = "c"

    class M1(Contract):
        """Old enum."""

        e: Old

    class M2(Contract):
        """New enum."""

        e: New

    old, new = _schemas(M1, M2)
    # Titles of the $defs differ (Old/New); only values matter.
    assert check_compatible(old, new) == []
    assert check_compatible(new, old) == ["e: enum values removed: 'c'"]


def test_removed_property_breaks() -> None:
    class Removed(Contract):
        """Without label."""

        name: str = Field(max_length=64)
        count: int
        level: Literal["low", "high"] = "low"
        inner: Inner
        tags: tuple[str, ...] = ()

    assert _breaks(Base, Removed) == ["label: property removed"]


def test_nested_removed_property_names_the_path() -> None:
    class Inner2(Contract):
        """Nested value without note."""

        code: str

    class Nested(Base):
        """Different inner."""

        inner: Inner2  # type: ignore[assignment]

    assert _breaks(Base, Nested) == ["inner.note: property removed"]


def test_type_change_breaks() -> None:
    class Changed(Base):
        """count as string."""

        count: str  # type: ignore[assignment]

    assert _breaks(Base, Changed) == ["count: type changed from integer to string"]


def test_int_to_float_is_a_type_change() -> None:
    class Changed(Base):
        """count as float."""

        count: float  # type: ignore[assignment]

    assert _breaks(Base, Changed) == ["count: type changed from integer to number"]


def test_narrowing_a_nullable_property_breaks() -> None:
    class Narrowed(Base):
        """label may no longer be null."""

        label: str = ""

    assert _breaks(Base, Narrowed) == [
        "label: became required (messages valid before may lack it)",
        "label: type narrowed: no longer accepts null",
    ]


def test_widening_to_nullable_breaks_subscribers() -> None:
    class Widened(Base):
        """count may be null."""

        count: int | None = None  # type: ignore[assignment]

    assert _breaks(Base, Widened) == [
        "count: no longer always present (subscribers rely on it)",
        "count: type widened: subscribers may now get null",
    ]


def test_new_required_property_breaks() -> None:
    class Required(Base):
        """New field without default."""

        region: str

    assert _breaks(Base, Required) == [
        "region: new required property (messages valid before lack it)"
    ]


def test_new_property_with_non_null_default_is_required_on_the_wire() -> None:
    class Defaulted(Base):
        """New field with a default: always serialised, so old messages lack it."""

        region: str = "eu"

    assert _breaks(Base, Defaulted) == [
        "region: new required property (messages valid before lack it)"
    ]


def test_additional_properties_tightened_breaks() -> None:
    class Open(BaseModel):
        """Extra fields allowed."""

        model_config = ConfigDict(extra="allow")
        a: int

    class Ignoring(BaseModel):
        """Extra fields ignored (schema says nothing)."""

        a: int

    class Closed(BaseModel):
        """Extra fields forbidden."""

        model_config = ConfigDict(extra="forbid")
        a: int

    assert _breaks(Open, Closed) == ["<root>: additionalProperties tightened to false"]
    assert _breaks(Ignoring, Closed) == ["<root>: additionalProperties tightened to false"]
    assert _breaks(Closed, Open) == []


def test_map_value_type_change_breaks() -> None:
    class Ints(Contract):
        """Map of ints."""

        m: dict[str, int]

    class Strs(Contract):
        """Map of strings."""

        m: dict[str, str]

    assert _breaks(Ints, Strs) == ["m{*}: type changed from integer to string"]


def test_const_change_breaks() -> None:
    class A(Contract):
        """Const a."""

        kind: Literal["a"] = "a"

    class B(Contract):
        """Const b."""

        kind: Literal["b"] = "b"

    assert _breaks(A, B) == ['kind: const changed from "a" to "b"']


def test_constraints_tightened_or_loosened_break() -> None:
    class Shorter(Base):
        """name max 32."""

        name: str = Field(max_length=32)

    class Longer(Base):
        """name max 128."""

        name: str = Field(max_length=128)

    class Patterned(Base):
        """name gets a pattern."""

        name: str = Field(max_length=64, pattern=r"^[a-z]+$")

    assert _breaks(Base, Shorter) == ["name: maxLength narrowed from 64 to 32"]
    assert _breaks(Base, Longer) == ["name: maxLength widened from 64 to 128"]
    assert _breaks(Base, Patterned) == ['name: pattern narrowed from (none) to "^[a-z]+$"']


def test_array_item_change_breaks() -> None:
    class IntTags(Base):
        """tags of ints."""

        tags: tuple[int, ...] = ()  # type: ignore[assignment]

    assert _breaks(Base, IntTags) == ["tags[]: type changed from string to integer"]


def test_union_branch_added_and_removed() -> None:
    class One(Contract):
        """int."""

        v: int

    class Two(Contract):
        """int or str."""

        v: int | str

    assert _breaks(One, Two) == ["v: type widened: subscribers may now get string"]
    assert _breaks(Two, One) == ["v: type narrowed: no longer accepts string"]


def test_union_of_models_matched_by_title() -> None:
    class Cat(Contract):
        """A cat."""

        meow: str

    class Dog(Contract):
        """A dog."""

        bark: str

    class Bird(Contract):
        """A bird."""

        song: str

    class Pets(Contract):
        """Cat or dog."""

        pet: Cat | Dog

    class MorePets(Contract):
        """Cat, dog or bird."""

        pet: Cat | Dog | Bird

    assert _breaks(Pets, MorePets) == ["pet: type widened: subscribers may now get object Bird"]
    assert _breaks(MorePets, Pets) == ["pet: type narrowed: no longer accepts object Bird"]


def test_recursive_models_terminate() -> None:
    class Node(Contract):
        """Tree node."""

        value: int
        children: tuple[Node, ...] = ()

    Node.model_rebuild()
    schema = model_schema(Node)
    assert check_compatible(schema, schema) == []


def test_topic_or_key_change_breaks() -> None:
    old = event_schema(CaseOpened)
    new = json.loads(json.dumps(old))
    new["x-smm"]["topic"] = "smm.cases.v2"
    new["x-smm"]["key"] = "conversation key"
    assert check_compatible(old, new) == [
        "x-smm: topic changed from 'smm.cases.v1' to 'smm.cases.v2'",
        "x-smm: key changed from 'case id' to 'conversation key'",
    ]


# --------------------------------------------------------------------------- round trip + validation

# No JSON Schema library is installed (and we add none), so a small validator of exactly the
# keywords our generator emits; it fails loudly on any keyword it does not know.
_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$defs", "x-smm"}
_ASSERTIONS = {
    "$ref", "anyOf", "oneOf", "type", "enum", "const", "properties", "required",
    "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "minLength",
    "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum",
}  # fmt: skip
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _valid_format(fmt: str, value: str) -> bool:
    if fmt == "date-time":
        return bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value))
    if fmt == "uri":
        return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value))
    raise AssertionError(f"validator does not know format {fmt!r}")


def validate(value: Any, schema: JsonSchema, root: JsonSchema, path: str = "$") -> list[str]:
    """Errors of ``value`` against ``schema`` (the subset of draft 2020-12 we generate)."""
    unknown = set(schema) - _ANNOTATIONS - _ASSERTIONS
    assert not unknown, f"test validator does not support {sorted(unknown)} at {path}"
    errors: list[str] = []
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        errors += validate(value, target, root, path)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            passing = [b for b in schema[key] if not validate(value, b, root, path)]
            if not passing or (key == "oneOf" and len(passing) > 1):
                errors.append(f"{path}: matches {len(passing)} of {key}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [*errors, f"{path}: {value!r} is not of type {types}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != const")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 62):
            errors.append(f"{path}: length out of range")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: does not match {schema['pattern']}")
        if "format" in schema and not _valid_format(schema["format"], value):
            errors.append(f"{path}: not a {schema['format']}")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    low, high = schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))
    if is_number and not low <= value <= high:
        errors.append(f"{path}: out of range")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if is_number and (
        (above is not None and value <= above) or (below is not None and value >= below)
    ):
        errors.append(f"{path}: out of the open range")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [
            f"{path}: missing {name}" for name in schema.get("required", []) if name not in value
        ]
        for name, item in value.items():
            if name in props:
                errors += validate(item, props[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties", True) is False:
                errors.append(f"{path}: unexpected property {name}")
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", 1 << 62):
            errors.append(f"{path}: item count out of range")
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items")
            if isinstance(sub, dict):
                errors += validate(item, sub, root, f"{path}[{i}]")
    return errors


@pytest.fixture(scope="module")
def committed() -> dict[str, JsonSchema]:
    """The committed schemas by file name."""
    return load_schemas(CONTRACTS)


@pytest.mark.parametrize("factory", SAMPLE_CASES)
def test_event_round_trips_through_json(factory: Callable[[], Event]) -> None:
    event = factory()
    body = event.to_json()
    assert decode_event(event.event_type, body) == event
    assert decode_event(event.event_type, body.decode()) == event
    assert decode_event(event.event_type, json.loads(body)) == event


@pytest.mark.parametrize("factory", SAMPLE_CASES)
def test_event_json_validates_against_committed_schema(
    factory: Callable[[], Event], committed: dict[str, JsonSchema]
) -> None:
    event = factory()
    name = schema_filename(event.event_type, event.schema_version)
    assert name in committed, f"no committed schema {name}; run `make contracts`"
    schema = committed[name]
    assert validate(json.loads(event.to_json()), schema, schema) == []


def test_validator_is_not_vacuous(committed: dict[str, JsonSchema]) -> None:
    schema = committed[schema_filename("smm.mention.received", 1)]
    body = json.loads(MentionReceived(brand_id="b1", mention=_mention()).to_json())
    broken = {**body, "surprise": 1, "schema_version": "1"}
    del broken["brand_id"]
    broken["mention"] = {**body["mention"], "network": "myspace", "conversation_key": "nocolon"}
    errors = validate(broken, schema, schema)
    assert "$: missing brand_id" in errors
    assert "$: unexpected property surprise" in errors
    assert any(e.startswith("$.schema_version:") for e in errors)
    assert any(e.startswith("$.mention.network:") for e in errors)
    assert any(e.startswith("$.mention.conversation_key: does not match") for e in errors)
