// Console users and the signed-in user's own account as forms: roles, brands, passwords.
// Pure: the React sections only wire these to the API. The password rules mirror the
// console's (smm_console.domain.users.check_password) so most mistakes show before sending.
import type { ConsoleTypes } from "../../api/client";
import { options, type Errors, type Layout, type Model } from "./formkit";

type S = ConsoleTypes["schemas"];
export type Role = S["Role"];
export type User = S["UserOut"];

export const ROLES: Role[] = ["admin", "smm_manager", "agent", "content_manager", "analyst", "viewer"];
export const ROLE_LABELS: Record<Role, string> = {
  admin: "Administrator",
  smm_manager: "SMM manager",
  agent: "Agent",
  content_manager: "Content manager",
  analyst: "Analyst",
  viewer: "Viewer",
};
export const ROLE_HINTS: Record<Role, string> = {
  admin: "everything, including users",
  smm_manager: "everything but users",
  agent: "answers cases",
  content_manager: "drafts and schedules posts",
  analyst: "reads analytics, handles alerts",
  viewer: "reads only",
};
export const MIN_PASSWORD_CHARS = 12;
const BRAND = "\\*|[a-z0-9][a-z0-9_-]{0,63}";

/** Why a password would be refused, or null when it meets the console's policy. */
export function passwordProblem(password: string, email = ""): string | null {
  if (password.length < MIN_PASSWORD_CHARS) return `The password needs at least ${MIN_PASSWORD_CHARS} characters.`;
  if (password.length > 1024) return "The password may have at most 1024 characters.";
  const classes = new Set(
    [...password].map((c) => (c !== c.toUpperCase() ? "lower" : c !== c.toLowerCase() ? "upper" : /\d/.test(c) ? "digit" : "other")),
  );
  if (classes.size < 2) return "Mix at least two kinds of characters (lower case, upper case, digits, others).";
  if (email && password.normalize("NFKC").trim().toLowerCase() === email.trim().toLowerCase()) {
    return "The password must not be the email address.";
  }
  return null;
}

const roleField = { type: "multi", name: "roles", label: "Roles", required: true, options: ROLES.map((r) => ({ value: r, label: `${ROLE_LABELS[r]} — ${ROLE_HINTS[r]}` })) } as const;
const brandsField = {
  type: "list",
  name: "brands",
  label: "Brands",
  itemPattern: BRAND,
  itemMessage: "a brand id is lower-case letters, digits, '-' and '_' (or * for every brand, admins only).",
  maxItems: 500,
  hint: "Comma-separated brand ids; * gives an administrator every brand.",
} as const;

export function userCreateLayout(): Layout {
  return [
    { type: "text", name: "email", label: "Email", inputType: "email", required: true, maxLength: 254, pattern: "[^@\\s]+@[^@\\s]+\\.[^@\\s]+", patternMessage: "Enter an email address like name@example.com.", autoComplete: "off" },
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { type: "text", name: "password", label: "First password", inputType: "password", required: true, autoComplete: "new-password", hint: `At least ${MIN_PASSWORD_CHARS} characters, two kinds (e.g. letters and digits).` },
    { ...roleField, options: [...roleField.options] },
    { ...brandsField },
  ];
}

export function userEditLayout(): Layout {
  return [
    { type: "text", name: "name", label: "Name", required: true, maxLength: 200 },
    { ...roleField, options: [...roleField.options] },
    { ...brandsField },
  ];
}

export function userModel(user?: User, brand?: string): Model {
  return user ? { name: user.name, roles: user.roles, brands: user.brands } : { roles: ["agent"], brands: brand ? [brand] : [] };
}

function rolesAndBrands(model: Model): Errors {
  const brands = Array.isArray(model.brands) ? model.brands : [];
  const roles = Array.isArray(model.roles) ? model.roles : [];
  if (brands.includes("*") && !roles.includes("admin")) return { brands: "Only administrators may hold every brand (*)." };
  return {};
}

export function userCreateCheck(model: Model): Errors {
  const problem = passwordProblem(String(model.password ?? ""), String(model.email ?? ""));
  return { ...rolesAndBrands(model), ...(problem ? { password: problem } : {}) };
}

export const userEditCheck = rolesAndBrands;

function roleList(model: Model): Role[] {
  const chosen = Array.isArray(model.roles) ? model.roles : [];
  return ROLES.filter((r) => chosen.includes(r));
}

export function userCreateBody(model: Model): S["UserCreateIn"] {
  return {
    email: String(model.email ?? "").trim(),
    name: String(model.name ?? ""),
    password: String(model.password ?? ""),
    roles: roleList(model),
    brands: Array.isArray(model.brands) ? model.brands.map(String) : [],
  };
}

/** Name, roles and brands at the version read (the API refuses a stale one with 409). */
export function userPatchBody(model: Model, user: User): S["UserPatchIn"] {
  return {
    name: String(model.name ?? ""),
    roles: roleList(model),
    brands: Array.isArray(model.brands) ? model.brands.map(String) : [],
    version: user.version,
  };
}

// --- the own account ---------------------------------------------------------------------

export function ownPasswordLayout(): Layout {
  return [
    { type: "text", name: "current_password", label: "Current password", inputType: "password", required: true, autoComplete: "current-password" },
    {
      type: "text",
      name: "new_password",
      label: "New password",
      inputType: "password",
      required: true,
      autoComplete: "new-password",
      hint: `At least ${MIN_PASSWORD_CHARS} characters, two kinds (e.g. letters and digits).`,
    },
    { type: "text", name: "confirm_password", label: "New password again", inputType: "password", required: true, autoComplete: "new-password" },
  ];
}

export function ownPasswordCheck(model: Model, email: string): Errors {
  const next = String(model.new_password ?? "");
  const problem = passwordProblem(next, email);
  if (problem) return { new_password: problem };
  if (next === model.current_password) return { new_password: "The new password must differ from the current one." };
  if (next !== model.confirm_password) return { confirm_password: "The two new passwords differ: type the same one twice." };
  return {};
}

/** What a failed password change means for the person, by the API's status and code. */
export function ownPasswordError(status: number, code: string, message: string): { field?: string; text: string } {
  // The console answers 403 auth.wrong_password; a plain 401 other than "no session" means the same.
  if (code === "auth.wrong_password" || (status === 401 && code !== "auth.required")) {
    return { field: "current_password", text: "The current password is wrong. After 5 wrong tries the account waits 15 minutes." };
  }
  if (status === 422) return { field: "new_password", text: message ? `The new password was refused: ${message.replace(/\.?$/, ".")}` : "The new password is too weak." };
  if (status === 429) return { text: "Too many tries: wait a few minutes, then try again." };
  if (status === 401) return { text: "Your session has ended: sign in again." };
  return { text: message || `The password could not be changed (HTTP ${status}).` };
}

export const TIME_ZONE_BROWSER = "";

/** The time zones offered: the browser's list (or a few common ones), with the current one. */
export function timeZoneOptions(supported: string[], current?: string) {
  const zones = supported.length ? supported : ["UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "America/New_York", "Asia/Tokyo"];
  return options(current && !zones.includes(current) ? [current, ...zones] : zones);
}
