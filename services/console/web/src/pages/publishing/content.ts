// Content items as the publishing page shows and edits them: statuses in words, the
// composer's form <-> the publisher's ContentIn, which workflow applies, the approval trail,
// and failed deliveries in words.
import type { PublisherTypes } from "../../api/client";
import { NETWORKS, isNetwork, type Network } from "../../lib/networks";
import { fromLocalInput, toLocalInput } from "../../lib/zoned";
import type { VariantFields } from "./networks";

export type Content = PublisherTypes["schemas"]["ContentOut"];
export type ContentStatus = Content["status"];
export type ContentBody = PublisherTypes["schemas"]["ContentIn"];
export type VariantBody = PublisherTypes["schemas"]["VariantIn"];
export type Account = PublisherTypes["schemas"]["AccountOut"];
export type Delivery = PublisherTypes["schemas"]["DeliveryOut"];
export type AuditEntry = PublisherTypes["schemas"]["AuditOut"];

export const STATUS_WORDS: Record<ContentStatus, string> = {
  draft: "Draft",
  submitted: "Awaiting approval",
  approved: "Approved",
  rejected: "Rejected",
  scheduled: "Scheduled",
  publishing: "Publishing",
  published: "Published",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const STATUS_TONE: Record<ContentStatus, "neutral" | "ok" | "warning" | "danger" | "info"> = {
  draft: "neutral",
  submitted: "warning",
  approved: "info",
  rejected: "danger",
  scheduled: "info",
  publishing: "info",
  published: "ok",
  failed: "danger",
  cancelled: "neutral",
};

/** Statuses the publisher's schedule command moves (or puts on the calendar) as they are. */
export const MOVABLE: ReadonlySet<ContentStatus> = new Set<ContentStatus>(["scheduled", "approved", "failed"]);
/** Statuses whose content may still be edited (domain/content.py EDITABLE_STATUSES). */
export const EDITABLE: ReadonlySet<ContentStatus> = new Set<ContentStatus>([
  "draft",
  "submitted",
  "approved",
  "rejected",
  "scheduled",
  "failed",
]);

/** The item's time (epoch ms), or null when it has none. */
export function publishAt(c: Pick<Content, "publish_at">): number | null {
  if (!c.publish_at) return null;
  const t = Date.parse(c.publish_at);
  return Number.isNaN(t) ? null : t;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The item's variants in the shape the API takes them. */
export function readVariants(c: Pick<Content, "variants">): VariantBody[] {
  return c.variants.map((v) => ({
    network: str(v.network),
    text: str(v.text),
    media_urls: Array.isArray(v.media_urls) ? v.media_urls.filter((u): u is string => typeof u === "string") : [],
    link: typeof v.link === "string" ? v.link : null,
    title: typeof v.title === "string" ? v.title : null,
  }));
}

/** The networks an item posts on, in the page's order. */
export function networksOf(c: Pick<Content, "variants">): Network[] {
  const present = new Set(readVariants(c).map((v) => v.network));
  return NETWORKS.filter((n) => present.has(n));
}

// --- the composer's form ---------------------------------------------------------------------

/** One network's part of the form; `text` null means "the shared text". */
export interface VariantDraft {
  text: string | null;
  /** Media links, one per line. */
  media: string;
  link: string;
  /** Reddit's headline. */
  title: string;
}

export interface ComposerForm {
  title: string;
  /** The shared text every network gets unless its own version is edited. */
  text: string;
  targets: string[];
  variants: Partial<Record<Network, VariantDraft>>;
  campaign: string;
  /** Comma-separated. */
  labels: string;
  /** A datetime-local value in the user's zone ("" for no time). */
  scheduleAt: string;
  /** The stored item's networks and accounts: a version for a network none of its accounts
   * posts to (an imported draft) is kept until it is removed. */
  loaded: { networks: Network[]; targets: string[] };
}

export function emptyVariant(): VariantDraft {
  return { text: null, media: "", link: "", title: "" };
}

export function emptyForm(): ComposerForm {
  return {
    title: "",
    text: "",
    targets: [],
    variants: {},
    campaign: "",
    labels: "",
    scheduleAt: "",
    loaded: { networks: [], targets: [] },
  };
}

export function mediaList(media: string): string[] {
  return media
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

export function parseLabels(labels: string): string[] {
  return [...new Set(labels.split(",").map((l) => l.trim()).filter(Boolean))];
}

/** A network's variant as it will be saved (its own text, or the shared one). */
export function variantFields(form: ComposerForm, network: Network): VariantFields {
  const v = form.variants[network] ?? emptyVariant();
  return { text: v.text ?? form.text, mediaUrls: mediaList(v.media), link: v.link, title: v.title };
}

/** Versions of the stored item for networks none of its stored accounts is on. */
export function keptNetworks(form: ComposerForm, accounts: Account[]): Network[] {
  const stored = new Set(form.loaded.targets);
  const covered = new Set(accounts.filter((a) => stored.has(a.id)).map((a) => a.network));
  return form.loaded.networks.filter((n) => !covered.has(n));
}

/** The networks the form posts on: those of the chosen accounts, and the kept versions. */
export function formNetworks(form: ComposerForm, accounts: Account[]): Network[] {
  const chosen = new Set(form.targets);
  const wanted = new Set<string>(accounts.filter((a) => chosen.has(a.id)).map((a) => a.network));
  for (const n of keptNetworks(form, accounts)) wanted.add(n);
  return NETWORKS.filter((n) => wanted.has(n));
}

/** The form of a stored item; the text most variants share becomes the shared text. */
export function formFromContent(c: Content, zone: string): ComposerForm {
  const variants = readVariants(c).filter((v): v is VariantBody & { network: Network } => isNetwork(v.network));
  const counts = new Map<string, number>();
  for (const v of variants) counts.set(v.text, (counts.get(v.text) ?? 0) + 1);
  let shared = "";
  let best = 0;
  for (const v of [...variants].sort((a, b) => NETWORKS.indexOf(a.network) - NETWORKS.indexOf(b.network))) {
    const n = counts.get(v.text) ?? 0;
    if (n > best) [shared, best] = [v.text, n];
  }
  const drafts: Partial<Record<Network, VariantDraft>> = {};
  for (const v of variants) {
    drafts[v.network] = {
      text: v.text === shared ? null : v.text,
      media: (v.media_urls ?? []).join("\n"),
      link: v.link ?? "",
      title: v.title ?? "",
    };
  }
  const at = publishAt(c);
  return {
    title: c.title,
    text: shared,
    targets: [...c.targets],
    variants: drafts,
    campaign: c.campaign_id ?? "",
    labels: c.labels.join(", "),
    scheduleAt: at === null ? "" : toLocalInput(at, zone),
    loaded: { networks: variants.map((v) => v.network), targets: [...c.targets] },
  };
}

/** The API body of the form, or the problems that keep it from being saved (in words). */
export function buildBody(
  form: ComposerForm,
  accounts: Account[],
  brand: string,
  zone: string,
): { body: ContentBody | null; problems: string[] } {
  const problems: string[] = [];
  const title = form.title.trim();
  if (!title) problems.push("Give the post a title (it names the post in the calendar and is not published).");
  const networks = formNetworks(form, accounts);
  if (!networks.length) problems.push("Choose at least one account to post from.");
  let schedule: ContentBody["schedule"] = null;
  if (form.scheduleAt.trim()) {
    const parsed = fromLocalInput(form.scheduleAt, zone);
    if (!parsed) problems.push("“Schedule at” is not a date and time; pick one or clear it.");
    else schedule = { at: new Date(parsed.at).toISOString(), time_zone: zone };
  }
  if (problems.length) return { body: null, problems };
  const campaign = form.campaign.trim();
  return {
    problems,
    body: {
      brand_id: brand,
      title,
      targets: [...form.targets].sort(),
      campaign_id: campaign || null,
      labels: parseLabels(form.labels),
      schedule,
      variants: networks.map((network) => {
        const v = variantFields(form, network);
        return {
          network,
          text: v.text,
          media_urls: v.mediaUrls,
          link: v.link.trim() || null,
          title: network === "reddit" ? v.title.trim() || null : null,
        };
      }),
    },
  };
}

// --- workflows and approvals -----------------------------------------------------------------

export interface WorkflowInfo {
  id: string;
  name: string;
  steps: string[];
}

function workflowInfo(w: Record<string, unknown>): WorkflowInfo & { labels: string[]; position: number } {
  const steps = Array.isArray(w.steps) ? w.steps : [];
  return {
    id: str(w.id),
    name: str(w.name) || str(w.id),
    steps: steps.map((s, i) => (s && typeof s === "object" ? str((s as Record<string, unknown>).name) : "") || `Step ${i + 1}`),
    labels: Array.isArray(w.labels) ? w.labels.filter((l): l is string => typeof l === "string") : [],
    position: typeof w.position === "number" ? w.position : 0,
  };
}

/**
 * The workflow an item with `labels` goes through (domain/approvals.py select_workflow): the
 * first by position, then id, sharing a label with it; else the brand's default (no labels);
 * else none, and the item needs no approval.
 */
export function selectWorkflow(workflows: Record<string, unknown>[], labels: string[]): WorkflowInfo | null {
  const own = workflows.map(workflowInfo).sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const wanted = new Set(labels);
  const found = own.find((w) => w.labels.some((l) => wanted.has(l))) ?? own.find((w) => w.labels.length === 0);
  return found ? { id: found.id, name: found.name, steps: found.steps } : null;
}

export function workflowById(workflows: Record<string, unknown>[], id: string | null | undefined): WorkflowInfo | null {
  const w = workflows.find((x) => x.id === id);
  if (!w) return null;
  const info = workflowInfo(w);
  return { id: info.id, name: info.name, steps: info.steps };
}

/** Who asked for approval and when (the last submission), else who created the item. */
export function requesterOf(c: Content): { user: string; at: string } {
  const submitted = [...c.approval.audit].reverse().find((e) => e.action === "submitted");
  return submitted ? { user: submitted.user, at: submitted.at } : { user: c.created_by, at: c.created_at };
}

/** "Step 2 of 3: Legal" for a submitted item, when its workflow is known. */
export function stepText(c: Content, workflow: WorkflowInfo | null): string {
  if (!workflow) return "";
  const n = c.approval.step;
  const name = workflow.steps[n];
  return `Step ${n + 1} of ${workflow.steps.length}${name ? `: ${name}` : ""} (${workflow.name})`;
}

export const AUDIT_WORDS: Record<string, string> = {
  submitted: "Submitted for approval",
  approved: "Approved",
  rejected: "Rejected",
  commented: "Commented",
  reset: "Sent back to draft",
  rescheduled: "Moved",
};

/** An audit entry's detail in words; times in a reschedule are formatted by `formatTime`. */
export function auditDetail(entry: AuditEntry, formatTime: (ms: number) => string): string {
  const reason = entry.reason ?? "";
  if (entry.action === "rescheduled") {
    const [from, to] = reason.split(" → ");
    const show = (part: string | undefined) => {
      if (!part || part === "unscheduled") return "no time";
      const t = Date.parse(part);
      return Number.isNaN(t) ? part : formatTime(t);
    };
    return `from ${show(from)} to ${show(to)}`;
  }
  if (entry.action === "reset" && reason === "content changed") return "the content changed after approval";
  return reason;
}

/** Comments (and rejections, which carry a reason) in the order they were made. */
export function commentsOf(c: Content): AuditEntry[] {
  return c.approval.audit.filter((e) => e.action === "commented" || e.action === "rejected");
}

// --- failed deliveries -----------------------------------------------------------------------

export interface Failure {
  accountId: string | null;
  network: string;
  code: string;
  message: string;
  /** When it failed (epoch ms), when the history tells. */
  at: number | null;
  attempts: number;
}

/** Words for the publisher's own failure codes, when the delivery has no message. */
const FAILURE_WORDS: Record<string, string> = {
  "account.missing": "The account was disconnected; connect it again in Settings.",
  "account.token_unavailable": "The account's token cannot be read; renew it in Settings.",
  "delivery.gave_up": "The network kept failing; the publisher gave up after several attempts.",
  "delivery.unverified": "The network did not answer and cannot tell whether it posted; check the channel before retrying.",
  "rate_limit.exhausted": "The account's posting limit would not allow it for hours; retry later.",
};

export function failureWords(code: string, message: string): string {
  if (message.trim()) return message.trim();
  return FAILURE_WORDS[code] ?? `The network refused the post (code ${code || "unknown"}).`;
}

function errorFields(error: Record<string, unknown> | null | undefined): { code: string; message: string } {
  return { code: str(error?.code), message: str(error?.message) };
}

/** The failed deliveries of an item, from its delivery history. */
export function failuresOf(deliveries: Delivery[]): Failure[] {
  return deliveries
    .filter((d) => d.state === "failed")
    .map((d) => {
      const { code, message } = errorFields(d.error);
      const failed = [...(d.history ?? [])].reverse().find((h) => h.what === "failed");
      const atMs = failed && typeof failed.at_ms === "number" ? failed.at_ms : null;
      return { accountId: d.account_id, network: d.network, code, message: failureWords(code, message), at: atMs, attempts: d.attempts };
    });
}

/** The failed deliveries from the item's own summary (when the history is not loaded). */
export function failuresFromSummary(c: Content): Failure[] {
  return Object.entries(c.deliveries)
    .filter(([, d]) => d.state === "failed")
    .map(([accountId, d]) => {
      const { code, message } = errorFields(d.error);
      return { accountId, network: d.network ?? "", code, message: failureWords(code, message), at: null, attempts: d.attempts };
    });
}
