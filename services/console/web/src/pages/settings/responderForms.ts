// The responder's settings as forms: routing rules (and the default rule), SLA policies,
// business-hours calendars, departments, escalation rules, canned responses, the brand's
// configuration and agents. Each kind has a layout, a model of an item, cross-field checks
// and the API body of a model. Pure: the React sections only wire these to the API.
import type { ResponderTypes } from "../../api/client";
import { NETWORKS, NETWORK_NAMES } from "../../lib/networks";
import {
  flatten,
  formatMinutes,
  getPath,
  nest,
  options,
  withCurrent,
  type Errors,
  type FieldSpec,
  type Layout,
  type Model,
  type Option,
} from "./formkit";

type S = ResponderTypes["schemas"];
/** A settings document as the responder lists it (id, fields, version). */
export type Doc = Record<string, unknown>;

/** Choices that come from other settings of the brand. */
export interface Lookups {
  departments: Option[];
  slaPolicies: Option[];
  calendars: Option[];
}

export const NO_LOOKUPS: Lookups = { departments: [], slaPolicies: [], calendars: [] };

const MENTION_KINDS = ["post", "comment", "reply", "direct_message", "repost", "review"];
const MENTION_KIND_LABELS: Record<string, string> = { direct_message: "direct message" };
const SENTIMENTS = ["positive", "neutral", "negative", "mixed", "unknown"];
export const PRIORITIES: S["ApprovalIn"]["priorities"] = ["low", "normal", "high", "urgent"];
export const SLA_METRICS: S["TargetIn"]["metric"][] = ["first_response", "next_response", "resolution", "time_to_assignment"];
export const METRIC_LABELS: Record<string, string> = {
  first_response: "First response",
  next_response: "Next response",
  resolution: "Resolution",
  time_to_assignment: "Time to assignment",
  department_response: "Department response (handoffs)",
};
const ESCALATION_METRICS = [...SLA_METRICS, "department_response"];
const ASSIGNMENTS = ["round_robin", "least_loaded", "manual"];
const ASSIGNMENT_LABELS: Record<string, string> = {
  round_robin: "Round robin among agents with room",
  least_loaded: "The least loaded agent",
  manual: "Nobody: wait in the department's queue",
};
const SKILLS = ["language", "network"];
const SKILL_LABELS: Record<string, string> = { language: "Reads the case's language", network: "Handles the case's network" };
export const DEFAULT_POSITION = 1_000_000;
const LANGUAGE_TAG = "[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*";
const SLUG = "[a-z0-9][a-z0-9_-]*";
const SLUG_MESSAGE = "use lower-case letters, digits, '-' and '_', starting with a letter or digit.";

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** The API id of a settings document. */
export function docId(doc: Doc): string {
  return String(doc.id ?? "");
}

/** The version a document was read at (for optimistic replaces). */
export function docVersion(doc: Doc): number {
  return typeof doc.version === "number" ? doc.version : 1;
}

// --- routing rules -----------------------------------------------------------------------

const CONDITION_FIELDS = (): FieldSpec[] => [
  { type: "multi", name: "conditions.networks", label: "Networks", options: options(NETWORKS, NETWORK_NAMES), hint: "None ticked: any network." },
  { type: "multi", name: "conditions.kinds", label: "Kinds of mention", options: options(MENTION_KINDS, MENTION_KIND_LABELS), hint: "None ticked: any kind." },
  {
    type: "list",
    name: "conditions.languages",
    label: "Languages",
    hint: "Language tags, comma-separated: en also covers en-GB. Empty: any language.",
    itemPattern: LANGUAGE_TAG,
    itemMessage: "not a language tag like en or pt-BR.",
  },
  { type: "multi", name: "conditions.sentiment_labels", label: "Sentiment", options: options(SENTIMENTS) },
  { type: "number", name: "conditions.min_sentiment_score", label: "Lowest sentiment score", min: -1, max: 1, step: 0.05, hint: "From -1 (very negative) to 1; empty: no lower bound." },
  { type: "number", name: "conditions.max_sentiment_score", label: "Highest sentiment score", min: -1, max: 1, step: 0.05, hint: "Empty: no upper bound." },
  {
    type: "list",
    name: "conditions.text_keywords",
    label: "Words or phrases in the text",
    separator: "line",
    hint: "One per line; any of them matches (whole words, any case).",
    maxItems: 100,
    maxLength: 200,
  },
  { type: "list", name: "conditions.keyword_labels", label: "Keyword rule labels", hint: "Labels of the brand's keyword rules (Settings → Keyword rules), comma-separated." },
  { type: "list", name: "conditions.topics", label: "Topics", hint: "Topic labels found by the keyword rules, comma-separated." },
  {
    type: "select",
    name: "conditions.keyword_join",
    label: "Words, labels and topics",
    options: [
      { value: "all", label: "Each one filled in must match" },
      { value: "any", label: "Any one of them is enough" },
    ],
    default: "all",
  },
  { type: "multi", name: "conditions.priority_hints", label: "Priority suggested by ingest", options: options(PRIORITIES) },
  { type: "number", name: "conditions.min_author_followers", label: "Author has at least this many followers", min: 0, integer: true },
  { type: "tristate", name: "conditions.author_verified", label: "Verified author", either: "Either", yes: "Verified only", no: "Not known to be verified" },
  { type: "tristate", name: "conditions.on_own_post", label: "On the brand's own post", either: "Either", yes: "Only on our posts", no: "Only elsewhere" },
];

