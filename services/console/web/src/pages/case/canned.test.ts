import { describe, expect, it } from "vitest";
import { fillTemplate, insertText, templateValues, unknownVariables } from "./canned";

const source = {
  author: { handle: "jane", display_name: "Jane Doe" },
  agentName: "Anna",
  caseId: "01CASE",
  brand: "Acme",
  handoffs: [
    { answer: "Refund issued", answered_at: "2026-01-02T10:00:00Z" },
    { answer: null, answered_at: null },
    { answer: "Old answer", answered_at: "2026-01-01T10:00:00Z" },
  ],
};

describe("canned responses", () => {
  it("fills the responder's variables with the case's values", () => {
    const values = templateValues(source);
    expect(values).toEqual({
      author_name: "Jane Doe",
      author_handle: "@jane",
      agent_name: "Anna",
      case_id: "01CASE",
      brand: "Acme",
      department_answer: "Refund issued",
    });
    expect(fillTemplate("Hi {{author_name}} ({{ author_handle }}), {{department_answer}}. — {{agent_name}}, {{brand}} #{{case_id}}", values)).toBe(
      "Hi Jane Doe (@jane), Refund issued. — Anna, Acme #01CASE",
    );
  });

  it("falls back to the handle and leaves empty what the case does not have", () => {
    const values = templateValues({ ...source, author: { handle: "jane" }, handoffs: [] });
    expect(values.author_name).toBe("jane");
    expect(fillTemplate("Dear {{author_name}}: {{department_answer}}!", values)).toBe("Dear jane: !");
    const none = templateValues({ ...source, author: {} });
    expect(none.author_handle).toBe("");
  });

  it("keeps unknown variables visible", () => {
    expect(fillTemplate("Hi {{author_name}} {{coupon}}", { author_name: "Jo" })).toBe("Hi Jo {{coupon}}");
    expect(unknownVariables("{{coupon}} {{author_name}} {{ code }}")).toEqual(["coupon", "code"]);
  });

  it("inserts at the selection with spaces where needed", () => {
    expect(insertText("", 0, 0, "Hello")).toEqual({ text: "Hello", caret: 5 });
    expect(insertText("Thanks!", 7, 7, "Bye")).toEqual({ text: "Thanks! Bye", caret: 11 });
    expect(insertText("Hi there", 3, 8, "you")).toEqual({ text: "Hi you", caret: 6 });
    expect(insertText("AB", 1, 1, "x")).toEqual({ text: "A x B", caret: 3 });
    // Out-of-range selections are clamped.
    expect(insertText("ab", 10, 2, "c")).toEqual({ text: "ab c", caret: 4 });
  });
});
