// Words the inbox shows for the API's values: networks, statuses, priorities, authors, ages.
import type { ResponderTypes } from "../../api/client";

export type CaseOut = ResponderTypes["schemas"]["CaseOut"];
export type StatusName = CaseOut["status"];
export type PriorityName = CaseOut["priority"];
export type NetworkName = NonNullable<ResponderTypes["schemas"]["AgentIn"]["networks"]>[number];

/** Every network the platform listens to (the API's values), in menu order. */
export const NETWORKS = [
  "x",
  "facebook",
  "instagram",
  "telegram",
  "vk",
  "youtube",
  "mastodon",
  "reddit",
] as const satisfies readonly NetworkName[];

const NETWORK_NAMES: Record<NetworkName, string> = {
  x: "X",
  vk: "VK",
  facebook: "Facebook",
  instagram: "Instagram",
  telegram: "Telegram",
  youtube: "YouTube",
  mastodon: "Mastodon",
  reddit: "Reddit",
};

export function networkName(network: string): string {
  return (NETWORK_NAMES as Record<string, string>)[network] ?? network;
}

export const STATUSES = [
  "new",
  "open",
  "pending_customer",
  "pending_department",
  "resolved",
  "closed",
] as const satisfies readonly StatusName[];

/** Statuses in which the team still has work to do (the responder's ACTIVE_STATUSES). */
export const ACTIVE_STATUSES = ["new", "open", "pending_customer", "pending_department"] as const satisfies readonly StatusName[];

export const STATUS_LABELS: Record<StatusName, string> = {
  new: "New",
  open: "Open",
  pending_customer: "Pending customer",
  pending_department: "Pending department",
  resolved: "Resolved",
  closed: "Closed",
};

export const PRIORITIES = ["urgent", "high", "normal", "low"] as const satisfies readonly PriorityName[];

export const PRIORITY_LABELS: Record<PriorityName, string> = {
  urgent: "Urgent",
  high: "High",
  normal: "Normal",
  low: "Low",
};

const METRIC_LABELS: Record<string, string> = {
  first_response: "first response",
  next_response: "next response",
  resolution: "resolution",
  time_to_assignment: "assignment",
  department_response: "department answer",
};

export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric.replace(/_/g, " ");
}

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
