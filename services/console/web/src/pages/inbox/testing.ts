// A case as the API lists it, for the inbox's unit tests.
import type { ResponderTypes } from "../../api/client";
import type { CaseOut } from "./format";

type Clock = ResponderTypes["schemas"]["SlaClockOut"];

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function clock(overrides: Partial<Clock> = {}): Clock {
  return {
    metric: "first_response",
    status: "running",
    target_s: 600,
    consumed_s: 0,
    warn_due_at: iso(T0 + 480_000),
    breach_due_at: iso(T0 + 600_000),
    warned: false,
    breached: false,
    met_at: null,
    ...overrides,
  };
}

export function makeCase(overrides: Partial<CaseOut> = {}): CaseOut {
  return {
    id: "c1",
    brand_id: "bank",
    conversation_key: "x:thread-1",
    network: "x",
    status: "new",
    priority: "normal",
    tags: [],
    assignee_id: null,
    department: null,
    mention_count: 1,
    mention_ids: ["m1"],
    first_mention_at: iso(T0),
    last_mention_at: iso(T0),
    opened_at: iso(T0),
    last_activity_at: iso(T0),
    author: { id: "42", handle: "anna", display_name: "Anna K" },
    preview: "My card was blocked",
    language: "en",
    sentiment: {},
    sla_state: "ok",
    next_deadline_at: iso(T0 + 480_000),
    sla_policy_id: "p1",
    sla: [clock()],
    version: 1,
    ...overrides,
  };
}
