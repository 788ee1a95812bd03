// Horizontal bars for ranked lists (top terms, authors, posts) and shares (share of voice):
// names on the left, the value printed at each bar's end, tooltips and a table.
import { useState, type ReactNode } from "react";
import { ChartFrame, type TableSpec } from "./ChartFrame";
import { formatNumber } from "./format";
import { seriesColour } from "./palette";
import { PointLayer, type PointTarget } from "./PointLayer";
import { linearScale, niceTicks } from "./scale";
import { summariseBars } from "./summary";
import { useWidth } from "./useWidth";

export interface BarItem {
  key: string;
  label: string;
  value: number | null;
  /** More about the item for the tooltip and the table ("42 mentions"). */
  detail?: string;
  colour?: string;
}

const ROW = 26;
const MAX_LABEL = 28;

/** A label cut to fit the label column, with an ellipsis; the full one is in the tooltip. */
export function clip(label: string, max = MAX_LABEL): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

export function BarChart({
  chart,
  title,
  description,
  items,
  format = (v) => formatNumber(v),
  max,
  nameHeader = "Name",
  valueHeader,
  detailHeader,
  colour = seriesColour(0),
  empty,
  actions,
}: {
  chart: string;
  title: string;
  description?: ReactNode;
  items: BarItem[];
  format?: (value: number) => string;
  /** The value at the full width (1 for shares); default: the largest value, rounded up. */
  max?: number;
  nameHeader?: string;
  valueHeader: string;
  detailHeader?: string;
  colour?: string;
  empty?: ReactNode;
  actions?: ReactNode;
}) {
  const [box, W] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<number | null>(null);
  // Names take up to 40 % of a narrow chart, 190 px of a wide one; 7 px per character.
  const M = { top: 6, right: 70, bottom: 6, left: Math.min(190, Math.round(W * 0.4)) };
  const maxLabel = Math.max(8, Math.min(MAX_LABEL, Math.floor((M.left - 10) / 7)));
  const H = M.top + M.bottom + ROW * Math.max(1, items.length);
  const largest = Math.max(0, ...items.map((i) => i.value ?? 0));
  const top = max ?? niceTicks(0, largest, 4).max;
  const x = linearScale([0, top || 1], [M.left, W - M.right]);
  const summary = summariseBars(title, items, format);
  const table: TableSpec = {
    columns: [nameHeader, valueHeader, ...(detailHeader ? [detailHeader] : [])],
    rows: items.map((i) => [i.label, i.value == null ? "–" : format(i.value), ...(detailHeader ? [i.detail ?? ""] : [])]),
  };
  const targets: PointTarget[] = items.map((item, i) => ({
    x: 0,
    y: M.top + i * ROW,
    w: W,
    h: ROW,
    anchorX: x(item.value ?? 0),
    lines: [item.label, `${valueHeader}: ${item.value == null ? "no value" : format(item.value)}`, ...(item.detail ? [item.detail] : [])],
  }));
  return (
    <ChartFrame chart={chart} title={title} description={description} table={table} actions={actions} empty={empty}>
      <div className="chart-plot" ref={box}>
        <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={summary} className="chart-svg">
          <line className="chart-baseline" x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} aria-hidden="true" />
          {items.map((item, i) => {
            const cy = M.top + i * ROW + ROW / 2;
            const width = Math.max(0, x(item.value ?? 0) - M.left);
            return (
              <g key={item.key} opacity={active == null || active === i ? 1 : 0.6}>
                <text className="chart-label" x={M.left - 8} y={cy} dy="0.32em" textAnchor="end">
                  {clip(item.label, maxLabel)}
                </text>
                <rect
                  className="mark"
                  x={M.left}
                  y={Math.round((cy - ROW * 0.35) * 10) / 10}
                  width={Math.round(Math.max(width, item.value ? 1 : 0) * 10) / 10}
                  height={Math.round(ROW * 0.7 * 10) / 10}
                  rx={2}
                  fill={item.colour ?? colour}
                />
                <text className="chart-value" x={M.left + width + 6} y={cy} dy="0.32em">
                  {item.value == null ? "–" : format(item.value)}
                </text>
              </g>
            );
          })}
        </svg>
        <PointLayer width={W} height={H} targets={targets} name={`${title}: bars`} onActive={setActive} />
      </div>
    </ChartFrame>
  );
}