const ACTION_FIELDS = (lookups: Lookups, current: Model): FieldSpec[] => [
  {
    type: "select",
    name: "actions.department",
    label: "Send to department",
    options: withCurrent(lookups.departments, current["actions.department"]),
    empty: "null",
    emptyLabel: "No department (general queue)",
  },
  {
    type: "select",
    name: "actions.priority",
    label: "Priority",
    options: options(PRIORITIES),
    empty: "null",
    emptyLabel: "Keep the priority ingest suggested",
  },
  { type: "list", name: "actions.tags", label: "Tags to add", maxItems: 20, maxLength: 64, hint: "Comma-separated." },
  {
    type: "select",
    name: "actions.sla_policy_id",
    label: "SLA policy",
    options: withCurrent(lookups.slaPolicies, current["actions.sla_policy_id"]),
    empty: "null",
    emptyLabel: "The brand's default policy",
  },
  { type: "select", name: "actions.assignment", label: "Assign to", options: options(ASSIGNMENTS, ASSIGNMENT_LABELS), default: "round_robin", required: true },
  {
    type: "multi",
    name: "actions.required_skills",
    label: "The assignee must",
    options: options(SKILLS, SKILL_LABELS),
    default: ["language", "network"],
  },
];

/** A routing rule's form; the default rule shows only its actions. */
export function routingRuleLayout(lookups: Lookups, current: Model, isDefault = false): Layout {
  const actions = { group: "Then", hint: "What happens to a matching case.", fields: ACTION_FIELDS(lookups, current) };
  if (isDefault) return [actions];
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    {
      type: "number",
      name: "position",
      label: "Position",
      required: true,
      integer: true,
      min: 0,
      max: DEFAULT_POSITION - 1,
      hint: "Rules are tried from the lowest position; the first that matches acts.",
    },
    { type: "boolean", name: "enabled", label: "Enabled", default: true },
    { group: "When", hint: "Every condition filled in must hold; empty ones do not count.", fields: CONDITION_FIELDS() },
    actions,
  ];
}

const ROUTING_NAMES = ["name", "position", "enabled", ...CONDITION_FIELDS().map((f) => f.name), ...ACTION_FIELDS(NO_LOOKUPS, {}).map((f) => f.name)];

/** Whether a listed rule is the brand's catch-all rule. */
export function isDefaultRule(doc: Doc, brand: string): boolean {
  return doc.is_default === true || docId(doc) === `default-${brand}`;
}

/** The position after the highest of the brand's ordinary rules, in steps of 10. */
export function nextPosition(rules: Doc[]): number {
  const positions = rules.map((r) => Number(r.position)).filter((p) => Number.isFinite(p) && p < DEFAULT_POSITION);
  return positions.length ? Math.min(Math.max(...positions) + 10, DEFAULT_POSITION - 1) : 10;
}

export function routingRuleModel(doc?: Doc, position = 10): Model {
  if (!doc) return { position, enabled: true };
  return flatten(doc, ROUTING_NAMES);
}

export function routingRuleCheck(model: Model): Errors {
  const low = model["conditions.min_sentiment_score"];
  const high = model["conditions.max_sentiment_score"];
  if (typeof low === "number" && typeof high === "number" && low > high) {
    return { "conditions.max_sentiment_score": "The highest score must not be below the lowest." };
  }
  return {};
}

function routingParts(model: Model): { conditions: Record<string, unknown>; actions: Record<string, unknown> } {
  const nested = nest(model);
  return {
    conditions: (nested.conditions as Record<string, unknown> | undefined) ?? {},
    actions: (nested.actions as Record<string, unknown> | undefined) ?? {},
  };
}

export function routingRuleBody(model: Model, brand: string): S["RoutingRuleIn"] {
  const { conditions, actions } = routingParts(model);
  return {
    brand_id: brand,
    name: str(model.name),
    position: Number(model.position),
    enabled: model.enabled !== false,
    conditions,
    actions,
  };
}

