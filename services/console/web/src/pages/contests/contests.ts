// Contests in words: states, entry rules, decisions, the set-up form and its mapping to the
// publisher's API (services/publisher/src/smm_publisher/api/contests.py), the next steps of
// a contest and the counts of its entries. Pure: no React, no fetch.
import type { PublisherTypes } from "../../api/client";
import { networkName, type Network } from "../../lib/networks";
import { timeZone } from "../../lib/time";
import { fromLocalInput, toLocalInput } from "../../lib/zoned";

type Schemas = PublisherTypes["schemas"];
export type Contest = Schemas["ContestOut"];
export type ContestIn = Schemas["ContestIn"];
export type ContestReplaceIn = Schemas["ContestReplaceIn"];
export type Entry = Schemas["EntryOut"];
export type Certificate = Schemas["CertificateOut"];
export type ContestStatus = Contest["status"];
export type Method = ContestIn["methods"][number];
export type Policy = ContestIn["unknown_followers"];

// --- limits the API enforces (ContestIn) ------------------------------------------------

export const LIMITS = {
  title: 200,
  nativeId: 256,
  hashtag: 100,
  winners: 1000,
  accountAgeDays: 36_500,
  listItem: 256,
  listItems: 10_000,
} as const;

// --- words ---------------------------------------------------------------------------------

export const STATUSES: ContestStatus[] = ["draft", "open", "closed", "drawn", "announced"];

type Tone = "neutral" | "ok" | "warning" | "danger" | "info";

export const STATUS_WORDS: Record<ContestStatus, { label: string; tone: Tone; meaning: string }> = {
  draft: {
    label: "Draft",
    tone: "neutral",
    meaning: "Being set up: its rules can still change, and nothing counts as an entry yet.",
  },
  open: {
    label: "Open",
    tone: "info",
    meaning: "Taking entries: the rules are fixed and the draw's commitment is published.",
  },
  closed: {
    label: "Closed",
    tone: "warning",
    meaning: "The entry window is over: the winners can be drawn.",
  },
  drawn: {
    label: "Winners drawn",
    tone: "ok",
    meaning: "The winners are drawn and the certificate is final: nothing enters any more.",
  },
  announced: {
    label: "Announced",
    tone: "ok",
    meaning: "The winners are drawn and a post announcing them was created.",
  },
};

/** The state in words for now: an open contest may not take entries yet, or be closing. */
export function statusText(contest: Pick<Contest, "status" | "opens_at" | "closes_at">, now: number): string {
  const words = STATUS_WORDS[contest.status]?.label ?? contest.status;
  if (contest.status === "open") {
    if (now < Date.parse(contest.opens_at)) return "Open, entries not counting yet";
    if (now >= Date.parse(contest.closes_at)) return "Open, closing now";
    return "Open, taking entries";
  }
  return words;
}

export const METHOD_WORDS: Record<Method, { label: string; hint: string }> = {
  hashtag: {
    label: "A comment with the hashtag",
    hint: "A comment, reply or quote of the post whose text holds the hashtag (any letter case).",
  },
  reply: { label: "Any comment or reply", hint: "Any comment or reply on the post, whatever it says." },
  repost: { label: "A repost", hint: "A repost (share) of the post." },
};
export const METHODS: Method[] = ["hashtag", "reply", "repost"];

export const POLICY_WORDS: Record<Policy, string> = {
  accept: "Let them enter",
  reject: "Do not let them enter",
};

export const KIND_WORDS: Record<string, string> = {
  post: "Quote or post",
  comment: "Comment",
  reply: "Reply",
  repost: "Repost",
};

/** Why an entry does or does not count, in a few words (the API's stable decision codes). */
export const DECISION_WORDS: Record<string, string> = {
  eligible: "Counts",
  "contest.not_open": "The contest was not open",
  "contest.already_drawn": "Came after the draw",
  "entry.wrong_network": "On another network",
  "entry.not_on_post": "Not on the contest post",
  "entry.too_early": "Made before the contest opened",
  "entry.too_late": "Made after the contest closed",
  "entry.kind_not_accepted": "This kind of entry is not accepted",
  "entry.missing_hashtag": "Hashtag missing",
  "entry.blocked": "Author is on the block list",
  "entry.employee": "Author is an employee",
  "entry.too_few_followers": "Too few followers",
  "entry.followers_unknown": "Followers unknown",
  "entry.account_too_new": "Account too new",
  "entry.account_age_unknown": "Account age unknown",
  "entry.duplicate": "Author already entered (one entry each)",
  "entry.withdrawn": "Withdrawn: deleted before the draw",
};

