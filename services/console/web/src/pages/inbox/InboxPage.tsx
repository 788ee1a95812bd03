// The inbox: the brand's cases, live, next SLA deadline first, with filters, saved views,
// bulk actions and keyboard triage (j/k, Enter/o, r, a, e, x, /, ?).
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ok, responder, type ResponderTypes } from "../../api/client";
import { useLive } from "../../app/live";
import { useBrand, useMe, useSession } from "../../app/session";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Empty, ErrorNotice, Loading, PageHeader, useAction, useResource } from "../../components/ui";
import { parseAgents, parseDepartments, type Agent, type Department } from "./agents";
import { chunk, bulkHeadline, summarizeBulk, type BulkResult } from "./bulk";
import { CaseTable, caseHref } from "./CaseTable";
import { BulkBar, CountsBar, FilterBar, ViewsBar } from "./Controls";
import { filtersFromParams, filtersToParams, matchesText, DEFAULT_FILTERS, type InboxFilters } from "./filters";
import { networkName } from "../../lib/networks";
import { authorLabel, type CaseOut } from "./format";
import { debounce, liveEffect } from "./live";
import { keepFocus, moveFocus, shortcutFor, SHORTCUTS } from "./shortcuts";
import { learnFromCases, learnFromEvent, learnFromTimeline, sortByDeadline, unknownBreaches } from "./sla";
import { useCases } from "./useCases";
import { activeView, deleteView, loadViews, saveView, ViewError, type SavedView } from "./views";
import "./inbox.css";

type BulkIn = ResponderTypes["schemas"]["BulkIn"];

/** Breach instants learnt so far (kept while the tab lives: going to a case and back keeps them). */
const BREACHES = new Map<string, number>();
/** Cases whose timeline was read for their breach instants (read once per tab). */
const LOOKED_UP = new Set<string>();
const NO_AGENTS: Agent[] = [];
const NO_DEPARTMENTS: Department[] = [];
/** How long a newly arrived case stays highlighted. */
const FRESH_MS = 8000;

interface Notice {
  text: string;
  failures?: { label: string; reason: string }[];
  undo?: () => void;
}

