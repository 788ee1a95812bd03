import { describe, expect, it } from "vitest";
import { wallTime, wallToInstant } from "../../lib/zoned";
import {
  dayStart,
  droppedAt,
  groupByDay,
  monthWeeks,
  parseDateKey,
  periodLabel,
  shiftAnchor,
  viewRange,
  weekDays,
  weekdayName,
} from "./calendar";

const H = 3_600_000;
const BERLIN = "Europe/Berlin";

describe("day boundaries", () => {
  it("makes DST days 23 and 25 hours long", () => {
    const spring = weekDays({ year: 2026, month: 3, day: 29 }, BERLIN);
    const sunday = spring[6]!;
    expect(sunday.key).toBe("2026-03-29");
    expect(sunday.start).toBe(Date.UTC(2026, 2, 28, 23));
    expect(sunday.end - sunday.start).toBe(23 * H);
    const autumn = weekDays({ year: 2026, month: 10, day: 25 }, BERLIN)[6]!;
    expect(autumn.end - autumn.start).toBe(25 * H);
    // Consecutive days touch: no instant is in two days or in none.
    for (let i = 1; i < spring.length; i++) expect(spring[i]!.start).toBe(spring[i - 1]!.end);
  });

  it("starts a day whose midnight is skipped at its first instant", () => {
    // Brazil moved its clocks from 00:00 to 01:00 on 4 November 2018.
    const start = dayStart({ year: 2018, month: 11, day: 4 }, "America/Sao_Paulo");
    expect(start).toBe(Date.UTC(2018, 10, 4, 3));
    expect(wallTime(start, "America/Sao_Paulo")).toMatchObject({ day: 4, hour: 1, minute: 0 });
    expect(wallTime(start - 1, "America/Sao_Paulo")).toMatchObject({ day: 3, hour: 23, minute: 59 });
  });

  it("puts a day's start where the zone's midnight is", () => {
    expect(dayStart({ year: 2026, month: 11, day: 27 }, "Asia/Tokyo")).toBe(Date.UTC(2026, 10, 26, 15));
    expect(dayStart({ year: 2026, month: 11, day: 27 }, "UTC")).toBe(Date.UTC(2026, 10, 27));
  });
});

describe("grids", () => {
  it("lays a week from Monday", () => {
    const days = weekDays({ year: 2026, month: 11, day: 27 }, "UTC"); // a Friday
    expect(days.map((d) => d.key)).toEqual([
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-26",
      "2026-11-27",
      "2026-11-28",
      "2026-11-29",
    ]);
  });

  it("covers a month with whole weeks and marks the days of other months", () => {
    const nov = monthWeeks({ year: 2026, month: 11, day: 15 }, BERLIN); // 1 Nov is a Sunday
    expect(nov).toHaveLength(6);
    expect(nov[0]![0]!.key).toBe("2026-10-26");
    expect(nov[0]![0]!.inPeriod).toBe(false);
    expect(nov[0]![6]!.key).toBe("2026-11-01");
    expect(nov[0]![6]!.inPeriod).toBe(true);
    expect(nov[5]![6]!.key).toBe("2026-12-06");
    const feb = monthWeeks({ year: 2027, month: 2, day: 1 }, "UTC"); // starts on a Monday, 28 days
    expect(feb).toHaveLength(4);
    expect(feb.flat().every((d) => d.inPeriod)).toBe(true);
  });

  it("gives the instants a view fetches", () => {
    const { from, to, days } = viewRange("month", { year: 2026, month: 3, day: 1 }, BERLIN);
    expect(days[0]!.key).toBe("2026-02-23");
    expect(from).toBe(Date.UTC(2026, 1, 22, 23));
    expect(days[days.length - 1]!.key).toBe("2026-04-05");
    expect(to).toBe(Date.UTC(2026, 3, 5, 22)); // 6 April 00:00 CEST
  });

  it("steps by week and by month", () => {
    expect(shiftAnchor("week", { year: 2026, month: 11, day: 27 }, 1)).toEqual({ year: 2026, month: 11, day: 30 });
    expect(shiftAnchor("week", { year: 2026, month: 1, day: 1 }, -1)).toEqual({ year: 2025, month: 12, day: 22 });
    expect(shiftAnchor("month", { year: 2026, month: 1, day: 31 }, 1)).toEqual({ year: 2026, month: 2, day: 1 });
    expect(shiftAnchor("month", { year: 2026, month: 1, day: 15 }, -1)).toEqual({ year: 2025, month: 12, day: 1 });
  });

  it("groups items by their day in the zone, in time order", () => {
    const late = { id: "late", at: Date.UTC(2026, 10, 27, 23, 30) };
    const early = { id: "early", at: Date.UTC(2026, 10, 27, 8) };
    const none = { id: "none", at: null };
    const utc = groupByDay([late, early, none], (i) => i.at, "UTC");
    expect(utc.get("2026-11-27")?.map((i) => i.id)).toEqual(["early", "late"]);
    const tokyo = groupByDay([late, early, none], (i) => i.at, "Asia/Tokyo");
    expect(tokyo.get("2026-11-27")?.map((i) => i.id)).toEqual(["early"]);
    expect(tokyo.get("2026-11-28")?.map((i) => i.id)).toEqual(["late"]);
  });

  it("labels the period", () => {
    expect(periodLabel("month", { year: 2026, month: 11, day: 5 }, "en-GB")).toBe("November 2026");
    expect(periodLabel("week", { year: 2026, month: 11, day: 27 }, "en-GB")).toBe("23 Nov 2026 – 29 Nov 2026");
    expect(weekdayName({ year: 2026, month: 11, day: 27 }, "en-GB")).toBe("Fri");
  });
});

describe("dropping a post", () => {
  const at9 = wallToInstant({ year: 2026, month: 3, day: 27, hour: 9, minute: 15, second: 0 }, BERLIN); // CET

  it("keeps the time of day when moved to another day, across a DST change", () => {
    const moved = droppedAt(at9, { date: { year: 2026, month: 3, day: 30 } }, BERLIN); // CEST
    expect(wallTime(moved, BERLIN)).toMatchObject({ day: 30, hour: 9, minute: 15 });
    expect(moved - at9).toBe(3 * 24 * H - H);
  });

  it("takes the hour of an hour cell and keeps the minutes", () => {
    const moved = droppedAt(at9, { date: { year: 2026, month: 3, day: 28 }, hour: 16 }, BERLIN);
    expect(moved).toBe(Date.UTC(2026, 2, 28, 15, 15));
  });

  it("reads the day in the user's zone, not UTC", () => {
    const t = Date.UTC(2026, 10, 27, 23, 30); // 28 Nov 08:30 in Tokyo
    const moved = droppedAt(t, { date: { year: 2026, month: 11, day: 30 } }, "Asia/Tokyo");
    expect(moved).toBe(Date.UTC(2026, 10, 29, 23, 30));
  });
});

describe("date keys", () => {
  it("parses date keys strictly", () => {
    expect(parseDateKey("2026-11-27")).toEqual({ year: 2026, month: 11, day: 27 });
    expect(parseDateKey("2026-02-31")).toBeNull();
    expect(parseDateKey("2028-02-29")).toEqual({ year: 2028, month: 2, day: 29 });
    expect(parseDateKey("nope")).toBeNull();
    expect(parseDateKey(null)).toBeNull();
  });
});
