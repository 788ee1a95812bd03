// SVG path data for lines, areas and stacks. Coordinates are rounded to 0.1 px: crisp
// enough on any screen, and the markup stays small.

function r(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

/**
 * A polyline through `(xs[i], ys[i])`; a null y breaks the line (a gap, not a zero).
 * A single point between gaps is drawn as a tiny horizontal stroke so it stays visible.
 */
export function linePath(xs: readonly number[], ys: readonly (number | null)[]): string {
  const parts: string[] = [];
  let open = false;
  let runLength = 0;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y == null || !Number.isFinite(y)) {
      if (open && runLength === 1) parts.push(`h0.1`);
      open = false;
      continue;
    }
    parts.push(`${open ? "L" : "M"}${r(xs[i]!)},${r(y)}`);
    runLength = open ? runLength + 1 : 1;
    open = true;
  }
  if (open && runLength === 1) parts.push(`h0.1`);
  return parts.join("");
}

/** A closed area between a top line `y1s` and a bottom line `y0s` (same xs). */
export function areaPath(xs: readonly number[], y0s: readonly number[], y1s: readonly number[]): string {
  if (xs.length === 0) return "";
  const top = xs.map((x, i) => `${i === 0 ? "M" : "L"}${r(x)},${r(y1s[i]!)}`);
  const bottom: string[] = [];
  for (let i = xs.length - 1; i >= 0; i--) bottom.push(`L${r(xs[i]!)},${r(y0s[i]!)}`);
  return `${top.join("")}${bottom.join("")}Z`;
}

export interface StackLayer {
  /** Bottom of the layer at each slot (data units). */
  y0: number[];
  /** Top of the layer at each slot (data units). */
  y1: number[];
}

/** Stack series on top of each other, in order; a null counts as 0. */
export function stack(series: readonly (readonly (number | null)[])[]): StackLayer[] {
  const length = Math.max(0, ...series.map((s) => s.length));
  const base = new Array<number>(length).fill(0);
  return series.map((values) => {
    const y0 = base.slice();
    for (let i = 0; i < length; i++) {
      const v = values[i];
      base[i] = base[i]! + (v != null && Number.isFinite(v) && v > 0 ? v : 0);
    }
    return { y0, y1: base.slice() };
  });
}

/** An arc of a circle (centre cx, cy; radius) from angle a0 to a1, radians, clockwise from 12 o'clock. */
export function arcPath(cx: number, cy: number, radius: number, a0: number, a1: number): string {
  const x0 = cx + radius * Math.sin(a0);
  const y0 = cy - radius * Math.cos(a0);
  const x1 = cx + radius * Math.sin(a1);
  const y1 = cy - radius * Math.cos(a1);
  const large = Math.abs(a1 - a0) > Math.PI ? 1 : 0;
  const sweep = a1 > a0 ? 1 : 0;
  return `M${r(x0)},${r(y0)}A${r(radius)},${r(radius)} 0 ${large} ${sweep} ${r(x1)},${r(y1)}`;
}
