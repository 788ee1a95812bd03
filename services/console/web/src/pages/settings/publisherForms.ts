// The publisher's settings as forms: publishing accounts (write-only tokens) and approval
// workflows. Pure: the React sections only wire these to the API.
import type { PublisherTypes } from "../../api/client";
import { NETWORKS, NETWORK_NAMES } from "../../lib/networks";
import { options, type Errors, type Layout, type Model } from "./formkit";

type S = PublisherTypes["schemas"];
export type Account = S["AccountOut"];
export type Workflow = Record<string, unknown>;

const SLUG = "[a-z0-9][a-z0-9_-]*";
const SLUG_MESSAGE = "Id: lower-case letters, digits, '-' and '_', starting with a letter or digit.";
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

const NATIVE_ID_HINT: Record<string, string> = {
  x: "The X user id (digits).",
  telegram: "The chat id, or @channel.",
  mastodon: "The Mastodon account id.",
  vk: "The owner id: -<group id> for a community.",
  facebook: "The Facebook Page id.",
  instagram: "The Instagram professional account id.",
  youtube: "The YouTube channel id.",
  reddit: "The subreddit name.",
};

/** Roles an approval step may name (the console's roles). */
export const STEP_ROLES = ["admin", "smm_manager", "agent", "content_manager", "analyst", "viewer"];

export function accountLayout(editing: boolean, account?: Account, network?: string): Layout {
  const tokenState = account
    ? account.has_token
      ? `Set (${account.token_source === "env" ? "read from an environment variable" : "stored encrypted"}). Leave empty to keep it.`
      : "Not set: posting will fail until it is."
    : "Never shown again once saved.";
  return [
    {
      type: "text",
      name: "id",
      label: "Id",
      required: true,
      maxLength: 64,
      pattern: SLUG,
      patternMessage: SLUG_MESSAGE,
      readOnly: editing,
      hint: editing ? "Fixed once created." : "Short and stable, e.g. x-main; content items refer to it.",
    },
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { type: "select", name: "network", label: "Network", required: true, options: options(NETWORKS, NETWORK_NAMES), default: "x" },
    { type: "text", name: "native_id", label: "Account on the network", required: true, maxLength: 256, hint: NATIVE_ID_HINT[network ?? ""] ?? "The account as its network names it." },
    {
      type: "text",
      name: "api_base_url",
      label: "API base URL",
      maxLength: 500,
      empty: "null",
      pattern: "https?://.*",
      patternMessage: "Write a URL starting with http:// or https://.",
      hint: "Only for a Mastodon instance or a test server; empty: the network's own.",
    },
    { type: "boolean", name: "replies", label: "Answers customers on this network" },
    { type: "boolean", name: "enabled", label: "Enabled", default: true },
    {
      group: "Access token",
      hint: tokenState,
      fields: [
        {
          type: "select",
          name: "token_source",
          label: "Token given as",
          required: true,
          default: "value",
          options: [
            { value: "value", label: "Its value (stored encrypted)" },
            { value: "env", label: "An environment variable of the publisher" },
          ],
        },
        {
          type: "text",
          name: "token_text",
          label: editing ? "Replace the token" : "Token",
          inputType: "password",
          autoComplete: "new-password",
          maxLength: 4096,
          required: !editing,
          placeholder: editing ? "Leave empty to keep" : undefined,
        },
      ],
    },
  ];
}

export function accountModel(account?: Account): Model {
  if (!account) return { network: "x", enabled: true, replies: false, token_source: "value" };
  return {
    id: account.id,
    name: account.name,
    network: account.network,
    native_id: account.native_id,
    api_base_url: account.api_base_url ?? null,
    replies: account.replies,
    enabled: account.enabled,
    token_source: account.token_source,
  };
}

export function accountCheck(model: Model): Errors {
  const text = model.token_text;
  if (model.token_source === "env" && typeof text === "string" && text && !ENV_NAME.test(text)) {
    return { token_text: "An environment variable name is upper-case letters, digits and '_', like X_MAIN_TOKEN." };
  }
  return {};
}

function token(model: Model): S["TokenIn"] | null {
  const text = model.token_text;
  if (typeof text !== "string" || !text) return null;
  return model.token_source === "env" ? { env: text } : { value: text };
}

