// One case: who wrote, what they said and what we answered, every action on it, its SLA
// clocks, and what the team can do next. Live: it refetches when an event of this case
// arrives (a reply's delivery, an SLA warning, another agent's change).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiProblem, ingest, ok, responder } from "../../api/client";
import { useLive } from "../../app/live";
import { useBrand, useMe, useSession } from "../../app/session";
import { ErrorNotice, Loading, PageHeader, useAction, useResource } from "../../components/ui";
import { isActiveStatus } from "../../lib/cases";
import { loadAgents, loadDepartments, type CaseDetail } from "./api";
import { CaseActions } from "./CaseActions";
import { authorLabel, CaseFacts } from "./CaseHeader";
import { CaseTimeline } from "./CaseTimeline";
import { shortcutOf } from "./keys";
import { ReplyComposer } from "./ReplyComposer";
import { actorNamer, buildTimeline, personName, statusLabel, type LoadedMention } from "./timeline";
import "./case.css";

const MENTION_BATCH = 6;

export default function CasePage() {
  const { caseId = "" } = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const brand = useBrand();
  const me = useMe();
  const { can } = useSession();
  const canWrite = can("mentions:write");
  // The responder lets SMM managers and admins decide on held replies (a role, not a permission).
  const isManager = me.roles.includes("admin") || me.roles.includes("smm_manager");

  const loaded = useResource(
    () => ok(responder.GET("/v1/cases/{case_id}", { params: { path: { case_id: caseId } } })),
    [caseId],
  );
  // Never show the previous case's data under a new address.
  const kase = loaded.data?.id === caseId ? loaded.data : undefined;
  const setCase = loaded.setData;
  const onCase = useCallback((c: CaseDetail) => setCase(c), [setCase]);

  const agents = useResource(() => loadAgents(brand), [brand]);
  const departments = useResource(() => loadDepartments(brand), [brand]);
  const mentions = useMentions(kase?.mention_ids);

  // Live: refetch on this case's events; a burst (a reply and its status change) is one fetch.
  const pendingReload = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reload = loaded.reload;
  useLive(["case", "sla"], (m) => {
    if (m !== "reset" && m.data["case_id"] !== caseId) return;
    clearTimeout(pendingReload.current);
    pendingReload.current = setTimeout(() => void reload(), 150);
  });
  useEffect(() => () => clearTimeout(pendingReload.current), []);

  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const a of agents.data ?? []) if (a.name) map.set(a.user_id, a.name);
    map.set(me.id, me.name);
    return map;
  }, [agents.data, me.id, me.name]);
  const name = useMemo(() => actorNamer(me.id, names), [me.id, names]);
  const departmentName = useCallback(
    (id: string) => departments.data?.find((d) => d.id === id)?.name ?? id,
    [departments.data],
  );
  const items = useMemo(() => (kase ? buildTimeline(kase, mentions.loaded) : []), [kase, mentions.loaded]);

  // Status: the Resolve / Reopen buttons and the "e" shortcut.
  const statusAction = useAction();
  const runStatus = statusAction.run;
  const [said, setSaid] = useState("");
  const setStatus = useCallback(
    (status: "resolved" | "open") => {
      if (!kase) return;
      void runStatus(async () => {
        const out = await ok(
          responder.POST("/v1/cases/{case_id}/status", {
            params: { path: { case_id: kase.id } },
            body: { status, reason: "" },
          }),
        );
        setCase(out);
        setSaid(status === "resolved" ? "The case is resolved." : "The case is open again.");
      });
    },
    [kase, runStatus, setCase],
  );

  // Keyboard: Escape or u back to the inbox, r to the reply box, e resolves (not while typing).
  const replyBox = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const shortcut = shortcutOf(e);
      if (!shortcut) return;
      if (shortcut === "inbox") {
        e.preventDefault();
        navigate("/inbox");
      } else if (shortcut === "reply") {
        if (!replyBox.current || replyBox.current.disabled) return;
        e.preventDefault();
        replyBox.current.focus();
        replyBox.current.scrollIntoView({ block: "center" });
      } else if (shortcut === "resolve") {
        if (!kase) return;
        e.preventDefault();
        if (!canWrite) setSaid("Your role cannot resolve cases.");
        else if (!isActiveStatus(kase.status)) setSaid(`This case cannot be resolved: it is ${statusLabel(kase.status).toLowerCase()}.`);
        else if (!statusAction.busy) setStatus("resolved");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate, kase, canWrite, setStatus, statusAction.busy]);

  // ?reply=1 (the inbox's "Reply" action): the reply box takes the focus once the case is shown.
  const wantsReply = search.get("reply") === "1";
  const focused = useRef("");
  const ready = Boolean(kase);
  useEffect(() => {
    if (!ready || !wantsReply || focused.current === caseId) return;
    focused.current = caseId;
    replyBox.current?.focus();
  }, [ready, wantsReply, caseId]);

  if (!kase) {
    const notFound = loaded.error instanceof ApiProblem && loaded.error.status === 404;
    return (
      <section className="case-page">
        <PageHeader title="Case">
          <Link to="/inbox">Back to the inbox</Link>
        </PageHeader>
        {loaded.error ? (
          notFound ? (
            <ErrorNotice error={new Error(`There is no case ${caseId} in this brand. It may belong to another brand: switch brands above, or go back to the inbox.`)} />
          ) : (
            <ErrorNotice error={loaded.error} onRetry={() => void loaded.reload()} />
          )
        ) : (
          <Loading what="Loading the case" />
        )}
      </section>
    );
  }

  return (
    <section className="case-page" data-case-id={kase.id}>
      <PageHeader title={`Case: ${authorLabel(kase.author)}`}>
        <Link to="/inbox">Back to the inbox</Link>
      </PageHeader>
      {loaded.error ? <ErrorNotice error={loaded.error} onRetry={() => void loaded.reload()} /> : null}
      <CaseFacts
        kase={kase}
        assignee={kase.assignee_id ? personName(kase.assignee_id, me.id, names) : "Unassigned"}
        department={kase.department ? departmentName(kase.department) : ""}
      />
      <p role="status" aria-live="polite" className="case-status-line">
        {said}
      </p>
      <div className="case-layout">
        <div className="case-main">
          <section className="case-history" aria-labelledby="case-history-title">
            <h2 id="case-history-title">Conversation and history</h2>
            {mentions.error ? (
              <ErrorNotice error={mentions.error} onRetry={mentions.retry} />
            ) : null}
            <CaseTimeline
              kase={kase}
              items={items}
              name={name}
              department={departmentName}
              canDecide={isManager && canWrite}
              onCase={onCase}
            />
          </section>
          <section className="card case-answer" aria-labelledby="case-answer-title">
            <h2 id="case-answer-title">Answer the customer</h2>
            <ReplyComposer
              kase={kase}
              brand={brand}
              agentName={me.name || me.id}
              canWrite={canWrite}
              inputRef={replyBox}
              onCase={onCase}
            />
          </section>
        </div>
        <aside className="case-side" aria-label="Case actions">
          <CaseActions
            kase={kase}
            meId={me.id}
            isManager={isManager}
            canWrite={canWrite}
            agents={{ data: agents.data, error: agents.error, reload: () => void agents.reload() }}
            departments={{ data: departments.data, error: departments.error, reload: () => void departments.reload() }}
            names={names}
            departmentName={departmentName}
            onCase={onCase}
            status={{ busy: statusAction.busy, error: statusAction.error, set: setStatus }}
          />
        </aside>
      </div>
      <p className="muted small case-keys">
        Keys: <kbd>r</kbd> answer, <kbd>e</kbd> resolve, <kbd>u</kbd> or <kbd>Esc</kbd> back to the inbox (not while
        typing in a field).
      </p>
    </section>
  );
}

