import { describe, expect, it } from "vitest";
import { isTyping, shortcutOf } from "./keys";

const press = (key: string, target: unknown = { tagName: "BODY" }, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  target,
  ...mods,
});

describe("keyboard shortcuts", () => {
  it("maps keys to the page's actions", () => {
    expect(shortcutOf(press("Escape"))).toBe("inbox");
    expect(shortcutOf(press("u"))).toBe("inbox");
    expect(shortcutOf(press("r"))).toBe("reply");
    expect(shortcutOf(press("e"))).toBe("resolve");
    expect(shortcutOf(press("x"))).toBeNull();
    expect(shortcutOf(press("E"))).toBeNull();
    expect(shortcutOf(press("r", { tagName: "BUTTON" }))).toBe("reply");
  });

  it("does nothing while typing or with modifier keys", () => {
    for (const tagName of ["INPUT", "TEXTAREA", "SELECT", "textarea"]) {
      expect(isTyping({ tagName })).toBe(true);
      expect(shortcutOf(press("e", { tagName }))).toBeNull();
      expect(shortcutOf(press("Escape", { tagName }))).toBeNull();
    }
    expect(shortcutOf(press("r", { tagName: "DIV", isContentEditable: true }))).toBeNull();
    expect(shortcutOf(press("r", { tagName: "BODY" }, { ctrlKey: true }))).toBeNull();
    expect(shortcutOf(press("u", { tagName: "BODY" }, { metaKey: true }))).toBeNull();
    expect(isTyping(null)).toBe(false);
  });
});
