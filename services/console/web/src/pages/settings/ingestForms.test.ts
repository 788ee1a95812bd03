import { describe, expect, it } from "vitest";
import { fieldsOf, initialValues, readForm, type FormValues } from "./formkit";
import {
  CONFIG_FIELDS,
  CONNECTOR_KINDS,
  connectorCheck,
  connectorCreateBody,
  connectorHealth,
  connectorLayout,
  connectorModel,
  connectorPatchBody,
  keywordRuleBody,
  keywordRuleLayout,
  keywordRuleModel,
  REQUIRED_SECRETS,
  secretState,
  type Connector,
} from "./ingestForms";

const stored: Connector = {
  id: "c1",
  brand_id: "acme",
  kind: "telegram_poll",
  name: "Support bot",
  config: { bot_username: "acme_bot", api_base_url: "https://api.telegram.org", poll_timeout_s: 25 },
  secrets: { bot_token: { source: "env", env: "ACME_BOT_TOKEN" } },
  missing_secrets: [],
  enabled: true,
  webhook_path: null,
  poll_status: { state: "running", items: 12, last_error: "timeout once", last_success_at: "2026-01-01T10:00:00+00:00" },
};

describe("connectors", () => {
  it("has a form for every kind ingest knows, and the secrets it requires", () => {
    for (const { kind } of CONNECTOR_KINDS) {
      expect(CONFIG_FIELDS[kind]).toBeDefined();
      expect(REQUIRED_SECRETS[kind].length).toBeGreaterThan(0);
    }
    expect(CONNECTOR_KINDS).toHaveLength(12);
  });

  it("creates a connector with the kind's configuration and a secret by value", () => {
    const layout = connectorLayout("vk");
    const values: FormValues = { ...initialValues(layout, { kind: "vk", enabled: true }), name: "VK group", "config.vk.group_id": "123", "config.vk.confirmation": "abc", "secret.secret.text": "s3cret" };
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(connectorCreateBody(model, "acme")).toEqual({
      brand_id: "acme",
      kind: "vk",
      name: "VK group",
      enabled: true,
      config: { group_id: 123, confirmation: "abc" },
      secrets: { secret: { value: "s3cret" } },
    });
  });

  it("fills a new connector's defaults and leaves empty optional settings out", () => {
    const layout = connectorLayout("youtube");
    const values: FormValues = { ...initialValues(layout, { kind: "youtube" }), name: "Channel", "config.youtube.channel_id": "UC1234567890" };
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(connectorCreateBody(model, "acme").config).toEqual({
      channel_id: "UC1234567890",
      video_ids: [],
      api_base_url: "https://www.googleapis.com/youtube/v3",
      interval_s: 300,
      daily_quota: 10_000,
    });
    expect(connectorCreateBody(model, "acme").secrets).toEqual({});
  });

  it("edits without ever sending a secret it was not given", () => {
    const model = connectorModel(stored);
    expect(Object.keys(model).filter((k) => k.endsWith(".text"))).toEqual([]);
    const layout = connectorLayout("telegram_poll", stored);
    expect(fieldsOf(layout).find((f) => f.name === "secret.bot_token.text")?.hint).toBe("Set: read from the environment variable ACME_BOT_TOKEN.");
    const { model: out, errors } = readForm(layout, { ...initialValues(layout, model), name: "Bot" });
    expect(errors).toEqual({});
    expect(connectorPatchBody(out)).toEqual({
      name: "Bot",
      enabled: true,
      config: { bot_username: "acme_bot", api_base_url: "https://api.telegram.org", poll_timeout_s: 25 },
      secrets: null,
    });
    const replaced = readForm(layout, { ...initialValues(layout, model), "secret.bot_token.source": "env", "secret.bot_token.text": "NEW_TOKEN" });
    expect(connectorPatchBody(replaced.model).secrets).toEqual({ bot_token: { env: "NEW_TOKEN" } });
  });

  it("edits stream rules as rows", () => {
    const layout = connectorLayout("x_stream");
    const values: FormValues = { ...initialValues(layout, { kind: "x_stream" }), name: "Stream", "config.x_stream.rules": [{ value: "acme lang:en", tag: "brand" }] };
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(connectorCreateBody(model, "acme").config).toEqual({ api_base_url: "https://api.x.com", rules: [{ value: "acme lang:en", tag: "brand" }] });
    const none = readForm(layout, { ...values, "config.x_stream.rules": [] });
    expect(none.errors["config.x_stream.rules"]).toMatch(/at least 1 rule/);
  });

  it("checks environment variable names and hashtag streams", () => {
    expect(connectorCheck({ kind: "telegram", "secret.secret_token.source": "env", "secret.secret_token.text": "lower-case" })).toHaveProperty("secret.secret_token.text");
    expect(connectorCheck({ kind: "telegram", "secret.secret_token.source": "value", "secret.secret_token.text": "lower-case" })).toEqual({});
    expect(connectorCheck({ kind: "mastodon_stream", "config.mastodon_stream.stream": "hashtag" })).toHaveProperty("config.mastodon_stream.tag");
  });

  it("describes a secret's state and a connector's health without values", () => {
    expect(secretState(stored, "bot_token")).toMatch(/ACME_BOT_TOKEN/);
    expect(secretState({ ...stored, secrets: {} }, "bot_token")).toMatch(/Not set/);
    expect(secretState(undefined, "bot_token")).toBe("");
    const health = connectorHealth(stored);
    expect(health.lines).toEqual(["Enabled.", "All secrets are set.", "Polling: running, 12 items so far.", "Last error: timeout once"]);
    expect(health.lastSuccessAt).toBe("2026-01-01T10:00:00+00:00");
    const webhook = connectorHealth({ ...stored, kind: "telegram", enabled: false, missing_secrets: ["secret_token"], webhook_path: "/v1/webhooks/telegram/c1", poll_status: null });
    expect(webhook.lines).toEqual(["Disabled: nothing is received.", "Missing secrets: secret_token.", "The network must deliver to the ingest service at /v1/webhooks/telegram/c1."]);
  });
});

describe("keyword rules", () => {
  it("sends the rule with the brand", () => {
    const layout = keywordRuleLayout();
    const model = keywordRuleModel({ id: "k1", brand_id: "acme", name: "Acme", kind: "brand", label: "acme", query: '"acme corp" OR acme*' });
    const { model: out, errors } = readForm(layout, { ...initialValues(layout, model), kind: "competitor" });
    expect(errors).toEqual({});
    expect(keywordRuleBody(out, "acme")).toEqual({ brand_id: "acme", name: "Acme", kind: "competitor", label: "acme", query: '"acme corp" OR acme*' });
    const empty = readForm(layout, initialValues(layout, keywordRuleModel()));
    expect(Object.keys(empty.errors).sort()).toEqual(["label", "name", "query"]);
  });
});
