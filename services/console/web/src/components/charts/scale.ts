// Scales and ticks: the arithmetic every chart shares, free of React and the DOM.

export interface NiceTicks {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** A "nice" step (1, 2 or 5 times a power of ten) near `span / count`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  // The nearest of 1, 2, 5, 10 on a log scale (thresholds at their geometric means).
  const nice = fraction >= Math.sqrt(50) ? 10 : fraction >= Math.sqrt(10) ? 5 : fraction >= Math.SQRT2 ? 2 : 1;
  return nice * power;
}

/**
 * Round `[min, max]` out to nice steps and list the ticks, about `count` of them.
 * An empty or flat domain becomes `[0, 1]` or is widened around its value, so a chart
 * of zeros still has an axis.
 */
export function niceTicks(min: number, max: number, count = 5): NiceTicks {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 0;
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    if (lo === 0) hi = 1;
    else if (lo > 0) lo = 0;
    else hi = 0;
  }
  const step = niceStep(hi - lo, count);
  const niceMin = Math.floor(lo / step) * step;
  const niceMax = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  // Counting steps (not adding them) keeps 0.1 + 0.2 errors out of the labels.
  const n = Math.round((niceMax - niceMin) / step);
  for (let i = 0; i <= n; i++) ticks.push(roundTo(niceMin + i * step, step));
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, step, ticks };
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(decimals));
}

/** A linear map from `domain` to `range`; a flat domain maps to the range's start. */
export function linearScale(domain: [number, number], range: [number, number]): (value: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  if (span === 0) return () => r0;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** The smallest and largest finite numbers in `values` (nulls skipped); null when none. */
export function extent(values: Iterable<number | null | undefined>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v == null || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? null : [lo, hi];
}

export interface Band {
  /** Start of each band (left or top edge). */
  start: (index: number) => number;
  /** Centre of each band. */
  centre: (index: number) => number;
  /** Width of a band without its padding. */
  bandwidth: number;
  /** Distance between two bands' starts. */
  step: number;
}

/** `count` equal bands over `[r0, r1]`, each with `padding` (0..1) of its step left empty. */
export function bandScale(count: number, range: [number, number], padding = 0.2): Band {
  const [r0, r1] = range;
  const step = count > 0 ? (r1 - r0) / count : 0;
  const bandwidth = step * (1 - padding);
  const inset = (step - bandwidth) / 2;
  return {
    start: (i) => r0 + i * step + inset,
    centre: (i) => r0 + i * step + step / 2,
    bandwidth,
    step,
  };
}

/** Where point `index` of `count` sits over `[r0, r1]`: the centre of its slot. */
export function pointX(index: number, count: number, range: [number, number]): number {
  return bandScale(count, range, 0).centre(index);
}

/** Steps a duration axis may take, in seconds: round seconds, minutes, hours and days. */
const DURATION_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
];

/**
 * Ticks for durations in seconds on round clock values (5 min, 15 min, 1 h ...), about
 * `count` of them, from 0 (or below, for negative values) to cover `max`.
 */
export function durationTicks(min: number, max: number, count = 4): NiceTicks {
  const lo = Math.min(0, Number.isFinite(min) ? min : 0);
  const hi = Math.max(Number.isFinite(max) ? max : 0, lo + 1);
  const step =
    DURATION_STEPS.find((s) => Math.ceil(hi / s) - Math.floor(lo / s) <= count) ??
    Math.ceil((hi - lo) / count / 604_800) * 604_800;
  const first = Math.floor(lo / step);
  const last = Math.ceil(hi / step);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(i * step);
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, step, ticks };
}
