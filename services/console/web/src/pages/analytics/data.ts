// Shaping the analytics API's answers for the charts and lists: pure functions, tested.
import type { AnalyticsTypes } from "../../api/client";

type S = AnalyticsTypes["schemas"];
export type Series = S["Series"];
export type Alert = S["AlertOut"];
export type Reputation = S["Reputation"];
export type BestTimes = S["BestTimesOut"];
export type Severity = Alert["severity"];

/** Slot starts of a series, epoch ms. */
export function slotsOf(points: readonly { start: string }[]): number[] {
  return points.map((p) => Date.parse(p.start));
}

/** One field of every point of a series (null where the API gives none). */
export function fieldOf(series: Series, field: string): (number | null)[] {
  return series.points.map((p) => p.values[field] ?? null);
}

/** True when no value of the listed fields is above zero: nothing happened in the window. */
export function allZero(series: Series, fields: readonly string[]): boolean {
  return series.points.every((p) => fields.every((f) => !p.values[f]));
}

export const SENTIMENTS = ["positive", "neutral", "mixed", "negative", "unknown"] as const;

export const SENTIMENT_LABELS: Record<(typeof SENTIMENTS)[number], string> = {
  positive: "Positive",
  neutral: "Neutral",
  mixed: "Mixed",
  negative: "Negative",
  unknown: "Not rated",
};

/**
 * The JSON answer of a route that can also answer CSV: the generated types give the data
 * as JSON-or-text, and only JSON is asked for here.
 */
export function asJson<T>(data: T | string): T {
  if (typeof data === "string") throw new Error("The analytics service answered text where JSON was expected.");
  return data;
}

/**
 * The same for routes whose CSV answer the schema leaves untyped (posts, campaigns): the
 * JSON type is named by the caller from the generated schema.
 */
export function jsonOf<T extends object>(data: unknown): T {
  if (data === null || typeof data !== "object") throw new Error("The analytics service answered text where JSON was expected.");
  return data as T;
}

// --- alerts -------------------------------------------------------------------------------

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Open episodes first (the worst, then the newest, on top), then closed ones newest first. */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort((a, b) => {
    if (a.status !== b.status) return a.status === "open" ? -1 : 1;
    if (a.status === "open") {
      const bySeverity = SEVERITY_RANK[b.peak_severity] - SEVERITY_RANK[a.peak_severity];
      if (bySeverity) return bySeverity;
    }
    return Date.parse(b.last_detected_at) - Date.parse(a.last_detected_at) || a.id.localeCompare(b.id);
  });
}

/** Merge fresh episodes into a list by id (an update replaces the old copy). */
export function mergeAlerts(current: readonly Alert[], fresh: readonly Alert[]): Alert[] {
  const byId = new Map(current.map((a) => [a.id, a]));
  for (const a of fresh) byId.set(a.id, a);
  return sortAlerts([...byId.values()]);
}

export function alertKindLabel(kind: Alert["kind"]): string {
  return kind === "negative_spike" ? "Negative spike" : "Rising term";
}

export function severityLabel(severity: Severity): string {
  return { low: "Low", medium: "Medium", high: "High", critical: "Critical" }[severity];
}

/** Badge tone: trends (low, medium) inform or warn; crises (high, critical) are danger. */
export function severityTone(severity: Severity): "info" | "warning" | "danger" {
  return severity === "low" ? "info" : severity === "medium" ? "warning" : "danger";
}

/** The headline of an episode: "Negative spike" or "Rising term: #launch". */
export function alertHeadline(alert: Pick<Alert, "kind" | "subject">): string {
  return alert.kind === "negative_spike" ? "Negative spike" : `Rising term: ${alert.subject}`;
}

// --- best times ---------------------------------------------------------------------------

export interface BestCell {
  average: number | null;
  posts: number;
  engagements: number;
  best: boolean;
  /** Fewer posts than the API needs to rank the slot. */
  thin: boolean;
}

/** The 7 × 24 grid (Monday first, hours 0..23) of a best-times answer; empty cells hold null. */
export function bestTimesGrid(answer: Pick<BestTimes, "slots" | "best" | "min_posts">): BestCell[][] {
  const grid: BestCell[][] = Array.from({ length: 7 }, () =>
    Array.from({ length: 24 }, () => ({ average: null, posts: 0, engagements: 0, best: false, thin: false })),
  );
  const best = new Set(answer.best.map((s) => `${s.weekday}|${s.hour}`));
  for (const s of answer.slots) {
    const row = grid[s.weekday];
    if (!row || s.hour < 0 || s.hour > 23) continue;
    row[s.hour] = {
      average: s.average_engagements,
      posts: s.posts,
      engagements: s.engagements,
      best: best.has(`${s.weekday}|${s.hour}`),
      thin: s.posts < answer.min_posts,
    };
  }
  return grid;
}

