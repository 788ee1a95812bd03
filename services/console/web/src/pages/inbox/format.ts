// Words the inbox shows for the API's values: statuses, priorities, authors, ages. Networks
// are named by lib/networks, active statuses, priority words and SLA metrics by lib/cases.
import type { ResponderTypes } from "../../api/client";
import type { PriorityName, StatusName } from "../../lib/cases";

export type CaseOut = ResponderTypes["schemas"]["CaseOut"];
export type { PriorityName, StatusName };

export const STATUSES = [
  "new",
  "open",
  "pending_customer",
  "pending_department",
  "resolved",
  "closed",
] as const satisfies readonly StatusName[];

export const STATUS_LABELS: Record<StatusName, string> = {
  new: "New",
  open: "Open",
  pending_customer: "Pending customer",
  pending_department: "Pending department",
  resolved: "Resolved",
  closed: "Closed",
};

/** Priorities, most urgent first (the inbox's filter order). */
export const PRIORITIES = ["urgent", "high", "normal", "low"] as const satisfies readonly PriorityName[];

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

/** "@handle" when the network gave one, else the display name, else the id. */
export function authorLabel(author: Record<string, unknown> | undefined | null): string {
  const handle = text(author?.handle).replace(/^@+/, "");
  if (handle) return `@${handle}`;
  return text(author?.display_name) || text(author?.id) || "unknown author";
}

/** The display name when the label is a handle and the name says more, else "". */
export function authorName(author: Record<string, unknown> | undefined | null): string {
  const name = text(author?.display_name);
  const handle = text(author?.handle).replace(/^@+/, "");
  return handle && name && name !== handle ? name : "";
}

/** The text on one line, cut at a word boundary with an ellipsis when longer than `max`. */
export function excerpt(value: string, max = 140): string {
  const line = value.replace(/\s+/g, " ").trim();
  if (line.length <= max) return line;
  const cut = line.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** A coarse age for a list: "just now", "12 min", "3 h 05 min", "2 d 4 h". */
export function ageText(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
