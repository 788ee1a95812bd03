// The publishing calendar's maths in an IANA time zone: day boundaries (23- and 25-hour
// days included), week and month grids, and where a dropped post lands. The wall-clock
// primitives (wall time <-> instant, the datetime-local value) are in lib/zoned.
import { dateKey, isCivilDate, wallTime, wallToInstant, weekdayOf, type CivilDate } from "../../lib/zoned";

export type CalendarView = "week" | "month";

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

export function parseDateKey(key: string | null | undefined): CivilDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key ?? "");
  if (!m) return null;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isCivilDate(date) ? date : null;
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

export function startOfWeek(d: CivilDate): CivilDate {
  return addDays(d, -weekdayOf(d));
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
