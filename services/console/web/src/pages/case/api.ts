// The settings lists the case page uses. The responder answers them as plain JSON objects
// (its settings routes are generic), so they are typed here by the schemas of their bodies.
import { responder, ok, type ResponderTypes } from "../../api/client";

export type CaseDetail = ResponderTypes["schemas"]["CaseDetail"];
export type Agent = ResponderTypes["schemas"]["AgentIn"] & { active_cases?: number; version?: number };
export type Department = ResponderTypes["schemas"]["DepartmentIn"] & { version?: number };
export type CannedResponse = ResponderTypes["schemas"]["CannedResponseIn"] & { id: string; version?: number };

export async function loadAgents(brand: string): Promise<Agent[]> {
  const rows = await ok(responder.GET("/v1/agents", { params: { query: { brand_id: brand } } }));
  return rows as unknown as Agent[];
}

export async function loadDepartments(brand: string): Promise<Department[]> {
  const rows = await ok(responder.GET("/v1/departments", { params: { query: { brand_id: brand } } }));
  return (rows as unknown as Department[]).sort((a, b) => a.name.localeCompare(b.name));
}

export async function loadCanned(brand: string): Promise<CannedResponse[]> {
  const rows = await ok(responder.GET("/v1/canned-responses", { params: { query: { brand_id: brand } } }));
  return (rows as unknown as CannedResponse[]).sort((a, b) => a.name.localeCompare(b.name));
}

/** The brand's display name for {{brand}} (the brand id when none is set or it cannot load). */
export async function loadBrandName(brand: string): Promise<string> {
  try {
    const config = await ok(responder.GET("/v1/brand-config/{brand_id}", { params: { path: { brand_id: brand } } }));
    return config.brand_name || brand;
  } catch {
    return brand;
  }
}

/** A fresh Idempotency-Key: one per draft, so a double click sends one reply. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
}
