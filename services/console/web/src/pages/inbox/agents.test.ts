import { describe, expect, it } from "vitest";
import { agentOptionLabel, assigneeLabel, parseAgents, parseDepartments } from "./agents";

describe("agents", () => {
  const agents = parseAgents([
    { user_id: "u2", name: "Boris", availability: "online", active_cases: 3, capacity: 10 },
    { user_id: "u1", name: "", capacity: 5 },
    { name: "no id" },
  ]);

  it("reads the agent documents, sorted by name", () => {
    expect(agents).toEqual([
      { id: "u2", name: "Boris", availability: "online", active: 3, capacity: 10 },
      { id: "u1", name: "u1", availability: "offline", active: null, capacity: 5 },
    ]);
    expect(agentOptionLabel(agents[0]!, "u2")).toBe("Boris (you), online, 3 of 10 cases");
    expect(agentOptionLabel(agents[1]!, "u2")).toBe("u1, offline");
  });

  it("names assignees", () => {
    expect(assigneeLabel(null, "u1", agents)).toBe("Unassigned");
    expect(assigneeLabel("u1", "u1", agents)).toBe("You");
    expect(assigneeLabel("u2", "u1", agents)).toBe("Boris");
    expect(assigneeLabel("u9", "u1", agents)).toBe("u9");
  });

  it("reads departments", () => {
    expect(parseDepartments([{ id: "cards", name: "Cards" }, { id: "" }, { id: "aml" }])).toEqual([
      { id: "aml", name: "aml" },
      { id: "cards", name: "Cards" },
    ]);
  });
});
