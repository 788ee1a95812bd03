// Canned responses: fill their {{variables}} with the case's values, as the responder does
// when it sends one (services/responder: domain/replies.py VARIABLES and render_template,
// services/cases.py _reply_text), and insert the result into the draft.

/** The variables a canned response may use (the responder refuses others when saving). */
export const TEMPLATE_VARIABLES = [
  "author_name",
  "author_handle",
  "agent_name",
  "case_id",
  "brand",
  "department_answer",
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const VARIABLE = /\{\{\s*([a-z_]+)\s*\}\}/g;
const KNOWN = new Set<string>(TEMPLATE_VARIABLES);

export interface TemplateSource {
  author: { handle?: unknown; display_name?: unknown };
  agentName: string;
  caseId: string;
  /** The brand's name (brand configuration), else its id. */
  brand: string;
  handoffs: readonly { answer?: string | null; answered_at?: string | null }[];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The values of the variables for one case, the same the responder would use. */
export function templateValues(source: TemplateSource): Record<TemplateVariable, string> {
  const handle = text(source.author.handle);
  const answered = source.handoffs
    .filter((h) => h.answer)
    .sort((a, b) => Date.parse(a.answered_at ?? "") - Date.parse(b.answered_at ?? ""));
  return {
    author_name: text(source.author.display_name) || handle,
    author_handle: handle ? `@${handle}` : "",
    agent_name: source.agentName,
    case_id: source.caseId,
    brand: source.brand,
    department_answer: answered.at(-1)?.answer ?? "",
  };
}

/**
 * Fill a template: a known variable becomes its value (empty when it has none, as the
 * responder does); an unknown one stays as written so the agent sees it before sending.
 */
export function fillTemplate(template: string, values: Partial<Record<TemplateVariable, string>>): string {
  return template.replace(VARIABLE, (whole, name: string) =>
    KNOWN.has(name) ? (values[name as TemplateVariable] ?? "") : whole,
  );
}

/** Variables a filled template left unknown (shown to the agent as a warning). */
export function unknownVariables(template: string): string[] {
  return [...template.matchAll(VARIABLE)].map((m) => m[1]!).filter((name) => !KNOWN.has(name));
}

/**
 * Put `insert` in place of the selection [start, end) of `draft`; the caret goes after it.
 * Into an empty draft it goes as it is; next to other text it gets a separating space.
 */
export function insertText(
  draft: string,
  start: number,
  end: number,
  insert: string,
): { text: string; caret: number } {
  const from = Math.max(0, Math.min(start, draft.length));
  const to = Math.max(from, Math.min(end, draft.length));
  const before = draft.slice(0, from);
  const after = draft.slice(to);
  const lead = before && !/\s$/.test(before) ? " " : "";
  const trail = after && !/^\s/.test(after) ? " " : "";
  const piece = lead + insert + trail;
  return { text: before + piece + after, caret: before.length + lead.length + insert.length };
}
