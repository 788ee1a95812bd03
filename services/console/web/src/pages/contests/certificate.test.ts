import { describe, expect, it } from "vitest";
import {
  certificateDocument,
  certificateFileName,
  checkCertificate,
  compareCodePoints,
  entryListDigest,
  howToVerify,
  isCanonicalList,
  selectWinners,
} from "./certificate";
import type { Certificate, Contest } from "./contests";

const subtle = globalThis.crypto.subtle;
// The test vector of docs/publisher.md, with the values the publisher's domain computes.
const SEED = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join("");
const COMMITMENT = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd";
const KEYS = Array.from({ length: 10 }, (_, i) => `x|fan${String(i).padStart(3, "0")}`);
const DIGEST = "e790649ce8d550398cd853ce91e6c7e5c3c7ccf4ae02b455a3f083acf2710eb9";

function certificate(overrides: Partial<Certificate> = {}): Certificate {
  return {
    contest_id: "c1",
    algorithm: "smm-contest-draw",
    algorithm_version: 1,
    seed: SEED,
    commitment: COMMITMENT,
    winner_count: 3,
    entries: [...KEYS],
    entry_list_digest: DIGEST,
    winners: ["x|fan005", "x|fan006", "x|fan003"],
    drawn_at: "2026-11-27T12:00:00Z",
    verified: true,
    ...overrides,
  };
}

const failing = async (c: Certificate, published = COMMITMENT) =>
  (await checkCertificate(c, published, subtle))!.filter((r) => !r.ok).map((r) => r.id);

describe("the draw recomputed in the browser", () => {
  it("reproduces the documented test vector", async () => {
    expect(await entryListDigest(subtle, KEYS)).toBe(DIGEST);
    expect(await selectWinners(subtle, SEED, KEYS, 3)).toEqual(["x|fan005", "x|fan006", "x|fan003"]);
  });

  it("draws everyone, in order, when there are fewer entries than prizes", async () => {
    expect(await selectWinners(subtle, SEED, KEYS, 50)).toEqual([
      "x|fan005", "x|fan006", "x|fan003", "x|fan004", "x|fan000",
      "x|fan001", "x|fan002", "x|fan009", "x|fan007", "x|fan008",
    ]);
    expect(await selectWinners(subtle, SEED, [], 3)).toEqual([]);
    expect(await entryListDigest(subtle, [])).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("sorts and hashes like Python: by code point, in UTF-8", async () => {
    const keys = ["x|a", "x|\uff5e", "x|\u{1F600}"];
    // UTF-16 order would put the emoji (a surrogate pair) before U+FF5E.
    expect(["x|\u{1F600}", "x|\uff5e", "x|a"].sort(compareCodePoints)).toEqual(keys);
    expect(isCanonicalList(keys)).toBe(true);
    expect(await entryListDigest(subtle, keys)).toBe(
      "4f2501218446343e5e6001bc2e867b1ab9f26a1a783177caa42e8677f07e81b6",
    );
    expect(await selectWinners(subtle, SEED, keys, 5)).toEqual(["x|\u{1F600}", "x|a", "x|\uff5e"]);
  });

  it("passes every check on a genuine certificate", async () => {
    const results = await checkCertificate(certificate(), COMMITMENT, subtle);
    expect(results!.map((r) => [r.id, r.ok])).toEqual([
      ["algorithm", true],
      ["commitment", true],
      ["published", true],
      ["entries", true],
      ["digest", true],
      ["winners", true],
    ]);
  });

  it("names what does not hold in a tampered certificate", async () => {
    const otherSeed = "ff" + SEED.slice(2);
    expect(await failing(certificate({ seed: otherSeed }))).toEqual(["commitment", "published", "winners"]);
    expect(await failing(certificate(), "00".repeat(32))).toEqual(["published"]);
    expect(await failing(certificate({ winners: ["x|fan006", "x|fan005", "x|fan003"] }))).toEqual(["winners"]);
    expect(await failing(certificate({ entries: KEYS.slice(1) }))).toEqual(["digest", "winners"]);
    expect(await failing(certificate({ entries: [...KEYS].reverse() }))).toContain("entries");
    expect(await failing(certificate({ entry_list_digest: "0".repeat(64) }))).toEqual(["digest"]);
    expect(await failing(certificate({ algorithm_version: 2 }))).toEqual(["algorithm"]);
    expect(await failing(certificate({ seed: "not hex" }))).toEqual(["commitment", "published", "winners"]);
  });

  it("says so when the browser offers no Web Crypto", async () => {
    expect(await checkCertificate(certificate(), COMMITMENT, null)).toBeNull();
  });
});

describe("the certificate in words and as a file", () => {
  const contest = {
    id: "c1",
    title: "Winter giveaway",
    brand_id: "acme",
    network: "x",
    post_native_id: "1790",
    commitment: COMMITMENT,
    opened_at: "2026-11-20T09:00:00Z",
    opens_at: "2026-11-20T10:00:00Z",
    closes_at: "2026-11-27T10:00:00Z",
    winner_count: 3,
  } satisfies Partial<Contest>;

  it("explains each step with the certificate's own values", () => {
    const steps = howToVerify(certificate(), contest, () => "20 Nov 2026");
    expect(steps.map((s) => s.id)).toEqual(["algorithm", "commitment", "published", "entries", "digest", "winners"]);
    const text = steps.map((s) => s.text).join("\n");
    expect(text).toContain(SEED);
    expect(text).toContain(COMMITMENT);
    expect(text).toContain(DIGEST);
    expect(text).toContain("opened on 20 Nov 2026");
    expect(text).toContain("the 10 eligible entries");
    expect(steps[5]!.text).toContain("3 times gives 1st prize x|fan005, 2nd prize x|fan006, 3rd prize x|fan003");
    expect(text).not.toContain("fewer eligible entries");
  });

  it("says everyone wins when there are fewer entries than prizes", () => {
    const steps = howToVerify(certificate({ winner_count: 12, winners: KEYS }), contest, () => "x");
    expect(steps[5]!.text).toContain("fewer eligible entries (10) than prizes (12)");
    expect(steps[5]!.text).toContain("10 times");
  });

  it("downloads the published fields with the commitment to check against", () => {
    const doc = certificateDocument(certificate(), contest);
    expect(doc).toMatchObject({
      seed: SEED,
      commitment: COMMITMENT,
      published_commitment: COMMITMENT,
      entries: KEYS,
      entry_list_digest: DIGEST,
      winners: ["x|fan005", "x|fan006", "x|fan003"],
      winner_count: 3,
      verified_by_service: true,
      contest: { id: "c1", network: "x", post_native_id: "1790" },
    });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(certificateFileName("c1/../x")).toBe("contest-c1____x-certificate.json");
  });
});
