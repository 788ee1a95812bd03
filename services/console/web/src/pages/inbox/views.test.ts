import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERS } from "./filters";
import { activeView, BUILT_IN_VIEWS, deleteView, loadViews, saveView, viewsKey, ViewError, type ViewStorage } from "./views";

function memory(): ViewStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe("saved views", () => {
  it("saves under the brand's key, replaces by name and deletes", () => {
    const s = memory();
    saveView(s, "bank", "Urgent on X", { ...DEFAULT_FILTERS, priority: "urgent", network: "x" });
    expect([...s.data.keys()]).toEqual(["smm.inbox.views.bank"]);
    expect(viewsKey("bank")).toBe("smm.inbox.views.bank");
    const views = saveView(s, "bank", " urgent on x ", { ...DEFAULT_FILTERS, priority: "high" });
    expect(views).toHaveLength(1);
    expect(views[0]!.filters.priority).toBe("high");
    expect(loadViews(s, "other")).toEqual([]);
    expect(deleteView(s, "bank", "URGENT ON X")).toEqual([]);
    expect(loadViews(s, "bank")).toEqual([]);
  });

  it("refuses empty and built-in names", () => {
    const s = memory();
    expect(() => saveView(s, "bank", "  ", DEFAULT_FILTERS)).toThrow(ViewError);
    expect(() => saveView(s, "bank", "unassigned", DEFAULT_FILTERS)).toThrow(/built-in/);
  });

  it("reads damaged storage as no views and cleans odd entries", () => {
    const s = memory();
    s.setItem(viewsKey("bank"), "{not json");
    expect(loadViews(s, "bank")).toEqual([]);
    s.setItem(viewsKey("bank"), JSON.stringify([{ name: "A", filters: { status: "bogus" } }, { name: "" }, { name: "a" }]));
    expect(loadViews(s, "bank")).toEqual([{ name: "A", filters: DEFAULT_FILTERS }]);
  });

  it("says so when the browser refuses to store", () => {
    const s: ViewStorage = { getItem: () => null, setItem: () => { throw new Error("QuotaExceededError"); } };
    expect(() => saveView(s, "bank", "Mine", DEFAULT_FILTERS)).toThrow(/did not let/);
  });

  it("knows which view the current filters are", () => {
    const unassigned = BUILT_IN_VIEWS.find((v) => v.name === "Unassigned")!;
    expect(activeView([], { ...DEFAULT_FILTERS, assignee: "unassigned" })).toBe(unassigned);
    const mine = { name: "Mine on VK", filters: { ...DEFAULT_FILTERS, network: "vk" } };
    expect(activeView([mine], { ...DEFAULT_FILTERS, network: "vk" })).toBe(mine);
    expect(activeView([mine], { ...DEFAULT_FILTERS, network: "x" })).toBeNull();
  });
});
