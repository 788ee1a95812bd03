import { describe, expect, it } from "vitest";
import { initialValues, readForm, type Layout, type Model } from "./formkit";
import {
  agentCreateBody,
  agentLayout,
  agentModel,
  agentUpdateBody,
  brandConfigBody,
  brandConfigLayout,
  brandConfigModel,
  calendarBody,
  calendarCheck,
  calendarLayout,
  calendarModel,
  cannedCheck,
  defaultActionsBody,
  departmentBody,
  departmentLayout,
  departmentModel,
  describeActions,
  describeConditions,
  describeTargets,
  describeWeek,
  escalationBody,
  escalationCheck,
  escalationLayout,
  escalationModel,
  isDefaultRule,
  nextPosition,
  NO_LOOKUPS,
  parseIntervals,
  routingRuleBody,
  routingRuleCheck,
  routingRuleLayout,
  routingRuleModel,
  slaPolicyBody,
  slaPolicyCheck,
  slaPolicyLayout,
  slaPolicyModel,
  unknownVariables,
  type Lookups,
} from "./responderForms";

const lookups: Lookups = {
  departments: [{ value: "billing", label: "Billing (billing)" }],
  slaPolicies: [{ value: "p1", label: "VIP" }],
  calendars: [{ value: "c1", label: "Office" }],
};

/** What the form sends after a person opens it and changes `edits`. */
function roundTrip(layout: Layout, model: Model, edits: Record<string, unknown> = {}) {
  const values = { ...initialValues(layout, model), ...edits } as ReturnType<typeof initialValues>;
  return readForm(layout, values);
}

describe("routing rules", () => {
  const stored = {
    id: "r1",
    brand_id: "acme",
    name: "Refunds",
    position: 20,
    enabled: true,
    version: 3,
    conditions: { networks: ["x", "vk"], text_keywords: ["refund", "money back"], keyword_join: "any", min_sentiment_score: -1, max_sentiment_score: -0.2, author_verified: false },
    actions: { department: "billing", priority: "high", tags: ["refund"], sla_policy_id: "p1", assignment: "least_loaded", required_skills: ["language"] },
  };

  it("sends an edited rule back with its conditions and actions nested", () => {
    const model = routingRuleModel(stored);
    const layout = routingRuleLayout(lookups, model);
    const { model: out, errors } = roundTrip(layout, model, { name: "Refunds and returns", "conditions.kinds": ["review"] });
    expect(errors).toEqual({});
    const body = routingRuleBody(out, "acme");
    expect(body).toMatchObject({ brand_id: "acme", name: "Refunds and returns", position: 20, enabled: true });
    expect(body.conditions).toMatchObject({
      networks: ["x", "vk"],
      kinds: ["review"],
      text_keywords: ["refund", "money back"],
      keyword_join: "any",
      min_sentiment_score: -1,
      max_sentiment_score: -0.2,
      author_verified: false,
      on_own_post: null,
      min_author_followers: null,
      languages: [],
    });
    expect(body.actions).toEqual({ department: "billing", priority: "high", tags: ["refund"], sla_policy_id: "p1", assignment: "least_loaded", required_skills: ["language"] });
    expect(body).not.toHaveProperty("version");
    expect(body).not.toHaveProperty("id");
  });

  it("starts a new rule after the last one, with every skill required", () => {
    const model = routingRuleModel(undefined, nextPosition([{ position: 10 }, { position: 40 }, { position: 1_000_000 }]));
    const { model: out, errors } = roundTrip(routingRuleLayout(NO_LOOKUPS, model), model, { name: "New" });
    expect(errors).toEqual({});
    const body = routingRuleBody(out, "acme");
    expect(body.position).toBe(50);
    expect(body.actions).toEqual({ department: null, priority: null, tags: [], sla_policy_id: null, assignment: "round_robin", required_skills: ["language", "network"] });
    expect(nextPosition([])).toBe(10);
  });

  it("refuses a score range upside down and a bad language tag", () => {
    expect(routingRuleCheck({ "conditions.min_sentiment_score": 0.5, "conditions.max_sentiment_score": 0 })).toHaveProperty("conditions.max_sentiment_score");
    expect(routingRuleCheck({ "conditions.min_sentiment_score": -0.5, "conditions.max_sentiment_score": 0 })).toEqual({});
    const model = routingRuleModel(stored);
    const { errors } = roundTrip(routingRuleLayout(lookups, model), model, { "conditions.languages": "en, english" });
    expect(errors["conditions.languages"]).toMatch(/english/);
  });

  it("edits only the default rule's actions", () => {
    const fallback = { id: "default-acme", is_default: true, name: "Default", position: 1_000_000, conditions: {}, actions: { department: "billing", assignment: "manual" } };
    const model = routingRuleModel(fallback);
    const layout = routingRuleLayout(lookups, model, true);
    const { model: out, errors } = roundTrip(layout, model);
    expect(errors).toEqual({});
    const body = defaultActionsBody(out, "acme");
    expect(Object.keys(body)).toEqual(["brand_id", "actions"]);
    expect(body.actions).toMatchObject({ department: "billing", assignment: "manual" });
    expect(isDefaultRule(fallback, "acme")).toBe(true);
    expect(isDefaultRule({ id: "default-acme" }, "acme")).toBe(true);
    expect(isDefaultRule(stored, "acme")).toBe(false);
  });

  it("describes conditions and actions in a line", () => {
    expect(describeConditions(stored.conditions)).toBe("Network: X, VK · Score: -1 to -0.2 · Any of: words refund, money back · Author not verified");
    expect(describeConditions({})).toBe("Every case");
    expect(describeActions(stored.actions)).toBe("Department billing · priority high · tags refund · SLA p1 · least loaded");
  });
});

