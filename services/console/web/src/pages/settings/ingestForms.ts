// Ingest's settings as forms: connectors (per-kind configuration, write-only secrets) and
// keyword rules. Pure: the React sections only wire these to the API.
import type { IngestTypes } from "../../api/client";
import type { Errors, FieldSpec, Layout, Model, TextField } from "./formkit";

type S = IngestTypes["schemas"];
export type ConnectorKind = S["ConnectorKind"];
export type Connector = S["ConnectorOut"];
type Secrets = NonNullable<S["ConnectorIn"]["secrets"]>;

const URL = "https?://[^\\s]+";
const URL_MESSAGE = "Write a URL starting with http:// or https://.";
const DIGITS = (n: number) => `[0-9]{1,${n}}`;

export const CONNECTOR_KINDS: { kind: ConnectorKind; label: string; polls: boolean }[] = [
  { kind: "telegram", label: "Telegram bot (webhook)", polls: false },
  { kind: "telegram_poll", label: "Telegram bot (polling)", polls: true },
  { kind: "vk", label: "VK community (Callback API)", polls: false },
  { kind: "vk_streaming", label: "VK Streaming API", polls: true },
  { kind: "meta", label: "Facebook Pages and Instagram (Meta webhooks)", polls: false },
  { kind: "instagram", label: "Instagram professional account", polls: true },
  { kind: "x_mentions", label: "X mentions (polling)", polls: true },
  { kind: "x_stream", label: "X filtered stream", polls: true },
  { kind: "youtube", label: "YouTube channel", polls: true },
  { kind: "reddit", label: "Reddit", polls: true },
  { kind: "mastodon", label: "Mastodon (polling)", polls: true },
  { kind: "mastodon_stream", label: "Mastodon (streaming)", polls: true },
];