export function decisionText(decision: { code: string; message?: string }): string {
  return DECISION_WORDS[decision.code] ?? (decision.message || decision.code);
}

/** Whether an entry takes part in the draw (withdrawn ones never do). */
export function counts(entry: Pick<Entry, "decision" | "withdrawn">): boolean {
  return entry.decision.eligible && !entry.withdrawn;
}

/** "27 Nov 2026, 14:05 CET": a full date for rules and certificates, in the user's zone. */
export function formatFullDateTime(value: string | number | Date, zone = timeZone()): string {
  return new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: zone,
    timeZoneName: "short",
  }).format(value instanceof Date ? value : new Date(value));
}

export function contestName(contest: Pick<Contest, "title" | "id">): string {
  return contest.title.trim() || `Untitled contest ${contest.id.slice(0, 8)}`;
}

/** "1st", "2nd", "3rd", "11th", "22nd". */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th"}`;
}

// --- the form ------------------------------------------------------------------------------

/** What the set-up form holds: text as typed, times as wall clocks in the user's zone. */
export interface ContestForm {
  title: string;
  network: Network | "";
  post_native_id: string;
  thread_native_id: string;
  opens_at: string;
  closes_at: string;
  methods: Method[];
  hashtag: string;
  winner_count: string;
  min_followers: string;
  unknown_followers: Policy;
  min_account_age_days: string;
  unknown_account_age: Policy;
  blocked: string;
  employees: string;
}
export type FormField = keyof ContestForm;
export type FieldErrors = Partial<Record<FormField, string>>;

export const FIELD_LABELS: Record<FormField, string> = {
  title: "Name",
  network: "Network",
  post_native_id: "Post id",
  thread_native_id: "Comment thread id",
  opens_at: "Entries open",
  closes_at: "Entries close",
  methods: "Ways to enter",
  hashtag: "Hashtag",
  winner_count: "Number of winners",
  min_followers: "Minimum followers",
  unknown_followers: "Where followers are unknown",
  min_account_age_days: "Minimum account age (days)",
  unknown_account_age: "Where account age is unknown",
  blocked: "Blocked authors",
  employees: "Employees",
};

const HOUR = 3_600_000;

/** The instant (ISO 8601, UTC) of a datetime-local value read in `zone`, or null when it is not a time. */
function instantOf(value: string, zone: string): string | null {
  const parsed = fromLocalInput(value, zone);
  return parsed ? new Date(parsed.at).toISOString() : null;
}

/** A new contest: opening at the next full hour, closing a week later. */
export function emptyForm(now: number, zone = timeZone()): ContestForm {
  const opens = Math.ceil((now + 1) / HOUR) * HOUR;
  return {
    title: "",
    network: "",
    post_native_id: "",
    thread_native_id: "",
    opens_at: toLocalInput(opens, zone),
    closes_at: toLocalInput(opens + 7 * 24 * HOUR, zone),
    methods: ["hashtag"],
    hashtag: "",
    winner_count: "1",
    min_followers: "0",
    unknown_followers: "accept",
    min_account_age_days: "0",
    unknown_account_age: "accept",
    blocked: "",
    employees: "",
  };
}

/** The form showing a stored contest (to edit a draft). */
export function formFromContest(contest: Contest, zone = timeZone()): ContestForm {
  return {
    title: contest.title,
    network: contest.network,
    post_native_id: contest.post_native_id,
    thread_native_id: contest.thread_native_id ?? "",
    opens_at: toLocalInput(contest.opens_at, zone),
    closes_at: toLocalInput(contest.closes_at, zone),
    methods: METHODS.filter((m) => contest.methods.includes(m)),
    hashtag: contest.hashtag ? `#${contest.hashtag}` : "",
    winner_count: String(contest.winner_count),
    min_followers: String(contest.min_followers),
    unknown_followers: contest.unknown_followers,
    min_account_age_days: String(contest.min_account_age_days),
    unknown_account_age: contest.unknown_account_age,
    blocked: contest.blocked.join("\n"),
    employees: contest.employees.join("\n"),
  };
}

