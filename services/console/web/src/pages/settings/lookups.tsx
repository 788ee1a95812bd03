// The brand's departments, SLA policies and calendars as choices for other settings' forms.
// Loaded once per brand when a section first asks, and again after one of them changes.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ok, responder } from "../../api/client";
import { useBrand } from "../../app/session";
import type { Option } from "./formkit";
import { NO_LOOKUPS, docId, type Doc, type Lookups } from "./responderForms";

interface LookupsState {
  lookups: Lookups;
  want(): void;
  refresh(): void;
}

const LookupsContext = createContext<LookupsState | null>(null);

function toOptions(docs: Doc[], label: (d: Doc) => string = (d) => String(d.name ?? docId(d))): Option[] {
  return docs.map((d) => ({ value: docId(d), label: label(d) })).sort((a, b) => a.label.localeCompare(b.label));
}

export function LookupsProvider({ children }: { children: ReactNode }) {
  const brand = useBrand();
  const [wanted, setWanted] = useState(false);
  const [round, setRound] = useState(0);
  const [lookups, setLookups] = useState<Lookups>(NO_LOOKUPS);

  useEffect(() => {
    if (!wanted || !brand) return;
    let live = true;
    const query = { params: { query: { brand_id: brand } } };
    // A list that fails to load offers no choices; the form still accepts the current value.
    const safe = (p: Promise<Doc[]>) => p.catch(() => [] as Doc[]);
    void Promise.all([
      safe(ok(responder.GET("/v1/departments", query))),
      safe(ok(responder.GET("/v1/sla-policies", query))),
      safe(ok(responder.GET("/v1/calendars", query))),
    ]).then(([departments, slaPolicies, calendars]) => {
      if (!live) return;
      setLookups({
        departments: toOptions(departments, (d) => `${String(d.name ?? docId(d))} (${docId(d)})`),
        slaPolicies: toOptions(slaPolicies),
        calendars: toOptions(calendars),
      });
    });
    return () => {
      live = false;
    };
  }, [wanted, brand, round]);

  const want = useCallback(() => setWanted(true), []);
  const refresh = useCallback(() => setRound((r) => r + 1), []);
  const value = useMemo(() => ({ lookups, want, refresh }), [lookups, want, refresh]);
  return <LookupsContext.Provider value={value}>{children}</LookupsContext.Provider>;
}

/** The brand's departments, SLA policies and calendars as options (loading on first use). */
export function useLookups(): { lookups: Lookups; refresh(): void } {
  const state = useContext(LookupsContext);
  if (!state) throw new Error("useLookups outside LookupsProvider");
  const { want } = state;
  useEffect(() => want(), [want]);
  return state;
}
