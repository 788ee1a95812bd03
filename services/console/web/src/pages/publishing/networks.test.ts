import { describe, expect, it } from "vitest";
import { counterText, lengthInfo, postLength, postText, segments, textLimit, variantProblems, type VariantFields } from "./networks";

const v = (fields: Partial<VariantFields>): VariantFields => ({ text: "", mediaUrls: [], link: "", title: "", ...fields });

describe("length counting", () => {
  it("counts every URL as 23 on X and Mastodon only", () => {
    const text = "See https://example.com/a/very/long/path/that/goes/on?and=on";
    expect(postLength("x", text)).toBe(4 + 23);
    expect(postLength("mastodon", text)).toBe(4 + 23);
    expect(postLength("vk", text)).toBe(text.length);
  });

  it("counts code points, not UTF-16 units", () => {
    expect(postLength("telegram", "🎉🎉 привет")).toBe(9);
    expect("🎉🎉 привет".length).toBe(11);
  });

  it("appends the link where the network has no link field, once", () => {
    expect(postText("telegram", { text: " Hello ", link: "https://a.example/x" })).toBe("Hello\n\nhttps://a.example/x");
    expect(postText("telegram", { text: "Read https://a.example/x", link: "https://a.example/x" })).toBe("Read https://a.example/x");
    expect(postText("facebook", { text: "Hello", link: "https://a.example/x" })).toBe("Hello");
    expect(postText("x", { text: "", link: "https://a.example/x" })).toBe("https://a.example/x");
  });

  it("uses the caption limit for Telegram with media", () => {
    expect(textLimit("telegram", 0)).toBe(4096);
    expect(textLimit("telegram", 1)).toBe(1024);
    expect(textLimit("x", 3)).toBe(280);
    const info = lengthInfo("x", v({ text: "a".repeat(290) }));
    expect(info).toEqual({ length: 290, limit: 280, over: 10, what: "post" });
    expect(counterText(info)).toContain("shorten it by 10");
    expect(counterText(lengthInfo("x", v({ text: "hello" })))).toBe("5 / 280 characters");
  });
});

describe("variant problems", () => {
  it("says what the publisher would refuse, in words", () => {
    expect(variantProblems("x", v({ text: "fine" }))).toEqual([]);
    expect(variantProblems("instagram", v({ text: "no picture" }))).toContain("Instagram posts need at least one image.");
    expect(variantProblems("reddit", v({ text: "body" }))).toContain("A Reddit post needs a headline.");
    expect(variantProblems("reddit", v({ text: "body", title: "t".repeat(301) })).join(" ")).toContain("shorten it by 1");
    expect(variantProblems("youtube", v({ text: "c", mediaUrls: ["https://a.example/p.png"] })).join(" ")).toContain("no media");
    expect(variantProblems("x", v({ mediaUrls: ["ftp://nope"] })).join(" ")).toContain("http://");
    expect(variantProblems("vk", v({ text: "   " }))).toEqual(["The VK post needs some text or media."]);
    const long = variantProblems("x", v({ text: "a".repeat(300) }));
    expect(long).toEqual(["X accepts 280 characters in a post; this one has 300. Shorten it by 20."]);
  });
});

describe("preview segments", () => {
  it("picks out links, hashtags and mentions", () => {
    const s = segments("vk", "Hi @anna, see https://a.example #sale C#7 or x@y now", 1000);
    expect(s.map((x) => [x.kind, x.text])).toEqual([
      ["text", "Hi "],
      ["mention", "@anna"],
      ["text", ", see "],
      ["link", "https://a.example"],
      ["text", " "],
      ["hashtag", "#sale"],
      ["text", " C#7 or x@y now"],
    ]);
    expect(s.every((x) => !x.over)).toBe(true);
  });

  it("marks the part past the limit", () => {
    const s = segments("vk", "abcdef #tag", 4);
    expect(s).toEqual([
      { kind: "text", text: "abcd", over: false },
      { kind: "text", text: "ef ", over: true },
      { kind: "hashtag", text: "#tag", over: true },
    ]);
    const split = segments("vk", "ab #tag", 5);
    expect(split.filter((x) => x.kind === "hashtag")).toEqual([
      { kind: "hashtag", text: "#t", over: false },
      { kind: "hashtag", text: "ag", over: true },
    ]);
  });

  it("treats a weighted URL as a whole 23 characters", () => {
    const s = segments("x", "a".repeat(260) + " https://a.example/" + "x".repeat(40), 280);
    const link = s.find((x) => x.kind === "link");
    expect(link?.over).toBe(true); // 261 + 23 > 280
    expect(segments("x", "a".repeat(250) + " https://a.example/" + "y".repeat(40), 280).find((x) => x.kind === "link")?.over).toBe(
      false,
    );
  });

  it("keeps line breaks in the text", () => {
    const s = segments("telegram", "line one\nline two", 4096);
    expect(s.map((x) => x.text).join("")).toBe("line one\nline two");
  });
});