export function kindLabel(kind: string): string {
  return CONNECTOR_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

/** The secrets each kind needs (ingest's REQUIRED_SECRETS). */
export const REQUIRED_SECRETS: Record<ConnectorKind, string[]> = {
  vk: ["secret"],
  meta: ["app_secret", "verify_token"],
  instagram: ["access_token"],
  telegram: ["secret_token"],
  telegram_poll: ["bot_token"],
  x_mentions: ["bearer_token"],
  x_stream: ["bearer_token"],
  youtube: ["api_key"],
  reddit: ["client_id", "client_secret"],
  mastodon: ["access_token"],
  mastodon_stream: ["access_token"],
  vk_streaming: ["service_token"],
};

const apiBase = (url: string, name = "api_base_url", label = "API base URL"): TextField => ({
  type: "text",
  name,
  label,
  default: url,
  pattern: URL,
  patternMessage: URL_MESSAGE,
  maxLength: 300,
  empty: "omit",
  hint: "Change only for a proxy or a test server.",
});
const interval = (min: number, max: number, dflt: number): FieldSpec => ({
  type: "number",
  name: "interval_s",
  label: "Poll every (seconds)",
  min,
  max,
  default: dflt,
  empty: "omit",
});
const optionalText = (name: string, label: string, extra: Omit<TextField, "type" | "name" | "label"> = {}): TextField => ({
  type: "text",
  name,
  label,
  empty: "omit",
  ...extra,
});
const ruleRows = (valueMax: number, tagPattern?: string): FieldSpec => ({
  type: "rows",
  name: "rules",
  label: "Stream rules",
  itemName: "rule",
  required: true,
  fields: [
    { type: "text", name: "value", label: "Rule", required: true, maxLength: valueMax },
    tagPattern
      ? { type: "text", name: "tag", label: "Tag", required: true, pattern: tagPattern, patternMessage: "Tag: letters, digits, '_' and '-' only." }
      : { type: "text", name: "tag", label: "Tag", required: true, maxLength: 100 },
  ],
});

/** The configuration fields of each kind (ingest's per-kind config models). */
export const CONFIG_FIELDS: Record<ConnectorKind, FieldSpec[]> = {
  vk: [
    { type: "number", name: "group_id", label: "Community id", required: true, integer: true, min: 1 },
    { type: "text", name: "confirmation", label: "Confirmation string", required: true, maxLength: 64, hint: "The string VK shows on the Callback API page." },
  ],
  meta: [
    { type: "list", name: "page_ids", label: "Facebook Page ids", maxItems: 100 },
    { type: "list", name: "instagram_account_ids", label: "Instagram business account ids", maxItems: 100 },
  ],
  instagram: [
    { type: "text", name: "ig_user_id", label: "Instagram user id", required: true, pattern: DIGITS(32), patternMessage: "Digits only." },
    optionalText("username", "Our username", { pattern: "[A-Za-z0-9._]{1,30}", patternMessage: "Letters, digits, '.' and '_' (at most 30)." }),
    apiBase("https://graph.facebook.com/v21.0"),
    interval(5, 86_400, 300),
  ],
  telegram: [optionalText("bot_id", "Bot id", { maxLength: 32 }), optionalText("bot_username", "Bot username", { maxLength: 64 })],
  telegram_poll: [
    optionalText("bot_id", "Bot id", { maxLength: 32 }),
    optionalText("bot_username", "Bot username", { maxLength: 64 }),
    apiBase("https://api.telegram.org"),
    { type: "number", name: "poll_timeout_s", label: "Long-poll timeout (seconds)", integer: true, min: 1, max: 50, default: 25, empty: "omit" },
  ],
  x_mentions: [
    { type: "text", name: "user_id", label: "Our X user id", required: true, pattern: DIGITS(20), patternMessage: "Digits only." },
    apiBase("https://api.x.com"),
    interval(5, 3600, 60),
  ],
  x_stream: [
    optionalText("user_id", "Our X user id", { pattern: DIGITS(20), patternMessage: "Digits only." }),
    apiBase("https://api.x.com"),
    ruleRows(1024),
  ],
  youtube: [
    { type: "text", name: "channel_id", label: "Channel id", required: true, pattern: "[A-Za-z0-9_-]{10,40}", patternMessage: "A channel id like UC… (10 to 40 characters)." },
    { type: "list", name: "video_ids", label: "Also watch these videos (ids)", maxItems: 200 },
    apiBase("https://www.googleapis.com/youtube/v3"),
    interval(30, 86_400, 300),
    { type: "number", name: "daily_quota", label: "Daily API quota", integer: true, min: 10, max: 10_000_000, default: 10_000, empty: "omit" },
  ],
  reddit: [
    { type: "list", name: "queries", label: "Search queries", separator: "line", maxItems: 50, hint: "One per line." },
    { type: "list", name: "subreddits", label: "Subreddits", maxItems: 50 },
    { type: "list", name: "own_usernames", label: "Our usernames (skipped)", maxItems: 20 },
    { type: "text", name: "user_agent", label: "User agent", default: "smm-platform/1.0 (brand monitoring)", maxLength: 200, empty: "omit" },
    interval(10, 86_400, 60),
    apiBase("https://www.reddit.com/api/v1/access_token", "auth_url", "Token URL"),
    apiBase("https://oauth.reddit.com"),
  ],
  mastodon: [
    { type: "text", name: "instance_url", label: "Instance URL", required: true, pattern: "https?://[^\\s/]+/?", patternMessage: "Like https://mastodon.social", maxLength: 300 },
    optionalText("account_id", "Our account id", { maxLength: 64 }),
    optionalText("acct", "Our account (user@instance)", { maxLength: 300 }),
    optionalText("hashtag", "Follow a hashtag instead of mentions", { pattern: "[^\\s#]{1,100}", patternMessage: "The tag without #." }),
    interval(5, 86_400, 30),
  ],
  mastodon_stream: [
    { type: "text", name: "instance_url", label: "Instance URL", required: true, pattern: "https?://[^\\s/]+/?", patternMessage: "Like https://mastodon.social", maxLength: 300 },
    optionalText("account_id", "Our account id", { maxLength: 64 }),
    optionalText("acct", "Our account (user@instance)", { maxLength: 300 }),
    {
      type: "select",
      name: "stream",
      label: "Stream",
      required: true,
      default: "user:notification",
      options: [
        { value: "user:notification", label: "Our notifications (mentions)" },
        { value: "hashtag", label: "A hashtag, all instances" },
        { value: "hashtag:local", label: "A hashtag, this instance" },
      ],
    },
    optionalText("tag", "Hashtag (for hashtag streams)", { pattern: "[^\\s#]{1,100}", patternMessage: "The tag without #." }),
    optionalText("streaming_url", "Streaming URL", { pattern: URL, patternMessage: URL_MESSAGE, maxLength: 300 }),
  ],
  vk_streaming: [
    { type: "number", name: "group_id", label: "Our community id", integer: true, min: 1, empty: "omit" },
    ruleRows(4096, "[A-Za-z0-9_-]{1,200}"),
    apiBase("https://api.vk.com/method"),
  ],
};

const configName = (kind: string, name: string) => `config.${kind}.${name}`;
const secretSource = (name: string) => `secret.${name}.source`;
const secretText = (name: string) => `secret.${name}.text`;

function prefixed(kind: ConnectorKind): FieldSpec[] {
  return CONFIG_FIELDS[kind].map((f) => ({ ...f, name: configName(kind, f.name) }) as FieldSpec);
}

/** How a stored secret is described: never its value. */
export function secretState(connector: Connector | undefined, name: string): string {
  const stored = connector?.secrets?.[name];
  if (!stored) return connector ? "Not set: the connector cannot work until it is." : "";
  return stored.source === "env" ? `Set: read from the environment variable ${stored.env ?? "?"}.` : "Set (stored encrypted).";
}

/** The connector form: kind and name, the kind's configuration, its secrets (write-only). */
export function connectorLayout(kind: ConnectorKind, connector?: Connector): Layout {
  const editing = connector !== undefined;
  return [
    {
      type: "select",
      name: "kind",
      label: "Network and method",
      required: true,
      options: CONNECTOR_KINDS.map((k) => ({ value: k.kind, label: k.label })),
      readOnly: editing,
      hint: editing ? "Fixed once created; add another connector for another kind." : undefined,
    },
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { type: "boolean", name: "enabled", label: "Enabled", default: true },
    { group: "Configuration", fields: prefixed(kind) },
    {
      group: "Secrets",
      hint: editing
        ? "Secrets are never shown. Leave a field empty to keep what is stored; fill it to replace it."
        : "Secrets are never shown again once saved. Give the value, or the name of an environment variable of the ingest service that holds it.",
      fields: REQUIRED_SECRETS[kind].flatMap((name): FieldSpec[] => [
        {
          type: "select",
          name: secretSource(name),
          label: `${name}: given as`,
          required: true,
          default: "value",
          options: [
            { value: "value", label: "Its value (stored encrypted)" },
            { value: "env", label: "An environment variable" },
          ],
        },
        {
          type: "text",
          name: secretText(name),
          label: editing ? `Replace ${name}` : name,
          inputType: "password",
          autoComplete: "new-password",
          maxLength: 4096,
          hint: secretState(connector, name) || undefined,
          placeholder: editing ? "Leave empty to keep" : undefined,
        },
      ]),
    },
  ];
}

/** The form's model of a connector (secrets are never known: their inputs start empty). */
export function connectorModel(connector?: Connector): Model {
  if (!connector) return { kind: "telegram", enabled: true };
  const model: Model = { kind: connector.kind, name: connector.name, enabled: connector.enabled };
  for (const field of CONFIG_FIELDS[connector.kind] ?? []) {
    const value = connector.config[field.name];
    if (value !== undefined) model[configName(connector.kind, field.name)] = value;
  }
  for (const name of REQUIRED_SECRETS[connector.kind] ?? []) {
    model[secretSource(name)] = connector.secrets[name]?.source === "env" ? "env" : "value";
  }
  return model;
}

export function connectorCheck(model: Model): Errors {
  const kind = model.kind as ConnectorKind;
  const errors: Errors = {};
  for (const name of REQUIRED_SECRETS[kind] ?? []) {
    const text = model[secretText(name)];
    if (model[secretSource(name)] === "env" && typeof text === "string" && text && !/^[A-Z_][A-Z0-9_]{0,127}$/.test(text)) {
      errors[secretText(name)] = `${name}: an environment variable name is upper-case letters, digits and '_', like TELEGRAM_BOT_TOKEN.`;
    }
  }
  if (kind === "mastodon_stream") {
    const stream = model[configName(kind, "stream")];
    if (typeof stream === "string" && stream.startsWith("hashtag") && !model[configName(kind, "tag")]) {
      errors[configName(kind, "tag")] = "A hashtag stream needs the hashtag.";
    }
  }
  return errors;
}

/** The configuration object of the model's kind. */
export function connectorConfig(model: Model): Record<string, unknown> {
  const kind = model.kind as ConnectorKind;
  const prefix = `config.${kind}.`;
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(model)) {
    if (key.startsWith(prefix) && value !== null && value !== undefined) config[key.slice(prefix.length)] = value;
  }
  return config;
}