describe("SLA policies", () => {
  it("builds targets from the metrics given, in seconds", () => {
    const model = slaPolicyModel();
    const layout = slaPolicyLayout(lookups, model);
    const { model: out, errors } = roundTrip(layout, model, {
      name: "Standard",
      calendar_id: "c1",
      "resolution.target_s": "2 d",
      "resolution.warn_before_s": "4 h",
    });
    expect(errors).toEqual({});
    expect(slaPolicyCheck(out)).toEqual({});
    expect(slaPolicyBody(out, "acme")).toEqual({
      brand_id: "acme",
      name: "Standard",
      calendar_id: "c1",
      pause_when_pending_customer: true,
      targets: [
        { metric: "first_response", target_s: 3600, warn_percent: 80, warn_before_s: null },
        { metric: "resolution", target_s: 172_800, warn_percent: null, warn_before_s: 14_400 },
      ],
    });
  });

  it("reads a stored policy back into the same body", () => {
    const doc = {
      id: "p1",
      name: "VIP",
      calendar_id: null,
      pause_when_pending_customer: false,
      targets: [{ metric: "next_response", target_s: 900, warn_percent: 50, warn_before_s: null }],
      version: 2,
    };
    const model = slaPolicyModel(doc);
    const { model: out, errors } = roundTrip(slaPolicyLayout(lookups, model), model);
    expect(errors).toEqual({});
    expect(slaPolicyBody(out, "acme")).toEqual({ brand_id: "acme", name: "VIP", calendar_id: null, pause_when_pending_customer: false, targets: doc.targets });
  });

  it("refuses what the responder would refuse", () => {
    expect(slaPolicyCheck({})).toHaveProperty("first_response.target_s");
    expect(slaPolicyCheck({ "resolution.target_s": 600, "resolution.warn_percent": 50, "resolution.warn_before_s": 60 })).toHaveProperty("resolution.warn_before_s");
    expect(slaPolicyCheck({ "resolution.target_s": 600, "resolution.warn_before_s": 600 })["resolution.warn_before_s"]).toMatch(/before the breach/);
    expect(slaPolicyCheck({ "first_response.target_s": 60, "resolution.warn_percent": 50 })).toHaveProperty("resolution.target_s");
  });

  it("describes targets", () => {
    expect(describeTargets([{ metric: "first_response", target_s: 3600, warn_percent: 80 }, { metric: "resolution", target_s: 86_400, warn_before_s: 7200 }])).toBe(
      "First response 1 h (warn at 80 %) · Resolution 1 d (warn 2 h before)",
    );
  });
});

