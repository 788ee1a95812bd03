// A grid of cells coloured by value (pale to dark blue), such as average engagement by
// weekday and hour. The strongest cells carry a star so colour is not the only signal.
import { useState, type ReactNode } from "react";
import { ChartFrame, type TableSpec } from "./ChartFrame";
import { formatNumber } from "./format";
import { sequentialColour, sequentialTextColour } from "./palette";
import { PointLayer, type PointTarget } from "./PointLayer";
import { useWidth } from "./useWidth";

export interface HeatCell {
  value: number | null;
  /** Tooltip lines after the row and column names ("4 posts"). */
  detail?: string[];
  /** Marked with a star (e.g. one of the best slots). */
  highlight?: boolean;
  /** Drawn faded: a value with too little behind it to trust. */
  weak?: boolean;
}

const M = { top: 22, right: 8, bottom: 8, left: 44 };

export function Heatmap({
  chart,
  title,
  description,
  rows,
  columns,
  cells,
  summary,
  format = (v) => formatNumber(v, 1),
  columnLabelEvery = 1,
  cornerHeader,
  empty,
  actions,
}: {
  chart: string;
  title: string;
  description?: ReactNode;
  /** Row names (weekdays), top to bottom. */
  rows: string[];
  /** Column names (hours), left to right. */
  columns: string[];
  /** cells[row][column]. */
  cells: HeatCell[][];
  /** The aria-label: what the grid says ("best: Mon 10:00 ..."). */
  summary: string;
  format?: (value: number) => string;
  /** Label every n-th column on the axis (all are in the table and tooltips). */
  columnLabelEvery?: number;
  /** The table's top-left header ("Weekday"). */
  cornerHeader: string;
  empty?: ReactNode;
  actions?: ReactNode;
}) {
  const [box, W] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<number | null>(null);
  const cellW = (W - M.left - M.right) / Math.max(1, columns.length);
  const cellH = Math.max(18, Math.min(30, Math.round(cellW * 0.8)));
  // Label every column when they fit (about 34 px for "00:00"), else every n-th.
  const every = Math.max(columnLabelEvery, Math.ceil(38 / Math.max(1, cellW)));
  const H = M.top + M.bottom + cellH * rows.length;
  const largest = Math.max(0, ...cells.flat().map((c) => c.value ?? 0));
  const table: TableSpec = {
    columns: [cornerHeader, ...columns],
    rows: rows.map((row, r) => [row, ...columns.map((_, c) => {
      const cell = cells[r]?.[c];
      return cell?.value == null ? "–" : `${format(cell.value)}${cell.highlight ? " ★" : ""}`;
    })]),
  };
  const targets: PointTarget[] = rows.flatMap((row, r) =>
    columns.map((column, c) => {
      const cell = cells[r]?.[c];
      return {
        x: M.left + c * cellW,
        y: M.top + r * cellH,
        w: cellW,
        h: cellH,
        lines: [
          `${row} ${column}${cell?.highlight ? " ★ best" : ""}`,
          cell?.value == null ? "no data" : format(cell.value),
          ...(cell?.detail ?? []),
        ],
      };
    }),
  );
  return (
    <ChartFrame chart={chart} title={title} description={description} table={table} actions={actions} empty={empty}>
      <div className="chart-plot" ref={box}>
        <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={summary} className="chart-svg">
          {columns.map((column, c) =>
            c % every === 0 ? (
              <text key={column} className="chart-label" x={M.left + c * cellW + cellW / 2} y={M.top - 7} textAnchor="middle">
                {column}
              </text>
            ) : null,
          )}
          {rows.map((row, r) => (
            <g key={row}>
              <text className="chart-label" x={M.left - 6} y={M.top + r * cellH + cellH / 2} dy="0.32em" textAnchor="end">
                {row}
              </text>
              {columns.map((column, c) => {
                const cell = cells[r]?.[c];
                const t = cell?.value == null || largest === 0 ? 0 : cell.value / largest;
                const index = r * columns.length + c;
                return (
                  <g key={column}>
                    <rect
                      className={cell?.value == null ? "chart-cell-empty" : "mark"}
                      x={Math.round((M.left + c * cellW + 1) * 10) / 10}
                      y={M.top + r * cellH + 1}
                      width={Math.round((cellW - 2) * 10) / 10}
                      height={cellH - 2}
                      rx={2}
                      fill={cell?.value == null ? "#f3f4f6" : sequentialColour(t)}
                      fillOpacity={cell?.weak ? 0.45 : 1}
                      stroke={active === index ? "#1b1f24" : "none"}
                      strokeWidth={2}
                    />
                    {cell?.highlight ? (
                      <text
                        x={M.left + c * cellW + cellW / 2}
                        y={M.top + r * cellH + cellH / 2}
                        dy="0.35em"
                        textAnchor="middle"
                        className="chart-star"
                        // Inline style: the stylesheet's text fill would override an attribute.
                        style={{ fill: sequentialTextColour(cell.weak ? t * 0.45 : t) }}
                      >
                        ★
                      </text>
                    ) : null}
                  </g>
                );
              })}
            </g>
          ))}
        </svg>
        <PointLayer width={W} height={H} targets={targets} columns={columns.length} name={`${title}: cells`} onActive={setActive} />
      </div>
    </ChartFrame>
  );
}