/** Secrets typed in the form (empty inputs are left out: kept as stored). */
export function connectorSecrets(model: Model): Secrets {
  const secrets: Secrets = {};
  for (const name of REQUIRED_SECRETS[model.kind as ConnectorKind] ?? []) {
    const text = model[secretText(name)];
    if (typeof text !== "string" || !text) continue;
    secrets[name] = model[secretSource(name)] === "env" ? { env: text } : { value: text };
  }
  return secrets;
}

export function connectorCreateBody(model: Model, brand: string): S["ConnectorIn"] {
  return {
    brand_id: brand,
    kind: model.kind as ConnectorKind,
    name: String(model.name ?? ""),
    enabled: model.enabled !== false,
    config: connectorConfig(model),
    secrets: connectorSecrets(model),
  };
}

export function connectorPatchBody(model: Model): S["ConnectorPatch"] {
  const secrets = connectorSecrets(model);
  return {
    name: String(model.name ?? ""),
    enabled: model.enabled !== false,
    config: connectorConfig(model),
    secrets: Object.keys(secrets).length ? secrets : null,
  };
}

/** What a connector's check found, in words (one line each), and its last successful poll. */
export function connectorHealth(connector: Connector): { lines: string[]; lastSuccessAt?: string } {
  const lines: string[] = [];
  lines.push(connector.enabled ? "Enabled." : "Disabled: nothing is received.");
  if (connector.missing_secrets.length) lines.push(`Missing secrets: ${connector.missing_secrets.join(", ")}.`);
  else lines.push("All secrets are set.");
  if (connector.webhook_path) lines.push(`The network must deliver to the ingest service at ${connector.webhook_path}.`);
  const poll = connector.poll_status;
  if (poll) {
    const state = typeof poll.state === "string" ? poll.state : "unknown";
    lines.push(`Polling: ${state}${typeof poll.items === "number" ? `, ${poll.items} items so far` : ""}.`);
    if (typeof poll.last_error === "string" && poll.last_error) lines.push(`Last error: ${poll.last_error}`);
    if (typeof poll.last_success_at === "string") return { lines, lastSuccessAt: poll.last_success_at };
  }
  return { lines };
}

