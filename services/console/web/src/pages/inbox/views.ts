// Saved views: named filter sets per brand, kept in the browser (localStorage
// `smm.inbox.views.<brand>`), next to a few built-in ones.
import { DEFAULT_FILTERS, normalizeFilters, sameFilters, type InboxFilters } from "./filters";

export interface SavedView {
  name: string;
  filters: InboxFilters;
}

/** The part of `Storage` the store needs (tests pass a Map-backed one). */
export interface ViewStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const BUILT_IN_VIEWS: readonly SavedView[] = Object.freeze([
  { name: "My open cases", filters: { ...DEFAULT_FILTERS, assignee: "me", status: "active" } },
  { name: "Unassigned", filters: { ...DEFAULT_FILTERS, assignee: "unassigned", status: "active" } },
  { name: "Breached / at risk", filters: { ...DEFAULT_FILTERS, sla: "at_risk_or_breached", status: "active" } },
]);

export const MAX_VIEWS = 50;
export const MAX_NAME = 60;

export function viewsKey(brand: string): string {
  return `smm.inbox.views.${brand}`;
}

/** A view name a person can act on: why it cannot be saved. */
export class ViewError extends Error {}

/** The brand's saved views; a missing or damaged entry is no views (never an exception). */
export function loadViews(storage: ViewStorage, brand: string): SavedView[] {
  let raw: unknown;
  try {
    raw = JSON.parse(storage.getItem(viewsKey(brand)) ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: SavedView[] = [];
  for (const item of raw) {
    const name = typeof item?.name === "string" ? item.name.trim().slice(0, MAX_NAME) : "";
    if (!name || out.some((v) => same(v.name, name))) continue;
    out.push({ name, filters: normalizeFilters(item.filters) });
  }
  return out.slice(0, MAX_VIEWS);
}

function same(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}

function write(storage: ViewStorage, brand: string, views: SavedView[]): SavedView[] {
  try {
    storage.setItem(viewsKey(brand), JSON.stringify(views));
  } catch {
    throw new ViewError("The browser did not let the console store the view (storage full or disabled).");
  }
  return views;
}

/** Save `filters` as `name` (replacing a saved view of the same name); the views after it. */
export function saveView(storage: ViewStorage, brand: string, name: string, filters: InboxFilters): SavedView[] {
  const clean = name.trim();
  if (!clean) throw new ViewError("Give the view a name.");
  if (clean.length > MAX_NAME) throw new ViewError(`Keep the name under ${MAX_NAME + 1} characters.`);
  if (BUILT_IN_VIEWS.some((v) => same(v.name, clean))) {
    throw new ViewError(`"${clean}" is a built-in view: choose another name.`);
  }
  const views = loadViews(storage, brand);
  const index = views.findIndex((v) => same(v.name, clean));
  const view = { name: clean, filters: normalizeFilters(filters) };
  if (index >= 0) views[index] = view;
  else if (views.length >= MAX_VIEWS) throw new ViewError(`You have ${MAX_VIEWS} views: delete one first.`);
  else views.push(view);
  return write(storage, brand, views);
}

/** Delete the saved view `name`; the views after it. */
export function deleteView(storage: ViewStorage, brand: string, name: string): SavedView[] {
  return write(
    storage,
    brand,
    loadViews(storage, brand).filter((v) => !same(v.name, name)),
  );
}

/** The view whose filters are exactly `filters` (built-in first), or null. */
export function activeView(views: readonly SavedView[], filters: InboxFilters): SavedView | null {
  return [...BUILT_IN_VIEWS, ...views].find((v) => sameFilters(v.filters, filters)) ?? null;
}
