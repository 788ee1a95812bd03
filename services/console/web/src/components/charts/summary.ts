// One-sentence summaries of a chart's data for its aria-label: what a sighted reader takes
// from a glance (totals, peaks, leaders), so a screen-reader user gets it without the table.
import { formatNumber } from "./format";

export interface SummarySeries {
  label: string;
  values: readonly (number | null)[];
  /** "sum": counts that add up (mentions); "level": rates or times (min, max, latest). */
  aggregate?: "sum" | "level";
}

type Fmt = (value: number) => string;

/** The index of the largest value (the first one on ties); -1 when all are missing. */
export function peakIndex(values: readonly (number | null)[]): number {
  let best = -1;
  values.forEach((v, i) => {
    if (v != null && Number.isFinite(v) && (best < 0 || v > values[best]!)) best = i;
  });
  return best;
}

/** The last index holding a value; -1 when none. */
export function latestIndex(values: readonly (number | null)[]): number {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v != null && Number.isFinite(v)) return i;
  }
  return -1;
}

/** The sum of the values, nulls skipped. */
export function total(values: readonly (number | null)[]): number {
  return values.reduce<number>((sum, v) => sum + (v != null && Number.isFinite(v) ? v : 0), 0);
}

/** One series in words: "total 1,234, peak 210 at 14:00" or "from 2 min to 9 min, latest 4 min". */
export function describeSeries(series: SummarySeries, slotLabels: readonly string[], fmt: Fmt = (v) => formatNumber(v)): string {
  const peak = peakIndex(series.values);
  if (peak < 0) return "no data";
  const at = slotLabels[peak] ?? "";
  if ((series.aggregate ?? "sum") === "sum") {
    return `total ${fmt(total(series.values))}, peak ${fmt(series.values[peak]!)} at ${at}`;
  }
  let low = peak;
  series.values.forEach((v, i) => {
    if (v != null && Number.isFinite(v) && v < series.values[low]!) low = i;
  });
  const latest = latestIndex(series.values);
  return `lowest ${fmt(series.values[low]!)} at ${slotLabels[low] ?? ""}, highest ${fmt(series.values[peak]!)} at ${at}, latest ${fmt(series.values[latest]!)}`;
}

/**
 * "Mentions per hour, last 24 hours: total 1,234, peak 210 at 14:00" for one series;
 * "...: Total: total 1,234, peak ...; Negative: total 80, peak ..." for several.
 */
export function summariseSeries(
  title: string,
  series: readonly SummarySeries[],
  slotLabels: readonly string[],
  fmt?: Fmt,
): string {
  if (series.length === 0 || series.every((s) => peakIndex(s.values) < 0)) return `${title}: no data`;
  if (series.length === 1) return `${title}: ${describeSeries(series[0]!, slotLabels, fmt)}`;
  return `${title}: ${series.map((s) => `${s.label}: ${describeSeries(s, slotLabels, fmt)}`).join("; ")}`;
}

export interface SummaryItem {
  label: string;
  value: number | null;
}

/** "Share of voice: Acme 62%, Rival 30%, Other 8%" — the first `max` items, then how many more. */
export function summariseBars(title: string, items: readonly SummaryItem[], fmt: Fmt = (v) => formatNumber(v), max = 5): string {
  if (items.length === 0) return `${title}: no data`;
  const shown = items.slice(0, max).map((i) => `${i.label} ${i.value == null ? "no value" : fmt(i.value)}`);
  const more = items.length > max ? `, and ${items.length - max} more` : "";
  return `${title}: ${shown.join(", ")}${more}`;
}
