import { describe, expect, it } from "vitest";
import {
  fieldErrorsFromDetails,
  flatten,
  formatMinutes,
  fromMinutes,
  initialValues,
  isVersionConflict,
  nest,
  parseDuration,
  readForm,
  splitList,
  toMinutes,
  withCurrent,
  type FieldSpec,
  type Layout,
} from "./formkit";

describe("parseDuration", () => {
  it("reads plain minutes, clock times and units", () => {
    expect(parseDuration("90")).toEqual({ minutes: 90 });
    expect(parseDuration("1,5")).toEqual({ minutes: 1.5 });
    expect(parseDuration("1:30")).toEqual({ minutes: 90 });
    expect(parseDuration("1 h 30 min")).toEqual({ minutes: 90 });
    expect(parseDuration("1h30m")).toEqual({ minutes: 90 });
    expect(parseDuration("2d")).toEqual({ minutes: 2880 });
    expect(parseDuration("1.5 hours")).toEqual({ minutes: 90 });
    expect(parseDuration("45 s")).toEqual({ minutes: 0.75 });
    expect(parseDuration("1 day, 2 hours and 5 minutes")).toEqual({ minutes: 1440 + 120 + 5 });
  });
  it("is null when empty and an error for anything else", () => {
    expect(parseDuration("   ")).toBeNull();
    expect(parseDuration("soon")).toHaveProperty("error");
    expect(parseDuration("3 fortnights")).toHaveProperty("error");
    expect(parseDuration("1 h banana")).toHaveProperty("error");
    expect(parseDuration("1:75")).toHaveProperty("error");
  });
  it("formats minutes so that they parse back to the same value", () => {
    expect(formatMinutes(0)).toBe("0 min");
    expect(formatMinutes(90)).toBe("1 h 30 min");
    expect(formatMinutes(1440 + 1)).toBe("1 d 1 min");
    expect(formatMinutes(0.75)).toBe("45 s");
    for (const m of [1, 59, 61, 1439, 2881.5, 10_000]) {
      expect(parseDuration(formatMinutes(m))).toEqual({ minutes: m });
    }
  });
  it("converts between minutes and the API's units", () => {
    expect(toMinutes(3600, "s")).toBe(60);
    expect(fromMinutes(60, "s")).toBe(3600);
    expect(fromMinutes(90, "h")).toBe(1.5);
    expect(toMinutes(2, "h")).toBe(120);
  });
});

const layout: Layout = [
  { type: "text", name: "name", label: "Name", required: true, maxLength: 10 },
  { type: "text", name: "slug", label: "Id", pattern: "[a-z]+", patternMessage: "letters only", empty: "omit" },
  { type: "text", name: "note", label: "Note", empty: "null" },
  {
    group: "Numbers",
    fields: [
      { type: "number", name: "count", label: "Count", integer: true, min: 1, max: 5 },
      { type: "number", name: "ratio", label: "Ratio", min: -1, max: 1, empty: "omit" },
      { type: "duration", name: "wait_s", label: "Wait", unit: "s", max: 60 },
    ],
  },
  { type: "select", name: "color", label: "Color", options: [{ value: "red", label: "Red" }], empty: "null" },
  { type: "multi", name: "tags", label: "Tags", options: [{ value: "a", label: "A" }, { value: "b", label: "B" }], required: true },
  { type: "boolean", name: "on", label: "On" },
  { type: "tristate", name: "verified", label: "Verified", yes: "Y", no: "N", either: "E" },
  { type: "list", name: "langs", label: "Languages", itemPattern: "[a-z]{2}", itemMessage: "two letters", maxItems: 3 },
  { type: "json", name: "extra", label: "Extra", shape: "object", empty: "omit" },
  {
    type: "rows",
    name: "steps",
    label: "Steps",
    itemName: "step",
    required: true,
    fields: [
      { type: "text", name: "title", label: "Title", required: true },
      { type: "select", name: "mode", label: "Mode", options: [{ value: "any", label: "Any" }, { value: "all", label: "All" }], default: "any" },
    ],
  },
];

