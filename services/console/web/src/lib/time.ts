// Times in the user's time zone (the browser's, or the one chosen in Settings).

const TZ_KEY = "smm.timeZone";

export function timeZone(): string {
  const chosen = typeof localStorage === "undefined" ? null : localStorage.getItem(TZ_KEY);
  return chosen || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function setTimeZone(zone: string | null): void {
  if (zone) localStorage.setItem(TZ_KEY, zone);
  else localStorage.removeItem(TZ_KEY);
}

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "27 Nov, 14:05" in the user's zone. */
export function formatDateTime(value: string | number | Date, zone = timeZone()): string {
  return new Intl.DateTimeFormat(undefined, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: zone,
  }).format(toDate(value));
}

/** "14:05" in the user's zone. */
export function formatTime(value: string | number | Date, zone = timeZone()): string {
  return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(
    toDate(value),
  );
}

/** "Fri 27 Nov" in the user's zone. */
export function formatDay(value: string | number | Date, zone = timeZone()): string {
  return new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: zone }).format(
    toDate(value),
  );
}

/** A duration in words a person reads at a glance: "4 min 05 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export type Deadline = "ok" | "warning" | "breached";

/** How an SLA deadline stands now: breached past it, warning past the warning time. */
export function deadlineState(now: number, breachAt: number, warnAt?: number | null): Deadline {
  if (now >= breachAt) return "breached";
  if (warnAt != null && now >= warnAt) return "warning";
  return "ok";
}

/** "due in 4 min 05 s" or "overdue by 2 min 00 s". */
export function countdownText(now: number, dueAt: number): string {
  return now >= dueAt ? `overdue by ${formatDuration(now - dueAt)}` : `due in ${formatDuration(dueAt - now)}`;
}