describe("business-hours calendars", () => {
  it("reads intervals the way people write them", () => {
    expect(parseIntervals("9-18")).toEqual({ intervals: [["09:00", "18:00"]] });
    expect(parseIntervals("09:00 – 13:00, 14.00-18.30")).toEqual({ intervals: [["09:00", "13:00"], ["14:00", "18:30"]] });
    expect(parseIntervals("22:00 to 06:00")).toEqual({ intervals: [["22:00", "06:00"]] });
    expect(parseIntervals("00:00-24:00")).toEqual({ intervals: [["00:00", "24:00"]] });
    expect(parseIntervals("")).toEqual({ intervals: [] });
    expect(parseIntervals("24:00-25:00")).toHaveProperty("error");
    expect(parseIntervals("9 till 5")).toHaveProperty("error");
  });

  it("sends the week, holidays and dates", () => {
    const model = calendarModel();
    const layout = calendarLayout(["Europe/Berlin"]);
    const { model: out, errors } = roundTrip(layout, model, {
      name: "Office",
      time_zone: "Europe/Berlin",
      "week.fri": "9-15",
      "week.sat": "10:00-14:00",
      holidays_country: "de",
      closed_dates: "2026-12-24, 2026-12-31",
    });
    expect(errors).toEqual({});
    expect(calendarCheck(out)).toEqual({});
    const body = calendarBody(out, "acme");
    expect(body.week).toEqual({
      mon: [["09:00", "18:00"]],
      tue: [["09:00", "18:00"]],
      wed: [["09:00", "18:00"]],
      thu: [["09:00", "18:00"]],
      fri: [["09:00", "15:00"]],
      sat: [["10:00", "14:00"]],
    });
    expect(body).toMatchObject({ brand_id: "acme", name: "Office", time_zone: "Europe/Berlin", always_open: false, holidays_country: "DE", holidays_subdivision: null, closed_dates: ["2026-12-24", "2026-12-31"], open_dates: [] });
    expect(describeWeek(body)).toBe("Mon–Thu 09:00-18:00 · Fri 09:00-15:00 · Sat 10:00-14:00");
  });

  it("checks the rules of the responder's calendars", () => {
    const closed = calendarModel();
    for (const day of ["mon", "tue", "wed", "thu", "fri"]) closed[`week.${day}`] = "";
    expect(calendarCheck(closed)["week.mon"]).toMatch(/at least one day/);
    expect(calendarCheck({ ...calendarModel(), always_open: true })["week.mon"]).toMatch(/24\/7/);
    expect(calendarCheck({ ...calendarModel(), "week.tue": "nine to five" })["week.tue"]).toMatch(/Tuesday/);
    expect(calendarCheck({ ...calendarModel(), closed_dates: ["2026-01-01"], open_dates: ["2026-01-01"] })).toHaveProperty("open_dates");
    const open = { time_zone: "UTC", always_open: true, closed_dates: [], open_dates: [] };
    expect(calendarCheck(open)).toEqual({});
    expect(calendarBody({ ...open, "week.mon": "9-17" }, "acme").week).toEqual({});
    expect(describeWeek({ always_open: true })).toBe("24/7");
  });

  it("shows a stored calendar's hours in the inputs", () => {
    const model = calendarModel({ id: "c1", name: "Night", time_zone: "UTC", week: { mon: [["22:00", "06:00"]] }, always_open: false, closed_dates: [], open_dates: [] });
    expect(model["week.mon"]).toBe("22:00-06:00");
    expect(model["week.tue"]).toBe("");
  });
});

