import { describe, expect, it } from "vitest";
import { countdownText, deadlineState, formatDateTime, formatDuration } from "./time";

describe("time", () => {
  it("formats durations at a glance", () => {
    expect(formatDuration(4_000)).toBe("4 s");
    expect(formatDuration(245_000)).toBe("4 min 05 s");
    expect(formatDuration(2 * 3600_000 + 600_000)).toBe("2 h 10 min");
    expect(formatDuration(76 * 3600_000)).toBe("3 d 4 h");
  });
  it("tells ok, warning and breached deadlines apart", () => {
    expect(deadlineState(100, 200, 150)).toBe("ok");
    expect(deadlineState(160, 200, 150)).toBe("warning");
    expect(deadlineState(200, 200, 150)).toBe("breached");
    expect(countdownText(0, 65_000)).toBe("due in 1 min 05 s");
    expect(countdownText(65_000, 0)).toBe("overdue by 1 min 05 s");
  });
  it("shows times in the given zone", () => {
    const t = Date.UTC(2026, 10, 27, 23, 30);
    // 12- or 24-hour clock follows the locale; the hour follows the zone.
    expect(formatDateTime(t, "Asia/Tokyo")).toMatch(/\b0?8:30/);
    expect(formatDateTime(t, "UTC")).toMatch(/\b(23|11):30/);
    expect(formatDateTime(t, "UTC")).not.toMatch(/\b0?8:30/);
  });
});
