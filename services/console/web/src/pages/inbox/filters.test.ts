import { describe, expect, it } from "vitest";
import {
  DEFAULT_FILTERS,
  filtersFromParams,
  filtersToParams,
  firstPageQueries,
  listQuery,
  matchesText,
  mergeCases,
  normalizeFilters,
  type InboxFilters,
} from "./filters";
import { makeCase } from "./testing";

const f = (over: Partial<InboxFilters>): InboxFilters => ({ ...DEFAULT_FILTERS, ...over });

describe("filters and the address bar", () => {
  it("leaves defaults out and reads back what it wrote", () => {
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe("");
    const chosen = f({ status: "open", assignee: "agent:u-7", priority: "urgent", network: "x", tag: "fraud", q: "card blocked", sort: "activity" });
    const params = filtersToParams(chosen);
    expect(params.get("assignee")).toBe("agent:u-7");
    expect(params.has("sla")).toBe(false);
    expect(filtersFromParams(new URLSearchParams(params.toString()))).toEqual(chosen);
  });

  it("falls back to defaults for values the API does not know", () => {
    const got = filtersFromParams(new URLSearchParams("status=done&priority=asap&network=myspace&sort=random&assignee=bob&sla=late"));
    expect(got).toEqual(DEFAULT_FILTERS);
    expect(normalizeFilters(null)).toEqual(DEFAULT_FILTERS);
    expect(normalizeFilters({ status: "pending_customer", assignee: "unassigned" })).toEqual(
      f({ status: "pending_customer", assignee: "unassigned" }),
    );
  });
});

describe("listQuery", () => {
  it("turns the defaults into the active statuses, next deadline first", () => {
    expect(listQuery(DEFAULT_FILTERS, "bank", "u-1", { limit: 50 })).toEqual({
      brand_id: "bank",
      sort: "deadline",
      limit: 50,
      status: ["new", "open", "pending_customer", "pending_department"],
    });
  });

  it("maps every filter to the API's parameters", () => {
    expect(
      listQuery(
        f({ status: "all", assignee: "me", priority: "high", network: "vk", department: "cards", tag: " fraud ", sla: "at_risk_or_breached", q: "ignored" }),
        "bank",
        "u-1",
        { limit: 20, cursor: "bank|0000000000000001|c1" },
      ),
    ).toEqual({
      brand_id: "bank",
      sort: "deadline",
      limit: 20,
      cursor: "bank|0000000000000001|c1",
      assignee: ["u-1"],
      priority: ["high"],
      network: ["vk"],
      department: ["cards"],
      tag: ["fraud"],
      sla_state: ["breached", "at_risk"],
    });
    expect(listQuery(f({ assignee: "unassigned", status: "closed" }), "b", "me", { limit: 1 })).toMatchObject({
      unassigned: true,
      status: ["closed"],
    });
    expect(listQuery(f({ assignee: "agent:u-9" }), "b", "me", { limit: 1 }).assignee).toEqual(["u-9"]);
  });

  it("asks for the breached cases separately when sorting by deadline", () => {
    const both = firstPageQueries(DEFAULT_FILTERS, "bank", "u-1", 50);
    expect(both.breached).toMatchObject({ sla_state: ["breached"], limit: 200, sort: "deadline" });
    expect(both.main.sla_state).toBeUndefined();
    expect(firstPageQueries(f({ sort: "activity" }), "bank", "u", 50).breached).toBeNull();
    expect(firstPageQueries(f({ status: "resolved" }), "bank", "u", 50).breached).toBeNull();
    expect(firstPageQueries(f({ sla: "ok" }), "bank", "u", 50).breached).toBeNull();
    expect(firstPageQueries(f({ sla: "breached" }), "bank", "u", 50).breached).toBeNull();
    expect(firstPageQueries(f({ sla: "at_risk_or_breached" }), "bank", "u", 50).breached).not.toBeNull();
  });
});

describe("mergeCases and matchesText", () => {
  it("keeps each case once", () => {
    const merged = mergeCases([makeCase({ id: "a" }), makeCase({ id: "b" })], [makeCase({ id: "b", version: 9 }), makeCase({ id: "c" })]);
    expect(merged.map((c) => [c.id, c.version])).toEqual([["a", 1], ["b", 1], ["c", 1]]);
  });

  it("finds every word in author, text and tags, ignoring case and accents", () => {
    const c = makeCase({ preview: "Mi tarjeta está bloqueada", tags: ["fraud"], author: { id: "1", handle: "anna" } });
    expect(matchesText(c, "")).toBe(true);
    expect(matchesText(c, "ESTA tarjeta")).toBe(true);
    expect(matchesText(c, "@anna fraud")).toBe(true);
    expect(matchesText(c, "anna refund")).toBe(false);
  });
});
