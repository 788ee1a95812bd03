import { describe, expect, it } from "vitest";
import { ageText, authorLabel, authorName, excerpt } from "./format";

describe("format", () => {
  it("names authors by handle, then name, then id", () => {
    expect(authorLabel({ handle: "@anna", display_name: "Anna K" })).toBe("@anna");
    expect(authorName({ handle: "anna", display_name: "Anna K" })).toBe("Anna K");
    expect(authorLabel({ display_name: "Anna K", id: "1" })).toBe("Anna K");
    expect(authorName({ display_name: "Anna K" })).toBe("");
    expect(authorLabel({ id: "1" })).toBe("1");
    expect(authorLabel({})).toBe("unknown author");
  });

  it("cuts long texts at a word on one line", () => {
    expect(excerpt("short\ntext")).toBe("short text");
    const cut = excerpt("word ".repeat(60), 30);
    expect(cut.length).toBeLessThanOrEqual(30);
    expect(cut.endsWith("word…")).toBe(true);
  });

  it("says ages coarsely", () => {
    expect(ageText(30_000)).toBe("just now");
    expect(ageText(12 * 60_000)).toBe("12 min");
    expect(ageText(185 * 60_000)).toBe("3 h 05 min");
    expect(ageText(52 * 3_600_000)).toBe("2 d 4 h");
  });
});
