import { describe, expect, it } from "vitest";
import { initialValues, readForm } from "./formkit";
import {
  ownPasswordCheck,
  ownPasswordError,
  passwordProblem,
  timeZoneOptions,
  userCreateBody,
  userCreateCheck,
  userCreateLayout,
  userEditCheck,
  userEditLayout,
  userModel,
  userPatchBody,
  type User,
} from "./usersForms";

describe("passwords", () => {
  it("follows the console's password policy", () => {
    expect(passwordProblem("short1")).toMatch(/12 characters/);
    expect(passwordProblem("alllowercaseletters")).toMatch(/two kinds/);
    expect(passwordProblem("correct horse battery")).toBeNull();
    expect(passwordProblem("Ann@Example.com", "ann@example.com")).toMatch(/email/);
    expect(passwordProblem("Пароль-пароль")).toBeNull();
  });

  it("checks the change of one's own password", () => {
    expect(ownPasswordCheck({ current_password: "old", new_password: "tiny", confirm_password: "tiny" }, "a@b.c")).toHaveProperty("new_password");
    expect(ownPasswordCheck({ current_password: "Same password 1", new_password: "Same password 1", confirm_password: "Same password 1" }, "a@b.c").new_password).toMatch(/differ/);
    expect(ownPasswordCheck({ current_password: "old", new_password: "New password 12", confirm_password: "New password 13" }, "a@b.c")).toHaveProperty("confirm_password");
    expect(ownPasswordCheck({ current_password: "old", new_password: "New password 12", confirm_password: "New password 12" }, "a@b.c")).toEqual({});
  });

  it("says what a refused change means", () => {
    expect(ownPasswordError(403, "auth.wrong_password", "x")).toEqual({ field: "current_password", text: expect.stringMatching(/current password is wrong/) });
    expect(ownPasswordError(401, "http_401", "")).toMatchObject({ field: "current_password" });
    expect(ownPasswordError(401, "auth.required", "")).toEqual({ text: "Your session has ended: sign in again." });
    expect(ownPasswordError(422, "users.weak_password", "The password needs at least 12 characters")).toEqual({
      field: "new_password",
      text: "The new password was refused: The password needs at least 12 characters.",
    });
    expect(ownPasswordError(403, "auth.csrf", "Reload the page")).toEqual({ text: "Reload the page" });
    expect(ownPasswordError(429, "auth.too_many_attempts", "")).toMatchObject({ text: expect.stringMatching(/wait/) });
  });

  it("offers the browser's time zones and keeps an unknown current one", () => {
    expect(timeZoneOptions(["UTC", "Europe/Berlin"]).map((o) => o.value)).toEqual(["UTC", "Europe/Berlin"]);
    expect(timeZoneOptions(["UTC"], "Mars/Olympus").map((o) => o.value)).toEqual(["Mars/Olympus", "UTC"]);
    expect(timeZoneOptions([]).length).toBeGreaterThan(1);
  });
});

const user: User = { id: "u1", email: "ann@example.com", name: "Ann", roles: ["agent"], brands: ["acme"], disabled: false, version: 5, created_ms: 0 };

describe("users", () => {
  it("creates a user with roles in the console's order and brands", () => {
    const layout = userCreateLayout();
    const values = { ...initialValues(layout, userModel(undefined, "acme")), email: " bob@example.com ", name: "Bob", password: "Good password 1", roles: ["viewer", "smm_manager"], brands: "acme, beta" };
    const { model, errors } = readForm(layout, values);
    expect(errors).toEqual({});
    expect(userCreateCheck(model)).toEqual({});
    expect(userCreateBody(model)).toEqual({ email: "bob@example.com", name: "Bob", password: "Good password 1", roles: ["smm_manager", "viewer"], brands: ["acme", "beta"] });
  });

  it("refuses what the console would refuse", () => {
    const layout = userCreateLayout();
    const base = { ...initialValues(layout, userModel()), email: "not-an-email", name: "B", password: "weak", roles: [], brands: "Acme!" };
    const { errors } = readForm(layout, base);
    expect(Object.keys(errors).sort()).toEqual(["brands", "email", "roles"]);
    expect(userCreateCheck({ password: "weak", email: "b@x.io", roles: ["agent"], brands: [] })).toHaveProperty("password");
    expect(userEditCheck({ roles: ["agent"], brands: ["*"] })).toHaveProperty("brands");
    expect(userEditCheck({ roles: ["admin"], brands: ["*"] })).toEqual({});
  });

  it("edits name, roles and brands at the version read", () => {
    const layout = userEditLayout();
    const { model, errors } = readForm(layout, { ...initialValues(layout, userModel(user)), roles: ["agent", "analyst"] });
    expect(errors).toEqual({});
    expect(userPatchBody(model, user)).toEqual({ name: "Ann", roles: ["agent", "analyst"], brands: ["acme"], version: 5 });
  });
});
