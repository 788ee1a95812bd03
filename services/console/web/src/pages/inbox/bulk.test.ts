import { describe, expect, it } from "vitest";
import { bulkHeadline, chunk, summarizeBulk } from "./bulk";

describe("bulk", () => {
  it("splits ids into calls of at most 200", () => {
    const ids = Array.from({ length: 450 }, (_, i) => `c${i}`);
    expect(chunk(ids).map((c) => c.length)).toEqual([200, 200, 50]);
    expect(chunk([], 3)).toEqual([]);
    expect(() => chunk(ids, 0)).toThrow(RangeError);
  });

  it("counts what changed and keeps each failure's reason", () => {
    const s = summarizeBulk([
      { case_id: "a", ok: true },
      { case_id: "b", ok: false, code: "case.invalid_transition", message: "a closed case cannot become resolved" },
      { case_id: "c", ok: true },
      { case_id: "d", ok: false, code: "case.not_found" },
    ]);
    expect(s).toEqual({
      total: 4,
      done: 2,
      failed: [
        { caseId: "b", reason: "a closed case cannot become resolved" },
        { caseId: "d", reason: "case.not_found" },
      ],
    });
    expect(bulkHeadline(s, "resolved")).toBe("2 of 4 cases resolved; 2 failed.");
    expect(bulkHeadline(summarizeBulk([{ case_id: "a", ok: true }]), "resolved")).toBe("1 case resolved.");
    expect(bulkHeadline(summarizeBulk([{ case_id: "a", ok: false }]), "assigned to you")).toBe("No case assigned to you: it failed.");
  });
});
