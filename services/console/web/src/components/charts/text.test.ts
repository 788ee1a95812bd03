import { describe, expect, it } from "vitest";
import { formatCompact, formatMoneyMinor, formatSecondsShort, formatNumber, formatPercent, formatSeconds, formatSigned } from "./format";
import { dashBackground, sequentialColour, seriesColour, seriesDash } from "./palette";
import { describeSeries, peakIndex, summariseBars, summariseSeries } from "./summary";
import { axisTitle, shortSlotLabel, slotLabel, timeTicks } from "./timeaxis";

const EN = "en-US";

describe("number formats", () => {
  it("formats counts, ratios and signs", () => {
    expect(formatNumber(1234, 0, EN)).toBe("1,234");
    expect(formatNumber(null, 0, EN)).toBe("–");
    expect(formatCompact(12_345, EN)).toBe("12.3K");
    expect(formatPercent(0.625, 1, EN)).toBe("62.5%");
    expect(formatPercent(null)).toBe("–");
    expect(formatSigned(0.25, 2, EN)).toBe("+0.25");
    expect(formatSigned(-0.1, 2, EN)).toBe("-0.10");
    expect(formatSeconds(245)).toBe("4 min 05 s");
  });
  it("formats durations for axes", () => {
    expect(formatSecondsShort(45, EN)).toBe("45s");
    expect(formatSecondsShort(90, EN)).toBe("1.5m");
    expect(formatSecondsShort(7200, EN)).toBe("2h");
    expect(formatSecondsShort(36 * 3600, EN)).toBe("1.5d");
    expect(formatSecondsShort(0, EN)).toBe("0s");
  });
  it("formats money from minor units of its currency", () => {
    expect(formatMoneyMinor(123456, "USD", EN)).toBe("$1,234.56");
    expect(formatMoneyMinor(500, "JPY", EN)).toBe("¥500");
    expect(formatMoneyMinor(123456, null, EN)).toBe("1,234.56");
  });
});

describe("palette", () => {
  it("cycles colours and dashes and ramps from pale to dark", () => {
    expect(seriesColour(0)).toBe(seriesColour(7));
    expect(seriesDash(0)).toBe("");
    expect(seriesDash(1)).not.toBe("");
    expect(sequentialColour(0)).toBe("#eff6fc");
    expect(sequentialColour(1)).toBe("#08306b");
    expect(sequentialColour(2)).toBe("#08306b");
  });
});

describe("legend swatches", () => {
  it("draws dash patterns as CSS gradients", () => {
    expect(dashBackground("#000")).toBe("#000");
    expect(dashBackground("#000", "6 3")).toBe("repeating-linear-gradient(to right, #000 0px 6px, transparent 6px 9px)");
    // An odd pattern repeats twice, as SVG does.
    expect(dashBackground("red", "2")).toBe("repeating-linear-gradient(to right, red 0px 2px, transparent 2px 4px)");
  });
});

describe("time axis", () => {
  const hour = 3600_000;
  const start = Date.UTC(2026, 10, 27, 0); // Fri 27 Nov 2026, 00:00 UTC
  const day = Array.from({ length: 24 }, (_, i) => start + i * hour);

  it("puts hourly ticks on round local hours", () => {
    const ticks = timeTicks(day, "hour", 5, "UTC", EN);
    expect(ticks.map((t) => t.index)).toEqual([0, 6, 12, 18]);
    // In Tokyo (UTC+9) the slot at 03:00 UTC is noon, 15:00 UTC is midnight (labelled by date).
    const tokyo = timeTicks(day, "hour", 5, "Asia/Tokyo", EN);
    expect(tokyo.map((t) => t.index)).toEqual([3, 9, 15, 21]);
    expect(tokyo[0]!.label).toMatch(/12:00/);
    expect(tokyo[2]!.label).toBe("Nov 28");
  });
  it("labels a week of hours by local midnight", () => {
    const week = Array.from({ length: 168 }, (_, i) => start + i * hour);
    const ticks = timeTicks(week, "hour", 8, "UTC", EN);
    expect(ticks.map((t) => t.index)).toEqual([0, 24, 48, 72, 96, 120, 144]);
    expect(ticks[1]!.label).toBe("Nov 28");
  });
  it("labels days every few days, always the newest", () => {
    const days = Array.from({ length: 30 }, (_, i) => start + i * 24 * hour);
    const ticks = timeTicks(days, "day", 6, "UTC", EN);
    expect(ticks.length).toBeLessThanOrEqual(6);
    expect(ticks[ticks.length - 1]!.index).toBe(29);
    expect(ticks[1]!.index - ticks[0]!.index).toBe(7);
    expect(timeTicks([], "day", 6)).toEqual([]);
  });
  it("names slots in the user's zone for hours and as UTC dates for days", () => {
    expect(shortSlotLabel(start + 14 * hour, "hour", "UTC", EN)).toMatch(/^(14:00|02:00 PM)$/);
    expect(shortSlotLabel(start, "hour", "Asia/Tokyo", EN)).toMatch(/^(09:00|09:00 AM)$/);
    // A UTC day is the same date wherever the user is.
    expect(slotLabel(start, "day", "America/New_York", EN)).toBe("Fri, Nov 27, 2026");
    expect(axisTitle("hour", "Europe/Moscow")).toBe("Time (Europe/Moscow)");
    expect(axisTitle("day", "Europe/Moscow")).toBe("Day (UTC)");
  });
});

describe("summaries", () => {
  const labels = ["13:00", "14:00", "15:00"];
  it("sums counts and names the peak", () => {
    expect(summariseSeries("Mentions per hour, last 24 hours", [{ label: "Mentions", values: [24, 1000, 210] }], labels)).toBe(
      "Mentions per hour, last 24 hours: total 1,234, peak 1,000 at 14:00",
    );
    expect(peakIndex([null, 3, 3])).toBe(1);
  });
  it("describes rates by their range and latest value", () => {
    expect(describeSeries({ label: "p50", values: [60, null, 30], aggregate: "level" }, labels, (v) => `${v}s`)).toBe(
      "lowest 30s at 15:00, highest 60s at 13:00, latest 30s",
    );
  });
  it("lists several series and says when there is nothing", () => {
    const s = summariseSeries("Volume", [
      { label: "All", values: [1, 2, 3] },
      { label: "Negative", values: [0, 1, 0] },
    ], labels);
    expect(s).toBe("Volume: All: total 6, peak 3 at 15:00; Negative: total 1, peak 1 at 14:00");
    expect(summariseSeries("Volume", [{ label: "All", values: [null, null] }], labels)).toBe("Volume: no data");
  });
  it("names the leaders of a bar chart", () => {
    const items = ["a", "b", "c", "d"].map((label, i) => ({ label, value: 10 - i }));
    expect(summariseBars("Top terms", items, undefined, 2)).toBe("Top terms: a 10, b 9, and 2 more");
    expect(summariseBars("Top terms", [])).toBe("Top terms: no data");
  });
});
