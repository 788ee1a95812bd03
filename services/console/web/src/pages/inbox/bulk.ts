// Bulk commands: split into calls the API accepts, and say what happened in words.
import type { ResponderTypes } from "../../api/client";

export type BulkResult = ResponderTypes["schemas"]["BulkResult"];

/** The most cases `POST /v1/cases/bulk` takes in one call. */
export const BULK_LIMIT = 200;

export function chunk<T>(items: readonly T[], size = BULK_LIMIT): T[][] {
  if (size < 1) throw new RangeError("size must be positive");
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface BulkFailure {
  caseId: string;
  reason: string;
}

export interface BulkSummary {
  total: number;
  done: number;
  failed: BulkFailure[];
}

/** How many cases changed and which failed, with the API's reason for each. */
export function summarizeBulk(results: readonly BulkResult[]): BulkSummary {
  const failed = results
    .filter((r) => !r.ok)
    .map((r) => ({ caseId: r.case_id, reason: r.message || r.code || "no reason given" }));
  return { total: results.length, done: results.length - failed.length, failed };
}

/** "3 of 4 cases resolved; 1 failed." (the failures are listed next to it, one per case). */
export function bulkHeadline(summary: BulkSummary, done: string): string {
  const cases = (n: number) => `${n} case${n === 1 ? "" : "s"}`;
  if (summary.total === 0) return "No cases were selected.";
  if (!summary.failed.length) return `${cases(summary.done)} ${done}.`;
  if (!summary.done) return `No case ${done}: ${summary.failed.length === 1 ? "it" : `all ${summary.failed.length}`} failed.`;
  return `${summary.done} of ${cases(summary.total)} ${done}; ${summary.failed.length} failed.`;
}
