// Time axes in the user's time zone. Slots come from the API as UTC hours or UTC days:
// hours are labelled in the user's zone; days are UTC days (the buckets are), so they
// are labelled as the UTC date they hold, and the axis says so.
import { timeZone } from "../../lib/time";
import { zonedParts } from "../../lib/zoned";

export type Granularity = "hour" | "day";

const labelFormatters = new Map<string, Intl.DateTimeFormat>();
function labelFormat(zone: string, options: Intl.DateTimeFormatOptions, locale?: string): Intl.DateTimeFormat {
  const key = `${locale ?? ""}|${zone}|${JSON.stringify(options)}`;
  let f = labelFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone: zone });
    labelFormatters.set(key, f);
  }
  return f;
}

const HOUR: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };
const DAY: Intl.DateTimeFormatOptions = { day: "numeric", month: "short" };
const LONG_HOUR: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
const LONG_DAY: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short", year: "numeric" };

/** A slot named in full, for tooltips and tables: "Fri, 27 Nov, 14:00" or "Fri, 27 Nov 2026". */
export function slotLabel(ms: number, granularity: Granularity, zone = timeZone(), locale?: string): string {
  return granularity === "hour"
    ? labelFormat(zone, LONG_HOUR, locale).format(ms)
    : labelFormat("UTC", LONG_DAY, locale).format(ms);
}

/** A slot named briefly, for summaries: "14:00" for hours, "27 Nov" for days. */
export function shortSlotLabel(ms: number, granularity: Granularity, zone = timeZone(), locale?: string): string {
  return granularity === "hour" ? labelFormat(zone, HOUR, locale).format(ms) : labelFormat("UTC", DAY, locale).format(ms);
}

/** What the time axis is in: "Time (Europe/Moscow)" or "Day (UTC)". */
export function axisTitle(granularity: Granularity, zone = timeZone()): string {
  return granularity === "hour" ? `Time (${zone})` : "Day (UTC)";
}

export interface TimeTick {
  index: number;
  label: string;
}

const HOUR_STEPS = [1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336];
const DAY_STEPS = [1, 2, 3, 7, 14, 28, 56, 91, 182, 364];

/**
 * Which slots get a label on the time axis (at most `maxTicks`). Hourly ticks fall on local
 * hours that divide by the step (00:00, 06:00, 12:00 ...), or on local midnights labelled by
 * date once a step reaches a day; daily ticks fall every `step` days counted back from the
 * last slot, so the newest day is always labelled.
 */
export function timeTicks(
  slots: readonly number[],
  granularity: Granularity,
  maxTicks: number,
  zone = timeZone(),
  locale?: string,
): TimeTick[] {
  if (slots.length === 0 || maxTicks < 1) return [];
  if (granularity === "day") {
    const step = DAY_STEPS.find((s) => Math.ceil(slots.length / s) <= maxTicks) ?? Math.ceil(slots.length / maxTicks);
    const last = slots.length - 1;
    const ticks: TimeTick[] = [];
    for (let i = last % step; i <= last; i += step) {
      ticks.push({ index: i, label: labelFormat("UTC", DAY, locale).format(slots[i]!) });
    }
    return ticks;
  }
  const parts = slots.map((ms) => zonedParts(ms, zone));
  // Local midnights: the first slot of each local date.
  const dayStarts: number[] = [];
  parts.forEach((p, i) => {
    const prev = parts[i - 1];
    if (!prev || prev.day !== p.day || prev.month !== p.month || prev.year !== p.year) {
      if (i > 0 || p.hour === 0) dayStarts.push(i);
    }
  });
  for (const step of HOUR_STEPS) {
    let picked: number[];
    if (step < 24) {
      picked = parts.flatMap((p, i) => (p.hour % step === 0 ? [i] : []));
    } else {
      const days = step / 24;
      picked = dayStarts.filter((_, k) => k % days === 0);
    }
    if (picked.length <= maxTicks && picked.length > 0) {
      // A local midnight is labelled with its date, so a multi-day axis says which day it is.
      return picked.map((index) => {
        const p = parts[index]!;
        const format = step >= 24 || (p.hour === 0 && p.minute === 0 && index > 0) ? DAY : HOUR;
        return { index, label: labelFormat(zone, format, locale).format(slots[index]!) };
      });
    }
  }
  // Fallback (a zone with odd offsets, very few slots): evenly spaced slots.
  const step = Math.ceil(slots.length / maxTicks);
  const ticks: TimeTick[] = [];
  for (let i = 0; i < slots.length; i += step) {
    ticks.push({ index: i, label: labelFormat(zone, HOUR, locale).format(slots[i]!) });
  }
  return ticks;
}