function about(c: CaseOut): string {
  return `the case from ${authorLabel(c.author)} on ${networkName(c.network)}`;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function browserStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export default function InboxPage() {
  const brand = useBrand();
  const me = useMe();
  const { can } = useSession();
  const canWrite = can("mentions:write");
  const navigate = useNavigate();

  // --- filters live in the address bar (reload and links keep them); the text search is
  // kept here while typing (a controlled input fed by the address bar would lose keystrokes).
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(() => params.get("q") ?? "");
  const urlFilters = useMemo(() => filtersFromParams(params), [params]);
  const filters = useMemo(() => ({ ...urlFilters, q }), [urlFilters, q]);
  const setFilters = useCallback(
    (next: InboxFilters) => {
      setQ(next.q);
      setParams(filtersToParams({ ...next, q: "" }), { replace: true });
    },
    [setParams],
  );

  // --- data ------------------------------------------------------------------------------
  const list = useCases(brand, me.id, filters);
  const counts = useResource(
    () => ok(responder.GET("/v1/cases/counts", { params: { query: { brand_id: brand } } })),
    [brand],
  );
  const agentsRes = useResource(
    async () => parseAgents(await ok(responder.GET("/v1/agents", { params: { query: { brand_id: brand } } }))),
    [brand],
  );
  const departmentsRes = useResource(
    async () =>
      parseDepartments(await ok(responder.GET("/v1/departments", { params: { query: { brand_id: brand } } }))),
    [brand],
  );
  const agents = agentsRes.data ?? NO_AGENTS;
  const departments = useMemo(() => {
    const known = departmentsRes.data ?? NO_DEPARTMENTS;
    const seen = list.cases
      .map((c) => c.department)
      .filter((d): d is string => !!d && !known.some((k) => k.id === d));
    return [...known, ...[...new Set(seen)].map((id) => ({ id, name: id }))];
  }, [departmentsRes.data, list.cases]);
  const tags = useMemo(() => [...new Set(list.cases.flatMap((c) => c.tags ?? []))].sort(), [list.cases]);

  // --- when breached clocks breached (the list does not say) -----------------------------
  const [breachVersion, bumpBreaches] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (learnFromCases(BREACHES, list.cases)) bumpBreaches();
    const missing = unknownBreaches(list.cases, BREACHES).filter((id) => !LOOKED_UP.has(id));
    if (!missing.length) return;
    let cancelled = false;
    void (async () => {
      for (const part of chunk(missing, 4)) {
        if (cancelled) return;
        await Promise.all(
          part.map(async (id) => {
            LOOKED_UP.add(id);
            try {
              const detail = await ok(responder.GET("/v1/cases/{case_id}", { params: { path: { case_id: id } } }));
              if (learnFromTimeline(BREACHES, id, detail.timeline ?? [])) bumpBreaches();
            } catch {
              // The cell then says "overdue" without since when; nothing else depends on it.
            }
          }),
        );
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [list.cases]);

  // --- what is shown, in order ------------------------------------------------------------
  const rows = useMemo(() => {
    const ordered = filters.sort === "deadline" ? sortByDeadline(list.cases, Date.now(), BREACHES) : list.cases;
    return filters.q.trim() ? ordered.filter((c) => matchesText(c, filters.q)) : ordered;
    // breachVersion: re-sort when a breach instant was learnt.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [list.cases, filters.sort, filters.q, breachVersion]);
  const ids = useMemo(() => rows.map((r) => r.id), [rows]);
  const idsRef = useRef(ids);

  // --- focus and selection survive refetches -----------------------------------------------
  const [focusId, setFocusId] = useState<string | null>(null);
  const [focusRequest, setFocusRequest] = useState(0);
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const focusIdRef = useRef(focusId);
  focusIdRef.current = focusId;
  useEffect(() => {
    const before = idsRef.current;
    idsRef.current = ids;
    const current = focusIdRef.current;
    const next = keepFocus(before, ids, current);
    if (next !== current) {
      setFocusId(next);
      // The focused row left the list (resolved, filtered out): keep the keyboard in the list.
      if (next !== null && (document.activeElement === document.body || !document.activeElement)) {
        setFocusRequest((n) => n + 1);
      }
    }
    setSelected((s) => {
      const kept = [...s].filter((id) => ids.includes(id));
      return kept.length === s.size ? s : new Set(kept);
    });
  }, [ids]);
  const focusRow = useCallback((id: string) => setFocusId(id), []);
  const toggle = useCallback(
    (id: string) =>
      setSelected((s) => {
        const next = new Set(s);
        if (!next.delete(id)) next.add(id);
        return next;
      }),
    [],
  );
  const toggleAll = useCallback((all: boolean) => setSelected(all ? new Set(idsRef.current) : new Set()), []);

  // --- new cases: highlighted and announced -----------------------------------------------
  const [fresh, setFresh] = useState<ReadonlySet<string>>(() => new Set());
  const [announcements, setAnnouncements] = useState<{ key: number; text: string }[]>([]);
  const announceKey = useRef(0);
  const pendingOpened = useRef(new Map<string, string>());
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const announce = useCallback((text: string) => {
    setAnnouncements((a) => [...a.slice(-2), { key: ++announceKey.current, text }]);
  }, []);
  const markFresh = useCallback((fresher: string[]) => {
    if (!fresher.length) return;
    setFresh((s) => new Set([...s, ...fresher]));
    const t = setTimeout(() => {
      timers.current.delete(t);
      setFresh((s) => new Set([...s].filter((id) => !fresher.includes(id))));
    }, FRESH_MS);
    timers.current.add(t);
  }, []);

  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const reloadCounts = counts.reload;
  const refreshAll = useCallback(async () => {
    const [cases] = await Promise.all([list.refresh(), reloadCounts()]);
    if (!cases || !pendingOpened.current.size) return;
    const opened = [...pendingOpened.current];
    pendingOpened.current.clear();
    const q = filtersRef.current.q;
    const shown = opened
      .map(([id]) => cases.find((c) => c.id === id))
      .filter((c): c is CaseOut => !!c && matchesText(c, q));
    markFresh(shown.map((c) => c.id));
    if (opened.length > 3) {
      announce(`${opened.length} new cases${shown.length < opened.length ? `, ${shown.length} of them shown with the current filters` : ""}.`);
      return;
    }
    for (const [id, network] of opened) {
      const c = shown.find((s) => s.id === id);
      if (c) {
        announce(`New case from ${authorLabel(c.author)} on ${networkName(c.network)}.`);
        continue;
      }
      try {
        const d = await ok(responder.GET("/v1/cases/{case_id}", { params: { path: { case_id: id } } }));
        announce(`New case from ${authorLabel(d.author)} on ${networkName(d.network)} (not shown with the current filters).`);
      } catch {
        announce(`New case on ${networkName(network)} (not shown with the current filters).`);
      }
    }
  }, [list.refresh, reloadCounts, announce, markFresh]);

  // --- live updates: a burst of messages is one refetch ----------------------------------
  const refreshRef = useRef(refreshAll);
  refreshRef.current = refreshAll;
  const debouncer = useMemo(() => debounce(() => void refreshRef.current(), 300, 1500), []);
  useEffect(() => () => debouncer.cancel(), [debouncer]);
  useLive(["case", "sla"], (m) => {
    if (m !== "reset") {
      if (m.brand_id && m.brand_id !== brand) return;
      if (m.kind === "sla" && learnFromEvent(BREACHES, m.type, m.data)) bumpBreaches();
    }
    const effect = liveEffect(m);
    if (effect.opened) pendingOpened.current.set(effect.opened.caseId, effect.opened.network);
    if (effect.refetch) debouncer.trigger();
  });

  // --- saved views ------------------------------------------------------------------------
  const storage = browserStorage();
  const [views, setViews] = useState<SavedView[]>(() => (storage ? loadViews(storage, brand) : []));
  const [viewError, setViewError] = useState("");
  useEffect(() => {
    setViews(storage ? loadViews(storage, brand) : []);
    setViewError("");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [brand]);
  const current = activeView(views, filters);
  const onSaveView = (name: string): boolean => {
    try {
      if (!storage) throw new ViewError("This browser does not let the console store views.");
      setViews(saveView(storage, brand, name, filters));
      setViewError("");
      setNotice({ text: `Saved the view "${name.trim()}".` });
      return true;
    } catch (e) {
      setViewError(e instanceof Error ? e.message : String(e));
      return false;
    }
  };
  const onDeleteView = (name: string) => {
    try {
      if (storage) setViews(deleteView(storage, brand, name));
      setNotice({ text: `Deleted the view "${name}".` });
    } catch (e) {
      setViewError(e instanceof Error ? e.message : String(e));
    }
  };

  // --- actions ----------------------------------------------------------------------------
  const action = useAction();
  const [notice, setNotice] = useState<Notice | null>(null);
  const [confirmClose, setConfirmClose] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);

  const claim = async (c: CaseOut) => {
    if (!canWrite) return setNotice({ text: "Your role can read cases but not assign them." });
    if (c.assignee_id === me.id) return setNotice({ text: `${capital(about(c))} is already yours.` });
    const path = { params: { path: { case_id: c.id } } };
    const done = await action.run(() =>
      c.assignee_id
        ? ok(responder.POST("/v1/cases/{case_id}/assign", { ...path, body: { assignee_id: me.id, force: false } }))
        : ok(responder.POST("/v1/cases/{case_id}/claim", path)),
    );
    if (done) {
      setNotice({ text: `You took ${about(c)}.` });
      void refreshAll();
    }
  };

  const setStatus = (c: CaseOut, status: "resolved" | "open", reason = "") =>
    action.run(() =>
      ok(responder.POST("/v1/cases/{case_id}/status", { params: { path: { case_id: c.id } }, body: { status, reason } })),
    );

  const resolve = async (c: CaseOut) => {
    if (!canWrite) return setNotice({ text: "Your role can read cases but not resolve them." });
    if (c.status === "resolved" || c.status === "closed") {
      return setNotice({ text: `${capital(about(c))} is already ${c.status}.` });
    }
    if (await setStatus(c, "resolved")) {
      // A resolved case may be reopened (resolved → open), so resolving asks nothing: undo instead.
      setNotice({
        text: `Resolved ${about(c)}.`,
        undo: () =>
          void (async () => {
            if (await setStatus(c, "open", "Undo in the inbox")) {
              setNotice({ text: `Reopened ${about(c)}.` });
              void refreshAll();
            }
          })(),
      });
      void refreshAll();
    }
  };

  const selectedIds = ids.filter((id) => selected.has(id));
  const runBulk = async (
    caseIds: string[],
    command: Pick<BulkIn, "action"> & Partial<Omit<BulkIn, "brand_id" | "case_ids" | "action">>,
    done: string,
    undoable = false,
  ) => {
    const results = await action.run(async () => {
      const out: BulkResult[] = [];
      for (const part of chunk(caseIds)) {
        out.push(...(await ok(responder.POST("/v1/cases/bulk", { body: { brand_id: brand, case_ids: part, force: false, reason: "", ...command } }))));
      }
      return out;
    });
    if (!results) return;
    const summary = summarizeBulk(results);
    const byId = new Map(list.cases.map((c) => [c.id, c]));
    const changed = results.filter((r) => r.ok).map((r) => r.case_id);
    setSelected((s) => new Set([...s].filter((id) => !changed.includes(id))));
    setNotice({
      text: bulkHeadline(summary, done),
      failures: summary.failed.map((f) => {
        const c = byId.get(f.caseId);
        return { label: c ? capital(about(c)) : `Case ${f.caseId}`, reason: f.reason };
      }),
      undo:
        undoable && changed.length
          ? () => void runBulk(changed, { action: "status", status: "open", reason: "Undo in the inbox" }, "reopened")
          : undefined,
    });
    void refreshAll();
  };
  const bulkAssign = (assigneeId: string | null) => {
    const who = assigneeId === null ? "unassigned" : assigneeId === me.id ? "assigned to you" : `assigned to ${agents.find((a) => a.id === assigneeId)?.name ?? assigneeId}`;
    void runBulk(selectedIds, { action: "assign", assignee_id: assigneeId }, who);
  };
  const bulkStatus = (status: "resolved" | "closed") => {
    if (status === "closed") setConfirmClose(true);
    else void runBulk(selectedIds, { action: "status", status }, "resolved", true);
  };

  // --- keyboard triage ----------------------------------------------------------------------
  const searchRef = useRef<HTMLInputElement>(null);
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || helpOpen || confirmClose) return;
    const target = e.target instanceof HTMLElement ? e.target : null;
    const what = shortcutFor({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, isComposing: e.isComposing, target });
    if (!what) return;
    e.preventDefault();
    if (what === "search") {
      searchRef.current?.focus();
      searchRef.current?.select();
      return;
    }
    if (what === "help") return setHelpOpen(true);
    if (what === "next" || what === "prev") {
      const next = moveFocus(ids, focusId && ids.includes(focusId) ? focusId : null, what === "next" ? 1 : -1);
      if (next) {
        setFocusId(next);
        setFocusRequest((n) => n + 1);
      }
      return;
    }
    const c = rows.find((r) => r.id === focusId);
    if (!c) return setNotice({ text: "Move to a case first: press j for the first one." });
    if (what === "open") navigate(caseHref(c.id));
    else if (what === "reply") navigate(caseHref(c.id, true));
    else if (what === "claim") void claim(c);
    else if (what === "resolve") void resolve(c);
    else if (what === "toggle") toggle(c.id);
  };
  const keyRef = useRef(onKey);
  keyRef.current = onKey;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keyRef.current(e);
    document.addEventListener("keydown", listener);
    return () => document.removeEventListener("keydown", listener);
  }, []);

  // --- page -------------------------------------------------------------------------------
  const searchHint = filters.q.trim()
    ? `Searching the ${list.cases.length} loaded cases (the server has no text search)${list.nextCursor ? "; load more to search further" : ""}.`
    : "Searches the loaded cases: author, text, tags.";

  return (
    <section className="inbox">
      <PageHeader title="Inbox">
        <button type="button" onClick={() => void refreshAll()} disabled={list.loading}>
          Refresh
        </button>
        <button type="button" onClick={() => setHelpOpen(true)}>
          Keyboard shortcuts
        </button>
      </PageHeader>

      <CountsBar counts={counts.data} filters={filters} onChange={setFilters} />
      {counts.error ? <ErrorNotice error={counts.error} onRetry={() => void counts.reload()} /> : null}

      <ViewsBar
        views={views}
        active={current}
        error={viewError}
        onApply={(v) => setFilters({ ...v.filters })}
        onSave={onSaveView}
        onDelete={onDeleteView}
      />

      <FilterBar
        ref={searchRef}
        filters={filters}
        agents={agents}
        departments={departments}
        tags={tags}
        meId={me.id}
        searchHint={searchHint}
        onChange={setFilters}
      />
      {agentsRes.error ? <ErrorNotice error={agentsRes.error} onRetry={() => void agentsRes.reload()} /> : null}

      <BulkBar
        count={selectedIds.length}
        agents={agents}
        meId={me.id}
        canWrite={canWrite}
        busy={action.busy}
        onAssign={bulkAssign}
        onStatus={bulkStatus}
      />

      <div className="inbox-notice" role="status" aria-live="polite">
        {notice && (
          <div className="notice notice-info">
            <span>{notice.text}</span>
            {notice.failures && notice.failures.length > 0 && (
              <ul className="inbox-failures">
                {notice.failures.map((f, i) => (
                  <li key={i}>
                    {f.label}: {f.reason}
                  </li>
                ))}
              </ul>
            )}
            {notice.undo && (
              <button type="button" className="link" onClick={notice.undo} disabled={action.busy}>
                Undo
              </button>
            )}
            <button type="button" className="link" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </div>
        )}
      </div>
      {action.error ? <ErrorNotice error={action.error} /> : null}

      <div className="inbox-announce small" role="status" aria-live="polite" aria-label="New cases">
        {announcements.map((a) => (
          <p key={a.key}>{a.text}</p>
        ))}
      </div>

      <p id="inbox-keys" className="inbox-keys small muted">
        Keys: <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> or <kbd>o</kbd> open · <kbd>r</kbd> reply ·{" "}
        <kbd>a</kbd> assign to me · <kbd>e</kbd> resolve · <kbd>x</kbd> select · <kbd>/</kbd> search · <kbd>?</kbd> all
        shortcuts
      </p>

      {list.error ? <ErrorNotice error={list.error} onRetry={() => void list.refresh()} /> : null}
      {!list.loaded && list.loading ? (
        <Loading what="Loading cases" />
      ) : (
        <>
          <CaseTable
            rows={rows}
            focusId={focusId}
            focusRequest={focusRequest}
            selected={selected}
            fresh={fresh}
            meId={me.id}
            agents={agents}
            breaches={BREACHES}
            breachVersion={breachVersion}
            busy={list.loading}
            describedBy="inbox-keys"
            onFocusRow={focusRow}
            onToggle={toggle}
            onToggleAll={toggleAll}
          />
          {list.loaded && !list.loading && rows.length === 0 && (
            <Empty>
              {filters.q.trim()
                ? `No loaded case matches "${filters.q.trim()}".`
                : "No cases match these filters. New cases appear here by themselves."}{" "}
              <button type="button" className="link" onClick={() => setFilters({ ...DEFAULT_FILTERS })}>
                Reset filters
              </button>
            </Empty>
          )}
          <div className="inbox-more row">
            <span className="small muted">
              Showing {rows.length} of {list.cases.length} loaded cases
              {list.nextCursor ? "; more are on the server" : ""}.
            </span>
            {list.nextCursor && (
              <button type="button" onClick={() => void list.loadMore()} disabled={list.loadingMore}>
                {list.loadingMore ? "Loading…" : "Load more cases"}
              </button>
            )}
          </div>
        </>
      )}

      <Dialog open={helpOpen} title="Keyboard shortcuts" onClose={() => setHelpOpen(false)} closeButton>
        <table className="inbox-shortcuts">
          <caption className="sr-only">Keys and what they do in the inbox</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.action}>
                <th scope="row">
                  {s.keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 && " or "}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </th>
                <td>{s.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="small muted">Shortcuts do nothing while you type in a field. Escape closes this dialog.</p>
      </Dialog>

      <ConfirmDialog
        open={confirmClose}
        title={`Close ${selectedIds.length} case${selectedIds.length === 1 ? "" : "s"}?`}
        confirmLabel="Close the cases"
        closeButton
        onConfirm={() => {
          setConfirmClose(false);
          void runBulk(selectedIds, { action: "status", status: "closed" }, "closed");
        }}
        onCancel={() => setConfirmClose(false)}
      >
        <p>
          Closing is final: a closed case cannot be reopened, and the customer's next message starts a new case. To
          finish cases that may come back, resolve them instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}
