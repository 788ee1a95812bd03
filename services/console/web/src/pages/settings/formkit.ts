// The settings form kit's logic: field descriptions, form values <-> model values, validation
// and duration parsing. Pure (no React, no fetch) so every rule here is unit-tested.
//
// A form is described by a layout of fields (optionally grouped). Each field has a `name`, a
// key of a flat "model" object; the model is what per-kind adapters turn into an API body.
// Inputs hold strings (what the person typed) until `readForm` checks and converts them.

export interface Option {
  value: string;
  label: string;
}

/** How an empty optional field reaches the model: null, left out, or "" (text only). */
export type EmptyAs = "null" | "omit" | "empty";

interface Common {
  name: string;
  label: string;
  hint?: string;
  required?: boolean;
  /** Shown but not editable (e.g. an id fixed at creation). */
  readOnly?: boolean;
  /** The model value used when the model has none (new items). */
  default?: unknown;
}

export type TextField = Common & {
  type: "text";
  inputType?: "text" | "email" | "password" | "url";
  maxLength?: number;
  /** A regular expression the whole (trimmed) value must match. */
  pattern?: string;
  patternMessage?: string;
  empty?: EmptyAs;
  placeholder?: string;
  autoComplete?: string;
  /** Offered as a datalist; any value is still accepted. */
  suggestions?: string[];
};
export type TextareaField = Common & { type: "textarea"; maxLength?: number; empty?: EmptyAs; rows?: number };
export type NumberField = Common & {
  type: "number";
  min?: number;
  max?: number;
  integer?: boolean;
  step?: number;
  empty?: Exclude<EmptyAs, "empty">;
};
export type SelectField = Common & {
  type: "select";
  options: Option[];
  /** When set, the field may be left empty; `emptyLabel` names that choice ("None"). */
  empty?: Exclude<EmptyAs, "empty">;
  emptyLabel?: string;
};
export type MultiField = Common & { type: "multi"; options: Option[]; min?: number };
export type BooleanField = Common & { type: "boolean" };
/** Yes / no / either: true, false or null. */
export type TristateField = Common & { type: "tristate"; yes: string; no: string; either: string };
/** Typed as minutes ("90", "1 h 30 min", "1:30", "2 d"); stored in the API's `unit`. */
export type DurationField = Common & {
  type: "duration";
  unit: "s" | "min" | "h";
  /** Bounds in minutes. */
  min?: number;
  max?: number;
  empty?: Exclude<EmptyAs, "empty">;
};
/** Several short strings: comma-separated in one line, or one per line. */
export type ListField = Common & {
  type: "list";
  separator?: "comma" | "line";
  maxItems?: number;
  maxLength?: number;
  itemPattern?: string;
  itemMessage?: string;
};
export type JsonField = Common & { type: "json"; shape?: "object" | "array"; empty?: Exclude<EmptyAs, "empty"> };
/** A repeated group of simple fields (approval steps, stream rules). */
export type RowsField = Common & {
  type: "rows";
  fields: SimpleField[];
  /** What one row is called: "step" gives "Step 1", "Another step", "Remove step 1". */
  itemName: string;
  min?: number;
  max?: number;
};

export type SimpleField =
  | TextField
  | TextareaField
  | NumberField
  | SelectField
  | MultiField
  | BooleanField
  | TristateField
  | DurationField
  | ListField
  | JsonField;
export type FieldSpec = SimpleField | RowsField;
export interface FieldGroup {
  group: string;
  hint?: string;
  fields: FieldSpec[];
}
export type Layout = (FieldSpec | FieldGroup)[];

export type Scalar = string | boolean | string[];
export type RowValues = Record<string, Scalar>;
export type FormValue = Scalar | RowValues[];
export type FormValues = Record<string, FormValue>;
export type Errors = Record<string, string>;
export type Model = Record<string, unknown>;

export function isGroup(item: FieldSpec | FieldGroup): item is FieldGroup {
  return "group" in item;
}

/** Every field of a layout, groups flattened, in order. */
export function fieldsOf(layout: Layout): FieldSpec[] {
  return layout.flatMap((item) => (isGroup(item) ? item.fields : [item]));
}

// --- durations -------------------------------------------------------------------------

const UNIT_MINUTES: Record<string, number> = {
  d: 1440,
  day: 1440,
  days: 1440,
  h: 60,
  hr: 60,
  hrs: 60,
  hour: 60,
  hours: 60,
  m: 1,
  min: 1,
  mins: 1,
  minute: 1,
  minutes: 1,
  s: 1 / 60,
  sec: 1 / 60,
  secs: 1 / 60,
  second: 1 / 60,
  seconds: 1 / 60,
};
const DURATION_PART = /(\d+(?:[.,]\d+)?)\s*([a-z]+)/gi;