// --- keyword rules -------------------------------------------------------------------------

export const RULE_KINDS: { value: S["RuleIn"]["kind"]; label: string }[] = [
  { value: "brand", label: "Our brand" },
  { value: "competitor", label: "A competitor" },
  { value: "topic", label: "A topic" },
];

export function keywordRuleLayout(): Layout {
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { type: "select", name: "kind", label: "What it finds", required: true, options: RULE_KINDS, default: "brand" },
    { type: "text", name: "label", label: "Label", required: true, maxLength: 100, hint: "Shown on mentions and in share of voice; routing rules can match it." },
    {
      type: "textarea",
      name: "query",
      label: "Query",
      required: true,
      maxLength: 4000,
      rows: 3,
      hint: 'Terms, "phrases", AND, OR, NOT or -term, parentheses, prefix*, #hashtag, @handle.',
    },
  ];
}

export function keywordRuleModel(rule?: S["RuleOut"]): Model {
  return rule ? { name: rule.name, kind: rule.kind, label: rule.label, query: rule.query } : { kind: "brand" };
}

export function keywordRuleBody(model: Model, brand: string): S["RuleIn"] {
  const kind = RULE_KINDS.find((k) => k.value === model.kind)?.value ?? "brand";
  return { brand_id: brand, name: String(model.name ?? ""), kind, label: String(model.label ?? ""), query: String(model.query ?? "") };
}
