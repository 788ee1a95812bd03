import { describe, expect, it } from "vitest";
import {
  auditDetail,
  buildBody,
  emptyForm,
  failuresFromSummary,
  failuresOf,
  formFromContent,
  formNetworks,
  publishAt,
  requesterOf,
  selectWorkflow,
  stepText,
  variantFields,
  type Account,
  type Content,
  type Delivery,
} from "./content";

const account = (id: string, network: string, name = id): Account => ({
  id,
  network,
  name,
  brand_id: "b1",
  enabled: true,
  has_token: true,
  native_id: id,
  replies: false,
  token_source: "value",
  version: 1,
});
const ACCOUNTS = [account("acc-x", "x", "Acme on X"), account("acc-tg", "telegram", "Acme channel"), account("acc-vk", "vk")];

const content = (over: Partial<Content> = {}): Content => ({
  id: "c1",
  brand_id: "b1",
  title: "Launch",
  status: "draft",
  variants: [
    { network: "telegram", text: "Shared words", media_urls: [], link: null, title: null },
    { network: "vk", text: "Shared words", media_urls: ["https://img.example/1.png"], link: "https://acme.example", title: null },
    { network: "x", text: "Short for X", media_urls: [], link: null, title: null },
  ],
  targets: ["acc-tg", "acc-vk", "acc-x"],
  campaign_id: "spring",
  labels: ["promo", "legal"],
  schedule: { at: "2026-11-27T13:05:00+00:00", time_zone: "Europe/Berlin" },
  publish_at: "2026-11-27T13:05:00Z",
  approval: { status: "draft", step: 0, approvals: [], audit: [] },
  deliveries: {},
  created_by: "u-author",
  created_at: "2026-11-20T10:00:00Z",
  updated_at: "2026-11-20T10:00:00Z",
  version: 3,
  ...over,
});

describe("the composer's form", () => {
  it("reads an item: the text most networks share is the shared text", () => {
    const form = formFromContent(content(), "Europe/Berlin");
    expect(form.text).toBe("Shared words");
    expect(form.variants.telegram?.text).toBeNull();
    expect(form.variants.x?.text).toBe("Short for X");
    expect(form.variants.vk?.media).toBe("https://img.example/1.png");
    expect(form.scheduleAt).toBe("2026-11-27T14:05");
    expect(form.labels).toBe("promo, legal");
    expect(variantFields(form, "vk")).toEqual({
      text: "Shared words",
      mediaUrls: ["https://img.example/1.png"],
      link: "https://acme.example",
      title: "",
    });
  });

  it("writes the body the API takes, times in UTC", () => {
    const form = formFromContent(content(), "Europe/Berlin");
    form.labels = "promo, promo ,  legal,";
    const { body, problems } = buildBody(form, ACCOUNTS, "b1", "Europe/Berlin");
    expect(problems).toEqual([]);
    expect(body?.schedule).toEqual({ at: "2026-11-27T13:05:00.000Z", time_zone: "Europe/Berlin" });
    expect(body?.labels).toEqual(["promo", "legal"]);
    expect(body?.variants.map((v) => [v.network, v.text])).toEqual([
      ["x", "Short for X"],
      ["telegram", "Shared words"],
      ["vk", "Shared words"],
    ]);
    expect(body?.variants.every((v) => v.title === null)).toBe(true);
  });

  it("posts on the networks of the chosen accounts", () => {
    const form = { ...emptyForm(), title: "T", text: "Hello", targets: ["acc-tg"] };
    expect(formNetworks(form, ACCOUNTS)).toEqual(["telegram"]);
    const { body } = buildBody(form, ACCOUNTS, "b1", "UTC");
    expect(body?.variants).toEqual([{ network: "telegram", text: "Hello", media_urls: [], link: null, title: null }]);
    expect(body?.schedule).toBeNull();
  });

  it("keeps a stored version whose network has no stored account until it is removed", () => {
    const imported = formFromContent(content({ targets: ["acc-x"] }), "UTC");
    expect(formNetworks(imported, ACCOUNTS)).toEqual(["x", "telegram", "vk"]);
    imported.targets = []; // unticking the X account drops X, not the kept versions
    expect(formNetworks(imported, ACCOUNTS)).toEqual(["telegram", "vk"]);
    imported.loaded = { ...imported.loaded, networks: ["x", "vk"] };
    expect(formNetworks(imported, ACCOUNTS)).toEqual(["vk"]);
    const whole = formFromContent(content(), "UTC");
    whole.targets = ["acc-tg"];
    expect(formNetworks(whole, ACCOUNTS)).toEqual(["telegram"]);
  });

  it("says what keeps a form from being saved", () => {
    const { body, problems } = buildBody({ ...emptyForm(), scheduleAt: "tomorrow" }, ACCOUNTS, "b1", "UTC");
    expect(body).toBeNull();
    expect(problems).toHaveLength(3);
    expect(problems.join(" ")).toContain("title");
    expect(problems.join(" ")).toContain("account");
    expect(problems.join(" ")).toContain("Schedule at");
  });
});

