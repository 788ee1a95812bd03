// Colours safe for the common colour-vision deficiencies (Okabe & Ito, 2008), dark enough
// against white for graphics (WCAG 1.4.11, 3:1), and dash patterns so that lines differ by
// shape as well as by colour.

/** Series colours in the order a chart takes them. */
export const SERIES_COLOURS = [
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#000000", // black
] as const;

/** Dash patterns for lines, in the same order as the colours ("" = solid). */
export const SERIES_DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4"] as const;

/** Sentiment labels: blue/vermillion is the safest diverging pair; greys for the rest. */
export const SENTIMENT_COLOURS: Record<string, string> = {
  positive: "#0072B2",
  neutral: "#8C8C8C",
  mixed: "#CC79A7",
  negative: "#D55E00",
  unknown: "#C4C4C4",
};

export function seriesColour(index: number): string {
  return SERIES_COLOURS[index % SERIES_COLOURS.length]!;
}

export function seriesDash(index: number): string {
  return SERIES_DASHES[index % SERIES_DASHES.length]!;
}

/** A sequential blue ramp for heatmaps: t in [0, 1] to a colour from pale to dark blue. */
export function sequentialColour(t: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  // From #eff6fc to #08306b (ColorBrewer Blues ends), interpolated in sRGB.
  const from = [0xef, 0xf6, 0xfc];
  const to = [0x08, 0x30, 0x6b];
  const mix = from.map((f, i) => Math.round(f + (to[i]! - f) * clamped));
  return `#${mix.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** Text colour readable on `sequentialColour(t)`. */
export function sequentialTextColour(t: number): string {
  return t > 0.5 ? "#ffffff" : "#1b1f24";
}

/** A CSS background drawing an SVG dash pattern ("6 3") as a horizontal stroke. */
export function dashBackground(colour: string, dash?: string): string {
  const parts = (dash ?? "").split(/[\s,]+/).filter(Boolean).map(Number);
  if (parts.length === 0 || parts.some((n) => !(n >= 0))) return colour;
  const pattern = parts.length % 2 ? [...parts, ...parts] : parts;
  let at = 0;
  const stops = pattern.map((len, i) => {
    const from = at;
    at += len;
    return `${i % 2 ? "transparent" : colour} ${from}px ${at}px`;
  });
  return `repeating-linear-gradient(to right, ${stops.join(", ")})`;
}
