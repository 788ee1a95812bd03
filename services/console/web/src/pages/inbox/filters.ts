// The inbox's filters: their values, the address bar form (?status=open&assignee=me...) and
// the `GET /v1/cases` query they become. The API has no text search: `q` filters the loaded
// cases in the browser (`matchesText`).
import type { operations } from "../../api/gen/responder";
import { ACTIVE_STATUSES } from "../../lib/cases";
import { NETWORKS } from "../../lib/networks";
import {
  PRIORITIES,
  STATUSES,
  type CaseOut,
  type PriorityName,
  type StatusName,
} from "./format";

export type ListQuery = operations["list_cases_v1_cases_get"]["parameters"]["query"];
export type SortChoice = NonNullable<ListQuery["sort"]>;
type SlaStateName = NonNullable<ListQuery["sla_state"]>[number];

/** `active`: every status with work left; `all`: no status filter. */
export type StatusChoice = "active" | "all" | StatusName;
/** `anyone`, `me`, `unassigned`, or `agent:<user id>`. */
export type AssigneeChoice = "anyone" | "me" | "unassigned" | `agent:${string}`;
export type SlaChoice = "any" | "at_risk_or_breached" | "breached" | "at_risk" | "ok" | "none";

export interface InboxFilters {
  status: StatusChoice;
  assignee: AssigneeChoice;
  priority: "" | PriorityName;
  network: string;
  department: string;
  tag: string;
  sla: SlaChoice;
  q: string;
  sort: SortChoice;
}

export const DEFAULT_FILTERS: Readonly<InboxFilters> = Object.freeze({
  status: "active",
  assignee: "anyone",
  priority: "",
  network: "",
  department: "",
  tag: "",
  sla: "any",
  q: "",
  sort: "deadline",
});

export const SLA_CHOICES: readonly { value: SlaChoice; label: string; states: SlaStateName[] }[] = [
  { value: "any", label: "Any", states: [] },
  { value: "at_risk_or_breached", label: "Breached or at risk", states: ["breached", "at_risk"] },
  { value: "breached", label: "Breached", states: ["breached"] },
  { value: "at_risk", label: "At risk", states: ["at_risk"] },
  { value: "ok", label: "On track", states: ["ok"] },
  { value: "none", label: "No SLA", states: ["none"] },
];

export const SORT_CHOICES: readonly { value: SortChoice; label: string }[] = [
  { value: "deadline", label: "Next deadline first" },
  { value: "activity", label: "Latest activity first" },
];

const MAX_TEXT = 200;

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function textOf(value: unknown, max = MAX_TEXT): string {
  return typeof value === "string" ? value.slice(0, max) : "";
}

function assigneeOf(value: unknown): AssigneeChoice {
  if (value === "me" || value === "unassigned" || value === "anyone") return value;
  if (typeof value === "string" && /^agent:.{1,128}$/.test(value)) return value as AssigneeChoice;
  return DEFAULT_FILTERS.assignee;
}

/** Filters from anything (the address bar, localStorage): unknown values fall back to defaults. */
export function normalizeFilters(raw: unknown): InboxFilters {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  return {
    status: pick<StatusChoice>(r.status, ["active", "all", ...STATUSES], DEFAULT_FILTERS.status),
    assignee: assigneeOf(r.assignee),
    priority: pick<"" | PriorityName>(r.priority, ["", ...PRIORITIES], ""),
    network: pick<string>(r.network, ["", ...NETWORKS], ""),
    department: textOf(r.department, 64).trim(),
    tag: textOf(r.tag, 64).trim(),
    sla: pick<SlaChoice>(r.sla, SLA_CHOICES.map((c) => c.value), DEFAULT_FILTERS.sla),
    q: textOf(r.q),
    sort: pick<SortChoice>(r.sort, SORT_CHOICES.map((c) => c.value), DEFAULT_FILTERS.sort),
  };
}

const KEYS = Object.keys(DEFAULT_FILTERS) as (keyof InboxFilters)[];

/** The filters in the address bar (defaults left out, so a plain /inbox is the default view). */
export function filtersToParams(f: InboxFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    if (f[key] !== DEFAULT_FILTERS[key]) params.set(key, f[key]);
  }
  return params;
}

export function filtersFromParams(params: URLSearchParams): InboxFilters {
  return normalizeFilters(Object.fromEntries(KEYS.map((k) => [k, params.get(k) ?? DEFAULT_FILTERS[k]])));
}

export function sameFilters(a: InboxFilters, b: InboxFilters): boolean {
  return KEYS.every((k) => a[k] === b[k]);
}

/** The `GET /v1/cases` query of the filters (everything but the text search). */
export function listQuery(
  f: InboxFilters,
  brandId: string,
  meId: string,
  page: { limit: number; cursor?: string | null },
): ListQuery {
  const q: ListQuery = { brand_id: brandId, sort: f.sort, limit: page.limit };
  if (page.cursor) q.cursor = page.cursor;
  if (f.status === "active") q.status = [...ACTIVE_STATUSES];
  else if (f.status !== "all") q.status = [f.status];
  if (f.assignee === "me") q.assignee = [meId];
  else if (f.assignee === "unassigned") q.unassigned = true;
  else if (f.assignee.startsWith("agent:")) q.assignee = [f.assignee.slice("agent:".length)];
  if (f.priority) q.priority = [f.priority];
  if (f.network) q.network = [f.network];
  if (f.department) q.department = [f.department];
  if (f.tag.trim()) q.tag = [f.tag.trim()];
  const states = SLA_CHOICES.find((c) => c.value === f.sla)?.states ?? [];
  if (states.length) q.sla_state = [...states];
  return q;
}

/**
 * The queries of the first page: the list itself, and when sorting by deadline also the
 * breached cases the filters allow. Breached cases have no deadline left, so the server's
 * deadline order puts them after every other case, beyond the first page; the inbox wants
 * them first.
 */
export function firstPageQueries(
  f: InboxFilters,
  brandId: string,
  meId: string,
  limit: number,
): { main: ListQuery; breached: ListQuery | null } {
  const main = listQuery(f, brandId, meId, { limit });
  if (f.sort !== "deadline") return { main, breached: null };
  const statuses = main.status ?? [...STATUSES];
  const active = statuses.some((s) => (ACTIVE_STATUSES as readonly string[]).includes(s));
  const states = main.sla_state;
  const allowsBreached = !states || states.includes("breached");
  const onlyBreached = !!states && states.length === 1 && states[0] === "breached";
  if (!active || !allowsBreached || onlyBreached) return { main, breached: null };
  return { main, breached: { ...main, sla_state: ["breached"], limit: 200 } };
}

/** Several lists as one, each case once (the first copy wins). */
export function mergeCases(...lists: readonly (readonly CaseOut[])[]): CaseOut[] {
  const seen = new Set<string>();
  const out: CaseOut[] = [];
  for (const list of lists) {
    for (const c of list) {
      if (!seen.has(c.id)) {
        seen.add(c.id);
        out.push(c);
      }
    }
  }
  return out;
}

function fold(value: string): string {
  return value.normalize("NFKD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** Whether every word of `q` occurs in the case's author, text, tags, department or id. */
export function matchesText(c: CaseOut, q: string): boolean {
  const words = fold(q).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const author = c.author ?? {};
  const hay = fold(
    [author.handle, author.display_name, c.preview, c.department, c.id, ...(c.tags ?? [])]
      .filter((v): v is string => typeof v === "string")
      .join(" \u0000 "),
  );
  return words.every((w) => hay.includes(w.replace(/^@/, "")) || hay.includes(w));
}
