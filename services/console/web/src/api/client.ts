// Typed clients of the platform's APIs, generated from their OpenAPI documents.
//
// Every call goes to the console backend: its own routes under /api/auth and /api/users,
// the services' under /api/<service>/v1/..., where the backend adds a short-lived token for
// the signed-in user's current brand. The browser holds no token: the session is an
// HttpOnly cookie, and writes carry the CSRF token read from the smm_csrf cookie.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths as AnalyticsPaths } from "./gen/analytics";
import type { paths as ConsolePaths } from "./gen/console";
import type { paths as IngestPaths } from "./gen/ingest";
import type { paths as PublisherPaths } from "./gen/publisher";
import type { paths as ResponderPaths } from "./gen/responder";

export type { components as AnalyticsTypes } from "./gen/analytics";
export type { components as ConsoleTypes } from "./gen/console";
export type { components as IngestTypes } from "./gen/ingest";
export type { components as PublisherTypes } from "./gen/publisher";
export type { components as ResponderTypes } from "./gen/responder";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The CSRF token the backend set at sign-in (a readable cookie; the session cookie is not). */
export function csrfToken(): string {
  const match = document.cookie.split("; ").find((c) => c.startsWith("smm_csrf="));
  return match ? decodeURIComponent(match.slice("smm_csrf=".length)) : "";
}

/** Listeners told when any call answers 401: the session ended, the app shows the sign-in. */
const unauthorized = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorized.add(listener);
  return () => unauthorized.delete(listener);
}

const session: Middleware = {
  onRequest({ request }) {
    if (UNSAFE.has(request.method)) request.headers.set("X-CSRF-Token", csrfToken());
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.endsWith("/api/auth/login")) {
      unauthorized.forEach((listener) => listener());
    }
    return response;
  },
};

function client<P extends {}>(baseUrl: string): Client<P> {
  const c = createClient<P>({ baseUrl, credentials: "same-origin" });
  c.use(session);
  return c;
}

const origin = typeof window === "undefined" ? "http://127.0.0.1" : window.location.origin;
export const consoleApi = client<ConsolePaths>(origin);
export const responder = client<ResponderPaths>(`${origin}/api/responder`);
export const publisher = client<PublisherPaths>(`${origin}/api/publisher`);
export const analytics = client<AnalyticsPaths>(`${origin}/api/analytics`);
export const ingest = client<IngestPaths>(`${origin}/api/ingest`);

/** An error in words: what went wrong and what the user can do about it. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly nextStep: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const NEXT_STEP: Record<number, string> = {
  0: "Check your connection; the console retries live updates by itself.",
  400: "Check the values you entered and try again.",
  401: "Sign in again.",
  403: "Ask an administrator for the role or brand this needs.",
  404: "It may have been deleted or moved; go back to the list and refresh.",
  409: "Someone changed it meanwhile: refresh to see the latest version, then try again.",
  413: "Make it smaller and try again.",
  422: "Correct the highlighted values and try again.",
  429: "Wait a moment before trying again.",
  502: "A service behind the console is not answering; try again in a minute.",
  503: "The service is starting or overloaded; try again in a minute.",
};

/** Turn a response's error body (`{"error": {code, message, details}}`) into an ApiProblem. */
export function problemOf(status: number, body: unknown): ApiProblem {
  const err = (body as { error?: { code?: string; message?: string; details?: unknown } })?.error;
  const detail = (body as { detail?: unknown })?.detail;
  let message = err?.message ?? (typeof detail === "string" ? detail : "");
  if (!message && Array.isArray(detail)) {
    message = detail
      .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg}`)
      .join("; ");
  }
  if (!message) message = status ? `The request failed (HTTP ${status}).` : "The console cannot be reached.";
  const fields = Array.isArray(err?.details) ? (err.details as { loc?: unknown[]; msg?: string }[]) : [];
  if (err?.code === "request.invalid" && fields.length) {
    // Name what was wrong: "body.text: String should have at most 280 characters".
    message += ": " + fields.map((d) => `${(d.loc ?? []).join(".")}: ${d.msg ?? ""}`).join("; ");
  }
  const next = NEXT_STEP[status] ?? (status >= 500 ? NEXT_STEP[502]! : NEXT_STEP[400]!);
  return new ApiProblem(status, err?.code ?? `http_${status}`, message, next, err?.details ?? detail);
}

/** The data of an openapi-fetch result, or an ApiProblem thrown with the reason in words. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw problemOf(0, null);
  }
  if (result.error !== undefined || !result.response.ok) {
    throw problemOf(result.response.status, result.error);
  }
  return result.data as T;
}
