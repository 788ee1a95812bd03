import { describe, expect, it } from "vitest";
import { bandScale, durationTicks, extent, linearScale, niceStep, niceTicks } from "./scale";
import { arcPath, areaPath, linePath, stack } from "./path";

describe("niceTicks", () => {
  it("rounds a domain out to 1-2-5 steps", () => {
    expect(niceTicks(0, 210, 5)).toEqual({ min: 0, max: 250, step: 50, ticks: [0, 50, 100, 150, 200, 250] });
    expect(niceTicks(3, 97, 4).ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceStep(1, 5)).toBe(0.2);
  });
  it("keeps float noise out of the tick values", () => {
    const t = niceTicks(0, 0.7, 7);
    expect(t.ticks).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  });
  it("gives a flat or empty domain an axis", () => {
    expect(niceTicks(0, 0).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(5, 5).min).toBe(0);
    expect(niceTicks(5, 5).max).toBeGreaterThanOrEqual(5);
    expect(niceTicks(-1, 1, 4).ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(NaN, NaN).ticks[0]).toBe(0);
  });
});

describe("durationTicks", () => {
  it("puts duration ticks on round clock values", () => {
    expect(durationTicks(0, 3900, 4).ticks).toEqual([0, 1800, 3600, 5400]);
    expect(durationTicks(0, 3900, 4).step).toBe(1800);
    expect(durationTicks(0, 50, 4).ticks).toEqual([0, 15, 30, 45, 60]);
    expect(durationTicks(0, 200_000, 4).ticks).toEqual([0, 86_400, 172_800, 259_200]);
  });
  it("gives an empty range an axis", () => {
    expect(durationTicks(0, 0, 4).ticks).toEqual([0, 1]);
  });
});

describe("scales", () => {
  it("maps linearly, inverted for y", () => {
    const y = linearScale([0, 100], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(50)).toBe(100);
    expect(y(100)).toBe(0);
    expect(linearScale([3, 3], [10, 20])(3)).toBe(10);
  });
  it("finds the extent, skipping missing values", () => {
    expect(extent([null, 3, -2, undefined, NaN, 7])).toEqual([-2, 7]);
    expect(extent([null])).toBeNull();
  });
  it("splits a range into padded bands", () => {
    const b = bandScale(4, [0, 400], 0.2);
    expect(b.step).toBe(100);
    expect(b.bandwidth).toBe(80);
    expect(b.start(0)).toBe(10);
    expect(b.centre(3)).toBe(350);
  });
});

describe("paths", () => {
  it("draws a line and breaks it at missing values", () => {
    expect(linePath([0, 10, 20], [5, 6, 7])).toBe("M0,5L10,6L20,7");
    expect(linePath([0, 10, 20, 30], [5, null, 7, 8])).toBe("M0,5h0.1M20,7L30,8");
    expect(linePath([0, 10], [null, null])).toBe("");
  });
  it("rounds coordinates to a tenth of a pixel", () => {
    expect(linePath([0.04, 1.26], [2.333, -0.04])).toBe("M0,2.3L1.3,0");
  });
  it("closes an area along its base", () => {
    expect(areaPath([0, 10], [0, 0], [5, 6])).toBe("M0,5L10,6L10,0L0,0Z");
    expect(areaPath([], [], [])).toBe("");
  });
  it("stacks series with missing values as zero", () => {
    const layers = stack([
      [1, 2, null],
      [3, null, 4],
    ]);
    expect(layers[0]).toEqual({ y0: [0, 0, 0], y1: [1, 2, 0] });
    expect(layers[1]).toEqual({ y0: [1, 2, 0], y1: [4, 2, 4] });
  });
  it("draws arcs clockwise from twelve o'clock", () => {
    expect(arcPath(50, 50, 10, -Math.PI / 2, Math.PI / 2)).toBe("M40,50A10,10 0 0 1 60,50");
  });
});
