import { describe, expect, it } from "vitest";
import { clockView, clockViews, stateSummary, worstState, type SlaClock } from "./caseSla";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function clock(over: Partial<SlaClock>): SlaClock {
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
    ...over,
  };
}

describe("SLA clocks", () => {
  it("counts down and turns to warning then breached with words", () => {
    const c = clock({});
    expect(clockView(c, T0)).toMatchObject({ state: "ok", word: "On track", detail: "due in 10 min 00 s", open: true });
    expect(clockView(c, T0 + 500_000)).toMatchObject({ state: "warning", word: "Warning", detail: "due in 1 min 40 s" });
    expect(clockView(c, T0 + 605_000)).toMatchObject({ state: "breached", word: "Breached", detail: "overdue by 5 s" });
  });

  it("trusts the server's warned and breached flags", () => {
    expect(clockView(clock({ warned: true }), T0)?.state).toBe("warning");
    expect(clockView(clock({ breached: true, status: "breached" }), T0)?.word).toBe("Breached");
  });

  it("shows paused clocks with the time left and hides cancelled ones", () => {
    const paused = clock({ status: "paused", consumed_s: 240, warn_due_at: null, breach_due_at: null });
    expect(clockView(paused, T0)).toMatchObject({ state: "paused", word: "Paused", detail: "paused, 6 min 00 s left" });
    expect(clockView(clock({ status: "cancelled" }), T0)).toBeNull();
    expect(clockView(clock({ status: "met", breached: true }), T0)).toMatchObject({ word: "Met late", open: false });
  });

  it("orders open clocks first and summarises the worst state", () => {
    const views = clockViews(
      [
        clock({ metric: "resolution", breach_due_at: iso(T0 + 86_400_000), warn_due_at: null }),
        clock({ metric: "time_to_assignment", status: "met" }),
        clock({ metric: "first_response", warned: true }),
      ],
      T0,
    );
    expect(views.map((v) => v.metric)).toEqual(["first_response", "resolution", "time_to_assignment"]);
    expect(worstState(views)).toBe("warning");
    expect(stateSummary(views)).toBe("First response SLA: Warning. Resolution SLA: On track.");
    expect(worstState([])).toBe("none");
    expect(stateSummary([])).toBe("No SLA clock is running.");
  });
});
