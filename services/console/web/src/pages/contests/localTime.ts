// Wall-clock times in the user's time zone for <input type="datetime-local">, and back to
// the instants the API takes. The browser's own conversion would use the browser's zone,
// not the one the user chose in Settings, so the zone maths is done here.
import { timeZone } from "../../lib/time";

const INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

const partsFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(zone: string): Intl.DateTimeFormat {
  let format = partsFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partsFormats.set(zone, format);
  }
  return format;
}

/** The wall clock of `instant` (ms) in `zone`, as [year, month, day, hour, minute, second]. */
function wallClock(instant: number, zone: string): number[] {
  const parts = partsFormat(zone).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
  return [get("year"), get("month"), get("day"), get("hour") % 24, get("minute"), get("second")];
}

/** How far `zone` is ahead of UTC at `instant`, in ms (e.g. +3 600 000 for CET in winter). */
export function zoneOffsetMs(instant: number, zone: string): number {
  const [y, mo, d, h, mi, s] = wallClock(instant, zone) as [number, number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "2026-11-27T14:05": the value of a datetime-local input showing `value` in `zone`. */
export function toLocalInput(value: string | number | Date, zone = timeZone()): string {
  const instant = value instanceof Date ? value.getTime() : new Date(value).getTime();
  if (Number.isNaN(instant)) return "";
  const [y, mo, d, h, mi] = wallClock(instant, zone) as [number, number, number, number, number];
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}`;
}

/**
 * The instant (ISO 8601, UTC) of a datetime-local value read as a wall clock in `zone`, or
 * null when it is not a date and time. A wall time skipped by a daylight-saving change
 * resolves to the instant an hour later, as clocks do.
 */
export function fromLocalInput(value: string, zone = timeZone()): string | null {
  const m = INPUT.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? "0")) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(wall).getUTCDate() !== d) return null; // e.g. 31 April
  // The offset at the wall time read as UTC is right except near a change; one correction
  // with the offset at the first guess settles it.
  const first = zoneOffsetMs(wall, zone);
  let instant = wall - first;
  const second = zoneOffsetMs(instant, zone);
  if (second !== first) instant = wall - second;
  return new Date(instant).toISOString();
}

/** A short name of the zone at `instant`, e.g. "CET" or "GMT+3", for hints. */
export function zoneLabel(zone = timeZone(), instant = Date.now()): string {
  const part = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "short" })
    .formatToParts(new Date(instant))
    .find((p) => p.type === "timeZoneName");
  return part && part.value !== zone ? `${zone} (${part.value})` : zone;
}
