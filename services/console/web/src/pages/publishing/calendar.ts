// Calendar maths in an IANA time zone, without a date library: wall clock <-> instant,
// day boundaries (23- and 25-hour days included), week and month grids, where a dropped
// post lands, and the datetime-local input's value in the user's zone.

export type CalendarView = "week" | "month";

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

/** One day of a grid: its key, its date, and the instants it spans in the zone. */
export interface CalendarDay {
  key: string;
  date: CivilDate;
  /** The first instant of the day in the zone (epoch ms). */
  start: number;
  /** The first instant of the next day (so a DST day is 23 or 25 hours long). */
  end: number;
  /** In the month shown (month view); always true in week view. */
  inPeriod: boolean;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

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

/** The wall-clock time of instant `ms` in `zone`. */
export function wallTime(ms: number, zone: string): WallTime {
  const out: Record<string, number> = {};
  let bc = false;
  for (const part of partsFormatter(zone).formatToParts(new Date(ms))) {
    if (part.type === "era") bc = part.value.startsWith("B");
    else if (part.type !== "literal") out[part.type] = Number(part.value);
  }
  const year = bc ? 1 - (out.year ?? 0) : (out.year ?? 0);
  // Some engines still write midnight as 24 with h23; it is hour 0 of the same day.
  return {
    year,
    month: out.month ?? 1,
    day: out.day ?? 1,
    hour: (out.hour ?? 0) % 24,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

function wallAsUtc(w: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return d.getTime();
}

/** How far `zone` is ahead of UTC at instant `ms` (ms; whole seconds). */
export function zoneOffset(ms: number, zone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(wallTime(whole, zone)) - whole;
}

/**
 * The instant of wall-clock time `wall` in `zone`.
 *
 * A time that happens twice (the autumn change) is its first occurrence, as the publisher
 * reads it; a time the clocks skip (the spring change) is moved forward by the gap
 * (02:30 in a 02:00→03:00 gap is 03:30), so a day always has a first instant.
 */
export function wallToInstant(wall: WallTime, zone: string): number {
  const local = wallAsUtc(wall);
  const before = zoneOffset(local - DAY_MS, zone);
  const after = zoneOffset(local + DAY_MS, zone);
  const candidates = [local - before, local - after].filter((t) => zoneOffset(t, zone) === local - t);
  if (candidates.length) return Math.min(...candidates);
  return local - before; // in a gap: the offset before the change moves it forward
}

/** Whether `wall` exists in `zone` (false inside a spring-forward gap). */
export function wallExists(wall: WallTime, zone: string): boolean {
  const w = wallTime(wallToInstant(wall, zone), zone);
  return w.year === wall.year && w.month === wall.month && w.day === wall.day && w.hour === wall.hour && w.minute === wall.minute;
}

export function dateKey(d: CivilDate): string {
  const y = String(d.year).padStart(4, "0");
  return `${y}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

export function parseDateKey(key: string | null | undefined): CivilDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key ?? "");
  if (!m) return null;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const check = addDays(date, 0);
  return check.month === date.month && check.day === date.day ? date : null;
}

/** The calendar date `n` days after `d` (negative: before). */
export function addDays(d: CivilDate, n: number): CivilDate {
  const t = new Date(0);
  t.setUTCFullYear(d.year, d.month - 1, d.day + n);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** The first day of the month `n` months after the month of `d`. */
export function addMonths(d: CivilDate, n: number): CivilDate {
  const t = new Date(0);
  t.setUTCFullYear(d.year, d.month - 1 + n, 1);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: 1 };
}

/** 0 = Monday … 6 = Sunday. */
export function weekday(d: CivilDate): number {
  const t = new Date(0);
  t.setUTCFullYear(d.year, d.month - 1, d.day);
  return (t.getUTCDay() + 6) % 7;
}

export function startOfWeek(d: CivilDate): CivilDate {
  return addDays(d, -weekday(d));
}

export function sameDate(a: CivilDate, b: CivilDate): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day;
}

/** The first instant of `d` in `zone` (after the gap when midnight is skipped). */
export function dayStart(d: CivilDate, zone: string): number {
  return wallToInstant({ ...d, hour: 0, minute: 0, second: 0 }, zone);
}

/** The date of instant `ms` in `zone`. */
export function dateOf(ms: number, zone: string): CivilDate {
  const w = wallTime(ms, zone);
  return { year: w.year, month: w.month, day: w.day };
}

function day(d: CivilDate, zone: string, inPeriod: boolean): CalendarDay {
  return { key: dateKey(d), date: d, start: dayStart(d, zone), end: dayStart(addDays(d, 1), zone), inPeriod };
}

/** The seven days (Monday first) of the week holding `anchor`. */
export function weekDays(anchor: CivilDate, zone: string): CalendarDay[] {
  const first = startOfWeek(anchor);
  return Array.from({ length: 7 }, (_, i) => day(addDays(first, i), zone, true));
}

/** The weeks (Monday first) covering the month of `anchor`; days of other months are marked. */
export function monthWeeks(anchor: CivilDate, zone: string): CalendarDay[][] {
  const first = { year: anchor.year, month: anchor.month, day: 1 };
  const next = addMonths(first, 1);
  const weeks: CalendarDay[][] = [];
  let cursor = startOfWeek(first);
  while (dayStart(cursor, "UTC") < dayStart(next, "UTC")) {
    weeks.push(
      Array.from({ length: 7 }, (_, i) => {
        const d = addDays(cursor, i);
        return day(d, zone, d.month === anchor.month && d.year === anchor.year);
      }),
    );
    cursor = addDays(cursor, 7);
  }
  return weeks;
}

/** The instants a view shows, `[from, to)`, and its days. */
export function viewRange(view: CalendarView, anchor: CivilDate, zone: string): { from: number; to: number; days: CalendarDay[] } {
  const days = view === "week" ? weekDays(anchor, zone) : monthWeeks(anchor, zone).flat();
  return { from: days[0]!.start, to: days[days.length - 1]!.end, days };
}

/** The anchor one period before (-1) or after (+1). */
export function shiftAnchor(view: CalendarView, anchor: CivilDate, step: number): CivilDate {
  return view === "week" ? addDays(startOfWeek(anchor), 7 * step) : addMonths(anchor, step);
}

/** The first instant of `hour` on day `d` in `zone` (a skipped hour starts after the gap). */
export function hourStart(d: CivilDate, hour: number, zone: string): number {
  return wallToInstant({ ...d, hour, minute: 0, second: 0 }, zone);
}

/** Where a post is dropped: a day (month view) or an hour of a day (week view). */
export interface DropTarget {
  date: CivilDate;
  hour?: number;
}

/**
 * The new time of a post at `original` dropped on `target`, in `zone`: on a day it keeps its
 * time of day (its wall clock, so it stays at 09:00 across a DST change); on an hour cell it
 * takes that hour and keeps its minutes.
 */
export function droppedAt(original: number, target: DropTarget, zone: string): number {
  const w = wallTime(original, zone);
  return wallToInstant({ ...target.date, hour: target.hour ?? w.hour, minute: w.minute, second: w.second }, zone);
}

/** A `datetime-local` value ("2026-11-27T14:05") for instant `ms` in `zone`. */
export function toInputValue(ms: number, zone: string): string {
  const w = wallTime(ms, zone);
  return `${dateKey(w)}T${String(w.hour).padStart(2, "0")}:${String(w.minute).padStart(2, "0")}`;
}

/** The instant of a `datetime-local` value read in `zone`; null when it is not a time. */
export function fromInputValue(value: string, zone: string): { at: number; exists: boolean } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(value.trim());
  if (!m) return null;
  const wall: WallTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6] ?? 0),
  };
  if (!parseDateKey(dateKey(wall)) || wall.hour > 23 || wall.minute > 59 || wall.second > 59) return null;
  return { at: wallToInstant(wall, zone), exists: wallExists(wall, zone) };
}

/** Items grouped by the key of their day in `zone`, each group in time order. */
export function groupByDay<T>(items: T[], timeOf: (item: T) => number | null, zone: string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  const sorted = items
    .map((item) => ({ item, at: timeOf(item) }))
    .filter((x): x is { item: T; at: number } => x.at !== null)
    .sort((a, b) => a.at - b.at);
  for (const { item, at } of sorted) {
    const key = dateKey(dateOf(at, zone));
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}

/** "23 – 29 Nov 2026" (week) or "November 2026" (month), in `locale`. */
export function periodLabel(view: CalendarView, anchor: CivilDate, locale?: string): string {
  // Dates are formatted at UTC noon of their own calendar day: the zone does not matter here.
  const at = (d: CivilDate) => Date.UTC(d.year, d.month - 1, d.day, 12);
  if (view === "month") {
    return new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }).format(at(anchor));
  }
  const first = startOfWeek(anchor);
  const last = addDays(first, 6);
  const f = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  return `${f.format(at(first))} – ${f.format(at(last))}`;
}

/** "Mon 23" style column heading for a day, in `locale`. */
export function dayHeading(d: CivilDate, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(
    Date.UTC(d.year, d.month - 1, d.day, 12),
  );
}

/** "Mon" style name of the weekday of `d`, in `locale`. */
export function weekdayName(d: CivilDate, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { weekday: "short", timeZone: "UTC" }).format(Date.UTC(d.year, d.month - 1, d.day, 12));
}
