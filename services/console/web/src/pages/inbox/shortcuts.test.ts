import { describe, expect, it } from "vitest";
import { isTypingTarget, keepFocus, moveFocus, shortcutFor, type TargetLike } from "./shortcuts";

const row: TargetLike = { tagName: "TR", getAttribute: () => null };
const key = (k: string, target: TargetLike | null = row, mods: object = {}) => shortcutFor({ key: k, target, ...mods });

describe("shortcutFor", () => {
  it("maps the triage keys", () => {
    expect(["j", "k", "Enter", "o", "r", "a", "e", "x", "/", "?"].map((k) => key(k))).toEqual([
      "next", "prev", "open", "open", "reply", "claim", "resolve", "toggle", "search", "help",
    ]);
    expect(key("q")).toBeNull();
    expect(key("j", null)).toBe("next");
  });

  it("never fires while typing or with a modifier", () => {
    for (const tagName of ["INPUT", "TEXTAREA", "SELECT"]) expect(key("j", { tagName, type: "text" })).toBeNull();
    expect(key("e", { tagName: "DIV", isContentEditable: true })).toBeNull();
    expect(key("a", { tagName: "DIV", getAttribute: (n) => (n === "role" ? "textbox" : null) })).toBeNull();
    expect(key("j", row, { ctrlKey: true })).toBeNull();
    expect(key("r", row, { metaKey: true })).toBeNull();
  });

  it("lets checkboxes take shortcuts but leaves Enter to buttons and links", () => {
    expect(key("x", { tagName: "INPUT", type: "checkbox" })).toBe("toggle");
    expect(key("Enter", { tagName: "BUTTON" })).toBeNull();
    expect(key("Enter", { tagName: "A" })).toBeNull();
    expect(key("o", { tagName: "BUTTON" })).toBe("open");
    expect(isTypingTarget({ tagName: "input" })).toBe(true);
  });
});

describe("row focus", () => {
  const ids = ["a", "b", "c"];
  it("moves and stops at the ends", () => {
    expect(moveFocus(ids, null, 1)).toBe("a");
    expect(moveFocus(ids, null, -1)).toBe("c");
    expect(moveFocus(ids, "a", 1)).toBe("b");
    expect(moveFocus(ids, "c", 1)).toBe("c");
    expect(moveFocus(ids, "a", -1)).toBe("a");
    expect(moveFocus([], "a", 1)).toBeNull();
  });

  it("stays on the case after a refetch, or goes to the next one still listed", () => {
    expect(keepFocus(ids, ["c", "b", "a"], "b")).toBe("b");
    expect(keepFocus(ids, ["a", "c"], "b")).toBe("c");
    expect(keepFocus(ids, ["a"], "c")).toBe("a");
    expect(keepFocus(ids, [], "b")).toBeNull();
    expect(keepFocus(ids, ids, null)).toBeNull();
  });
});
