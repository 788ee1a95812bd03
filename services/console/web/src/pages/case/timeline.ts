// The case's timeline: the conversation (the customer's messages and our replies) and every
// action on the case, merged in time order (oldest first, newest at the bottom), in words.
//
// The responder's timeline entries are its events minus the envelope (type without "smm.",
// e.g. "case.assigned", with the event's fields in `data`) plus a few entries of their own
// ("reply.pending_approval", "reply.approved", "reply.rejected", "review.watching",
// "sla.cancelled"). Entries about a reply are folded into that reply's item, so a reply reads
// as one thing with its history: requested, approved or rejected, delivered or failed.
import type { IngestTypes, ResponderTypes } from "../../api/client";
import { priorityLabel, slaMetricLabel } from "../../lib/cases";
import { networkName } from "../../lib/networks";
import { formatDuration } from "../../lib/time";

export type CaseDetail = ResponderTypes["schemas"]["CaseDetail"];
export type TimelineEntry = ResponderTypes["schemas"]["TimelineEntry"];
export type Reply = ResponderTypes["schemas"]["ReplyOut"];
export type Mention = IngestTypes["schemas"]["Mention"];

export interface LoadedMention {
  mention: Mention;
  deleted: boolean;
}

export type ReplyStepKind = "pending_approval" | "approved" | "rejected" | "requested" | "delivered" | "failed";

export interface ReplyStep {
  kind: ReplyStepKind;
  at: number;
  actor: string;
  reason: string;
}

export interface MentionItem {
  kind: "mention";
  key: string;
  at: number;
  mentionId: string;
  /** Null while loading or when it could not be loaded. */
  mention: Mention | null;
  deleted: boolean;
  /** What we know without the mention: the case's preview is the latest message's text. */
  fallbackText: string;
}

export interface ReplyItem {
  kind: "reply";
  key: string;
  at: number;
  reply: Reply;
  steps: ReplyStep[];
  /** When the network confirmed it (the "case.replied" entry), if it did. */
  deliveredAt: number | null;
  /** The link to our reply on the network. */
  url: string | null;
}

export interface EventItem {
  kind: "event";
  key: string;
  at: number;
  entry: TimelineEntry;
}

export type TimelineItem = MentionItem | ReplyItem | EventItem;

/** Entry types folded into a reply's item (when the reply is on the case). */
const REPLY_STEPS: Readonly<Record<string, ReplyStepKind>> = {
  "reply.pending_approval": "pending_approval",
  "reply.approved": "approved",
  "reply.rejected": "rejected",
  "case.reply_requested": "requested",
  "case.replied": "delivered",
  "case.reply_failed": "failed",
};

/** Entry types whose mention is shown as a message item instead. */
const MENTION_ENTRIES = new Set(["case.mention_added"]);

const RANK: Record<TimelineItem["kind"], number> = { mention: 0, reply: 1, event: 2 };

function time(value: string | null | undefined, fallback: number): number {
  const t = value ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? fallback : t;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Merge the case's mentions, replies and timeline entries, oldest first. */
export function buildTimeline(kase: CaseDetail, mentions: ReadonlyMap<string, LoadedMention>): TimelineItem[] {
  const replies = new Map(kase.replies.map((r) => [r.id, r]));
  const steps = new Map<string, ReplyStep[]>();
  const delivered = new Map<string, { at: number; url: string }>();
  const mentionAt = new Map<string, number>();
  const items: TimelineItem[] = [];

  for (const entry of kase.timeline) {
    const at = time(entry.at, 0);
    const replyId = str(entry.data["reply_id"]);
    const step = REPLY_STEPS[entry.type];
    if (step && replies.has(replyId)) {
      const list = steps.get(replyId) ?? [];
      list.push({ kind: step, at, actor: entry.actor, reason: entry.reason || stepReason(entry) });
      steps.set(replyId, list);
      if (step === "delivered") delivered.set(replyId, { at, url: str(entry.data["url"]) });
      continue;
    }
    const mentionId = str(entry.data["mention_id"]);
    if ((entry.type === "case.opened" || MENTION_ENTRIES.has(entry.type)) && mentionId && !mentionAt.has(mentionId)) {
      mentionAt.set(mentionId, at);
    }
    if (MENTION_ENTRIES.has(entry.type) && kase.mention_ids.includes(mentionId)) continue;
    items.push({ kind: "event", key: `event:${entry.id}`, at, entry });
  }

  const lastId = kase.mention_ids.at(-1);
  kase.mention_ids.forEach((mentionId, index) => {
    const loaded = mentions.get(mentionId);
    const known =
      mentionAt.get(mentionId) ??
      (index === 0 ? time(kase.first_mention_at, 0) : mentionId === lastId ? time(kase.last_mention_at, 0) : 0);
    items.push({
      kind: "mention",
      key: `mention:${mentionId}`,
      at: loaded ? time(loaded.mention.created_at, known) : known,
      mentionId,
      mention: loaded?.mention ?? null,
      deleted: loaded?.deleted ?? false,
      fallbackText: mentionId === lastId ? kase.preview : "",
    });
  });

  for (const reply of kase.replies) {
    const done = delivered.get(reply.id);
    items.push({
      kind: "reply",
      key: `reply:${reply.id}`,
      at: time(reply.created_at, 0),
      reply,
      steps: (steps.get(reply.id) ?? []).sort((a, b) => a.at - b.at),
      deliveredAt: done?.at ?? null,
      url: reply.url || done?.url || null,
    });
  }

  // Stable: equal times keep the server's order; at one instant a message comes before the
  // reply and the actions it caused.
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => a.item.at - b.item.at || RANK[a.item.kind] - RANK[b.item.kind] || a.index - b.index)
    .map(({ item }) => item);
}

