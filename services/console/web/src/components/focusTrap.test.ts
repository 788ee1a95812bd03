import { describe, expect, it } from "vitest";
import { FOCUSABLE, trapTarget } from "./focusTrap";

describe("focus trap", () => {
  it("wraps Tab from the last control to the first, and Shift+Tab back", () => {
    expect(trapTarget(3, 2, false)).toBe(0);
    expect(trapTarget(3, 0, true)).toBe(2);
  });

  it("lets the browser move focus between the controls", () => {
    expect(trapTarget(3, 0, false)).toBeNull();
    expect(trapTarget(3, 1, true)).toBeNull();
    expect(trapTarget(3, 1, false)).toBeNull();
  });

  it("brings focus in from the dialog itself", () => {
    expect(trapTarget(3, -1, false)).toBe(0);
    expect(trapTarget(3, -1, true)).toBe(2);
  });

  it("stays put with a single control or none", () => {
    expect(trapTarget(1, 0, false)).toBe(0);
    expect(trapTarget(1, 0, true)).toBe(0);
    expect(trapTarget(0, -1, false)).toBeNull();
  });

  it("leaves out disabled controls and negative tab indexes", () => {
    expect(FOCUSABLE).toContain("button:not([disabled])");
    expect(FOCUSABLE).toContain('[tabindex]:not([tabindex^="-"])');
    expect(FOCUSABLE.split(", ").every((s) => s.endsWith(':not([tabindex^="-"])'))).toBe(true);
  });
});