/** Weekday names, Monday first, in the user's language ("Mon", "Tue", ...). */
export function weekdayNames(style: "short" | "long" = "short", locale?: string): string[] {
  const f = new Intl.DateTimeFormat(locale, { weekday: style, timeZone: "UTC" });
  // 5 January 2026 was a Monday.
  return Array.from({ length: 7 }, (_, i) => f.format(Date.UTC(2026, 0, 5 + i)));
}

/** Hour names of a day, "00:00" ... "23:00" (or "12 AM" ... in 12-hour locales). */
export function hourNames(locale?: string): string[] {
  const f = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
  return Array.from({ length: 24 }, (_, h) => f.format(Date.UTC(2026, 0, 5, h)));
}

// --- reputation ---------------------------------------------------------------------------

export const COMPONENT_LABELS: Record<string, string> = {
  net_sentiment: "Net sentiment",
  sentiment_trend: "Sentiment trend",
  response_speed: "Response speed",
  recovery_rate: "Review recovery",
};

/** What each component's raw value is, in words, for the formula table. */
export const COMPONENT_RAW: Record<string, string> = {
  net_sentiment: "(positive − negative) / mentions with a sentiment",
  sentiment_trend: "net sentiment minus the previous period's",
  response_speed: "median first response time (target 1 h)",
  recovery_rate: "(improved + deleted) / negative reviews followed up",
};

export function componentLabel(name: string): string {
  return COMPONENT_LABELS[name] ?? name.replace(/_/g, " ");
}

// --- care ---------------------------------------------------------------------------------

const CARE_LABELS: Record<string, string> = {
  first_response: "First response",
  first_response_time: "First response",
  next_response: "Next response",
  next_response_time: "Next response",
  resolution: "Resolution",
  resolution_time: "Resolution",
  time_to_assignment: "Assignment",
  assignment_time: "Assignment",
  department_response: "Department response",
  department_response_time: "Department response",
  case_resolution_time: "Case resolution (wall clock)",
};

/** "first_response_time" -> "First response". */
export function careLabel(metric: string): string {
  return CARE_LABELS[metric] ?? metric.replace(/_/g, " ");
}

// --- CSV ----------------------------------------------------------------------------------

/** The proxied URL of an analytics route with `format=csv` (unset query values left out). */
export function csvUrl(path: string, query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === "format" || v == null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
  }
  params.set("format", "csv");
  return `/api/analytics${path}?${params.toString()}`;
}

/** The file name of a `Content-Disposition: attachment; filename="x.csv"` header, or `fallback`. */
export function attachmentName(header: string | null, fallback: string): string {
  const match = header?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  if (!match) return fallback;
  try {
    return decodeURIComponent(match[1]!.trim());
  } catch {
    return match[1]!.trim();
  }
}

// --- content ------------------------------------------------------------------------------

export type Post = S["PostOut"];
export type PostList = S["PostList"];
export type CampaignList = S["CampaignList"];
export type Campaign = S["CampaignOut"];

/** A post's name for lists: its title, or "VK post 123" when it has none. */
export function postLabel(post: Pick<Post, "title" | "network" | "native_id">, networkName: (n: string) => string): string {
  const title = post.title?.trim();
  return title ? title : `${networkName(post.network)} post ${post.native_id}`;
}

export interface EngagementTotals {
  posts: number;
  engagements: number;
  clicks: number;
  /** Engagements / views over the posts that report views; null when none does. */
  rate: number | null;
}

/** Sums of a list of posts: engagements and clicks as reported, the rate over posts with views. */
export function engagementTotals(posts: readonly Post[]): EngagementTotals {
  let engagements = 0;
  let clicks = 0;
  let viewedEngagements = 0;
  let views = 0;
  for (const p of posts) {
    engagements += p.engagements ?? 0;
    clicks += p.clicks ?? 0;
    if (p.views != null && p.views > 0 && p.engagements != null) {
      views += p.views;
      viewedEngagements += p.engagements;
    }
  }
  return { posts: posts.length, engagements, clicks, rate: views > 0 ? viewedEngagements / views : null };
}
