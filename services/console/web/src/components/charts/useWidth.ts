// The width of a chart's box in CSS pixels, followed as it resizes: charts draw in real
// pixels (viewBox = box), so text and strokes keep their size whatever the panel's width.
import { useLayoutEffect, useRef, useState, type RefObject } from "react";

export function useWidth<E extends HTMLElement>(fallback = 640): [RefObject<E | null>, number] {
  const ref = useRef<E>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const w = Math.round(el.getBoundingClientRect().width);
      if (w > 0) setWidth((old) => (Math.abs(old - w) >= 1 ? w : old));
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
