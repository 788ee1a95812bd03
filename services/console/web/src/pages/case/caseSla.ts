// The case's SLA clocks as the header shows them: a countdown and a state in words.
import type { ResponderTypes } from "../../api/client";
import { slaMetricLabel } from "../../lib/cases";
import { countdownText, deadlineState, formatDuration } from "../../lib/time";

export type SlaClock = ResponderTypes["schemas"]["SlaClockOut"];

export type ClockState = "ok" | "warning" | "breached" | "paused" | "met" | "met_late";

export interface ClockView {
  metric: string;
  label: string;
  state: ClockState;
  /** The state in words: "On track", "Warning", "Breached", "Paused", "Met", "Met late". */
  word: string;
  /** The countdown or what is left: "due in 4 min 05 s", "overdue by 1 min 00 s", "10 min left". */
  detail: string;
  /** Whether the clock still counts or can still change (met and cancelled are final). */
  open: boolean;
}

const WORDS: Record<ClockState, string> = {
  ok: "On track",
  warning: "Warning",
  breached: "Breached",
  paused: "Paused",
  met: "Met",
  met_late: "Met late",
};

const ORDER: Record<string, number> = {
  first_response: 0,
  next_response: 1,
  time_to_assignment: 2,
  department_response: 3,
  resolution: 4,
};

function ms(value: string | null | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/** One clock at `now` (cancelled clocks are not shown: null). */
export function clockView(clock: SlaClock, now: number): ClockView | null {
  const label = slaMetricLabel(clock.metric);
  const base = { metric: clock.metric, label };
  switch (clock.status) {
    case "cancelled":
      return null;
    case "met": {
      const state: ClockState = clock.breached ? "met_late" : "met";
      return { ...base, state, word: WORDS[state], detail: "", open: false };
    }
    case "paused": {
      const left = (clock.target_s - clock.consumed_s) * 1000;
      const state: ClockState = clock.breached ? "breached" : "paused";
      const detail = left >= 0 ? `paused, ${formatDuration(left)} left` : `paused, overdue by ${formatDuration(-left)}`;
      return { ...base, state, word: state === "paused" ? WORDS.paused : "Breached (paused)", detail, open: true };
    }
    default: {
      const breachAt = ms(clock.breach_due_at);
      const warnAt = ms(clock.warn_due_at);
      let state: ClockState = breachAt === null ? "ok" : deadlineState(now, breachAt, warnAt);
      // The server's flags win: a warning or breach it recorded stays even if clocks differ.
      if (clock.breached) state = "breached";
      else if (clock.warned && state === "ok") state = "warning";
      const detail = breachAt === null ? "" : countdownText(now, breachAt);
      return { ...base, state, word: WORDS[state], detail, open: true };
    }
  }
}

/** Every shown clock, open ones first, in the order a person works through them. */
export function clockViews(clocks: readonly SlaClock[], now: number): ClockView[] {
  return clocks
    .map((c) => clockView(c, now))
    .filter((v): v is ClockView => v !== null)
    .sort((a, b) => Number(b.open) - Number(a.open) || (ORDER[a.metric] ?? 9) - (ORDER[b.metric] ?? 9));
}

const SEVERITY: Record<ClockState, number> = { met: 0, met_late: 0, paused: 1, ok: 2, warning: 3, breached: 4 };

/** The worst state among open clocks ("none" without any). */
export function worstState(views: readonly ClockView[]): ClockState | "none" {
  let worst: ClockState | "none" = "none";
  for (const v of views) {
    if (!v.open) continue;
    if (worst === "none" || SEVERITY[v.state] > SEVERITY[worst]) worst = v.state;
  }
  return worst;
}

/** The states in words only (no ticking numbers): a live region announces when this changes. */
export function stateSummary(views: readonly ClockView[]): string {
  const open = views.filter((v) => v.open);
  if (!open.length) return "No SLA clock is running.";
  return open.map((v) => `${v.label} SLA: ${v.word}.`).join(" ");
}

/** The badge tone of a state. */
export function stateTone(state: ClockState | "none"): "ok" | "warning" | "danger" | "neutral" | "info" {
  if (state === "breached") return "danger";
  if (state === "warning" || state === "met_late") return "warning";
  if (state === "ok" || state === "met") return "ok";
  if (state === "paused") return "info";
  return "neutral";
}
