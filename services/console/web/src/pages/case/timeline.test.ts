import { describe, expect, it } from "vitest";
import {
  actorNamer,
  buildTimeline,
  describeEntry,
  replyStatus,
  stepWords,
  type CaseDetail,
  type LoadedMention,
  type Mention,
  type Reply,
  type TimelineEntry,
} from "./timeline";

const t = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();

function entry(id: string, minute: number, type: string, data: Record<string, unknown> = {}, actor = "system:routing", reason = ""): TimelineEntry {
  return { id, at: t(minute), type, actor, reason, data };
}

function reply(over: Partial<Reply>): Reply {
  return { id: "r1", state: "requested", text: "Sorry!", by: "user:u1", automatic: false, created_at: t(5), ...over };
}

function mention(id: string, minute: number, text: string): Mention {
  return {
    mention_id: id,
    network: "x",
    kind: "comment",
    native_id: `n-${id}`,
    conversation_key: "x:thread",
    url: `https://x.example/${id}`,
    author: { id: "a1", handle: "jane" },
    text,
    created_at: t(minute),
    attachments: [],
    keywords: [],
    topics: [],
    on_own_post: false,
    priority_hint: "normal",
    sentiment: { label: "negative" },
  } as Mention;
}

function kase(over: Partial<CaseDetail>): CaseDetail {
  return {
    id: "c1",
    brand_id: "acme",
    conversation_key: "x:thread",
    network: "x",
    status: "open",
    priority: "normal",
    tags: [],
    mention_count: 2,
    mention_ids: ["m1", "m2"],
    first_mention_at: t(0),
    last_mention_at: t(8),
    opened_at: t(1),
    last_activity_at: t(9),
    author: { id: "a1", handle: "jane" },
    preview: "Still broken",
    sentiment: {},
    sla_state: "ok",
    sla: [],
    version: 3,
    routing: {},
    timeline: [],
    replies: [],
    handoffs: [],
    ...over,
  } as CaseDetail;
}

describe("buildTimeline", () => {
  const timeline = [
    entry("e1", 1, "case.opened", { mention_id: "m1", network: "x" }, "customer"),
    entry("e2", 1, "case.routed", { department: "support", priority: "normal" }),
    entry("e3", 2, "case.assigned", { assignee_id: "u1" }),
    entry("e4", 5, "reply.pending_approval", { reply_id: "r1", text: "Sorry!" }, "user:u1"),
    entry("e5", 6, "reply.approved", { reply_id: "r1" }, "user:boss", "fine"),
    entry("e6", 6, "case.reply_requested", { reply_id: "r1", text: "Sorry!" }, "user:u1"),
    entry("e7", 6, "case.status_changed", { previous: "open", current: "pending_customer" }, "user:boss"),
    entry("e8", 7, "case.replied", { reply_id: "r1", url: "https://x.example/ours" }, "system:publisher"),
    entry("e9", 9, "case.mention_added", { mention_id: "m2", mention_count: 2 }, "customer"),
  ];

  it("merges messages, replies and actions oldest first, folding reply entries into the reply", () => {
    const loaded = new Map<string, LoadedMention>([
      ["m1", { mention: mention("m1", 0, "It is broken"), deleted: false }],
      ["m2", { mention: mention("m2", 8, "Still broken"), deleted: false }],
    ]);
    const items = buildTimeline(kase({ timeline, replies: [reply({ state: "published", url: "https://x.example/ours" })] }), loaded);
    expect(items.map((i) => i.key)).toEqual([
      "mention:m1",
      "event:e1",
      "event:e2",
      "event:e3",
      "reply:r1",
      "event:e7",
      "mention:m2",
    ]);
    const r = items.find((i) => i.kind === "reply");
    expect(r?.kind === "reply" && r.steps.map((s) => s.kind)).toEqual(["pending_approval", "approved", "requested", "delivered"]);
    expect(r?.kind === "reply" && r.deliveredAt).toBe(Date.parse(t(7)));
    expect(r?.kind === "reply" && r.url).toBe("https://x.example/ours");
  });

  it("places mentions that are not loaded yet by their timeline entry, with the preview for the latest", () => {
    const items = buildTimeline(kase({ timeline }), new Map());
    const m1 = items.find((i) => i.key === "mention:m1");
    const m2 = items.find((i) => i.key === "mention:m2");
    expect(m1?.at).toBe(Date.parse(t(1)));
    expect(m2?.at).toBe(Date.parse(t(9)));
    expect(m2?.kind === "mention" && m2.fallbackText).toBe("Still broken");
    expect(m1?.kind === "mention" && m1.fallbackText).toBe("");
    // A reply entry whose reply is not on the case stays an action of its own.
    expect(items.some((i) => i.key === "event:e8")).toBe(true);
  });

  it("keeps a reply failure's reason on the reply", () => {
    const items = buildTimeline(
      kase({
        mention_ids: ["m1"],
        timeline: [entry("f1", 6, "case.reply_failed", { reply_id: "r1", code: "network.refused", message: "Tweet is a duplicate" }, "system:publisher")],
        replies: [reply({ state: "failed", error: { code: "network.refused", message: "Tweet is a duplicate" } })],
      }),
      new Map(),
    );
    const r = items.find((i) => i.kind === "reply");
    expect(r?.kind === "reply" && r.steps[0]).toMatchObject({ kind: "failed", reason: "Tweet is a duplicate" });
    expect(r?.kind === "reply" && r.deliveredAt).toBeNull();
  });
});