export function defaultActionsBody(model: Model, brand: string): S["DefaultActionsIn"] {
  return { brand_id: brand, actions: routingParts(model).actions };
}

function joinLabels(values: unknown, labels: Record<string, string> = {}): string {
  return list(values)
    .map((v) => labels[v] ?? v)
    .join(", ");
}

/** "Network: X, Telegram · Sentiment: negative" — the conditions in a line; "Every case" if none. */
export function describeConditions(conditions: unknown): string {
  const c = (conditions ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  const add = (label: string, value: string) => value && parts.push(`${label}: ${value}`);
  add("Network", joinLabels(c.networks, NETWORK_NAMES));
  add("Kind", joinLabels(c.kinds, MENTION_KIND_LABELS));
  add("Language", joinLabels(c.languages));
  add("Sentiment", joinLabels(c.sentiment_labels));
  const low = c.min_sentiment_score;
  const high = c.max_sentiment_score;
  if (typeof low === "number" || typeof high === "number") {
    add("Score", `${typeof low === "number" ? low : "−1"} to ${typeof high === "number" ? high : "1"}`);
  }
  const keywords = [
    list(c.text_keywords).length ? `words ${joinLabels(c.text_keywords)}` : "",
    list(c.keyword_labels).length ? `labels ${joinLabels(c.keyword_labels)}` : "",
    list(c.topics).length ? `topics ${joinLabels(c.topics)}` : "",
  ].filter(Boolean);
  if (keywords.length) add(c.keyword_join === "any" ? "Any of" : "All of", keywords.join("; "));
  add("Priority hint", joinLabels(c.priority_hints));
  if (typeof c.min_author_followers === "number") add("Followers", `≥ ${c.min_author_followers}`);
  if (c.author_verified === true) parts.push("Verified author");
  if (c.author_verified === false) parts.push("Author not verified");
  if (c.on_own_post === true) parts.push("On our post");
  if (c.on_own_post === false) parts.push("Not on our post");
  return parts.length ? parts.join(" · ") : "Every case";
}

/** "Department billing · priority high · SLA vip · round robin" — the actions in a line. */
export function describeActions(actions: unknown): string {
  const a = (actions ?? {}) as Record<string, unknown>;
  const parts = [
    a.department ? `Department ${str(a.department)}` : "No department",
    a.priority ? `priority ${str(a.priority)}` : "",
    list(a.tags).length ? `tags ${joinLabels(a.tags)}` : "",
    a.sla_policy_id ? `SLA ${str(a.sla_policy_id)}` : "",
    a.assignment ? str(a.assignment).replace("_", " ") : "round robin",
  ];
  return parts.filter(Boolean).join(" · ");
}

// --- SLA policies ------------------------------------------------------------------------

export function slaPolicyLayout(lookups: Lookups, current: Model): Layout {
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    {
      type: "select",
      name: "calendar_id",
      label: "Business hours",
      options: withCurrent(lookups.calendars, current.calendar_id),
      empty: "null",
      emptyLabel: "The brand's calendar (24/7 if none)",
      hint: "Targets count only working time of this calendar.",
    },
    { type: "boolean", name: "pause_when_pending_customer", label: "Pause the clock while waiting for the customer", default: true },
    ...SLA_METRICS.map((metric) => ({
      group: METRIC_LABELS[metric]!,
      hint: "Leave the target empty for no target on this metric.",
      fields: [
        { type: "duration", name: `${metric}.target_s`, label: `${METRIC_LABELS[metric]} target`, unit: "s", max: 366 * 1440, hint: 'Working time, e.g. "30 min", "4 h", "2 d".' },
        { type: "number", name: `${metric}.warn_percent`, label: `Warn at % of the ${METRIC_LABELS[metric]!.toLowerCase()} target`, min: 1, max: 99, integer: true },
        { type: "duration", name: `${metric}.warn_before_s`, label: `Or warn this long before the ${METRIC_LABELS[metric]!.toLowerCase()} breach`, unit: "s" },
      ] satisfies FieldSpec[],
    })),
  ];
}

export function slaPolicyModel(doc?: Doc): Model {
  if (!doc) return { pause_when_pending_customer: true, "first_response.target_s": 3600, "first_response.warn_percent": 80 };
  const model: Model = { name: doc.name, calendar_id: doc.calendar_id ?? null, pause_when_pending_customer: doc.pause_when_pending_customer !== false };
  for (const target of Array.isArray(doc.targets) ? (doc.targets as Record<string, unknown>[]) : []) {
    const metric = str(target.metric);
    for (const key of ["target_s", "warn_percent", "warn_before_s"]) {
      if (typeof target[key] === "number") model[`${metric}.${key}`] = target[key];
    }
  }
  return model;
}

