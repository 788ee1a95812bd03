import { describe, expect, it } from "vitest";
import { ACTIVE_STATUSES, isActiveStatus, PRIORITY_LABELS, priorityLabel, slaMetricLabel } from "./cases";

describe("case words", () => {
  it("tells statuses with work left from finished ones", () => {
    expect(ACTIVE_STATUSES).toEqual(["new", "open", "pending_customer", "pending_department"]);
    expect(isActiveStatus("pending_customer")).toBe(true);
    expect(isActiveStatus("resolved")).toBe(false);
    expect(isActiveStatus("closed")).toBe(false);
  });

  it("names priorities, lowest first", () => {
    expect(Object.keys(PRIORITY_LABELS)).toEqual(["low", "normal", "high", "urgent"]);
    expect(priorityLabel("urgent")).toBe("Urgent");
    expect(priorityLabel("critical")).toBe("critical");
  });

  it("names SLA metrics", () => {
    expect(slaMetricLabel("first_response")).toBe("First response");
    expect(slaMetricLabel("time_to_assignment")).toBe("Assignment");
    expect(slaMetricLabel("department_response")).toBe("Department answer");
    expect(slaMetricLabel("some_new_metric")).toBe("some new metric");
  });
});
