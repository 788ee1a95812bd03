// A case's SLA at a glance, from the clocks the case listing returns, and the inbox's
// "next deadline first" order.
//
// What the API gives (responder domain/sla.py): each open clock is `running`, `paused` or
// `breached`. A running clock carries `breach_due_at` (and `warn_due_at` until the warning
// fired); a breached clock keeps counting but its dues are cleared, so the list does not say
// WHEN it breached. That instant is learnt elsewhere: from a `breach_due_at` seen before, from
// live `smm.sla.*` events, or from the case's timeline (`sla.breached` entries carry `due_at`).
// `next_deadline_at` is the earliest of warn and breach dues, and breached cases have none,
// so the server's `sort=deadline` puts them last: the inbox sorts again (breached first).
import { countdownText, deadlineState, formatDuration } from "../../lib/time";
import type { ResponderTypes } from "../../api/client";
import type { CaseOut } from "./format";

type Clock = ResponderTypes["schemas"]["SlaClockOut"];
type TimelineEntry = ResponderTypes["schemas"]["TimelineEntry"];

export type SlaState = "none" | "ok" | "warning" | "breached";

export interface SlaSummary {
  /** How the case stands: the worst of its clocks and of the server's `sla_state`. */
  state: SlaState;
  /** `counting` (the clock runs), `paused` (e.g. waiting for the customer) or `none`. */
  mode: "counting" | "paused" | "none";
  /** The metric of the clock shown (`first_response`...), or null. */
  metric: string | null;
  /** When the shown clock breaches (or breached, when known), epoch ms. */
  breachAt: number | null;
  /** When it warns, while the warning is still ahead. */
  warnAt: number | null;
  /** Business time left on a paused clock. */
  remainingMs: number | null;
}

/** Known breach instants by `breachKey(case, metric)`. */
export type BreachTimes = ReadonlyMap<string, number>;

const OPEN_CLOCKS = new Set(["running", "paused", "breached"]);
const SEVERITY: Record<SlaState, number> = { none: 0, ok: 1, warning: 2, breached: 3 };

export function breachKey(caseId: string, metric: string): string {
  return `${caseId}|${metric}`;
}