/**
 * The case's messages from the ingest service, fetched once each (a few at a time) as the
 * case's mention list grows. A mention the service no longer has stays out (the timeline
 * shows what the case knows); other failures are reported with a retry.
 */
function useMentions(ids: string[] | undefined) {
  const [loaded, setLoaded] = useState<ReadonlyMap<string, LoadedMention>>(() => new Map());
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  /** Asked for: loaded, gone (404), or on its way. */
  const asked = useRef(new Set<string>());
  const key = ids?.join(",") ?? "";

  useEffect(() => {
    const wanted = key ? key.split(",") : [];
    const missing = wanted.filter((id) => !asked.current.has(id));
    if (!missing.length) return;
    missing.forEach((id) => asked.current.add(id));
    const settled = new Set<string>();
    let alive = true;
    void (async () => {
      for (let i = 0; i < missing.length && alive; i += MENTION_BATCH) {
        const batch = missing.slice(i, i + MENTION_BATCH);
        const results = await Promise.allSettled(
          batch.map((mention_id) => ok(ingest.GET("/v1/mentions/{mention_id}", { params: { path: { mention_id } } }))),
        );
        if (!alive) return;
        const got = new Map<string, LoadedMention>();
        results.forEach((r, j) => {
          const id = batch[j]!;
          settled.add(id);
          if (r.status === "fulfilled") got.set(id, { mention: r.value.mention, deleted: r.value.deleted });
          else if (!(r.reason instanceof ApiProblem && r.reason.status === 404)) {
            asked.current.delete(id); // asked again on retry
            setError(r.reason);
          }
        });
        if (got.size) setLoaded((prev) => new Map([...prev, ...got]));
      }
    })();
    return () => {
      alive = false;
      // What was still on its way is asked for by the next run.
      missing.forEach((id) => settled.has(id) || asked.current.delete(id));
    };
  }, [key, attempt]);

  const retry = useCallback(() => {
    setError(null);
    setAttempt((n) => n + 1);
  }, []);
  return { loaded, error, retry };
}