export function slaPolicyCheck(model: Model): Errors {
  const errors: Errors = {};
  let targets = 0;
  for (const metric of SLA_METRICS) {
    const target = model[`${metric}.target_s`];
    const percent = model[`${metric}.warn_percent`];
    const before = model[`${metric}.warn_before_s`];
    const label = METRIC_LABELS[metric]!;
    if (typeof target !== "number") {
      if (typeof percent === "number" || typeof before === "number") {
        errors[`${metric}.target_s`] = `${label}: a warning needs a target; set the target or clear the warning.`;
      }
      continue;
    }
    targets += 1;
    if (typeof percent === "number" && typeof before === "number") {
      errors[`${metric}.warn_before_s`] = `${label}: warn by percentage or by time before the breach, not both.`;
    } else if (typeof before === "number" && before >= target) {
      errors[`${metric}.warn_before_s`] = `${label}: the warning must come before the breach (less than ${formatMinutes(target / 60)}).`;
    }
  }
  if (!targets) errors[`${SLA_METRICS[0]}.target_s`] = "A policy needs at least one target.";
  return errors;
}

export function slaPolicyBody(model: Model, brand: string): S["SlaPolicyIn"] {
  const targets: S["TargetIn"][] = [];
  for (const metric of SLA_METRICS) {
    const target = model[`${metric}.target_s`];
    if (typeof target !== "number") continue;
    const percent = model[`${metric}.warn_percent`];
    const before = model[`${metric}.warn_before_s`];
    targets.push({
      metric,
      target_s: target,
      warn_percent: typeof percent === "number" ? percent : null,
      warn_before_s: typeof before === "number" ? before : null,
    });
  }
  return {
    brand_id: brand,
    name: str(model.name),
    calendar_id: typeof model.calendar_id === "string" ? model.calendar_id : null,
    pause_when_pending_customer: model.pause_when_pending_customer !== false,
    targets,
  };
}

/** "First response 1 h (warn 80 %) · Resolution 1 d". */
export function describeTargets(targets: unknown): string {
  const rows = Array.isArray(targets) ? (targets as Record<string, unknown>[]) : [];
  return rows
    .map((t) => {
      const warn =
        typeof t.warn_percent === "number"
          ? ` (warn at ${t.warn_percent} %)`
          : typeof t.warn_before_s === "number"
            ? ` (warn ${formatMinutes(t.warn_before_s / 60)} before)`
            : "";
      return `${METRIC_LABELS[str(t.metric)] ?? str(t.metric)} ${typeof t.target_s === "number" ? formatMinutes(t.target_s / 60) : "?"}${warn}`;
    })
    .join(" · ");
}

// --- business-hours calendars -----------------------------------------------------------

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const WEEKDAY_LABELS: Record<string, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};
const DATE = "\\d{4}-\\d{2}-\\d{2}";

function clock(text: string, asEnd: boolean): string | null {
  const m = /^(\d{1,2})(?:[:.h](\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2] ?? "0");
  const ok = (h <= 23 && min <= 59) || (asEnd && h === 24 && min === 0);
  return ok ? `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}` : null;
}

/** `[["09:00","18:00"], ...]` from "9-18, 20:00-22:30"; an error names the bad part. */
export function parseIntervals(text: string): { intervals: string[][] } | { error: string } {
  const intervals: string[][] = [];
  for (const part of text.split(/[,;]/).map((p) => p.trim()).filter(Boolean)) {
    const pieces = part.split(/\s*(?:-|–|—|\bto\b)\s*/);
    const start = pieces.length === 2 ? clock(pieces[0]!, false) : null;
    const end = pieces.length === 2 ? clock(pieces[1]!, true) : null;
    if (!start || !end) return { error: `“${part}” is not an interval like 09:00-18:00 (24:00 allowed as an end).` };
    intervals.push([start, end]);
  }
  return { intervals };
}

export function formatIntervals(intervals: unknown): string {
  return (Array.isArray(intervals) ? intervals : [])
    .filter((p): p is unknown[] => Array.isArray(p) && p.length === 2)
    .map((p) => `${String(p[0])}-${String(p[1])}`)
    .join(", ");
}

