// Hand-written SVG charts: accessible (figure, caption, aria-label summary, table), keyboard
// and hover tooltips, colour-blind-safe colours. No chart library.
export { BarChart, clip, type BarItem } from "./BarChart";
export { ChartFrame, type LegendItem, type TableSpec } from "./ChartFrame";
export { Gauge, type GaugePart } from "./Gauge";
export { Heatmap, type HeatCell } from "./Heatmap";
export { TimeSeriesChart, type TimeSeries, type TimeSeriesMode } from "./TimeSeriesChart";
export * from "./format";
export { SENTIMENT_COLOURS, seriesColour } from "./palette";
export { summariseBars, summariseSeries, total } from "./summary";
export { axisTitle, shortSlotLabel, slotLabel, type Granularity } from "./timeaxis";
