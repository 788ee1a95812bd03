// The page's filters (range and network), kept in the address so tabs, reloads and shared
// links keep them, and the time windows they stand for.
import { NETWORKS, type Network } from "../../lib/networks";

export type Granularity = "hour" | "day";
export type RangeKey = "24h" | "7d" | "30d" | "90d";

export interface RangeOption {
  key: RangeKey;
  /** The option's text in the Range picker. */
  label: string;
  /** For sentences and chart titles: "last 7 days". */
  phrase: string;
  granularity: Granularity;
  /** Length in slots of the granularity. */
  slots: number;
}

/**
 * Up to a week the charts are hourly (a day of 24 points, a week of 168); beyond, daily.
 * Daily buckets are UTC days: the API stores them so (docs/analytics.md).
 */
export const RANGES: readonly RangeOption[] = [
  { key: "24h", label: "Last 24 hours", phrase: "last 24 hours", granularity: "hour", slots: 24 },
  { key: "7d", label: "7 days", phrase: "last 7 days", granularity: "hour", slots: 7 * 24 },
  { key: "30d", label: "30 days", phrase: "last 30 days", granularity: "day", slots: 30 },
  { key: "90d", label: "90 days", phrase: "last 90 days", granularity: "day", slots: 90 },
];
export const DEFAULT_RANGE: RangeKey = "7d";

export interface Filters {
  range: RangeOption;
  network: Network | null;
}

/** The filters in `?range=30d&network=vk`; unknown values fall back to the defaults. */
export function readFilters(search: URLSearchParams): Filters {
  const range = RANGES.find((r) => r.key === search.get("range")) ?? RANGES.find((r) => r.key === DEFAULT_RANGE)!;
  const network = NETWORKS.find((n) => n === search.get("network")) ?? null;
  return { range, network };
}

/** `search` with one filter changed (a default value is left out of the address). */
export function withFilter(search: URLSearchParams, name: "range" | "network", value: string): URLSearchParams {
  const next = new URLSearchParams(search);
  if (!value || (name === "range" && value === DEFAULT_RANGE)) next.delete(name);
  else next.set(name, value);
  return next;
}

export interface Window {
  /** ISO, UTC, on a slot boundary. */
  from: string;
  to: string;
  granularity: Granularity;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The window of a range at `now`: whole UTC hours (or days) ending with the current one,
 * so "last 24 hours" is exactly 24 hourly slots, the current (partial) hour included.
 */
export function rangeWindow(range: RangeOption, now: number): Window {
  const step = range.granularity === "hour" ? HOUR_MS : DAY_MS;
  const end = (Math.floor(now / step) + 1) * step;
  const start = end - range.slots * step;
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString(), granularity: range.granularity };
}