export function calendarLayout(timeZones: string[]): Layout {
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { type: "text", name: "time_zone", label: "Time zone", required: true, maxLength: 64, suggestions: timeZones, placeholder: "Europe/Berlin", hint: "The zone the hours below are written in." },
    { type: "boolean", name: "always_open", label: "Open around the clock (24/7, no holidays)" },
    {
      group: "Working hours",
      hint: 'Per day, e.g. "09:00-18:00" or "09:00-13:00, 14:00-18:00"; "22:00-06:00" runs overnight. Empty: closed.',
      fields: WEEKDAYS.map((day) => ({ type: "text", name: `week.${day}`, label: WEEKDAY_LABELS[day]!, placeholder: "closed" }) satisfies FieldSpec),
    },
    { type: "text", name: "holidays_country", label: "Closed on public holidays of (country code)", maxLength: 8, empty: "null", placeholder: "DE", hint: "ISO code such as DE, US, RU; empty: no public holidays." },
    { type: "text", name: "holidays_subdivision", label: "Region for holidays", maxLength: 16, empty: "null", placeholder: "BY" },
    { type: "list", name: "closed_dates", label: "Also closed on", itemPattern: DATE, itemMessage: "write dates as YYYY-MM-DD.", maxItems: 1000, hint: "Dates YYYY-MM-DD, comma-separated." },
    { type: "list", name: "open_dates", label: "Open despite a holiday on", itemPattern: DATE, itemMessage: "write dates as YYYY-MM-DD.", maxItems: 1000 },
  ];
}

export function calendarModel(doc?: Doc): Model {
  if (!doc) {
    const model: Model = { time_zone: "UTC", always_open: false, closed_dates: [], open_dates: [] };
    for (const day of WEEKDAYS.slice(0, 5)) model[`week.${day}`] = "09:00-18:00";
    return model;
  }
  const model: Model = {
    name: doc.name,
    time_zone: doc.time_zone,
    always_open: doc.always_open === true,
    holidays_country: doc.holidays_country ?? null,
    holidays_subdivision: doc.holidays_subdivision ?? null,
    closed_dates: list(doc.closed_dates),
    open_dates: list(doc.open_dates),
  };
  for (const day of WEEKDAYS) model[`week.${day}`] = formatIntervals(getPath(doc, `week.${day}`));
  return model;
}

export function calendarCheck(model: Model): Errors {
  const errors: Errors = {};
  let any = false;
  for (const day of WEEKDAYS) {
    const parsed = parseIntervals(str(model[`week.${day}`]));
    if ("error" in parsed) errors[`week.${day}`] = `${WEEKDAY_LABELS[day]}: ${parsed.error}`;
    else if (parsed.intervals.length) any = true;
  }
  if (model.always_open === true) {
    if (any) errors["week.mon"] = 'A 24/7 calendar has no working hours: clear them, or write "00:00-24:00" every day and untick 24/7 to close on holidays.';
    if (model.holidays_country || list(model.closed_dates).length || list(model.open_dates).length) {
      errors.holidays_country = "A 24/7 calendar has no holidays or special dates: clear them or untick 24/7.";
    }
  } else if (!any && !Object.keys(errors).length) {
    errors["week.mon"] = "Give working hours on at least one day, or tick 24/7.";
  }
  const both = list(model.closed_dates).filter((d) => list(model.open_dates).includes(d));
  if (both.length) errors.open_dates = `A date cannot be both closed and open: ${both.join(", ")}.`;
  return errors;
}

export function calendarBody(model: Model, brand: string): S["CalendarIn"] {
  const week: Record<string, string[][]> = {};
  const open = model.always_open === true;
  for (const day of WEEKDAYS) {
    const parsed = parseIntervals(str(model[`week.${day}`]));
    if (!open && "intervals" in parsed && parsed.intervals.length) week[day] = parsed.intervals;
  }
  return {
    brand_id: brand,
    name: str(model.name),
    time_zone: str(model.time_zone),
    always_open: open,
    week,
    holidays_country: typeof model.holidays_country === "string" ? model.holidays_country.toUpperCase() : null,
    holidays_subdivision: typeof model.holidays_subdivision === "string" ? model.holidays_subdivision : null,
    closed_dates: list(model.closed_dates),
    open_dates: list(model.open_dates),
  };
}

/** "Mon–Fri 09:00-18:00 · Sat 10:00-14:00" or "24/7". */
export function describeWeek(doc: Doc): string {
  if (doc.always_open === true) return "24/7";
  const runs: { days: string[]; hours: string }[] = [];
  for (const day of WEEKDAYS) {
    const hours = formatIntervals(getPath(doc, `week.${day}`));
    if (!hours) continue;
    const last = runs[runs.length - 1];
    const prev = WEEKDAYS[WEEKDAYS.indexOf(day) - 1];
    if (last && last.hours === hours && prev && last.days[last.days.length - 1] === prev) last.days.push(day);
    else runs.push({ days: [day], hours });
  }
  const name = (d: string) => WEEKDAY_LABELS[d]!.slice(0, 3);
  return (
    runs
      .map((r) => `${name(r.days[0]!)}${r.days.length > 1 ? `–${name(r.days[r.days.length - 1]!)}` : ""} ${r.hours}`)
      .join(" · ") || "Closed every day"
  );
}

// --- departments -------------------------------------------------------------------------