function accountFields(model: Model, brand: string): Omit<S["AccountIn"], "token"> {
  const network = NETWORKS.find((n) => n === model.network) ?? "x";
  return {
    id: String(model.id ?? ""),
    brand_id: brand,
    network,
    native_id: String(model.native_id ?? ""),
    name: String(model.name ?? ""),
    api_base_url: typeof model.api_base_url === "string" ? model.api_base_url : null,
    replies: model.replies === true,
    enabled: model.enabled !== false,
  };
}

export function accountCreateBody(model: Model, brand: string): S["AccountIn"] {
  return { ...accountFields(model, brand), token: token(model) ?? { value: "" } };
}

/** A replace at the version read; no token keeps the stored one. */
export function accountUpdateBody(model: Model, brand: string, version: number): S["AccountUpdateIn"] {
  return { ...accountFields(model, brand), token: token(model), version };
}

// --- workflows ------------------------------------------------------------------------------

export function workflowLayout(editing: boolean): Layout {
  return [
    {
      type: "text",
      name: "id",
      label: "Id",
      required: true,
      maxLength: 64,
      pattern: SLUG,
      patternMessage: SLUG_MESSAGE,
      readOnly: editing,
    },
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    {
      type: "list",
      name: "labels",
      label: "For items labelled",
      maxItems: 30,
      hint: "Comma-separated. Empty: the brand's default workflow, for items no other workflow takes.",
    },
    { type: "number", name: "position", label: "Position", integer: true, min: 0, max: 10_000, default: 0, required: true, hint: "Workflows are tried from the lowest position." },
    {
      type: "rows",
      name: "steps",
      label: "Approval steps",
      itemName: "step",
      required: true,
      max: 10,
      fields: [
        { type: "text", name: "name", label: "Step name", required: true, maxLength: 200 },
        {
          type: "select",
          name: "mode",
          label: "Approved by",
          required: true,
          default: "any",
          options: [
            { value: "any", label: "Any one of the approvers" },
            { value: "all", label: "All of the approvers" },
          ],
        },
        { type: "multi", name: "roles", label: "Approver roles", options: options(STEP_ROLES, { smm_manager: "SMM manager", content_manager: "content manager" }) },
        { type: "list", name: "users", label: "Approver user ids", maxItems: 50 },
      ],
    },
  ];
}

export function workflowModel(doc?: Workflow): Model {
  if (!doc) return { labels: [], position: 0, steps: [{ name: "Manager review", mode: "any", roles: ["smm_manager"], users: [] }] };
  return { id: doc.id, name: doc.name, labels: doc.labels, position: doc.position, steps: doc.steps };
}

export function workflowCheck(model: Model): Errors {
  const errors: Errors = {};
  const steps = Array.isArray(model.steps) ? (model.steps as Record<string, unknown>[]) : [];
  steps.forEach((step, i) => {
    const roles = Array.isArray(step.roles) ? step.roles : [];
    const users = Array.isArray(step.users) ? step.users : [];
    if (!roles.length && !users.length) errors[`steps.${i}.roles`] = `Step ${i + 1}: name at least one approver role or user.`;
  });
  return errors;
}

export function workflowBody(model: Model, brand: string): S["WorkflowIn"] {
  const steps = (Array.isArray(model.steps) ? (model.steps as Record<string, unknown>[]) : []).map((s) => ({
    name: String(s.name ?? ""),
    mode: s.mode === "all" ? ("all" as const) : ("any" as const),
    roles: Array.isArray(s.roles) ? s.roles.map(String) : [],
    users: Array.isArray(s.users) ? s.users.map(String) : [],
  }));
  return {
    id: String(model.id ?? ""),
    brand_id: brand,
    name: String(model.name ?? ""),
    labels: Array.isArray(model.labels) ? model.labels.map(String) : [],
    position: Number(model.position ?? 0),
    steps,
  };
}

/** "Manager review (any of SMM manager) → Legal (all of u1, u2)". */
export function describeSteps(steps: unknown): string {
  return (Array.isArray(steps) ? (steps as Record<string, unknown>[]) : [])
    .map((s) => {
      const who = [...(Array.isArray(s.roles) ? s.roles : []), ...(Array.isArray(s.users) ? s.users : [])].map(String);
      return `${String(s.name ?? "")} (${s.mode === "all" ? "all of" : "any of"} ${who.join(", ") || "nobody"})`;
    })
    .join(" → ");
}
