import { describe, expect, it } from "vitest";
import {
  breachKey,
  learnFromCases,
  learnFromEvent,
  learnFromTimeline,
  slaLabel,
  slaSummary,
  slaText,
  sortByDeadline,
  unknownBreaches,
} from "./sla";
import { T0, clock, iso, makeCase } from "./testing";

describe("slaSummary", () => {
  it("counts down to the breach and turns to warning at the warning time", () => {
    const c = makeCase();
    const early = slaSummary(c, T0 + 355_000);
    expect(early.state).toBe("ok");
    expect(slaLabel(early)).toBe("On track");
    expect(slaText(early, T0 + 355_000)).toBe("due in 4 min 05 s");

    const warned = slaSummary(c, T0 + 500_000);
    expect(warned.state).toBe("warning");
    expect(slaLabel(warned)).toBe("Warning");
    expect(slaText(warned, T0 + 500_000)).toBe("due in 1 min 40 s");
  });

  it("is breached the moment the deadline passes, before the server's timer says so", () => {
    const s = slaSummary(makeCase(), T0 + 720_000);
    expect(s.state).toBe("breached");
    expect(slaLabel(s)).toBe("Breached");
    expect(slaText(s, T0 + 720_000)).toBe("overdue by 2 min 00 s");
  });

  it("takes the server's word for a warning already given", () => {
    const c = makeCase({ sla: [clock({ warned: true, warn_due_at: null })], sla_state: "at_risk" });
    expect(slaSummary(c, T0).state).toBe("warning");
  });

  it("shows a breached clock as overdue since the breach instant it learnt", () => {
    const c = makeCase({
      sla_state: "breached",
      sla: [clock({ status: "breached", breached: true, warned: true, warn_due_at: null, breach_due_at: null })],
    });
    expect(slaText(slaSummary(c, T0 + 700_000), T0 + 700_000)).toBe("overdue");
    const known = new Map([[breachKey("c1", "first_response"), T0 + 600_000]]);
    const s = slaSummary(c, T0 + 720_000, known);
    expect(s.state).toBe("breached");
    expect(slaText(s, T0 + 720_000)).toBe("overdue by 2 min 00 s");
  });

  it("shows the most urgent of several clocks", () => {
    const c = makeCase({
      sla: [
        clock({ metric: "resolution", breach_due_at: iso(T0 + 3_600_000), warn_due_at: null }),
        clock({ metric: "first_response", breach_due_at: iso(T0 + 120_000), warn_due_at: null }),
        clock({ metric: "time_to_assignment", status: "met", met_at: iso(T0), breach_due_at: null, warn_due_at: null }),
      ],
    });
    const s = slaSummary(c, T0);
    expect(s.metric).toBe("first_response");
    expect(slaText(s, T0)).toBe("due in 2 min 00 s");
  });

  it("shows a paused clock with the time it has left", () => {
    const c = makeCase({
      status: "pending_customer",
      sla: [clock({ status: "paused", consumed_s: 420, warn_due_at: null, breach_due_at: null })],
    });
    const s = slaSummary(c, T0);
    expect(s.mode).toBe("paused");
    expect(slaLabel(s)).toBe("Paused");
    expect(slaText(s, T0)).toBe("paused, 3 min 00 s left");
  });

  it("has no SLA when no clock is open", () => {
    const c = makeCase({ status: "resolved", sla_state: "none", sla: [clock({ status: "met", met_at: iso(T0) })] });
    const s = slaSummary(c, T0);
    expect(s.state).toBe("none");
    expect(slaLabel(s)).toBe("No SLA");
    expect(slaText(s, T0)).toBe("no SLA running");
  });
});

describe("sortByDeadline", () => {
  const running = (id: string, dueIn: number) =>
    makeCase({ id, sla: [clock({ breach_due_at: iso(T0 + dueIn), warn_due_at: null })] });
  const breached = (id: string, opened: number) =>
    makeCase({
      id,
      opened_at: iso(opened),
      sla_state: "breached",
      sla: [clock({ status: "breached", breached: true, breach_due_at: null, warn_due_at: null })],
    });
  const paused = (id: string, consumed: number) =>
    makeCase({ id, sla: [clock({ status: "paused", consumed_s: consumed, breach_due_at: null, warn_due_at: null })] });
  const none = (id: string, activity: number) =>
    makeCase({ id, sla: [], sla_state: "none", last_activity_at: iso(activity) });

  it("puts breached first, then running by deadline, then paused, then cases without SLA", () => {
    const order = sortByDeadline(
      [none("n-old", T0 - 5000), running("r-late", 900_000), paused("p", 100), breached("b", T0 - 60_000),
        none("n-new", T0), running("r-soon", 60_000)],
      T0,
    ).map((c) => c.id);
    expect(order).toEqual(["b", "r-soon", "r-late", "p", "n-new", "n-old"]);
  });

  it("orders breached cases by how long they have been overdue", () => {
    const known = new Map([
      [breachKey("b1", "first_response"), T0 - 60_000],
      [breachKey("b2", "first_response"), T0 - 600_000],
    ]);
    const order = sortByDeadline([breached("b1", T0 - 900_000), breached("b2", T0 - 700_000)], T0, known);
    expect(order.map((c) => c.id)).toEqual(["b2", "b1"]);
  });

  it("moves a running case whose deadline passed into the breached group", () => {
    const order = sortByDeadline([running("later", 60_000), running("passed", -1000)], T0).map((c) => c.id);
    expect(order).toEqual(["passed", "later"]);
  });
});

describe("learning breach instants", () => {
  it("remembers armed dues, live events and timeline entries", () => {
    const breaches = new Map<string, number>();
    expect(learnFromCases(breaches, [makeCase()])).toBe(true);
    expect(breaches.get("c1|first_response")).toBe(T0 + 600_000);
    expect(learnFromCases(breaches, [makeCase()])).toBe(false);

    expect(
      learnFromEvent(breaches, "smm.sla.breached", { case_id: "c2", metric: "resolution", due_at: iso(T0 + 5) }),
    ).toBe(true);
    expect(breaches.get("c2|resolution")).toBe(T0 + 5);
    expect(
      learnFromEvent(breaches, "smm.sla.resumed", { case_id: "c2", metric: "resolution", breach_due_at: iso(T0 + 9) }),
    ).toBe(true);
    expect(breaches.get("c2|resolution")).toBe(T0 + 9);
    expect(learnFromEvent(breaches, "smm.sla.met", { case_id: "c2", metric: "resolution" })).toBe(false);

    learnFromTimeline(breaches, "c3", [
      { id: "e1", at: iso(T0), type: "sla.warning", actor: "system:sla", reason: "", data: { metric: "first_response", due_at: iso(T0 + 1) } },
      { id: "e2", at: iso(T0), type: "sla.breached", actor: "system:sla", reason: "", data: { metric: "first_response", due_at: iso(T0 + 2) } },
    ]);
    expect(breaches.get("c3|first_response")).toBe(T0 + 2);
  });

  it("lists the breached cases whose breach instant is unknown", () => {
    const b = makeCase({ id: "b", sla: [clock({ status: "breached", breached: true, breach_due_at: null, warn_due_at: null })] });
    expect(unknownBreaches([makeCase(), b], new Map())).toEqual(["b"]);
    expect(unknownBreaches([b], new Map([["b|first_response", T0]]))).toEqual([]);
  });
});