export function departmentLayout(lookups: Lookups, current: Model, editing: boolean): Layout {
  return [
    {
      type: "text",
      name: "id",
      label: "Id",
      required: true,
      maxLength: 64,
      pattern: SLUG,
      patternMessage: `Id: ${SLUG_MESSAGE}`,
      readOnly: editing,
      hint: editing ? "Fixed once created (routing rules and agents refer to it)." : "Short and stable, e.g. billing; routing rules and agents refer to it.",
    },
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { type: "textarea", name: "description", label: "What the department handles", maxLength: 2000, rows: 3 },
    {
      type: "select",
      name: "sla_policy_id",
      label: "SLA policy of its cases",
      options: withCurrent(lookups.slaPolicies, current.sla_policy_id),
      empty: "null",
      emptyLabel: "As routing decides",
    },
    {
      type: "select",
      name: "calendar_id",
      label: "Business hours",
      options: withCurrent(lookups.calendars, current.calendar_id),
      empty: "null",
      emptyLabel: "The brand's calendar",
    },
    {
      type: "duration",
      name: "response_target_s",
      label: "Time to answer a handoff",
      unit: "s",
      max: 366 * 1440,
      hint: "Working time the department has to answer an agent's question; empty: no internal target.",
    },
    { type: "number", name: "warn_percent", label: "Warn at % of that time", min: 1, max: 99, integer: true },
  ];
}

const DEPARTMENT_NAMES = ["id", "name", "description", "sla_policy_id", "calendar_id", "response_target_s", "warn_percent"];

export function departmentModel(doc?: Doc): Model {
  return doc ? flatten(doc, DEPARTMENT_NAMES) : { description: "" };
}

export function departmentBody(model: Model, brand: string): S["DepartmentIn"] {
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  return {
    brand_id: brand,
    id: str(model.id),
    name: str(model.name),
    description: str(model.description),
    sla_policy_id: typeof model.sla_policy_id === "string" ? model.sla_policy_id : null,
    calendar_id: typeof model.calendar_id === "string" ? model.calendar_id : null,
    response_target_s: num(model.response_target_s),
    warn_percent: num(model.warn_percent),
  };
}

// --- escalation rules --------------------------------------------------------------------

export function escalationLayout(lookups: Lookups, current: Model): Layout {
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    {
      type: "select",
      name: "trigger",
      label: "When",
      required: true,
      options: [
        { value: "warning", label: "An SLA warning fires" },
        { value: "breach", label: "An SLA is breached" },
      ],
      default: "breach",
    },
    { type: "boolean", name: "enabled", label: "Enabled", default: true },
    { type: "number", name: "position", label: "Position", integer: true, min: 0, max: 1_000_000, default: 0, required: true, hint: "Matching rules act from the lowest position." },
    {
      group: "For",
      hint: "Empty: every metric, department and priority.",
      fields: [
        { type: "multi", name: "metrics", label: "Metrics", options: options(ESCALATION_METRICS, METRIC_LABELS) },
        { type: "multi", name: "departments", label: "Departments", options: lookups.departments.concat(list(current.departments).filter((d) => !lookups.departments.some((o) => o.value === d)).map((d) => ({ value: d, label: `${d} (not found)` }))) },
        { type: "select", name: "min_priority", label: "Cases of at least this priority", options: options(PRIORITIES), empty: "null", emptyLabel: "Any priority" },
      ],
    },
    {
      group: "Do",
      hint: "At least one action.",
      fields: [
        { type: "boolean", name: "raise_priority", label: "Raise the priority one step" },
        { type: "boolean", name: "reassign", label: "Take the case from its assignee and assign it again" },
        { type: "text", name: "assign_to", label: "Or assign to this user (id)", maxLength: 128, empty: "null" },
        {
          type: "select",
          name: "route_to_department",
          label: "Route to department",
          options: withCurrent(lookups.departments, current.route_to_department),
          empty: "null",
          emptyLabel: "Keep the department",
        },
        { type: "list", name: "notify", label: "Notify (user ids or queues)", maxItems: 50, hint: "Comma-separated." },
      ],
    },
  ];
}

const ESCALATION_NAMES = ["name", "trigger", "enabled", "position", "metrics", "departments", "min_priority", "raise_priority", "reassign", "assign_to", "route_to_department", "notify"];

export function escalationModel(doc?: Doc): Model {
  return doc ? flatten(doc, ESCALATION_NAMES) : { trigger: "breach", enabled: true, position: 0 };
}

export function escalationCheck(model: Model): Errors {
  if (model.reassign === true && model.assign_to) {
    return { assign_to: "Choose either reassigning by strategy or one user, not both." };
  }
  if (!(model.raise_priority === true || model.reassign === true || model.assign_to || model.route_to_department || list(model.notify).length)) {
    return { raise_priority: "The rule must do something: raise the priority, reassign, assign to someone, route or notify." };
  }
  return {};
}

