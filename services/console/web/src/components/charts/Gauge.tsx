// A score out of a maximum (the reputation index) as a half-ring: each component's points
// fill their own arc, so the ring shows both the score and what it is made of.
import type { ReactNode } from "react";
import { ChartFrame, type LegendItem, type TableSpec } from "./ChartFrame";
import { formatNumber } from "./format";
import { seriesColour } from "./palette";
import { arcPath } from "./path";

export interface GaugePart {
  key: string;
  label: string;
  /** Points of the score this part gives (0 when it has no data). */
  value: number;
  colour?: string;
}

const W = 320;
const H = 190;
const CX = W / 2;
const CY = 160;
const R = 120;
const STROKE = 26;

export function Gauge({
  chart,
  title,
  description,
  value,
  max = 100,
  parts,
  summary,
  table,
  caption,
  empty,
  actions,
}: {
  chart: string;
  title: string;
  description?: ReactNode;
  /** The score; null draws the empty state. */
  value: number | null;
  max?: number;
  /** Parts of the score, in order along the ring; their sum should be the value. */
  parts: GaugePart[];
  /** The aria-label. */
  summary: string;
  table?: TableSpec;
  /** Under the number: "of 100". */
  caption?: string;
  empty?: ReactNode;
  actions?: ReactNode;
}) {
  const angle = (v: number) => -Math.PI / 2 + (Math.min(max, Math.max(0, v)) / max) * Math.PI;
  let at = 0;
  const arcs = parts.map((part, i) => {
    const from = at;
    at += Math.max(0, part.value);
    return { part, colour: part.colour ?? seriesColour(i), from, to: at };
  });
  const legend: LegendItem[] = arcs.map((a) => ({ label: `${a.part.label}: ${formatNumber(a.part.value, 1)}`, colour: a.colour }));
  return (
    <ChartFrame
      chart={chart}
      title={title}
      description={description}
      table={table}
      legend={legend}
      actions={actions}
      empty={value == null ? (empty ?? "No data") : undefined}
    >
      <div className="chart-plot chart-plot-gauge">
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} className="chart-svg">
          <path d={arcPath(CX, CY, R, -Math.PI / 2, Math.PI / 2)} fill="none" stroke="#e6e9ed" strokeWidth={STROKE} aria-hidden="true" />
          {arcs.map((a) =>
            a.to - a.from > 0 ? (
              <path
                key={a.part.key}
                className="mark"
                d={arcPath(CX, CY, R, angle(a.from), angle(a.to))}
                fill="none"
                stroke={a.colour}
                strokeWidth={STROKE}
              >
                <title>{`${a.part.label}: ${formatNumber(a.part.value, 1)}`}</title>
              </path>
            ) : null,
          )}
          {/* White ticks between the parts keep them apart without relying on colour. */}
          {arcs.slice(1).map((a) =>
            a.to - a.from > 0 ? (
              <path
                key={`sep-${a.part.key}`}
                d={`M${CX + (R - STROKE / 2) * Math.sin(angle(a.from))},${CY - (R - STROKE / 2) * Math.cos(angle(a.from))}L${CX + (R + STROKE / 2) * Math.sin(angle(a.from))},${CY - (R + STROKE / 2) * Math.cos(angle(a.from))}`}
                stroke="#fff"
                strokeWidth={2}
                aria-hidden="true"
              />
            ) : null,
          )}
          <text x={CX} y={CY - 24} textAnchor="middle" className="chart-big-number">
            {value == null ? "–" : formatNumber(value, 0)}
          </text>
          <text x={CX} y={CY} textAnchor="middle" className="chart-label">
            {caption ?? `of ${formatNumber(max)}`}
          </text>
          <text x={CX - R} y={CY + 20} textAnchor="middle" className="chart-label">0</text>
          <text x={CX + R} y={CY + 20} textAnchor="middle" className="chart-label">{formatNumber(max)}</text>
        </svg>
      </div>
    </ChartFrame>
  );
}
