// The brand's agents and departments as the inbox names them (GET /v1/agents and
// /v1/departments answer untyped documents: read only what is there).

export interface Agent {
  id: string;
  name: string;
  availability: string;
  active: number | null;
  capacity: number | null;
}

export interface Department {
  id: string;
  name: string;
}

function str(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

function int(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function parseAgents(rows: readonly Record<string, unknown>[]): Agent[] {
  return rows
    .filter((r) => str(r.user_id))
    .map((r) => ({
      id: str(r.user_id),
      name: str(r.name) || str(r.user_id),
      availability: str(r.availability) || "offline",
      active: int(r.active_cases),
      capacity: int(r.capacity),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function parseDepartments(rows: readonly Record<string, unknown>[]): Department[] {
  return rows
    .filter((r) => str(r.id))
    .map((r) => ({ id: str(r.id), name: str(r.name) || str(r.id) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** "Anna (you), online, 3 of 10 cases" for the assignee menus. */
export function agentOptionLabel(agent: Agent, meId: string): string {
  const load = agent.active !== null && agent.capacity !== null ? `, ${agent.active} of ${agent.capacity} cases` : "";
  return `${agent.name}${agent.id === meId ? " (you)" : ""}, ${agent.availability}${load}`;
}

/** Who has the case, in words: "You", the agent's name, their id, or "Unassigned". */
export function assigneeLabel(id: string | null | undefined, meId: string, agents: readonly Agent[]): string {
  if (!id) return "Unassigned";
  if (id === meId) return "You";
  return agents.find((a) => a.id === id)?.name ?? id;
}
