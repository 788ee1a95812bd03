// Wall clocks in an IANA time zone without a date library: the wall-clock fields of an
// instant, the zone's offset, a wall-clock time back to its instant (daylight-saving changes
// included), and the value of an <input type="datetime-local"> in the user's zone. The
// browser's own Date conversions use the browser's zone, not the one chosen in Settings, so
// every page that shows or reads a zoned time goes through here.

/** A date on the wall calendar (month 1-12). */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** A wall-clock time in some zone. */
export interface WallTime extends CivilDate {
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock fields of an instant in a zone, with its weekday. */
export interface ZonedParts extends WallTime {
  /** 0 = Monday ... 6 = Sunday. */
  weekday: number;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone, made once: creating an Intl.DateTimeFormat is the slow part. */
function partsFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** A civil date (or wall time) read as if it were UTC, in ms (years below 100 included). */
function asUtc(d: CivilDate & Partial<WallTime>): number {
  const t = new Date(0);
  t.setUTCFullYear(d.year, d.month - 1, d.day);
  t.setUTCHours(d.hour ?? 0, d.minute ?? 0, d.second ?? 0, 0);
  return t.getTime();
}

/** 0 = Monday ... 6 = Sunday. */
export function weekdayOf(d: CivilDate): number {
  return (new Date(asUtc(d)).getUTCDay() + 6) % 7;
}

/** Whether `d` is a real calendar date (not 31 April or 30 February). */
export function isCivilDate(d: CivilDate): boolean {
  if (!Number.isInteger(d.year) || !Number.isInteger(d.month) || !Number.isInteger(d.day)) return false;
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return false;
  const t = new Date(asUtc(d));
  return t.getUTCMonth() === d.month - 1 && t.getUTCDate() === d.day;
}

/** The wall-clock fields of instant `ms` in `zone`. */
export function zonedParts(ms: number, zone: string): ZonedParts {
  const out: Record<string, number> = {};
  let bc = false;
  for (const part of partsFormatter(zone).formatToParts(new Date(ms))) {
    if (part.type === "era") bc = part.value.startsWith("B");
    else if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  const date = { year: bc ? 1 - (out.year ?? 0) : (out.year ?? 0), month: out.month ?? 1, day: out.day ?? 1 };
  // Some engines still write midnight as 24 with h23; it is hour 0 of the same day.
  return {
    ...date,
    hour: (out.hour ?? 0) % 24,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
    weekday: weekdayOf(date),
  };
}

/** The wall-clock time of instant `ms` in `zone` (the fields of `zonedParts` without the weekday). */
export function wallTime(ms: number, zone: string): WallTime {
  const { year, month, day, hour, minute, second } = zonedParts(ms, zone);
  return { year, month, day, hour, minute, second };
}

/** How far `zone` is ahead of UTC at instant `ms`, in ms (e.g. +3 600 000 for CET in winter). */
export function zoneOffset(ms: number, zone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return asUtc(zonedParts(whole, zone)) - whole;
}

/**
 * The instant of wall-clock time `wall` in `zone`.
 *
 * A time that happens twice (the autumn change) is its first occurrence; a time the clocks
 * skip (the spring change) is moved forward by the gap (02:30 in a 02:00→03:00 gap is 03:30),
 * as clocks do, so a day always has a first instant.
 */
export function wallToInstant(wall: WallTime, zone: string): number {
  const local = asUtc(wall);
  const before = zoneOffset(local - DAY_MS, zone);
  const after = zoneOffset(local + DAY_MS, zone);
  const candidates = [local - before, local - after].filter((t) => zoneOffset(t, zone) === local - t);
  if (candidates.length) return Math.min(...candidates);
  return local - before; // in a gap: the offset before the change moves it forward
}

/** Whether `wall` exists in `zone` (false inside a spring-forward gap). */
export function wallExists(wall: WallTime, zone: string): boolean {
  const w = zonedParts(wallToInstant(wall, zone), zone);
  return w.year === wall.year && w.month === wall.month && w.day === wall.day && w.hour === wall.hour && w.minute === wall.minute;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "2026-11-27": a civil date as ISO 8601 (the date part of a datetime-local value). */
export function dateKey(d: CivilDate): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/**
 * "2026-11-27T14:05": the value of a datetime-local input showing `value` in `zone`
 * ("" when `value` is not a time).
 */
export function toLocalInput(value: string | number | Date, zone: string): string {
  const instant = value instanceof Date ? value.getTime() : typeof value === "number" ? value : new Date(value).getTime();
  if (!Number.isFinite(instant)) return "";
  const w = zonedParts(instant, zone);
  return `${dateKey(w)}T${pad(w.hour)}:${pad(w.minute)}`;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;

/**
 * The instant (epoch ms) of a datetime-local value read as a wall clock in `zone`, and whether
 * that wall time exists there; null when the value is not a date and time. A repeated time is
 * its first occurrence and a skipped one moves forward (see `wallToInstant`).
 */
export function fromLocalInput(value: string, zone: string): { at: number; exists: boolean } | null {
  const m = LOCAL_INPUT.exec(value.trim());
  if (!m) return null;
  const wall: WallTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6] ?? 0),
  };
  if (!isCivilDate(wall) || wall.hour > 23 || wall.minute > 59 || wall.second > 59) return null;
  return { at: wallToInstant(wall, zone), exists: wallExists(wall, zone) };
}

/** A short name of the zone at `instant` for hints, e.g. "Europe/Paris (CET)" or "UTC". */
export function zoneLabel(zone: string, instant = Date.now()): string {
  const part = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "short" })
    .formatToParts(new Date(instant))
    .find((p) => p.type === "timeZoneName");
  return part && part.value !== zone ? `${zone} (${part.value})` : zone;
}
