// What the inbox and the case page both say about the responder's cases: which statuses
// still need work, priorities and SLA metrics in words. Words that differ on purpose between
// the two (e.g. "Pending customer" in the inbox's filter, "Waiting for the customer" in the
// case header) stay with each page.
import type { ResponderTypes } from "../api/client";

type CaseOut = ResponderTypes["schemas"]["CaseOut"];
export type StatusName = CaseOut["status"];
export type PriorityName = CaseOut["priority"];

/** Statuses in which the team still has work to do (the responder's ACTIVE_STATUSES). */
export const ACTIVE_STATUSES = ["new", "open", "pending_customer", "pending_department"] as const satisfies readonly StatusName[];

export function isActiveStatus(status: string): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(status);
}

/** Priorities in words, lowest first (the order a priority menu offers them). */
export const PRIORITY_LABELS: Readonly<Record<PriorityName, string>> = {
  low: "Low",
  normal: "Normal",
  high: "High",
  urgent: "Urgent",
};

export function priorityLabel(priority: string): string {
  return (PRIORITY_LABELS as Readonly<Record<string, string>>)[priority] ?? priority;
}

const SLA_METRIC_LABELS: Readonly<Record<string, string>> = {
  first_response: "First response",
  next_response: "Next response",
  resolution: "Resolution",
  time_to_assignment: "Assignment",
  department_response: "Department answer",
};

/** An SLA clock's metric in words: "First response"; an unknown one with spaces for "_". */
export function slaMetricLabel(metric: string): string {
  return SLA_METRIC_LABELS[metric] ?? metric.replace(/_/g, " ");
}
