// Hover and keyboard access to a chart's data points. The SVG is one role="img" (its
// children are presentational), so the focusable points live beside it: transparent
// buttons laid over the plot, one tab stop per chart (a roving tabindex), arrows to move,
// Home/End, Escape to hide the tooltip. Each button's name is its tooltip's text.
import { useRef, useState, type KeyboardEvent } from "react";

export interface PointTarget {
  /** Hit area in the SVG's viewBox units. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Tooltip lines; joined, the button's accessible name. */
  lines: string[];
  /** Where the tooltip points (viewBox units); default: the top centre of the hit area. */
  anchorX?: number;
  anchorY?: number;
}

export function PointLayer({
  width,
  height,
  targets,
  columns,
  name,
  onActive,
}: {
  /** The SVG's viewBox size. */
  width: number;
  height: number;
  targets: PointTarget[];
  /** For a grid (heatmap): targets per row, so Up/Down move a row. */
  columns?: number;
  /** The group's name, e.g. "Mentions per hour: data points". */
  name: string;
  onActive?: (index: number | null) => void;
}) {
  const [roving, setRoving] = useState(0);
  const [active, setActive] = useState<number | null>(null);
  const [hidden, setHidden] = useState(false);
  const layer = useRef<HTMLDivElement>(null);
  const show = (index: number | null) => {
    setActive(index);
    setHidden(false);
    onActive?.(index);
  };
  const focus = (index: number) => {
    const clamped = Math.max(0, Math.min(targets.length - 1, index));
    setRoving(clamped);
    layer.current?.querySelector<HTMLButtonElement>(`[data-point="${clamped}"]`)?.focus();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const current = Number((e.target as HTMLElement).dataset.point ?? roving);
    const row = columns ?? 1;
    const moves: Record<string, number> = columns
      ? { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -row, ArrowDown: row }
      : { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -1, ArrowDown: 1 };
    if (e.key in moves) focus(current + moves[e.key]!);
    else if (e.key === "Home") focus(0);
    else if (e.key === "End") focus(targets.length - 1);
    else if (e.key === "Escape") {
      setHidden(true);
      onActive?.(null);
      return;
    } else return;
    e.preventDefault();
  };
  const pct = (v: number, of: number) => `${(v / of) * 100}%`;
  const shown = active != null && !hidden ? targets[active] : undefined;
  const tabStop = Math.min(roving, Math.max(0, targets.length - 1));
  // Near an edge the tooltip hangs inwards, so it never leaves the chart.
  const anchorX = shown ? (shown.anchorX ?? shown.x + shown.w / 2) / width : 0.5;
  const align = anchorX < 0.25 ? "start" : anchorX > 0.75 ? "end" : "middle";
  return (
    <div className="chart-points" ref={layer} role="group" aria-label={name} onKeyDown={onKeyDown}>
      {targets.map((t, i) => (
        <button
          key={i}
          type="button"
          className="chart-point"
          data-point={i}
          tabIndex={i === tabStop ? 0 : -1}
          aria-label={t.lines.join(", ")}
          style={{ left: pct(t.x, width), top: pct(t.y, height), width: pct(t.w, width), height: pct(t.h, height) }}
          onMouseEnter={() => show(i)}
          onMouseLeave={() => show(null)}
          onFocus={() => {
            setRoving(i);
            show(i);
          }}
          onBlur={() => show(null)}
        />
      ))}
      {shown ? (
        <div
          className={`chart-tooltip chart-tooltip-${align}`}
          aria-hidden="true"
          style={{
            left: `${anchorX * 100}%`,
            top: pct(shown.anchorY ?? shown.y, height),
          }}
        >
          {shown.lines.map((line, i) => (
            <div key={i} className={i === 0 ? "chart-tooltip-head" : undefined}>
              {line}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