describe("readForm", () => {
  it("turns inputs into a model of the right types", () => {
    const values = initialValues(layout, { name: "x", tags: ["a"], steps: [{ title: "Review" }] });
    values.count = "3";
    values.ratio = "0,5";
    values.wait_s = "1 h";
    values.on = true;
    values.verified = "false";
    values.langs = "en, de, en";
    values.extra = '{"k": 1}';
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(model).toEqual({
      name: "x",
      note: null,
      count: 3,
      ratio: 0.5,
      wait_s: 3600,
      color: null,
      tags: ["a"],
      on: true,
      verified: false,
      langs: ["en", "de"],
      extra: { k: 1 },
      steps: [{ title: "Review", mode: "any" }],
    });
    expect("slug" in model).toBe(false);
  });
  it("reports each problem in words, by field name", () => {
    const values = initialValues(layout, {});
    values.name = "far too long a name";
    values.slug = "A1";
    values.count = "2.5";
    values.ratio = "2";
    values.wait_s = "2 h";
    values.langs = "en, deu";
    values.extra = "[1]";
    values.steps = [{ title: "", mode: "any" }];
    const { errors } = readForm(layout, values);
    expect(errors.name).toMatch(/at most 10 characters/);
    expect(errors.slug).toBe("letters only");
    expect(errors.count).toBe("Count must be a whole number.");
    expect(errors.ratio).toBe("Ratio must be from -1 to 1.");
    expect(errors.wait_s).toBe("Wait must be at most 1 h.");
    expect(errors.tags).toMatch(/at least 1/);
    expect(errors.langs).toBe("“deu”: two letters");
    expect(errors.extra).toMatch(/JSON object/);
    expect(errors["steps.0.title"]).toBe("Step 1: Title is required.");
  });
  it("refuses invalid JSON and a missing required row", () => {
    const values = initialValues(layout, { name: "n", tags: ["b"] });
    values.extra = "{nope";
    const { errors } = readForm(layout, values);
    expect(errors.extra).toMatch(/not valid JSON/);
    expect(errors.steps).toMatch(/at least 1 step/);
  });
  it("shows model values in the inputs and reads them back unchanged", () => {
    const model = { name: "n", note: "hi", count: 2, wait_s: 1830, color: "red", tags: ["b"], on: false, verified: true, langs: ["en"], extra: { a: [1] }, steps: [{ title: "t", mode: "all" }] };
    const values = initialValues(layout, model);
    expect(values.wait_s).toBe("30 min 30 s");
    expect(values.verified).toBe("true");
    expect(values.langs).toBe("en");
    const back = readForm(layout, values);
    expect(back.errors).toEqual({});
    expect(back.model).toEqual(model);
  });
  it("uses a field's default for a new item", () => {
    const field: FieldSpec = { type: "select", name: "mode", label: "Mode", options: [{ value: "x", label: "X" }], default: "x" };
    expect(initialValues([field])).toEqual({ mode: "x" });
    expect(readForm([field], {}).model).toEqual({ mode: "x" });
  });
  it("refuses a select value that is not offered", () => {
    const field: FieldSpec = { type: "select", name: "mode", label: "Mode", options: [{ value: "x", label: "X" }] };
    expect(readForm([field], { mode: "y" }).errors.mode).toMatch(/Choose one/);
    expect(readForm([field], { mode: "" }).errors.mode).toBe("Mode is required.");
  });
});

describe("helpers", () => {
  it("nests dotted keys and flattens them back", () => {
    const nested = nest({ "a.b": 1, "a.c": [2], d: "x" });
    expect(nested).toEqual({ a: { b: 1, c: [2] }, d: "x" });
    expect(flatten(nested, ["a.b", "a.c", "d", "a.missing"])).toEqual({ "a.b": 1, "a.c": [2], d: "x" });
  });
  it("splits lists by comma or by line, without blanks or repeats", () => {
    expect(splitList(" a, b ,,a\nc")).toEqual(["a", "b", "c"]);
    expect(splitList("x, y\nz", "line")).toEqual(["x, y", "z"]);
  });
  it("keeps a current value that is no longer offered", () => {
    const opts = [{ value: "a", label: "A" }];
    expect(withCurrent(opts, "a")).toBe(opts);
    expect(withCurrent(opts, "gone")).toEqual([...opts, { value: "gone", label: "gone (not found)" }]);
    expect(withCurrent(opts, null)).toBe(opts);
  });
  it("puts a 422's messages on the fields they name", () => {
    const details = [
      { loc: ["body", "name"], msg: "String should have at least 1 character" },
      { loc: ["body", "conditions", "networks"], msg: "Value error, bad network" },
      { loc: ["body", "unknown"], msg: "ignored" },
    ];
    expect(fieldErrorsFromDetails(details, ["name", "conditions.networks"])).toEqual({
      name: "String should have at least 1 character",
      "conditions.networks": "bad network",
    });
    expect(fieldErrorsFromDetails("not a list", ["name"])).toEqual({});
  });
  it("tells a version conflict from other 409s", () => {
    expect(isVersionConflict(409, "routing-rule.changed")).toBe(true);
    expect(isVersionConflict(409, "agent.changed")).toBe(true);
    expect(isVersionConflict(409, "account.conflict")).toBe(true);
    expect(isVersionConflict(409, "users.version_conflict")).toBe(true);
    expect(isVersionConflict(409, "department.exists")).toBe(false);
    expect(isVersionConflict(409, "users.email_taken")).toBe(false);
    expect(isVersionConflict(422, "x.changed")).toBe(false);
  });
});