function stepReason(entry: TimelineEntry): string {
  if (entry.type === "case.reply_failed") {
    const message = str(entry.data["message"]);
    const code = str(entry.data["code"]);
    return message || code;
  }
  return "";
}

// --- words ------------------------------------------------------------------------------

export const STATUS_LABELS: Readonly<Record<string, string>> = {
  new: "New",
  open: "Open",
  pending_customer: "Waiting for the customer",
  pending_department: "Waiting for a department",
  resolved: "Resolved",
  closed: "Closed",
};

export const REVIEW_OUTCOMES: Readonly<Record<string, { word: string; meaning: string }>> = {
  improved: { word: "Improved", meaning: "the customer changed the review for the better" },
  deleted: { word: "Deleted", meaning: "the customer removed the review" },
  unchanged: { word: "Unchanged", meaning: "the review stayed as it was until the follow-up ended" },
  worsened: { word: "Worsened", meaning: "the review got more negative" },
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

const SYSTEM_ACTORS: Readonly<Record<string, string>> = {
  customer: "the customer",
  "system:routing": "routing rules",
  "system:sla": "the SLA clock",
  "system:escalation": "escalation rules",
  "system:review": "the review follow-up",
  "system:publisher": "the publisher",
  "system:autoclose": "auto-close",
};

/** Who an actor reference ("user:<id>", "system:<part>", "customer") is, in words. */
export function actorNamer(meId: string, names: ReadonlyMap<string, string>): (ref: string) => string {
  return (ref) => {
    if (ref.startsWith("user:")) {
      const id = ref.slice(5);
      if (id === meId) return "you";
      return names.get(id) || id;
    }
    return SYSTEM_ACTORS[ref] ?? ref.replace(/^system:/, "");
  };
}

/** A person by user id (assignee, answerer), in words. */
export function personName(id: string | null | undefined, meId: string, names: ReadonlyMap<string, string>): string {
  if (!id) return "nobody";
  return id === meId ? "you" : names.get(id) || id;
}

export interface EntryWords {
  /** What happened: "Assigned to Anna", "Status: Open → Resolved". */
  title: string;
  /** More: the reason, a note's text, the rule. */
  detail: string;
  tone: "neutral" | "ok" | "warning" | "danger" | "info";
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** One timeline entry in words. `name` turns actor references and user ids into names. */
export function describeEntry(
  entry: TimelineEntry,
  name: (ref: string) => string,
  department: (id: string) => string = (id) => id,
): EntryWords {
  const d = entry.data;
  const reason = entry.reason;
  const user = (id: unknown) => (typeof id === "string" && id ? name(`user:${id}`) : "nobody");
  const words = (title: string, detail = reason, tone: EntryWords["tone"] = "neutral"): EntryWords => ({
    title,
    detail,
    tone,
  });
  switch (entry.type) {
    case "case.opened":
      return words(`Case opened${d["network"] ? ` (${networkName(str(d["network"]))})` : ""}`);
    case "case.mention_added":
      return words("The customer wrote again");
    case "case.routed": {
      const dept = str(d["department"]);
      const previous = str(d["previous_department"]);
      const title = dept
        ? `Routed to ${department(dept)}${previous && previous !== dept ? ` (from ${department(previous)})` : ""}`
        : "Routed (no department)";
      const rule = str(d["rule_name"]);
      return words(title, [reason, rule ? `rule: ${rule}` : ""].filter(Boolean).join(" · "));
    }
    case "case.assigned":
      return words(d["assignee_id"] ? `Assigned to ${user(d["assignee_id"])}` : `Unassigned (was ${user(d["previous_assignee_id"])})`);
    case "case.status_changed":
      return words(`Status: ${statusLabel(str(d["previous"]))} → ${statusLabel(str(d["current"]))}`);
    case "case.priority_changed":
      return words(`Priority: ${priorityLabel(str(d["previous"]))} → ${priorityLabel(str(d["current"]))}`);
    case "case.tags_changed": {
      const added = list(d["added"]);
      const removed = list(d["removed"]);
      const parts = [added.length ? `added ${added.join(", ")}` : "", removed.length ? `removed ${removed.join(", ")}` : ""];
      return words(`Tags ${parts.filter(Boolean).join("; ") || "changed"}`);
    }
    case "case.note_added":
      return words("Internal note", str(d["text"]), "info");
    case "case.reply_requested":
      return words(d["automatic"] ? "Automatic acknowledgement sent for posting" : "Answer sent for posting", str(d["text"]));
    case "case.replied":
      return words("Answer posted on the network", str(d["url"]), "ok");
    case "case.reply_failed":
      return words("Answer could not be posted", str(d["message"]) || str(d["code"]), "danger");
    case "reply.pending_approval":
      return words("Answer waits for approval", str(d["text"]), "warning");
    case "reply.approved":
      return words("Answer approved", reason, "ok");
    case "reply.rejected":
      return words("Answer rejected", reason || "no reason given", "danger");
    case "case.resolved": {
      const seconds = typeof d["resolution_s"] === "number" ? d["resolution_s"] : null;
      return words("Resolved", [reason, seconds === null ? "" : `after ${formatDuration(seconds * 1000)}`].filter(Boolean).join(" · "), "ok");
    }
    case "case.reopened":
      return words("Reopened");
    case "case.handed_off":
      return words(`Handed off to ${department(str(d["department"]))}`, str(d["note"]) || reason, "info");
    case "case.department_answered":
      return words(`${department(str(d["department"]))} answered`, str(d["answer"]), "info");
    case "case.escalated": {
      const trigger = d["trigger"] === "breach" ? "breach" : "warning";
      const actions = list(d["actions"]).join(", ");
      return words(
        `Escalated on ${slaMetricLabel(str(d["metric"]))} SLA ${trigger}`,
        actions ? `actions: ${actions}` : reason,
        trigger === "breach" ? "danger" : "warning",
      );
    }
    case "review.watching":
      return words("Review follow-up started", reason, "info");
    case "review.outcome": {
      const outcome = REVIEW_OUTCOMES[str(d["outcome"])];
      const before = d["sentiment_before"];
      const after = d["sentiment_after"];
      const scores =
        typeof before === "number" || typeof after === "number"
          ? `sentiment ${typeof before === "number" ? before.toFixed(2) : "?"} → ${typeof after === "number" ? after.toFixed(2) : "?"}`
          : "";
      return words(
        `Review follow-up: ${outcome?.word ?? str(d["outcome"])}`,
        [outcome?.meaning ?? "", scores].filter(Boolean).join(" · "),
        d["outcome"] === "improved" || d["outcome"] === "deleted" ? "ok" : "warning",
      );
    }
    case "sla.applied":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA started`, typeof d["target_s"] === "number" ? `target ${formatDuration(d["target_s"] * 1000)}` : reason);
    case "sla.warning":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA warning`, reason, "warning");
    case "sla.breached":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA breached`, reason, "danger");
    case "sla.met":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA met`, d["within_target"] === false ? "late" : "within target", d["within_target"] === false ? "warning" : "ok");
    case "sla.paused":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA paused`);
    case "sla.resumed":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA resumed`);
    case "sla.rebound":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA moved to another policy`);
    case "sla.cancelled":
      return words(`${slaMetricLabel(str(d["metric"]))} SLA stopped`);
    default:
      return words(entry.type.replace(/[._]/g, " "));
  }
}

// --- replies ------------------------------------------------------------------------------

export interface ReplyStatus {
  /** The state in words: "Pending approval", "Rejected", "Sending", "Delivered", "Failed". */
  word: string;
  tone: "neutral" | "ok" | "warning" | "danger" | "info";
  /** Why (a rejection's reason, a failure's message). */
  detail: string;
}

/** Where a reply stands, in words. */
export function replyStatus(reply: Reply): ReplyStatus {
  switch (reply.state) {
    case "pending_approval":
      return { word: "Pending approval", tone: "warning", detail: "" };
    case "rejected":
      return { word: "Rejected", tone: "danger", detail: reply.rejection || "no reason given" };
    case "requested":
      return { word: "Sending", tone: "info", detail: "" };
    case "published":
      return { word: "Delivered", tone: "ok", detail: "" };
    case "failed":
      return {
        word: "Failed",
        tone: "danger",
        detail: reply.error?.["message"] || reply.error?.["code"] || "the network refused it",
      };
    default:
      return { word: reply.state, tone: "neutral", detail: "" };
  }
}

const STEP_WORDS: Record<ReplyStepKind, string> = {
  pending_approval: "Held for approval",
  approved: "Approved",
  rejected: "Rejected",
  requested: "Sent for posting",
  delivered: "Posted",
  failed: "Failed",
};

/** One step of a reply's history in words (delivery itself is the item's state). */
export function stepWords(step: ReplyStep, name: (ref: string) => string): string {
  const who = step.kind === "delivered" || step.kind === "failed" ? "" : ` by ${name(step.actor)}`;
  return `${STEP_WORDS[step.kind]}${who}${step.reason ? `: ${step.reason}` : ""}`;
}