/**
 * Minutes from what a person typed: "90" (minutes), "1:30" (hours:minutes), "1 h 30 min",
 * "2d", "1.5 h", "45 s". Empty text is null; text that is not a duration is an error.
 */
export function parseDuration(text: string): { minutes: number } | { error: string } | null {
  const value = text.trim().toLowerCase();
  if (!value) return null;
  const bad = { error: 'Write a duration like "30" (minutes), "1 h 30 min", "1:30" or "2 d".' };
  if (/^\d+(?:[.,]\d+)?$/.test(value)) return { minutes: Number(value.replace(",", ".")) };
  const clock = /^(\d+):([0-5]\d)$/.exec(value);
  if (clock) return { minutes: Number(clock[1]) * 60 + Number(clock[2]) };
  let minutes = 0;
  let parts = 0;
  const rest = value.replace(DURATION_PART, (_all, amount: string, unit: string) => {
    const factor = UNIT_MINUTES[unit];
    if (factor === undefined) return "\u0000"; // an unknown unit leaves a mark: refused below
    minutes += Number(amount.replace(",", ".")) * factor;
    parts += 1;
    return " ";
  });
  if (!parts || !/^[\s,]*$/.test(rest.replace(/\band\b/g, " "))) return bad;
  return { minutes: Math.round(minutes * 60_000) / 60_000 };
}

/** "1 d 2 h 30 min" from minutes (seconds shown only when there are some); "0 min" for 0. */
export function formatMinutes(minutes: number): string {
  let seconds = Math.round(minutes * 60);
  const parts: string[] = [];
  for (const [size, unit] of [
    [86_400, "d"],
    [3_600, "h"],
    [60, "min"],
    [1, "s"],
  ] as const) {
    const n = Math.floor(seconds / size);
    if (n) parts.push(`${n} ${unit}`);
    seconds -= n * size;
  }
  return parts.length ? parts.join(" ") : "0 min";
}

const UNIT_IN_MINUTES = { s: 1 / 60, min: 1, h: 60 } as const;

/** An API duration (in `unit`) as minutes. */
export function toMinutes(value: number, unit: DurationField["unit"]): number {
  return value * UNIT_IN_MINUTES[unit];
}

/** Minutes as an API duration in `unit` (seconds rounded to whole milliseconds). */
export function fromMinutes(minutes: number, unit: DurationField["unit"]): number {
  return Math.round((minutes / UNIT_IN_MINUTES[unit]) * 1000) / 1000;
}

// --- model -> form ---------------------------------------------------------------------

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v) => v !== null && v !== undefined).map(String) : [];
}

function simpleToForm(field: SimpleField, value: unknown): Scalar {
  switch (field.type) {
    case "boolean":
      return value === true;
    case "multi":
      return asStrings(value);
    case "tristate":
      return value === true ? "true" : value === false ? "false" : "";
    case "duration":
      return typeof value === "number" ? formatMinutes(toMinutes(value, field.unit)) : "";
    case "list":
      return asStrings(value).join(field.separator === "line" ? "\n" : ", ");
    case "json":
      return value === undefined || value === null ? "" : JSON.stringify(value, null, 2);
    default:
      return value === undefined || value === null ? "" : String(value);
  }
}

/** What one field's input shows for a model value. */
export function toFormValue(field: FieldSpec, value: unknown): FormValue {
  if (field.type === "rows") {
    const rows = Array.isArray(value) ? value : [];
    return rows.map((row) => rowToForm(field, (row ?? {}) as Model));
  }
  return simpleToForm(field, value);
}

function rowToForm(field: RowsField, row: Model): RowValues {
  const out: RowValues = {};
  for (const sub of field.fields) out[sub.name] = simpleToForm(sub, row[sub.name] ?? sub.default);
  return out;
}

/** A new, empty row of a rows field (sub-field defaults applied). */
export function emptyRow(field: RowsField): RowValues {
  return rowToForm(field, {});
}

/** The inputs' values for a model (a new item's defaults where the model has no value). */
export function initialValues(layout: Layout, model: Model = {}): FormValues {
  const values: FormValues = {};
  for (const field of fieldsOf(layout)) {
    const value = model[field.name] !== undefined ? model[field.name] : field.default;
    values[field.name] = toFormValue(field, value);
  }
  return values;
}

// --- form -> model ---------------------------------------------------------------------

type Parsed = { value: unknown } | { omit: true } | { error: string };

function emptyValue(empty: EmptyAs | undefined, fallback: EmptyAs): Parsed {
  const how = empty ?? fallback;
  return how === "omit" ? { omit: true } : { value: how === "null" ? null : "" };
}