export function escalationBody(model: Model, brand: string): S["EscalationRuleIn"] {
  const priority = PRIORITIES.find((p) => p === model.min_priority) ?? null;
  return {
    brand_id: brand,
    name: str(model.name),
    trigger: model.trigger === "warning" ? "warning" : "breach",
    metrics: list(model.metrics),
    departments: list(model.departments),
    min_priority: priority,
    position: Number(model.position ?? 0),
    enabled: model.enabled !== false,
    raise_priority: model.raise_priority === true,
    reassign: model.reassign === true,
    assign_to: typeof model.assign_to === "string" ? model.assign_to : null,
    route_to_department: typeof model.route_to_department === "string" ? model.route_to_department : null,
    notify: list(model.notify),
  };
}

// --- canned responses --------------------------------------------------------------------

export const TEMPLATE_VARIABLES: Record<string, string> = {
  author_name: "the customer's display name (or handle)",
  author_handle: "the customer's handle, with @",
  agent_name: "the name of the agent sending the reply",
  case_id: "the case number",
  brand: "the brand's name",
  department_answer: "the latest answer of the department the case was handed to",
};

/** The variables a template uses that the responder does not know. */
export function unknownVariables(text: string): string[] {
  const used = [...text.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].map((m) => m[1]!);
  return [...new Set(used.filter((v) => !(v in TEMPLATE_VARIABLES)))];
}

export function cannedLayout(): Layout {
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    {
      type: "textarea",
      name: "text",
      label: "Text",
      required: true,
      maxLength: 10_000,
      rows: 6,
      hint: `Variables: ${Object.keys(TEMPLATE_VARIABLES)
        .map((v) => `{{${v}}}`)
        .join(", ")}.`,
    },
    { type: "text", name: "language", label: "Language", maxLength: 16, empty: "null", pattern: LANGUAGE_TAG, patternMessage: "Language: a tag like en or pt-BR.", placeholder: "en" },
    { type: "list", name: "tags", label: "Tags", maxItems: 20, hint: "Comma-separated; agents can filter by them." },
  ];
}

export function cannedModel(doc?: Doc): Model {
  return doc ? flatten(doc, ["name", "text", "language", "tags"]) : { tags: [] };
}

export function cannedCheck(model: Model): Errors {
  const unknown = unknownVariables(str(model.text));
  return unknown.length
    ? { text: `Unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.map((v) => `{{${v}}}`).join(", ")}; use ${Object.keys(TEMPLATE_VARIABLES).map((v) => `{{${v}}}`).join(", ")}.` }
    : {};
}

export function cannedBody(model: Model, brand: string): S["CannedResponseIn"] {
  return {
    brand_id: brand,
    name: str(model.name),
    text: str(model.text),
    language: typeof model.language === "string" ? model.language : null,
    tags: list(model.tags),
  };
}

// --- brand configuration -------------------------------------------------------------------

export function brandConfigLayout(lookups: Lookups, current: Model): Layout {
  return [
    { type: "text", name: "brand_name", label: "Brand name in replies", maxLength: 200, hint: "Fills {{brand}} in canned responses." },
    { type: "number", name: "reopen_window_h", label: "Reopen a resolved case on a new message within (hours)", min: 0, max: 24 * 90, required: true },
    {
      type: "select",
      name: "default_sla_policy_id",
      label: "Default SLA policy",
      options: withCurrent(lookups.slaPolicies, current.default_sla_policy_id),
      empty: "null",
      emptyLabel: "None",
    },
    {
      type: "select",
      name: "calendar_id",
      label: "Business hours",
      options: withCurrent(lookups.calendars, current.calendar_id),
      empty: "null",
      emptyLabel: "24/7",
    },
    {
      group: "Replies wait for a manager's approval when the case has",
      fields: [
        { type: "multi", name: "approval.priorities", label: "Priority", options: options(PRIORITIES) },
        { type: "list", name: "approval.tags", label: "Any of these tags", hint: "Comma-separated." },
        { type: "multi", name: "approval.departments", label: "Department", options: lookups.departments },
      ],
    },
    {
      group: "Follow negative reviews after resolution",
      fields: [
        { type: "boolean", name: "review_follow_up.enabled", label: "Follow them" },
        { type: "number", name: "review_follow_up.threshold", label: "Sentiment score below", min: -1, max: 1, step: 0.05, required: true },
        { type: "number", name: "review_follow_up.days", label: "For how many days", min: 1, max: 90, integer: true, required: true },
      ],
    },
  ];
}

