import { describe, expect, it } from "vitest";
import { fromLocalInput, toLocalInput, zoneOffsetMs } from "./localTime";

describe("wall clocks in the user's zone", () => {
  it("shows an instant as the zone's wall clock", () => {
    const t = Date.UTC(2026, 10, 27, 23, 30);
    expect(toLocalInput(t, "UTC")).toBe("2026-11-27T23:30");
    expect(toLocalInput(t, "Asia/Tokyo")).toBe("2026-11-28T08:30");
    expect(toLocalInput("2026-07-01T00:00:00Z", "America/New_York")).toBe("2026-06-30T20:00");
    expect(toLocalInput("not a time", "UTC")).toBe("");
  });

  it("reads a wall clock in the zone, not the browser's", () => {
    expect(fromLocalInput("2026-11-28T08:30", "Asia/Tokyo")).toBe("2026-11-27T23:30:00.000Z");
    expect(fromLocalInput("2026-01-15T12:00", "Europe/Madrid")).toBe("2026-01-15T11:00:00.000Z");
    expect(fromLocalInput("2026-07-15T12:00", "Europe/Madrid")).toBe("2026-07-15T10:00:00.000Z");
    expect(zoneOffsetMs(Date.UTC(2026, 6, 15), "Europe/Madrid")).toBe(2 * 3_600_000);
  });

  it("round-trips across a daylight-saving change", () => {
    // Europe/Madrid moves from +1 to +2 at 02:00 on 29 March 2026.
    for (const wall of ["2026-03-29T01:30", "2026-03-29T03:30", "2026-10-25T04:00"]) {
      expect(toLocalInput(fromLocalInput(wall, "Europe/Madrid")!, "Europe/Madrid")).toBe(wall);
    }
    // 02:30 does not exist that night: it is read as the instant the clock shows 03:30.
    expect(toLocalInput(fromLocalInput("2026-03-29T02:30", "Europe/Madrid")!, "Europe/Madrid")).toBe("2026-03-29T03:30");
  });

  it("refuses what is not a date and time", () => {
    expect(fromLocalInput("", "UTC")).toBeNull();
    expect(fromLocalInput("2026-04-31T10:00", "UTC")).toBeNull();
    expect(fromLocalInput("2026-13-01T10:00", "UTC")).toBeNull();
    expect(fromLocalInput("tomorrow", "UTC")).toBeNull();
  });
});
