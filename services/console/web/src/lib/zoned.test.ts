import { describe, expect, it } from "vitest";
import {
  dateKey,
  fromLocalInput,
  isCivilDate,
  toLocalInput,
  wallExists,
  wallTime,
  wallToInstant,
  weekdayOf,
  zonedParts,
  zoneLabel,
  zoneOffset,
} from "./zoned";

const H = 3_600_000;
const BERLIN = "Europe/Berlin";
const MADRID = "Europe/Madrid";

describe("wall-clock fields of an instant", () => {
  it("reads the fields in the zone, not the browser's", () => {
    const t = Date.UTC(2026, 10, 27, 13, 5);
    expect(wallTime(t, BERLIN)).toEqual({ year: 2026, month: 11, day: 27, hour: 14, minute: 5, second: 0 });
    expect(wallTime(t, "Asia/Tokyo").hour).toBe(22);
  });

  it("gives the weekday, Monday first", () => {
    const start = Date.UTC(2026, 10, 27, 0); // a Friday in UTC
    expect(zonedParts(start, "Asia/Tokyo")).toMatchObject({ day: 27, hour: 9, weekday: 4 });
    expect(zonedParts(start, "America/New_York")).toMatchObject({ day: 26, hour: 19, weekday: 3 });
    expect(weekdayOf({ year: 2026, month: 11, day: 29 })).toBe(6);
    expect(weekdayOf({ year: 2026, month: 11, day: 30 })).toBe(0);
  });

  it("writes midnight as hour 0 and keeps seconds", () => {
    expect(zonedParts(Date.UTC(2026, 0, 1, 0, 0, 42), "UTC")).toMatchObject({ day: 1, hour: 0, minute: 0, second: 42 });
  });

  it("tells the zone's offset at an instant", () => {
    expect(zoneOffset(Date.UTC(2026, 6, 15), MADRID)).toBe(2 * H);
    expect(zoneOffset(Date.UTC(2026, 0, 15), MADRID)).toBe(H);
    expect(zoneOffset(Date.UTC(2026, 6, 15), "America/New_York")).toBe(-4 * H);
    expect(zoneOffset(Date.UTC(2026, 6, 15), "Asia/Kolkata")).toBe(5.5 * H);
  });
});

describe("wall-clock time to instant", () => {
  it("finds the instant of an ordinary wall time", () => {
    const t = Date.UTC(2026, 10, 27, 13, 5);
    expect(wallToInstant({ year: 2026, month: 11, day: 27, hour: 14, minute: 5, second: 0 }, BERLIN)).toBe(t);
    expect(wallToInstant({ year: 2026, month: 7, day: 1, hour: 9, minute: 0, second: 0 }, "America/New_York")).toBe(
      Date.UTC(2026, 6, 1, 13),
    );
  });

  it("takes the first of an autumn time that happens twice", () => {
    const wall = { year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 };
    expect(wallToInstant(wall, BERLIN)).toBe(Date.UTC(2026, 9, 25, 0, 30)); // 02:30 CEST, not CET
    expect(wallExists(wall, BERLIN)).toBe(true);
    // New York falls back at 02:00 EDT on 1 November 2026: 01:30 happens at 05:30Z and 06:30Z.
    const ny = { year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 };
    expect(wallToInstant(ny, "America/New_York")).toBe(Date.UTC(2026, 10, 1, 5, 30));
  });

  it("moves a time the spring change skips forward by the gap", () => {
    const wall = { year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 };
    const t = wallToInstant(wall, BERLIN);
    expect(t).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(wallTime(t, BERLIN)).toMatchObject({ hour: 3, minute: 30 });
    expect(wallExists(wall, BERLIN)).toBe(false);
  });

  it("gives a day whose midnight is skipped its first instant", () => {
    // Brazil moved its clocks from 00:00 to 01:00 on 4 November 2018.
    const t = wallToInstant({ year: 2018, month: 11, day: 4, hour: 0, minute: 0, second: 0 }, "America/Sao_Paulo");
    expect(t).toBe(Date.UTC(2018, 10, 4, 3));
    expect(wallTime(t - 1, "America/Sao_Paulo")).toMatchObject({ day: 3, hour: 23, minute: 59 });
  });
});