function epoch(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

function fromServer(state: CaseOut["sla_state"]): SlaState {
  if (state === "breached") return "breached";
  if (state === "at_risk") return "warning";
  if (state === "ok") return "ok";
  return "none";
}

function worst(a: SlaState, b: SlaState): SlaState {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

function clockSummary(caseId: string, clock: Clock, now: number, breaches: BreachTimes): SlaSummary {
  const known = breaches.get(breachKey(caseId, clock.metric)) ?? null;
  const left = Math.max(0, Math.round((clock.target_s - clock.consumed_s) * 1000));
  const base = { metric: clock.metric, warnAt: null, remainingMs: null } as const;
  if (clock.status === "paused") {
    const state: SlaState = clock.breached ? "breached" : clock.warned ? "warning" : "ok";
    return { ...base, state, mode: "paused", breachAt: clock.breached ? known : null, remainingMs: clock.breached ? 0 : left };
  }
  if (clock.status === "breached" || clock.breached) {
    return { ...base, state: "breached", mode: "counting", breachAt: known };
  }
  const breachAt = epoch(clock.breach_due_at);
  const warnAt = epoch(clock.warn_due_at);
  let state: SlaState = breachAt === null ? "ok" : deadlineState(now, breachAt, warnAt);
  if (clock.warned) state = worst(state, "warning");
  return { ...base, state, mode: "counting", breachAt, warnAt: state === "ok" ? warnAt : null };
}

/** Which clock the row shows: the worst state, counting before paused, soonest first. */
function moreUrgent(a: SlaSummary, b: SlaSummary): boolean {
  if (SEVERITY[a.state] !== SEVERITY[b.state]) return SEVERITY[a.state] > SEVERITY[b.state];
  if (a.mode !== b.mode) return a.mode === "counting";
  if (a.mode === "paused") return (a.remainingMs ?? Infinity) < (b.remainingMs ?? Infinity);
  return (a.breachAt ?? Infinity) < (b.breachAt ?? Infinity);
}

/** The case's SLA now: the most urgent of its open clocks. */
export function slaSummary(c: CaseOut, now: number, breaches: BreachTimes = new Map()): SlaSummary {
  let shown: SlaSummary | null = null;
  for (const clock of c.sla ?? []) {
    if (!OPEN_CLOCKS.has(clock.status)) continue;
    const s = clockSummary(c.id, clock, now, breaches);
    if (shown === null || moreUrgent(s, shown)) shown = s;
  }
  const server = fromServer(c.sla_state);
  if (shown === null) {
    return { state: server, mode: "none", metric: null, breachAt: null, warnAt: null, remainingMs: null };
  }
  return { ...shown, state: worst(shown.state, server) };
}

/** "due in 4 min 05 s", "overdue by 2 min 00 s", "paused, 3 min 00 s left", "no SLA running". */
export function slaText(s: SlaSummary, now: number): string {
  if (s.mode === "paused") {
    return s.state === "breached" ? "overdue, clock paused" : `paused, ${formatDuration(s.remainingMs ?? 0)} left`;
  }
  if (s.breachAt !== null) return countdownText(now, s.breachAt);
  if (s.state === "breached") return "overdue";
  return s.mode === "counting" ? "running" : "no SLA running";
}

/** The state in a word (colour is never the only signal). */
export function slaLabel(s: SlaSummary): string {
  if (s.state === "breached") return "Breached";
  if (s.state === "warning") return "Warning";
  if (s.mode === "paused") return "Paused";
  if (s.state === "ok") return "On track";
  return "No SLA";
}

/**
 * Next deadline first: breached cases (longest overdue first; an unknown breach instant counts
 * from the case's opening, its lower bound), then running clocks by breach deadline, then paused
 * clocks by time left, then cases without an SLA by latest activity. Ties by id (a stable order).
 */
export function sortByDeadline(cases: readonly CaseOut[], now: number, breaches: BreachTimes = new Map()): CaseOut[] {
  const keyed = cases.map((c) => {
    const s = slaSummary(c, now, breaches);
    let group: number;
    let key: number;
    if (s.state === "breached") {
      group = 0;
      key = s.breachAt ?? epoch(c.opened_at) ?? 0;
    } else if (s.mode === "counting") {
      group = 1;
      key = s.breachAt ?? Number.MAX_SAFE_INTEGER;
    } else if (s.mode === "paused") {
      group = 2;
      key = s.remainingMs ?? Number.MAX_SAFE_INTEGER;
    } else {
      group = 3;
      key = -(epoch(c.last_activity_at) ?? 0);
    }
    return { c, group, key };
  });
  keyed.sort((a, b) => a.group - b.group || a.key - b.key || (a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0));
  return keyed.map((k) => k.c);
}

// --- learning when clocks breached ----------------------------------------------------------

/** Remember the armed breach dues of the listed cases; true when something new was learnt. */
export function learnFromCases(breaches: Map<string, number>, cases: readonly CaseOut[]): boolean {
  let changed = false;
  for (const c of cases) {
    for (const clock of c.sla ?? []) {
      const due = epoch(clock.breach_due_at);
      const key = breachKey(c.id, clock.metric);
      if (due !== null && breaches.get(key) !== due) {
        breaches.set(key, due);
        changed = true;
      }
    }
  }
  return changed;
}

/** Learn from a live `smm.sla.*` event's data; true when something new was learnt. */
export function learnFromEvent(breaches: Map<string, number>, type: string, data: Record<string, unknown>): boolean {
  const caseId = data.case_id;
  const metric = data.metric;
  if (typeof caseId !== "string" || typeof metric !== "string") return false;
  const field = type === "smm.sla.breached" ? data.due_at : data.breach_due_at;
  const due = typeof field === "string" ? epoch(field) : null;
  if (due === null) return false;
  const key = breachKey(caseId, metric);
  if (breaches.get(key) === due) return false;
  breaches.set(key, due);
  return true;
}

/** Learn the breach instants recorded in a case's timeline (`sla.breached` entries). */
export function learnFromTimeline(
  breaches: Map<string, number>,
  caseId: string,
  timeline: readonly TimelineEntry[],
): boolean {
  let changed = false;
  for (const entry of timeline) {
    if (entry.type !== "sla.breached") continue;
    changed = learnFromEvent(breaches, "smm.sla.breached", { ...entry.data, case_id: caseId }) || changed;
  }
  return changed;
}

/** Cases with a breached clock whose breach instant is not known yet (to look up). */
export function unknownBreaches(cases: readonly CaseOut[], breaches: BreachTimes): string[] {
  return cases
    .filter((c) =>
      (c.sla ?? []).some(
        (k) => OPEN_CLOCKS.has(k.status) && k.breached && !breaches.has(breachKey(c.id, k.metric)),
      ),
    )
    .map((c) => c.id);
}
