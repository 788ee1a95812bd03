import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { debounce, liveEffect } from "./live";

describe("liveEffect", () => {
  it("refetches on case, SLA and reset messages and spots opened cases", () => {
    expect(liveEffect("reset")).toEqual({ refetch: true, opened: null });
    expect(
      liveEffect({ type: "smm.case.opened", kind: "case", brand_id: "b", data: { case_id: "c1", network: "x" } }),
    ).toEqual({ refetch: true, opened: { caseId: "c1", network: "x" } });
    expect(liveEffect({ type: "smm.sla.warning", kind: "sla", brand_id: "b", data: { case_id: "c1" } })).toEqual({
      refetch: true,
      opened: null,
    });
    expect(liveEffect({ type: "smm.alert.raised", kind: "alert", brand_id: "b", data: {} }).refetch).toBe(false);
  });
});

describe("debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs once after a burst", () => {
    const fn = vi.fn();
    const d = debounce(fn, 300);
    d.trigger();
    vi.advanceTimersByTime(200);
    d.trigger();
    vi.advanceTimersByTime(299);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("still runs within maxMs under a steady stream, and not after cancel", () => {
    const fn = vi.fn();
    const d = debounce(fn, 300, 1000);
    // A message every 200 ms for 1.8 s: without maxMs it would never run.
    for (let i = 0; i < 9; i++) {
      d.trigger();
      vi.advanceTimersByTime(200);
    }
    expect(fn).toHaveBeenCalledTimes(1);
    d.trigger();
    d.cancel();
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