describe("datetime-local values", () => {
  it("shows an instant as the zone's wall clock", () => {
    const t = Date.UTC(2026, 10, 27, 23, 30);
    expect(toLocalInput(t, "UTC")).toBe("2026-11-27T23:30");
    expect(toLocalInput(t, "Asia/Tokyo")).toBe("2026-11-28T08:30");
    expect(toLocalInput(new Date(t), BERLIN)).toBe("2026-11-28T00:30");
    expect(toLocalInput("2026-07-01T00:00:00Z", "America/New_York")).toBe("2026-06-30T20:00");
    expect(toLocalInput("not a time", "UTC")).toBe("");
    expect(toLocalInput(Number.NaN, "UTC")).toBe("");
  });

  it("reads a wall clock in the zone, not the browser's", () => {
    expect(fromLocalInput("2026-11-28T08:30", "Asia/Tokyo")).toEqual({ at: Date.UTC(2026, 10, 27, 23, 30), exists: true });
    expect(fromLocalInput("2026-01-15T12:00", MADRID)?.at).toBe(Date.UTC(2026, 0, 15, 11));
    expect(fromLocalInput("2026-07-15T12:00", MADRID)?.at).toBe(Date.UTC(2026, 6, 15, 10));
    expect(fromLocalInput(" 2026-07-15T12:00:30.250 ", MADRID)?.at).toBe(Date.UTC(2026, 6, 15, 10, 0, 30));
  });

  it("round-trips across daylight-saving changes with the same rule as wallToInstant", () => {
    // Europe/Madrid moves from +1 to +2 at 02:00 on 29 March 2026, back at 03:00 on 25 October.
    for (const wall of ["2026-03-29T01:30", "2026-03-29T03:30", "2026-10-25T04:00", "2026-10-25T02:30"]) {
      expect(toLocalInput(fromLocalInput(wall, MADRID)!.at, MADRID)).toBe(wall);
    }
    // 02:30 on 25 October happens twice: the first (CEST, 00:30Z) is taken.
    expect(fromLocalInput("2026-10-25T02:30", MADRID)).toEqual({ at: Date.UTC(2026, 9, 25, 0, 30), exists: true });
    // 02:30 on 29 March does not exist: it is read as the instant the clock shows 03:30.
    const skipped = fromLocalInput("2026-03-29T02:30", MADRID)!;
    expect(skipped.exists).toBe(false);
    expect(toLocalInput(skipped.at, MADRID)).toBe("2026-03-29T03:30");
  });

  it("refuses what is not a date and time", () => {
    expect(fromLocalInput("", "UTC")).toBeNull();
    expect(fromLocalInput("tomorrow", "UTC")).toBeNull();
    expect(fromLocalInput("2026-04-31T10:00", "UTC")).toBeNull();
    expect(fromLocalInput("2026-02-30T10:00", BERLIN)).toBeNull();
    expect(fromLocalInput("2026-13-01T10:00", "UTC")).toBeNull();
    expect(fromLocalInput("2026-11-27T25:00", BERLIN)).toBeNull();
    expect(fromLocalInput("2026-11-27T10:60", BERLIN)).toBeNull();
  });
});

describe("civil dates and zone names", () => {
  it("checks and writes civil dates", () => {
    expect(isCivilDate({ year: 2028, month: 2, day: 29 })).toBe(true);
    expect(isCivilDate({ year: 2026, month: 2, day: 29 })).toBe(false);
    expect(isCivilDate({ year: 2026, month: 0, day: 1 })).toBe(false);
    expect(dateKey({ year: 2026, month: 1, day: 5 })).toBe("2026-01-05");
  });

  it("names the zone for hints", () => {
    expect(zoneLabel("UTC")).toBe("UTC");
    expect(zoneLabel("Europe/Madrid", Date.UTC(2026, 0, 15))).toMatch(/^Europe\/Madrid \(.+\)$/);
  });
});