const BRAND_NAMES = [
  "brand_name",
  "reopen_window_h",
  "default_sla_policy_id",
  "calendar_id",
  "approval.priorities",
  "approval.tags",
  "approval.departments",
  "review_follow_up.enabled",
  "review_follow_up.threshold",
  "review_follow_up.days",
];

export function brandConfigModel(config: S["BrandConfigIn"]): Model {
  return flatten(config, BRAND_NAMES);
}

export function brandConfigBody(model: Model): S["BrandConfigIn"] {
  const nested = nest(model) as {
    approval?: Record<string, unknown>;
    review_follow_up?: Record<string, unknown>;
  };
  return {
    brand_name: str(model.brand_name),
    reopen_window_h: Number(model.reopen_window_h ?? 168),
    default_sla_policy_id: typeof model.default_sla_policy_id === "string" ? model.default_sla_policy_id : null,
    calendar_id: typeof model.calendar_id === "string" ? model.calendar_id : null,
    approval: {
      priorities: PRIORITIES.filter((p) => list(nested.approval?.priorities).includes(p)),
      tags: list(nested.approval?.tags),
      departments: list(nested.approval?.departments),
    },
    review_follow_up: {
      enabled: nested.review_follow_up?.enabled === true,
      threshold: Number(nested.review_follow_up?.threshold ?? -0.05),
      days: Number(nested.review_follow_up?.days ?? 7),
    },
  };
}

// --- agents ------------------------------------------------------------------------------

export const AVAILABILITY: S["AgentIn"]["availability"][] = ["online", "away", "offline"];
export const AVAILABILITY_LABELS: Record<string, string> = { online: "Online", away: "Away", offline: "Offline" };

export function agentLayout(lookups: Lookups, current: Model, editing: boolean, userSuggestions: string[] = []): Layout {
  return [
    {
      type: "text",
      name: "user_id",
      label: "User id",
      required: true,
      maxLength: 128,
      readOnly: editing,
      suggestions: userSuggestions,
      hint: editing ? undefined : "The console user's id (Settings → Users shows it to administrators).",
    },
    { type: "text", name: "name", label: "Display name", maxLength: 200 },
    {
      type: "multi",
      name: "departments",
      label: "Departments (queues)",
      options: lookups.departments.concat(list(current.departments).filter((d) => !lookups.departments.some((o) => o.value === d)).map((d) => ({ value: d, label: `${d} (not found)` }))),
    },
    { type: "list", name: "languages", label: "Languages", itemPattern: LANGUAGE_TAG, itemMessage: "not a language tag like en or pt-BR.", maxItems: 50, hint: "Comma-separated, e.g. en, de." },
    { type: "multi", name: "networks", label: "Networks", options: options(NETWORKS, NETWORK_NAMES) },
    { type: "number", name: "capacity", label: "Capacity (open cases at once)", min: 1, max: 1000, integer: true, required: true, default: 10 },
    { type: "select", name: "availability", label: "Availability", options: options(AVAILABILITY, AVAILABILITY_LABELS), required: true, default: "offline" },
    { type: "boolean", name: "requires_approval", label: "Replies wait for a manager's approval" },
  ];
}

const AGENT_NAMES = ["user_id", "name", "departments", "languages", "networks", "capacity", "availability", "requires_approval"];

export function agentModel(doc?: Doc): Model {
  return doc ? flatten(doc, AGENT_NAMES) : { capacity: 10, availability: "offline", departments: [], languages: [], networks: [] };
}

export function agentCreateBody(model: Model, brand: string): S["AgentIn"] {
  return {
    brand_id: brand,
    user_id: str(model.user_id),
    name: str(model.name),
    departments: list(model.departments),
    languages: list(model.languages),
    networks: NETWORKS.filter((n) => list(model.networks).includes(n)),
    capacity: Number(model.capacity ?? 10),
    availability: AVAILABILITY.find((a) => a === model.availability) ?? "offline",
    requires_approval: model.requires_approval === true,
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Only what changed (the API takes a partial update); null when nothing did. */
export function agentUpdateBody(model: Model, doc: Doc): S["AgentUpdate"] | null {
  const full = agentCreateBody(model, "");
  const update: S["AgentUpdate"] = {};
  if (!same(full.name, str(doc.name))) update.name = full.name;
  if (!same([...full.departments].sort(), list(doc.departments).sort())) update.departments = full.departments;
  if (!same([...full.languages].sort(), list(doc.languages).sort())) update.languages = full.languages;
  if (!same([...full.networks].sort(), list(doc.networks).sort())) update.networks = full.networks;
  if (full.capacity !== doc.capacity) update.capacity = full.capacity;
  if (full.availability !== doc.availability) update.availability = full.availability;
  if (full.requires_approval !== (doc.requires_approval === true)) update.requires_approval = full.requires_approval;
  return Object.keys(update).length ? update : null;
}
