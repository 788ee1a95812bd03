// Live updates: one EventSource per tab on /api/live, fed by the backend from Kafka and
// already filtered to the user's current brand and roles. Pages subscribe by kind.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";

export type LiveKind = "case" | "sla" | "alert" | "post" | "contest";

export interface LiveMessage {
  /** CloudEvents type, e.g. "smm.case.opened" or "smm.sla.warning". */
  type: string;
  kind: LiveKind;
  brand_id: string;
  data: Record<string, unknown>;
}

export type LiveStatus = "connecting" | "live" | "offline";
type Listener = (message: LiveMessage | "reset") => void;

interface LiveState {
  status: LiveStatus;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveState | null>(null);
const KINDS: LiveKind[] = ["case", "sla", "alert", "post", "contest"];

export function LiveProvider({ brand, onSessionEnded, children }: {
  brand: string;
  onSessionEnded: () => void;
  children: ReactNode;
}) {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const listeners = useRef(new Set<Listener>());
  const ended = useRef(onSessionEnded);
  ended.current = onSessionEnded;

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    // A new stream per brand: the backend closes the old one when the brand changes.
    const source = new EventSource("/api/live");
    const emit = (m: LiveMessage | "reset") => listeners.current.forEach((l) => l(m));
    source.onopen = () => setStatus("live");
    source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
    for (const kind of KINDS) {
      source.addEventListener(kind, (e) => {
        try {
          emit(JSON.parse((e as MessageEvent<string>).data) as LiveMessage);
        } catch {
          /* a malformed message is skipped; the next refresh shows the truth */
        }
      });
    }
    source.addEventListener("reset", () => emit("reset"));
    source.addEventListener("session-ended", () => {
      source.close();
      setStatus("offline");
      ended.current();
    });
    return () => source.close();
  }, [brand]);

  return (
    <LiveContext.Provider value={{ status, subscribe: (l) => (listeners.current.add(l), () => listeners.current.delete(l)) }}>
      {children}
    </LiveContext.Provider>
  );
}

export function useLiveStatus(): LiveStatus {
  return useContext(LiveContext)?.status ?? "offline";
}

/**
 * Call `handler` for each live message of the given kinds, and with "reset" when the stream
 * lost messages (the page should refetch). The handler may change between renders.
 */
export function useLive(kinds: LiveKind[], handler: (message: LiveMessage | "reset") => void): void {
  const state = useContext(LiveContext);
  const current = useRef(handler);
  current.current = handler;
  const key = kinds.join(",");
  useEffect(() => {
    if (!state) return;
    const wanted = new Set(key.split(","));
    return state.subscribe((m) => {
      if (m === "reset" || wanted.has(m.kind)) current.current(m);
    });
  }, [state, key]);
}
