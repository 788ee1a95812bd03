// Time series: lines, areas, stacked areas or stacked bars over hourly or daily slots, with
// a time axis in the user's zone, a value axis, a legend, tooltips and a table.
import { useMemo, useState, type ReactNode } from "react";
import { timeZone } from "../../lib/time";
import { ChartFrame, type LegendItem, type TableSpec } from "./ChartFrame";
import { formatCompact, formatNumber } from "./format";
import { seriesColour, seriesDash } from "./palette";
import { areaPath, linePath, stack } from "./path";
import { PointLayer, type PointTarget } from "./PointLayer";
import { bandScale, durationTicks, extent, linearScale, niceTicks } from "./scale";
import { summariseSeries } from "./summary";
import { axisTitle, shortSlotLabel, slotLabel, timeTicks, type Granularity } from "./timeaxis";
import { useWidth } from "./useWidth";

export interface TimeSeries {
  key: string;
  label: string;
  values: (number | null)[];
  colour?: string;
  /** "sum" for counts (the summary gives totals), "level" for rates and times. */
  aggregate?: "sum" | "level";
}

export type TimeSeriesMode = "line" | "area" | "stacked-area" | "stacked-bars";

const H = 260;
const M = { top: 24, right: 14, bottom: 40, left: 56 };

export function TimeSeriesChart({
  chart,
  title,
  description,
  slots,
  granularity,
  series,
  mode = "line",
  format = (v) => formatNumber(v),
  axisFormat = formatCompact,
  yDomain,
  yLabel,
  durations = false,
  empty,
  actions,
}: {
  chart: string;
  /** Also the start of the aria-label: "Mentions per hour, last 24 hours". */
  title: string;
  description?: ReactNode;
  /** Slot starts, epoch ms, in order. */
  slots: number[];
  granularity: Granularity;
  series: TimeSeries[];
  mode?: TimeSeriesMode;
  format?: (value: number) => string;
  axisFormat?: (value: number) => string;
  /** A fixed value domain (rates [0, 1], net sentiment [-1, 1]); default: from the data, with 0. */
  yDomain?: [number, number];
  /** What the values are, above the value axis: "Mentions". */
  yLabel: string;
  /** Values are seconds: the value axis ticks on round clock values (15 min, 1 h). */
  durations?: boolean;
  /** Words shown instead of the chart when there is nothing to draw. */
  empty?: ReactNode;
  actions?: ReactNode;
}) {
  const zone = timeZone();
  const [box, W] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<number | null>(null);
  const stacked = mode === "stacked-area" || mode === "stacked-bars";

  const model = useMemo(() => {
    const colours = series.map((s, i) => s.colour ?? seriesColour(i));
    const layers = stacked ? stack(series.map((s) => s.values)) : null;
    const found = layers ? extent(layers.flatMap((l) => l.y1)) : extent(series.flatMap((s) => s.values));
    const [lo, hi] = yDomain ?? [Math.min(0, found?.[0] ?? 0), Math.max(0, found?.[1] ?? 0)];
    const ticks = yDomain ? niceTicks(yDomain[0], yDomain[1], 4) : durations ? durationTicks(lo, hi, 4) : niceTicks(lo, hi, 4);
    const y = linearScale([ticks.min, ticks.max], [H - M.bottom, M.top]);
    const band = bandScale(slots.length, [M.left, W - M.right], mode === "stacked-bars" ? 0.2 : 0);
    const xs = slots.map((_, i) => band.centre(i));
    // About one label per 90 px: "27 Nov" or "14:00" fit with room to spare.
    const xTicks = timeTicks(slots, granularity, Math.max(2, Math.floor((W - M.left - M.right) / 90)), zone);
    const short = slots.map((ms) => shortSlotLabel(ms, granularity, zone));
    const long = slots.map((ms) => slotLabel(ms, granularity, zone));
    return { colours, layers, ticks, y, band, xs, xTicks, short, long };
  }, [series, slots, granularity, stacked, mode, yDomain, durations, zone, W]);

  const { colours, layers, ticks, y, band, xs, xTicks, short, long } = model;
  const summary = summariseSeries(title, series, short, format);
  const legend: LegendItem[] = series.map((s, i) => ({
    label: s.label,
    colour: colours[i]!,
    dash: stacked || mode === "area" ? undefined : seriesDash(i),
    shape: stacked ? "box" : "line",
  }));
  const table: TableSpec = {
    columns: [axisTitle(granularity, zone), ...series.map((s) => s.label)],
    rows: slots.map((_, i) => [long[i]!, ...series.map((s) => (s.values[i] == null ? "–" : format(s.values[i]!)))]),
  };
  const targets: PointTarget[] = slots.map((_, i) => {
    const top = layers ? layers[layers.length - 1]!.y1[i]! : Math.max(...series.map((s) => s.values[i] ?? -Infinity));
    return {
      x: M.left + i * band.step,
      y: M.top,
      w: band.step,
      h: H - M.top - M.bottom,
      anchorX: xs[i],
      anchorY: Number.isFinite(top) ? y(top) : M.top,
      lines: [long[i]!, ...series.map((s) => `${s.label}: ${s.values[i] == null ? "no data" : format(s.values[i]!)}`)],
    };
  });
  const baseline = y(Math.max(ticks.min, Math.min(0, ticks.max)));

  return (
    <ChartFrame chart={chart} title={title} description={description} table={table} legend={legend} actions={actions} empty={empty}>
      <div className="chart-plot" ref={box}>
        <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={summary} className="chart-svg">
          <g className="chart-grid" aria-hidden="true">
            {ticks.ticks.map((t) => (
              <g key={t}>
                <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} />
                <text x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end">
                  {axisFormat(t)}
                </text>
              </g>
            ))}
          </g>
          <g className="chart-axis" aria-hidden="true">
            <line x1={M.left} x2={W - M.right} y1={baseline} y2={baseline} className="chart-baseline" />
            {xTicks.map((t) => (
              <g key={t.index}>
                <line x1={xs[t.index]} x2={xs[t.index]} y1={H - M.bottom} y2={H - M.bottom + 4} />
                <text x={xs[t.index]} y={H - M.bottom + 16} textAnchor="middle">
                  {t.label}
                </text>
              </g>
            ))}
            <text className="chart-axis-title" x={W - M.right} y={H - 4} textAnchor="end">
              {axisTitle(granularity, zone)}
            </text>
            <text className="chart-axis-title" x={4} y={M.top - 10}>
              {yLabel}
            </text>
          </g>
          <g className="chart-marks">
            {mode === "stacked-bars" &&
              layers?.map((layer, s) =>
                slots.map((_, i) => {
                  const h = y(layer.y0[i]!) - y(layer.y1[i]!);
                  if (h <= 0) return null;
                  return (
                    <rect
                      key={`${s}-${i}`}
                      className="mark"
                      x={Math.round(band.start(i) * 10) / 10}
                      y={Math.round(y(layer.y1[i]!) * 10) / 10}
                      width={Math.max(1, Math.round(band.bandwidth * 10) / 10)}
                      height={Math.round(h * 10) / 10}
                      fill={colours[s]}
                      opacity={active == null || active === i ? 1 : 0.55}
                    />
                  );
                }),
              )}
            {mode === "stacked-area" &&
              layers?.map((layer, s) => (
                <path
                  key={s}
                  className="mark"
                  d={areaPath(xs, layer.y0.map(y), layer.y1.map(y))}
                  fill={colours[s]}
                  stroke="#fff"
                  strokeWidth={0.75}
                />
              ))}
            {!stacked &&
              series.map((s, i) => {
                const ys = s.values.map((v) => (v == null ? null : y(v)));
                return (
                  <g key={s.key}>
                    {mode === "area" && (
                      <path
                        className="mark chart-area"
                        d={areaPath(xs, s.values.map(() => baseline), s.values.map((v) => y(v ?? 0)))}
                        fill={colours[i]}
                        fillOpacity={0.18}
                      />
                    )}
                    <path
                      className="mark chart-line"
                      d={linePath(xs, ys)}
                      fill="none"
                      stroke={colours[i]}
                      strokeWidth={2}
                      strokeDasharray={mode === "area" ? undefined : seriesDash(i) || undefined}
                      strokeLinejoin="round"
                      strokeLinecap="round"
                    />
                    {slots.length <= 31 &&
                      ys.map((py, k) =>
                        py == null ? null : <circle key={k} className="mark chart-dot" cx={xs[k]} cy={py} r={2.5} fill={colours[i]} />,
                      )}
                  </g>
                );
              })}
          </g>
          {active != null && xs[active] != null ? (
            <g className="chart-focus" aria-hidden="true">
              <line x1={xs[active]} x2={xs[active]} y1={M.top} y2={H - M.bottom} />
              {!stacked &&
                series.map((s, i) =>
                  s.values[active] == null ? null : (
                    <circle key={s.key} cx={xs[active]} cy={y(s.values[active]!)} r={4.5} fill="#fff" stroke={colours[i]} strokeWidth={2.5} />
                  ),
                )}
            </g>
          ) : null}
        </svg>
        <PointLayer width={W} height={H} targets={targets} name={`${title}: data points`} onActive={setActive} />
      </div>
    </ChartFrame>
  );
}