describe("workflows and approvals", () => {
  const workflows = [
    { id: "default", name: "Default", labels: [], position: 5, steps: [{ name: "Manager" }] },
    { id: "legal", name: "Legal review", labels: ["legal"], position: 1, steps: [{ name: "Lawyer" }, { name: "Manager" }] },
    { id: "promo", name: "Promo", labels: ["promo"], position: 2, steps: [{ name: "Marketing" }] },
  ];

  it("picks the first labelled workflow by position, else the default, else none", () => {
    expect(selectWorkflow(workflows, ["promo", "legal"])?.id).toBe("legal");
    expect(selectWorkflow(workflows, ["promo"])?.id).toBe("promo");
    expect(selectWorkflow(workflows, ["other"])?.id).toBe("default");
    expect(selectWorkflow(workflows.slice(1), ["other"])).toBeNull();
  });

  it("tells the step and who asked", () => {
    const c = content({
      status: "submitted",
      approval: {
        status: "submitted",
        step: 1,
        workflow_id: "legal",
        approvals: [],
        audit: [
          { user: "u-1", at: "2026-11-20T10:00:00Z", action: "submitted", step: 0 },
          { user: "u-2", at: "2026-11-20T11:00:00Z", action: "rejected", step: 0, reason: "typo" },
          { user: "u-3", at: "2026-11-20T12:00:00Z", action: "submitted", step: 0 },
        ],
      },
    });
    expect(requesterOf(c)).toEqual({ user: "u-3", at: "2026-11-20T12:00:00Z" });
    expect(requesterOf(content())).toEqual({ user: "u-author", at: "2026-11-20T10:00:00Z" });
    expect(stepText(c, selectWorkflow(workflows, ["legal"]))).toBe("Step 2 of 2: Manager (Legal review)");
  });

  it("puts a move's times in words", () => {
    const fmt = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const detail = auditDetail(
      { user: "u", at: "2026-11-20T10:00:00Z", action: "rescheduled", reason: "2026-11-27T13:05:00+00:00 → 2026-11-28T09:00:00+00:00" },
      fmt,
    );
    expect(detail).toBe("from 13:05 to 09:00");
    expect(auditDetail({ user: "u", at: "x", action: "rescheduled", reason: "unscheduled → 2026-11-28T09:00:00+00:00" }, fmt)).toBe(
      "from no time to 09:00",
    );
  });
});

describe("failures", () => {
  it("tells each failed account's reason and when", () => {
    const deliveries: Delivery[] = [
      { id: "c1:acc-x", account_id: "acc-x", network: "x", state: "published", attempts: 1, found_after_ambiguity: false, history: [] },
      {
        id: "c1:acc-tg",
        account_id: "acc-tg",
        network: "telegram",
        state: "failed",
        attempts: 2,
        error: { code: "telegram.chat_not_found", message: "The bot is not in the channel.", retryable: true },
        found_after_ambiguity: false,
        history: [
          { at_ms: 100, what: "retrying", detail: "" },
          { at_ms: 200, what: "failed", detail: "telegram.chat_not_found: ..." },
        ],
      },
      { id: "c1:acc-vk", account_id: "acc-vk", network: "vk", state: "failed", attempts: 8, error: { code: "delivery.gave_up" }, found_after_ambiguity: false, history: [] },
    ];
    expect(failuresOf(deliveries)).toEqual([
      { accountId: "acc-tg", network: "telegram", code: "telegram.chat_not_found", message: "The bot is not in the channel.", at: 200, attempts: 2 },
      {
        accountId: "acc-vk",
        network: "vk",
        code: "delivery.gave_up",
        message: "The network kept failing; the publisher gave up after several attempts.",
        at: null,
        attempts: 8,
      },
    ]);
  });

  it("reads the item's own summary too", () => {
    const c = content({
      status: "failed",
      deliveries: {
        "acc-x": { state: "published", attempts: 1 },
        "acc-tg": { state: "failed", attempts: 1, network: "telegram", error: { code: "odd.code" } },
      },
    });
    expect(failuresFromSummary(c)).toEqual([
      { accountId: "acc-tg", network: "telegram", code: "odd.code", message: "The network refused the post (code odd.code).", at: null, attempts: 1 },
    ]);
    expect(publishAt(c)).toBe(Date.UTC(2026, 10, 27, 13, 5));
    expect(publishAt(content({ publish_at: null }))).toBeNull();
  });
});
