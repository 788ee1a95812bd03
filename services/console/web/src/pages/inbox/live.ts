// What a live message means for the inbox, and the debounce that turns a burst of messages
// into one refetch.
import type { LiveMessage } from "../../app/live";

export interface LiveEffect {
  /** Refetch the list and the counts. */
  refetch: boolean;
  /** A case that was just opened: highlight and announce it once it is listed. */
  opened: { caseId: string; network: string } | null;
}

/** Every case or SLA message may change a row, its place or the counts: refetch. */
export function liveEffect(message: LiveMessage | "reset"): LiveEffect {
  if (message === "reset") return { refetch: true, opened: null };
  if (message.kind !== "case" && message.kind !== "sla") return { refetch: false, opened: null };
  const caseId = message.data.case_id;
  const network = message.data.network;
  const opened =
    message.type === "smm.case.opened" && typeof caseId === "string"
      ? { caseId, network: typeof network === "string" ? network : "" }
      : null;
  return { refetch: true, opened };
}

export interface Debouncer {
  /** Run `fn` once, `ms` after the last trigger (and at most `maxMs` after the first). */
  trigger(): void;
  cancel(): void;
}

/** A steady stream of messages still refetches every `maxMs`, never starving the list. */
export function debounce(fn: () => void, ms: number, maxMs = ms * 5): Debouncer {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let first: number | null = null;
  const cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    first = null;
  };
  return {
    trigger() {
      const now = Date.now();
      first ??= now;
      if (timer !== null) clearTimeout(timer);
      const wait = Math.max(0, Math.min(ms, first + maxMs - now));
      timer = setTimeout(() => {
        cancel();
        fn();
      }, wait);
    },
    cancel,
  };
}