function rangeError(label: string, n: number, min?: number, max?: number, show: (n: number) => string = String): string | null {
  if (min !== undefined && max !== undefined && (n < min || n > max)) {
    return `${label} must be from ${show(min)} to ${show(max)}.`;
  }
  if (min !== undefined && n < min) return `${label} must be at least ${show(min)}.`;
  if (max !== undefined && n > max) return `${label} must be at most ${show(max)}.`;
  return null;
}

/** Split a list input into its trimmed, non-empty, distinct items. */
export function splitList(text: string, separator: ListField["separator"] = "comma"): string[] {
  const parts = separator === "line" ? text.split(/\r?\n/) : text.split(/[,\n]/);
  return [...new Set(parts.map((p) => p.trim()).filter(Boolean))];
}

function parseSimple(field: SimpleField, raw: Scalar): Parsed {
  const text = typeof raw === "string" ? raw : "";
  const missing = { error: `${field.label} is required.` };
  switch (field.type) {
    case "text":
    case "textarea": {
      const value = field.type === "text" ? text.trim() : text;
      if (!value.trim()) return field.required ? missing : emptyValue(field.empty, "empty");
      if (field.maxLength !== undefined && value.length > field.maxLength) {
        return { error: `${field.label} may have at most ${field.maxLength} characters (now ${value.length}).` };
      }
      if (field.type === "text" && field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(value)) {
        return { error: field.patternMessage ?? `${field.label} is not in the expected form.` };
      }
      return { value };
    }
    case "number": {
      const value = text.trim().replace(",", ".");
      if (!value) return field.required ? missing : emptyValue(field.empty, "null");
      const n = Number(value);
      if (!Number.isFinite(n)) return { error: `${field.label} must be a number.` };
      if (field.integer && !Number.isInteger(n)) return { error: `${field.label} must be a whole number.` };
      const range = rangeError(field.label, n, field.min, field.max);
      return range ? { error: range } : { value: n };
    }
    case "select": {
      if (!text) return field.required || field.empty === undefined ? missing : emptyValue(field.empty, "null");
      if (!field.options.some((o) => o.value === text)) return { error: `Choose one of the offered ${field.label.toLowerCase()} values.` };
      return { value: text };
    }
    case "multi": {
      const chosen = Array.isArray(raw) ? raw : [];
      const known = field.options.map((o) => o.value);
      const value = known.filter((v) => chosen.includes(v));
      const min = field.min ?? (field.required ? 1 : 0);
      if (value.length < min) return { error: `Choose at least ${min} ${field.label.toLowerCase()}.` };
      return { value };
    }
    case "boolean":
      return { value: raw === true };
    case "tristate":
      return { value: text === "true" ? true : text === "false" ? false : null };
    case "duration": {
      const parsed = parseDuration(text);
      if (parsed === null) return field.required ? missing : emptyValue(field.empty, "null");
      if ("error" in parsed) return { error: `${field.label}: ${parsed.error}` };
      if (parsed.minutes <= 0) return { error: `${field.label} must be longer than zero.` };
      const range = rangeError(field.label, parsed.minutes, field.min, field.max, formatMinutes);
      return range ? { error: range } : { value: fromMinutes(parsed.minutes, field.unit) };
    }
    case "list": {
      const items = splitList(text, field.separator);
      if (!items.length && field.required) return missing;
      if (field.maxItems !== undefined && items.length > field.maxItems) {
        return { error: `${field.label} may have at most ${field.maxItems} items (now ${items.length}).` };
      }
      const long = field.maxLength === undefined ? undefined : items.find((i) => i.length > field.maxLength!);
      if (long !== undefined) return { error: `“${long.slice(0, 30)}” is longer than ${field.maxLength} characters.` };
      if (field.itemPattern) {
        const re = new RegExp(`^(?:${field.itemPattern})$`);
        const bad = items.find((i) => !re.test(i));
        if (bad !== undefined) return { error: `“${bad}”: ${field.itemMessage ?? "not in the expected form."}` };
      }
      return { value: items };
    }
    case "json": {
      if (!text.trim()) return field.required ? missing : emptyValue(field.empty, "null");
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return { error: `${field.label} is not valid JSON (${e instanceof Error ? e.message : "parse error"}).` };
      }
      if (field.shape === "array" && !Array.isArray(value)) return { error: `${field.label} must be a JSON list [ … ].` };
      if (field.shape === "object" && (typeof value !== "object" || value === null || Array.isArray(value))) {
        return { error: `${field.label} must be a JSON object { … }.` };
      }
      return { value };
    }
  }
}