describe("words", () => {
  const name = actorNamer("me", new Map([["u1", "Anna"], ["boss", "Bea"]]));

  it("names people and system actors", () => {
    expect(name("user:u1")).toBe("Anna");
    expect(name("user:me")).toBe("you");
    expect(name("user:zed")).toBe("zed");
    expect(name("system:sla")).toBe("the SLA clock");
    expect(name("customer")).toBe("the customer");
  });

  it("describes actions with their reasons", () => {
    expect(describeEntry(entry("a", 1, "case.assigned", { assignee_id: "u1" }, "system:routing", "least loaded"), name)).toEqual({
      title: "Assigned to Anna",
      detail: "least loaded",
      tone: "neutral",
    });
    expect(describeEntry(entry("b", 1, "case.status_changed", { previous: "open", current: "resolved" }), name).title).toBe("Status: Open → Resolved");
    expect(describeEntry(entry("c", 1, "case.note_added", { text: "VIP customer" }, "user:u1"), name)).toMatchObject({ title: "Internal note", detail: "VIP customer" });
    expect(
      describeEntry(entry("d", 1, "case.routed", { department: "billing", previous_department: "support", rule_name: "Refunds" }, "user:u1", "refund"), name, (id) => id.toUpperCase()),
    ).toMatchObject({ title: "Routed to BILLING (from SUPPORT)", detail: "refund · rule: Refunds" });
    expect(describeEntry(entry("e", 1, "case.tags_changed", { added: ["vip"], removed: ["spam"] }), name).title).toBe("Tags added vip; removed spam");
    expect(describeEntry(entry("f", 1, "sla.breached", { metric: "first_response" }), name)).toMatchObject({ title: "First response SLA breached", tone: "danger" });
    expect(describeEntry(entry("g", 1, "review.outcome", { outcome: "improved", sentiment_before: -0.6, sentiment_after: 0.2 }), name)).toMatchObject({
      title: "Review follow-up: Improved",
      detail: "the customer changed the review for the better · sentiment -0.60 → 0.20",
    });
    expect(describeEntry(entry("h", 1, "case.handed_off", { department: "legal", note: "Check the contract" }), name).detail).toBe("Check the contract");
    expect(describeEntry(entry("i", 1, "reply.rejected", { reply_id: "x" }), name).detail).toBe("no reason given");
  });

  it("says where a reply stands", () => {
    expect(replyStatus(reply({ state: "published" })).word).toBe("Delivered");
    expect(replyStatus(reply({ state: "pending_approval" })).word).toBe("Pending approval");
    expect(replyStatus(reply({ state: "rejected", rejection: "Tone" }))).toMatchObject({ word: "Rejected", detail: "Tone" });
    expect(replyStatus(reply({ state: "failed", error: { code: "x.limit" } }))).toMatchObject({ word: "Failed", detail: "x.limit" });
    expect(stepWords({ kind: "approved", at: 0, actor: "user:boss", reason: "ok" }, name)).toBe("Approved by Bea: ok");
    expect(stepWords({ kind: "failed", at: 0, actor: "system:publisher", reason: "Rate limited" }, name)).toBe("Failed: Rate limited");
  });
});