describe("departments, escalation rules, canned responses", () => {
  it("keeps a department's id and converts its handoff target", () => {
    const doc = { id: "billing", name: "Billing", description: "", sla_policy_id: "p1", calendar_id: null, response_target_s: 7200, warn_percent: null, version: 4 };
    const model = departmentModel(doc);
    const layout = departmentLayout(lookups, model, true);
    const { model: out, errors } = roundTrip(layout, model, { response_target_s: "3 h" });
    expect(errors).toEqual({});
    expect(departmentBody(out, "acme")).toEqual({ brand_id: "acme", id: "billing", name: "Billing", description: "", sla_policy_id: "p1", calendar_id: null, response_target_s: 10_800, warn_percent: null });
    const fresh = departmentModel();
    const bad = roundTrip(departmentLayout(lookups, fresh, false), fresh, { id: "Billing Team", name: "B" });
    expect(bad.errors.id).toMatch(/lower-case/);
  });

  it("requires an escalation rule to do something, and not two ways of assigning", () => {
    expect(escalationCheck({ name: "x" })).toHaveProperty("raise_priority");
    expect(escalationCheck({ reassign: true, assign_to: "u1" })).toHaveProperty("assign_to");
    expect(escalationCheck({ notify: ["lead"] })).toEqual({});
    const model = escalationModel();
    const { model: out, errors } = roundTrip(escalationLayout(lookups, model), model, {
      name: "Breach to lead",
      metrics: ["first_response"],
      min_priority: "high",
      raise_priority: true,
      notify: "lead, supervisors",
    });
    expect(errors).toEqual({});
    expect(escalationBody(out, "acme")).toEqual({
      brand_id: "acme",
      name: "Breach to lead",
      trigger: "breach",
      metrics: ["first_response"],
      departments: [],
      min_priority: "high",
      position: 0,
      enabled: true,
      raise_priority: true,
      reassign: false,
      assign_to: null,
      route_to_department: null,
      notify: ["lead", "supervisors"],
    });
  });

  it("finds unknown template variables", () => {
    expect(unknownVariables("Hi {{author_name}}, {{ agent_name }} here about {{order}} and {{order}}")).toEqual(["order"]);
    expect(cannedCheck({ text: "Hello {{ author_handle }}" })).toEqual({});
    expect(cannedCheck({ text: "Hello {{name}}" }).text).toMatch(/\{\{name\}\}/);
  });
});

describe("brand configuration and agents", () => {
  it("reads and writes the brand configuration", () => {
    const config = {
      brand_name: "Acme",
      reopen_window_h: 48,
      default_sla_policy_id: "p1",
      calendar_id: null,
      approval: { priorities: ["urgent" as const], tags: ["legal"], departments: [] },
      review_follow_up: { enabled: true, threshold: -0.3, days: 14 },
    };
    const model = brandConfigModel(config);
    const { model: out, errors } = roundTrip(brandConfigLayout(lookups, model), model, { "approval.priorities": ["high", "urgent"] });
    expect(errors).toEqual({});
    expect(brandConfigBody(out)).toEqual({ ...config, approval: { ...config.approval, priorities: ["high", "urgent"] } });
  });

  it("creates an agent with every field and updates only what changed", () => {
    const model = agentModel();
    const { model: out, errors } = roundTrip(agentLayout(lookups, model, false), model, { user_id: "u1", languages: "en, de", networks: ["x"] });
    expect(errors).toEqual({});
    expect(agentCreateBody(out, "acme")).toEqual({
      brand_id: "acme",
      user_id: "u1",
      name: "",
      departments: [],
      languages: ["en", "de"],
      networks: ["x"],
      capacity: 10,
      availability: "offline",
      requires_approval: false,
    });
    const doc = { user_id: "u1", name: "Ann", departments: ["billing"], languages: ["en"], networks: ["x"], capacity: 5, availability: "online", requires_approval: false, active_cases: 2, version: 7 };
    const edited = roundTrip(agentLayout(lookups, agentModel(doc), true), agentModel(doc), { capacity: "8" });
    expect(agentUpdateBody(edited.model, doc)).toEqual({ capacity: 8 });
    expect(agentUpdateBody(agentModel(doc), doc)).toBeNull();
  });
});
