import { describe, expect, it } from "vitest";
import { problemOf } from "./client";

describe("problemOf", () => {
  it("names each invalid field of a 422", () => {
    const p = problemOf(422, {
      error: {
        code: "request.invalid",
        message: "The request is not valid",
        details: [{ loc: ["header", "idempotency-key"], msg: "Field required", type: "missing" }],
      },
    });
    expect(p.message).toBe("The request is not valid: header.idempotency-key: Field required");
    expect(p.nextStep).toMatch(/Correct/);
  });
  it("keeps the service's message and says what to do next", () => {
    const p = problemOf(409, { error: { code: "case.version", message: "The case changed" } });
    expect(p.message).toBe("The case changed");
    expect(p.code).toBe("case.version");
    expect(p.nextStep).toMatch(/refresh/);
  });
  it("explains an unreachable console", () => {
    expect(problemOf(0, null).message).toBe("The console cannot be reached.");
    expect(problemOf(503, null).nextStep).toMatch(/try again in a minute/);
  });
});
