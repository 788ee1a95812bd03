// The accessible frame of every chart: a <figure> with its caption, a "Show as table" toggle
// giving the same numbers in a table, a legend in text, optional actions (Download CSV), and
// an empty state in words instead of an empty chart.
import { useId, useState, type ReactNode } from "react";
import "./charts.css";
import { dashBackground } from "./palette";

export interface TableSpec {
  /** Column headers; the first column holds each row's header (a time, a name). */
  columns: string[];
  rows: string[][];
}

export interface LegendItem {
  label: string;
  colour: string;
  /** Dash pattern of the series' line; lines get a line swatch, areas and bars a box. */
  dash?: string;
  shape?: "line" | "box";
}

export function ChartFrame({
  chart,
  title,
  description,
  table,
  legend,
  actions,
  empty,
  children,
}: {
  /** The `data-chart` name the browser tests and the CSS use. */
  chart: string;
  title: string;
  description?: ReactNode;
  table?: TableSpec | null;
  legend?: LegendItem[];
  actions?: ReactNode;
  /** When given, shown in words instead of the chart (no data to draw). */
  empty?: ReactNode;
  children?: ReactNode;
}) {
  const [showTable, setShowTable] = useState(false);
  const tableId = useId();
  const hasData = !empty;
  return (
    <figure className="chart" data-testid="chart" data-chart={chart} data-empty={hasData ? undefined : "true"}>
      <figcaption className="chart-caption">
        <span className="chart-title">{title}</span>
        {description ? <span className="chart-description">{description}</span> : null}
      </figcaption>
      {(actions || (hasData && table)) && (
        <div className="chart-toolbar">
          {hasData && table ? (
            <button
              type="button"
              className="chart-toggle"
              aria-pressed={showTable}
              aria-controls={showTable ? tableId : undefined}
              onClick={() => setShowTable((s) => !s)}
            >
              Show as table
            </button>
          ) : null}
          {actions}
        </div>
      )}
      {hasData ? (
        <>
          {children}
          {legend && legend.length > 0 ? <Legend items={legend} /> : null}
          {showTable && table ? <DataTable id={tableId} caption={title} table={table} /> : null}
        </>
      ) : (
        <p className="empty chart-empty">{empty}</p>
      )}
    </figure>
  );
}

// Swatches are HTML, not SVG: the figure's only <svg> is the chart itself.
function Legend({ items }: { items: LegendItem[] }) {
  return (
    <ul className="chart-legend" aria-label="Legend">
      {items.map((item) => (
        <li key={item.label}>
          <span
            aria-hidden="true"
            className={item.shape === "line" ? "chart-swatch-line" : "chart-swatch-box"}
            style={{ background: item.shape === "line" ? dashBackground(item.colour, item.dash) : item.colour }}
          />
          {item.label}
        </li>
      ))}
    </ul>
  );
}

function DataTable({ id, caption, table }: { id: string; caption: string; table: TableSpec }) {
  return (
    <div className="chart-table" id={id}>
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {table.columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, r) => (
            <tr key={r}>
              {row.map((cell, c) =>
                c === 0 ? (
                  <th key={c} scope="row">
                    {cell}
                  </th>
                ) : (
                  <td key={c} className="chart-num">
                    {cell}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