/** The items of a list field: one per line (or comma), trimmed, without blanks or repeats. */
export function parseList(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(/[\n,]/)) {
    const item = raw.trim();
    if (item) seen.add(item);
  }
  return [...seen];
}

const WHOLE = /^\s*\d+\s*$/;
// Python's \w after NFKC: letters, marks, digits and connector punctuation (the underscore).
const HASHTAG = /^[\p{L}\p{M}\p{N}\p{Pc}]+$/u;

function wholeNumber(value: string): number | null {
  return WHOLE.test(value) ? Number(value) : null;
}

/** The hashtag without its "#" and spaces, as the API stores it. */
export function cleanHashtag(value: string): string {
  return value.trim().replace(/^#/, "");
}

/** The mistakes the API would refuse, found before sending, in words per field. */
export function validateForm(form: ContestForm, zone = timeZone()): FieldErrors {
  const errors: FieldErrors = {};
  if (form.title.length > LIMITS.title) errors.title = `Use at most ${LIMITS.title} characters.`;
  if (!form.network) errors.network = "Choose the network the contest post is on.";
  const post = form.post_native_id.trim();
  if (!post) errors.post_native_id = "Enter the id of the contest post.";
  else if (post.length > LIMITS.nativeId) errors.post_native_id = `Use at most ${LIMITS.nativeId} characters.`;
  if (form.thread_native_id.trim().length > LIMITS.nativeId) {
    errors.thread_native_id = `Use at most ${LIMITS.nativeId} characters.`;
  }
  const opens = form.opens_at ? instantOf(form.opens_at, zone) : null;
  const closes = form.closes_at ? instantOf(form.closes_at, zone) : null;
  if (!opens) errors.opens_at = "Enter the date and time entries start to count.";
  if (!closes) errors.closes_at = "Enter the date and time entries stop counting.";
  if (opens && closes && Date.parse(closes) <= Date.parse(opens)) {
    errors.closes_at = "The contest must close after it opens.";
  }
  if (form.methods.length === 0) errors.methods = "Choose at least one way to enter.";
  const tag = cleanHashtag(form.hashtag);
  if (form.methods.includes("hashtag") && !tag) {
    errors.hashtag = "Entering with a hashtag needs the hashtag, e.g. #AcmeGiveaway.";
  } else if (tag && !HASHTAG.test(tag.normalize("NFKC"))) {
    errors.hashtag = "A hashtag holds only letters, digits and _ (no spaces or punctuation).";
  } else if (tag.length > LIMITS.hashtag) {
    errors.hashtag = `Use at most ${LIMITS.hashtag} characters.`;
  }
  const winners = wholeNumber(form.winner_count);
  if (winners === null || winners < 1 || winners > LIMITS.winners) {
    errors.winner_count = `Enter a whole number from 1 to ${LIMITS.winners}.`;
  }
  if (wholeNumber(form.min_followers) === null) {
    errors.min_followers = "Enter a whole number, 0 for no minimum.";
  }
  const age = wholeNumber(form.min_account_age_days);
  if (age === null || age > LIMITS.accountAgeDays) {
    errors.min_account_age_days = `Enter a whole number of days from 0 to ${LIMITS.accountAgeDays}, 0 for no minimum.`;
  }
  for (const field of ["blocked", "employees"] as const) {
    const items = parseList(form[field]);
    const long = items.find((i) => i.length > LIMITS.listItem);
    if (items.length > LIMITS.listItems) errors[field] = `List at most ${LIMITS.listItems} authors.`;
    else if (long) errors[field] = `"${long.slice(0, 40)}…" is too long: an id or handle has at most ${LIMITS.listItem} characters.`;
  }
  return errors;
}

/** The API body for a valid form (call `validateForm` first). */
export function formToBody(form: ContestForm, brandId: string, zone = timeZone()): ContestIn {
  const tag = cleanHashtag(form.hashtag);
  const thread = form.thread_native_id.trim();
  return {
    brand_id: brandId,
    title: form.title.trim(),
    network: form.network as Network,
    post_native_id: form.post_native_id.trim(),
    thread_native_id: thread || null,
    opens_at: instantOf(form.opens_at, zone) ?? form.opens_at,
    closes_at: instantOf(form.closes_at, zone) ?? form.closes_at,
    methods: METHODS.filter((m) => form.methods.includes(m)),
    // A hashtag typed while hashtag entry is off is kept only if entering by it is on.
    hashtag: tag && form.methods.includes("hashtag") ? tag : null,
    winner_count: Number(form.winner_count.trim()),
    min_followers: Number(form.min_followers.trim()),
    unknown_followers: form.unknown_followers,
    min_account_age_days: Number(form.min_account_age_days.trim()),
    unknown_account_age: form.unknown_account_age,
    blocked: parseList(form.blocked),
    employees: parseList(form.employees),
  };
}

// --- the API's refusals, in words per field ---------------------------------------------------

/** The parts of an ApiProblem this reads (client.ts). */
export interface ProblemLike {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

interface ValidationDetail {
  loc?: unknown[];
  msg?: string;
  type?: string;
}

const FORM_FIELDS = new Set<string>(Object.keys(FIELD_LABELS));

function firstNumber(text: string | undefined): string | null {
  return /(\d[\d,_]*)/.exec(text ?? "")?.[1] ?? null;
}

/** One pydantic error detail in words (the field's label is shown next to it). */
export function detailText(detail: ValidationDetail, field?: FormField): string {
  const n = firstNumber(detail.msg);
  const item = detail.loc && typeof detail.loc[2] === "number" ? `Line ${detail.loc[2] + 1}: ` : "";
  switch (detail.type) {
    case "missing":
      return field === "network" ? "Choose the network." : "This is required.";
    case "string_too_short":
      return `${item}This cannot be empty.`;
    case "string_too_long":
      return `${item}Use at most ${n ?? "fewer"} characters.`;
    case "greater_than_equal":
      return `Enter ${n ?? "a larger number"} or more.`;
    case "greater_than":
      return `Enter more than ${n ?? "that"}.`;
    case "less_than_equal":
      return `Enter ${n ?? "a smaller number"} or less.`;
    case "less_than":
      return `Enter less than ${n ?? "that"}.`;
    case "int_parsing":
    case "int_type":
    case "int_from_float":
      return "Enter a whole number.";
    case "too_short":
      return field === "methods" ? "Choose at least one way to enter." : `Give at least ${n ?? "one"}.`;
    case "too_long":
      return `Give at most ${n ?? "fewer"} items.`;
    case "timezone_aware":
      return "The time needs a time zone.";
    case "datetime_parsing":
    case "datetime_from_date_parsing":
    case "datetime_type":
      return "Enter a valid date and time.";
    case "literal_error":
    case "enum":
      return `Choose one of the offered values (${detail.msg ?? ""}).`;
    case "extra_forbidden":
      return "The API does not take this field.";
    default:
      return `${item}${detail.msg ?? "This value is not accepted."}`;
  }
}

/** Domain refusals (422 contest.invalid) name no field: find it from the message. */
const MESSAGE_FIELDS: [RegExp, FormField][] = [
  [/close after it opens|closes_at/i, "closes_at"],
  [/opens_at/i, "opens_at"],
  [/way to enter/i, "methods"],
  [/hashtag/i, "hashtag"],
  [/native id of its post/i, "post_native_id"],
  [/winner/i, "winner_count"],
  [/followers/i, "min_followers"],
  [/account age/i, "min_account_age_days"],
];

export interface FormProblem {
  fields: FieldErrors;
  /** What belongs to no field (or the whole refusal when nothing maps to a field). */
  general: string | null;
}

/** The API's refusal of a create or replace, spread onto the form's fields where it can. */
export function formProblem(problem: ProblemLike): FormProblem {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  if (problem.status === 422 && Array.isArray(problem.details)) {
    for (const raw of problem.details as ValidationDetail[]) {
      const loc = raw.loc ?? [];
      const name = loc[0] === "body" ? loc[1] : loc[0];
      if (typeof name === "string" && FORM_FIELDS.has(name)) {
        const field = name as FormField;
        const text = detailText(raw, field);
        fields[field] = fields[field] ? `${fields[field]} ${text}` : text;
      } else {
        rest.push(`${loc.slice(1).join(".") || "request"}: ${raw.msg ?? "not accepted"}`);
      }
    }
    return { fields, general: rest.length ? rest.join("; ") : null };
  }
  if (problem.status === 422 && problem.code.startsWith("contest.")) {
    const match = MESSAGE_FIELDS.find(([pattern]) => pattern.test(problem.message));
    if (match) return { fields: { [match[1]]: problem.message }, general: null };
  }
  return { fields, general: problem.message };
}

// --- the steps of a contest --------------------------------------------------------------------

export type ActionName = "open" | "draw" | "announce";

export interface Step {
  action: ActionName;
  /** The button's name. */
  label: "Open" | "Draw winners" | "Announce";
  state: "done" | "now" | "later";
  /** Whether the button works now. */
  enabled: boolean;
  /** Why it does not work now (shown next to the disabled button). */
  reason: string | null;
  /** When it was done (ISO), once done. */
  doneAt: string | null;
}

export interface Abilities {
  write: boolean;
  approve: boolean;
}

const ORDER: Record<ContestStatus, number> = { draft: 0, open: 1, closed: 2, drawn: 3, announced: 4 };

/** The three actions of a contest, in order, with what can be done now and why not. */
export function contestSteps(
  contest: Contest,
  now: number,
  can: Abilities,
  format: (iso: string) => string = (iso) => formatFullDateTime(iso),
): Step[] {
  const at = ORDER[contest.status];
  const closes = Date.parse(contest.closes_at);
  const noWrite = "Your role cannot change contests (it needs content:write).";

  let openReason: string | null = null;
  if (at > 0) openReason = null;
  else if (!can.write) openReason = noWrite;
  else if (now >= closes) {
    openReason = `The entry window ended ${format(contest.closes_at)}: edit the dates before opening.`;
  }

  let drawReason: string | null = null;
  if (at === 0) drawReason = "Open the contest first; winners are drawn after it closes.";
  else if (at === 1 && now < closes) {
    drawReason = `Entries close ${format(contest.closes_at)}; the winners can be drawn after that.`;
  } else if (at <= 2 && !can.approve) {
    drawReason = "Only SMM managers and admins can draw (it needs content:approve).";
  }

  let announceReason: string | null = null;
  if (at < 3) announceReason = "Draw the winners first.";
  else if (at === 3 && !can.write) announceReason = noWrite;

  const state = (doneFrom: number, nowFrom: number[]): Step["state"] =>
    at >= doneFrom ? "done" : nowFrom.includes(at) ? "now" : "later";

  return [
    {
      action: "open",
      label: "Open",
      state: state(1, [0]),
      enabled: at === 0 && openReason === null,
      reason: at === 0 ? openReason : null,
      doneAt: contest.opened_at ?? null,
    },
    {
      action: "draw",
      label: "Draw winners",
      // Next once the window is over (an open contest past its close is closed by the draw).
      state: at === 2 || (at === 1 && now >= closes) ? "now" : state(3, []),
      enabled: at >= 1 && at <= 2 && drawReason === null,
      reason: at < 3 ? drawReason : null,
      doneAt: contest.drawn_at ?? null,
    },
    {
      action: "announce",
      label: "Announce",
      state: state(4, [3]),
      enabled: at === 3 && announceReason === null,
      reason: at < 4 ? announceReason : null,
      doneAt: contest.announced_at ?? null,
    },
  ];
}

// --- entries -----------------------------------------------------------------------------------

export interface EntryCounts {
  total: number;
  counting: number;
  notCounting: number;
  /** Why the others do not count, most frequent first. */
  reasons: { code: string; label: string; count: number }[];
}

export function countEntries(entries: readonly Pick<Entry, "decision" | "withdrawn">[]): EntryCounts {
  const byCode = new Map<string, number>();
  let counting = 0;
  for (const entry of entries) {
    if (counts(entry)) {
      counting += 1;
      continue;
    }
    const code = entry.withdrawn ? "entry.withdrawn" : entry.decision.code;
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }
  const reasons = [...byCode.entries()]
    .map(([code, count]) => ({ code, label: DECISION_WORDS[code] ?? code, count }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  return { total: entries.length, counting, notCounting: entries.length - counting, reasons };
}

/** "x|12345" as a person reads it: the author's handle where an entry tells it. */
export function authorOfKey(key: string, entries: readonly Pick<Entry, "author_key" | "author_handle">[]): string {
  const handle = entries.find((e) => e.author_key === key && e.author_handle)?.author_handle;
  const [network, ...id] = key.split("|");
  const who = handle ? (handle.startsWith("@") ? handle : `@${handle}`) : `author ${id.join("|")}`;
  return `${who} on ${networkName(network ?? "")}`;
}

/** "1 entry", "12 entries". */
export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
