import { describe, expect, it } from "vitest";
import { checkReplyLength, REPLY_LIMITS, replyLength } from "./replyLength";

describe("reply length", () => {
  it("uses the responder's limits per network", () => {
    expect(REPLY_LIMITS).toMatchObject({
      x: 280,
      vk: 16_384,
      facebook: 8_000,
      instagram: 2_200,
      telegram: 4_096,
      youtube: 10_000,
      mastodon: 500,
      reddit: 10_000,
    });
  });

  it("counts code points of the trimmed text", () => {
    expect(replyLength("vk", "  hello  ")).toBe(5);
    // An emoji is one code point but two UTF-16 units.
    expect(replyLength("telegram", "😀😀")).toBe(2);
    expect(replyLength("telegram", "Привет")).toBe(6);
  });

  it("counts every link as 23 characters on X only", () => {
    const text = "See https://example.com/a/very/long/path/that/goes/on?and=on for details";
    expect(replyLength("x", text)).toBe("See ".length + 23 + " for details".length);
    expect(replyLength("x", "http://a.b")).toBe(23);
    expect(replyLength("mastodon", text)).toBe(text.length);
  });

  it("says in words how long it is and by how much it is over", () => {
    expect(checkReplyLength("x", "a".repeat(280))).toEqual({
      length: 280,
      limit: 280,
      over: 0,
      message: "280 of 280 characters",
    });
    const over = checkReplyLength("x", "a".repeat(300));
    expect(over.over).toBe(20);
    expect(over.message).toBe("Too long for X: 300 of 280 characters. Shorten it by 20.");
    expect(checkReplyLength("mastodon", "b".repeat(501)).message).toMatch(/^Too long for Mastodon: 501 of 500/);
  });

  it("has no limit for a network it does not know", () => {
    const check = checkReplyLength("myspace", "c".repeat(99_999));
    expect(check.limit).toBeNull();
    expect(check.over).toBe(0);
    expect(check.message).toBe("99999 characters");
  });
});
