import { describe, expect, it } from "vitest";
import { initialValues, readForm, type FormValues } from "./formkit";
import {
  accountCheck,
  accountCreateBody,
  accountLayout,
  accountModel,
  accountUpdateBody,
  describeSteps,
  workflowBody,
  workflowCheck,
  workflowLayout,
  workflowModel,
  type Account,
} from "./publisherForms";

const account: Account = {
  id: "x-main",
  brand_id: "acme",
  network: "x",
  native_id: "12345",
  name: "Acme on X",
  api_base_url: null,
  replies: true,
  enabled: true,
  has_token: true,
  token_source: "env",
  version: 4,
};

describe("publishing accounts", () => {
  it("creates an account with its token", () => {
    const layout = accountLayout(false);
    const values: FormValues = { ...initialValues(layout, accountModel()), id: "tg", name: "Channel", network: "telegram", native_id: "@acme", token_text: "123:abc" };
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(accountCreateBody(model, "acme")).toEqual({
      id: "tg",
      brand_id: "acme",
      network: "telegram",
      native_id: "@acme",
      name: "Channel",
      api_base_url: null,
      replies: false,
      enabled: true,
      token: { value: "123:abc" },
    });
    expect(readForm(layout, { ...values, token_text: "" }).errors.token_text).toMatch(/required/);
  });

  it("replaces an account at the version read, keeping the token when none is typed", () => {
    const layout = accountLayout(true, account);
    const { model, errors } = readForm(layout, { ...initialValues(layout, accountModel(account)), name: "Acme X" });
    expect(errors).toEqual({});
    const body = accountUpdateBody(model, "acme", account.version);
    expect(body).toMatchObject({ id: "x-main", name: "Acme X", network: "x", replies: true, token: null, version: 4 });
    const withToken = readForm(layout, { ...initialValues(layout, accountModel(account)), token_text: "X_NEW" });
    expect(accountUpdateBody(withToken.model, "acme", 4).token).toEqual({ env: "X_NEW" });
    expect(accountCheck({ token_source: "env", token_text: "x-new" })).toHaveProperty("token_text");
  });
});

describe("approval workflows", () => {
  it("sends steps with approvers by role and by user", () => {
    const layout = workflowLayout(false);
    const values: FormValues = {
      ...initialValues(layout, workflowModel()),
      id: "legal",
      name: "Legal check",
      labels: "legal, ads",
      steps: [
        { name: "Manager", mode: "any", roles: ["smm_manager"], users: "" },
        { name: "Lawyers", mode: "all", roles: [], users: "u7, u8" },
      ],
    };
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(workflowCheck(model)).toEqual({});
    const body = workflowBody(model, "acme");
    expect(body).toEqual({
      id: "legal",
      brand_id: "acme",
      name: "Legal check",
      labels: ["legal", "ads"],
      position: 0,
      steps: [
        { name: "Manager", mode: "any", roles: ["smm_manager"], users: [] },
        { name: "Lawyers", mode: "all", roles: [], users: ["u7", "u8"] },
      ],
    });
    expect(describeSteps(body.steps)).toBe("Manager (any of smm_manager) → Lawyers (all of u7, u8)");
  });

  it("refuses a step without approvers", () => {
    expect(workflowCheck({ steps: [{ name: "Nobody", mode: "any", roles: [], users: [] }] })).toHaveProperty("steps.0.roles");
  });

  it("shows a stored workflow's steps as rows", () => {
    const doc = { id: "default", name: "Default", labels: [], position: 0, steps: [{ name: "Review", mode: "any", roles: ["admin"], users: ["u1"] }], version: 3 };
    const layout = workflowLayout(true);
    const values = initialValues(layout, workflowModel(doc));
    expect(values.steps).toEqual([{ name: "Review", mode: "any", roles: ["admin"], users: "u1" }]);
    expect(workflowBody(readForm(layout, values).model, "acme").steps).toEqual(doc.steps);
  });
});