/** Check and convert one field; rows fields report errors as `name.<row>.<sub>`. */
export function parseField(field: FieldSpec, raw: FormValue | undefined): { value?: unknown; omit?: boolean; errors: Errors } {
  if (field.type === "rows") {
    const rows = Array.isArray(raw) ? (raw as unknown[]).filter((r): r is RowValues => typeof r === "object" && r !== null) : [];
    const errors: Errors = {};
    const value: Model[] = [];
    rows.forEach((row, index) => {
      const out: Model = {};
      for (const sub of field.fields) {
        const parsed = parseSimple(sub, row[sub.name] ?? simpleToForm(sub, sub.default));
        if ("error" in parsed) errors[`${field.name}.${index}.${sub.name}`] = `${capitalise(field.itemName)} ${index + 1}: ${parsed.error}`;
        else if ("value" in parsed) out[sub.name] = parsed.value;
      }
      value.push(out);
    });
    const min = field.min ?? (field.required ? 1 : 0);
    if (rows.length < min) errors[field.name] = `${field.label}: add at least ${min} ${field.itemName}${min > 1 ? "s" : ""}.`;
    if (field.max !== undefined && rows.length > field.max) errors[field.name] = `${field.label}: at most ${field.max} ${field.itemName}s.`;
    return { value, errors };
  }
  const parsed = parseSimple(field, (raw ?? simpleToForm(field, field.default)) as Scalar);
  if ("error" in parsed) return { errors: { [field.name]: parsed.error } };
  if ("omit" in parsed) return { omit: true, errors: {} };
  return { value: parsed.value, errors: {} };
}

/** The model the inputs describe, and every problem found (keyed by field name). */
export function readForm(layout: Layout, values: FormValues): { model: Model; errors: Errors } {
  const model: Model = {};
  let errors: Errors = {};
  for (const field of fieldsOf(layout)) {
    if (field.readOnly && values[field.name] === undefined) continue;
    const out = parseField(field, values[field.name]);
    errors = { ...errors, ...out.errors };
    if (!out.omit && !Object.keys(out.errors).some((k) => k === field.name)) model[field.name] = out.value;
  }
  return { model, errors };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// --- helpers for adapters ---------------------------------------------------------------

/** A value at a dotted path of a nested object ("conditions.networks"). */
export function getPath(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const key of path.split(".")) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** Nested objects from a flat model whose keys are dotted paths. */
export function nest(flat: Model): Model {
  const out: Model = {};
  for (const [path, value] of Object.entries(flat)) {
    const keys = path.split(".");
    let at = out;
    keys.slice(0, -1).forEach((key) => {
      if (typeof at[key] !== "object" || at[key] === null) at[key] = {};
      at = at[key] as Model;
    });
    at[keys[keys.length - 1]!] = value;
  }
  return out;
}

/** A flat model (dotted keys) of the given field names read from a nested object. */
export function flatten(obj: unknown, names: string[]): Model {
  const out: Model = {};
  for (const name of names) {
    const value = getPath(obj, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Options from plain values, each its own label. */
export function options(values: readonly string[], labels: Record<string, string> = {}): Option[] {
  return values.map((value) => ({ value, label: labels[value] ?? value }));
}

/** The options plus `current` when it is not among them (a deleted department still shows). */
export function withCurrent(opts: Option[], current: unknown): Option[] {
  if (typeof current !== "string" || !current || opts.some((o) => o.value === current)) return opts;
  return [...opts, { value: current, label: `${current} (not found)` }];
}

/**
 * Field errors from a 422's details (FastAPI `[{loc, msg}]`): `loc` after "body" joined by
 * dots, kept when it names a field (or, via `rename`, maps to one). The rest stay general.
 */
export function fieldErrorsFromDetails(
  details: unknown,
  names: Iterable<string>,
  rename: (path: string) => string | undefined = (p) => p,
): Errors {
  const known = new Set(names);
  const errors: Errors = {};
  if (!Array.isArray(details)) return errors;
  for (const d of details) {
    const loc = (d as { loc?: unknown[] })?.loc;
    const msg = (d as { msg?: unknown })?.msg;
    if (!Array.isArray(loc) || typeof msg !== "string") continue;
    const path = (loc[0] === "body" || loc[0] === "query" ? loc.slice(1) : loc).join(".");
    const name = rename(path);
    if (name && known.has(name) && !errors[name]) errors[name] = msg.replace(/^Value error, /, "");
  }
  return errors;
}

/** Whether a 409 means "someone changed it since you read it" (not "it exists already"). */
export function isVersionConflict(status: number, code: string): boolean {
  return status === 409 && /(?:^|[._])(?:changed|conflict|version_conflict)$/.test(code);
}
