// One contest: its state in words, the next actions in order (Open, Draw winners,
// Announce) with a confirmation for each, its rules, its entries (refreshed every 10 s
// while it collects them) and, once drawn, the certificate.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiProblem } from "../../api/client";
import { useLive } from "../../app/live";
import { useSession } from "../../app/session";
import { ConfirmDialog } from "../../components/Dialog";
import { Badge, ErrorNotice, Loading, PageHeader, useAction, useNow, useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { formatDateTime } from "../../lib/time";
import { announceContest, drawContest, getCertificate, getContest, listEntries, openContest } from "./api";
import { CertificateView } from "./CertificateView";
import {
  contestName,
  contestSteps,
  countEntries,
  formatFullDateTime,
  METHOD_WORDS,
  POLICY_WORDS,
  STATUS_WORDS,
  statusText,
  type ActionName,
  type Certificate,
  type Contest,
  type Step,
} from "./contests";
import { EntriesTable } from "./EntriesTable";

/** Entries read for the table and its counts (pages of 200): 2 000 at most. */
export const ENTRY_PAGES = 10;
const REFRESH_MS = 10_000;

/** The contest, its entries and its certificate, refreshed while it collects entries. */
export function useContestData(id: string) {
  const contest = useResource(() => getContest(id), [id]);
  const [refreshedAt, setRefreshedAt] = useState<number | null>(null);
  const entries = useResource(async () => {
    const list = await listEntries(id, ENTRY_PAGES);
    setRefreshedAt(Date.now());
    return list;
  }, [id]);
  const status = contest.data?.status;
  const watching = status === "open" || status === "closed";
  const reloadContest = contest.reload;
  const reloadEntries = entries.reload;
  // The contest's own events (opened, closed, drawn, announced) arrive live; entries are
  // not events, so they are polled while the contest collects them.
  useLive(["contest"], (m) => {
    if (m === "reset" || m.data.contest_id === id) {
      void reloadContest();
      void reloadEntries();
    }
  });
  useEffect(() => {
    if (!watching) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "hidden") return;
      void reloadContest();
      void reloadEntries();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [watching, reloadContest, reloadEntries]);
  const drawn = status === "drawn" || status === "announced";
  const certificate = useResource(async () => (drawn ? getCertificate(id) : null), [id, drawn]);
  return { contest, entries, certificate, watching, refreshedAt };
}

export function ContestView() {
  const { id = "" } = useParams();
  const { can } = useSession();
  const now = useNow(5_000);
  const { contest: contestRes, entries, certificate, watching, refreshedAt } = useContestData(id);
  const action = useAction();
  const [confirming, setConfirming] = useState<ActionName | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const contest = contestRes.data;

  // Say it when the state changes while the page is open (e.g. the contest closes by itself).
  const lastStatus = useRef<string | null>(null);
  const ownChange = useRef(false);
  useEffect(() => {
    if (!contest) return;
    if (ownChange.current) {
      ownChange.current = false; // our own action says what it did
    } else if (lastStatus.current && lastStatus.current !== contest.status) {
      setAnnouncement(`The contest is now ${STATUS_WORDS[contest.status].label.toLowerCase()}.`);
    }
    lastStatus.current = contest.status;
  }, [contest]);

  const setContest = contestRes.setData;
  const reloadAll = useCallback(() => {
    void contestRes.reload();
    void entries.reload();
    void certificate.reload();
  }, [contestRes, entries, certificate]);

  if (contestRes.error && !contest) {
    return (
      <section className="contests">
        <PageHeader title="Contest" />
        <ErrorNotice error={contestRes.error} onRetry={() => void contestRes.reload()} />
        <Link to="/contests">All contests</Link>
      </section>
    );
  }
  if (!contest) return <Loading what="Loading the contest" />;

  const steps = contestSteps(contest, now, { write: can("content:write"), approve: can("content:approve") });
  const closing: Step["state"] = contest.status === "draft" ? "later" : contest.status === "open" ? "now" : "done";
  const eligible = entries.data ? countEntries(entries.data.items).counting : null;

  const run = async (name: ActionName) => {
    ownChange.current = true;
    const done = await action.run(async () => {
      if (name === "open") {
        setContest(await openContest(contest.id));
        void entries.reload();
        return "The contest is open: its rules are fixed and the draw's commitment is published.";
      }
      if (name === "draw") {
        const drawnCertificate: Certificate = await drawContest(contest.id);
        certificate.setData(drawnCertificate);
        await contestRes.reload();
        void entries.reload();
        return `Winners drawn: ${drawnCertificate.winners.length} of ${drawnCertificate.entries.length} entries. The certificate follows the steps.`;
      }
      setContest(await announceContest(contest.id));
      return "Announced: a draft post announcing the winners was created; it goes through approval in Publishing.";
    });
    setConfirming(null);
    if (done) setAnnouncement(done);
    else ownChange.current = false;
  };

  const actionError = action.error;
  const stale = actionError instanceof ApiProblem && actionError.status === 409;

  return (
    <section className="contests">
      <PageHeader title={contestName(contest)}>
        {contest.status === "draft" && can("content:write") && <Link to="edit">Edit rules</Link>}
        <Link to="/contests">All contests</Link>
      </PageHeader>

      <div className="row contests-state">
        <Badge tone={STATUS_WORDS[contest.status].tone}>{statusText(contest, now)}</Badge>
        <span>{STATUS_WORDS[contest.status].meaning}</span>
      </div>
      <div role="status" aria-live="polite">
        {announcement && <p className="notice notice-info">{announcement}</p>}
      </div>

      <section aria-labelledby="contests-steps-title" className="card">
        <h2 id="contests-steps-title">Steps</h2>
        <ol className="contests-steps">
          <StepItem step={steps[0]!} onStart={setConfirming} busy={action.busy}>
            Fixes the rules and publishes the commitment to the draw's secret seed.
          </StepItem>
          <li className={`contests-step contests-step-${closing}`}>
            <div className="contests-step-head">
              <strong>Entries close</strong>
              <StepState state={closing} doneAt={contest.closed_at ?? null} />
            </div>
            <div className="muted small">
              By itself at {formatFullDateTime(contest.closes_at)}; nothing to do.
            </div>
          </li>
          <StepItem step={steps[1]!} onStart={setConfirming} busy={action.busy}>
            Judges every entry once more, reveals the seed and draws the winners. Final.
          </StepItem>
          <StepItem step={steps[2]!} onStart={setConfirming} busy={action.busy}>
            Creates a draft post announcing the winners, which then goes through approval.
          </StepItem>
        </ol>
        {actionError ? <ErrorNotice error={actionError} onRetry={stale ? reloadAll : undefined} /> : null}
        {contest.announcement_id && (
          <p>
            Announcement draft <span className="contests-mono">{contest.announcement_id}</span>: find it in{" "}
            <Link to="/publishing">Publishing</Link>, where it goes through approval.
          </p>
        )}
      </section>

      {/* Once drawn, the certificate is what people come for: it goes before the rules. */}
      {certificate.error ? <ErrorNotice error={certificate.error} onRetry={() => void certificate.reload()} /> : null}
      {certificate.data && (
        <CertificateView contest={contest} certificate={certificate.data} entries={entries.data?.items ?? []} />
      )}

      <Rules contest={contest} />

      <EntriesTable
        contest={contest}
        list={entries.data}
        error={entries.error}
        onRetry={() => void entries.reload()}
        refreshedAt={refreshedAt}
        watching={watching}
      />

      <ConfirmDialog
        open={confirming === "open"}
        title="Open this contest?"
        tone="primary"
        busy={action.busy}
        onCancel={() => setConfirming(null)}
        onConfirm={() => void run("open")}
      >
        <p>This cannot be undone.</p>
        <ul>
          <li>The rules become fixed: post, dates, ways to enter, winners and exclusions cannot change any more.</li>
          <li>A secret seed for the draw is chosen now and its commitment published, so the draw cannot be arranged later.</li>
          <li>
            Entries made from {formatFullDateTime(contest.opens_at)} until {formatFullDateTime(contest.closes_at)} count.
          </li>
        </ul>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === "draw"}
        title="Draw the winners now?"
        tone="primary"
        busy={action.busy}
        onCancel={() => setConfirming(null)}
        onConfirm={() => void run("draw")}
      >
        <p>This is final and cannot be undone.</p>
        <ul>
          <li>Every entry is judged one last time; entries arriving after the draw do not count.</li>
          <li>
            {contest.winner_count} {contest.winner_count === 1 ? "winner is" : "winners are"} drawn
            {eligible !== null ? ` from about ${eligible.toLocaleString()} ${eligible === 1 ? "entry" : "entries"} that count now` : ""}.
          </li>
          <li>The seed is revealed and the certificate published, so anyone can check the draw.</li>
        </ul>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === "announce"}
        title="Announce the winners?"
        tone="primary"
        busy={action.busy}
        onCancel={() => setConfirming(null)}
        onConfirm={() => void run("announce")}
      >
        <p>
          A draft post announcing the {contest.winners.length === 1 ? "winner" : "winners"} is created in Publishing; it
          goes through approval like any post before it is published. The contest is then marked announced, which
          cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function StepState({ state, doneAt }: { state: Step["state"]; doneAt: string | null }) {
  if (state === "done") return <Badge tone="ok">Done{doneAt ? ` ${formatDateTime(doneAt)}` : ""}</Badge>;
  if (state === "now") return <Badge tone="info">Next</Badge>;
  return <Badge>Later</Badge>;
}

function StepItem({ step, onStart, busy, children }: {
  step: Step;
  onStart: (action: ActionName) => void;
  busy: boolean;
  children: ReactNode;
}) {
  const reasonId = `contests-step-${step.action}-reason`;
  return (
    <li className={`contests-step contests-step-${step.state}`} data-testid="contest-step" data-step={step.action}>
      <div className="contests-step-head">
        {step.state === "done" ? (
          <strong>{step.label}</strong>
        ) : (
          <button
            type="button"
            className={step.state === "now" ? "primary" : undefined}
            disabled={!step.enabled || busy}
            aria-describedby={step.reason ? reasonId : undefined}
            onClick={() => onStart(step.action)}
          >
            {step.label}
          </button>
        )}
        <StepState state={step.state} doneAt={step.doneAt} />
      </div>
      <div className="muted small">{children}</div>
      {step.reason && (
        <div id={reasonId} className="small contests-reason">
          {step.reason}
        </div>
      )}
    </li>
  );
}

function Rules({ contest }: { contest: Contest }) {
  const list = (items: string[], none: string) =>
    items.length === 0 ? (
      <span className="muted">{none}</span>
    ) : (
      <details>
        <summary>
          {items.length} {items.length === 1 ? "author" : "authors"}
        </summary>
        <ul className="contests-mono">
          {items.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      </details>
    );
  return (
    <section aria-labelledby="contests-rules-title" className="card">
      <h2 id="contests-rules-title">Rules</h2>
      <dl className="contests-facts">
        <dt>Runs on</dt>
        <dd>
          {networkName(contest.network)} post <span className="contests-mono">{contest.post_native_id}</span>
          {contest.thread_native_id && (
            <>
              {" "}
              (comments in thread <span className="contests-mono">{contest.thread_native_id}</span>)
            </>
          )}
        </dd>
        <dt>Entries count</dt>
        <dd>
          from {formatFullDateTime(contest.opens_at)} until {formatFullDateTime(contest.closes_at)} (the network's
          time of the entry)
        </dd>
        <dt>Ways to enter</dt>
        <dd>
          <ul className="contests-plain">
            {contest.methods.map((m) => (
              <li key={m}>
                {METHOD_WORDS[m].label}
                {m === "hashtag" && contest.hashtag ? (
                  <>
                    : <strong>#{contest.hashtag}</strong>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </dd>
        <dt>Winners</dt>
        <dd>
          {contest.winner_count}, one entry per author
        </dd>
        <dt>Minimum followers</dt>
        <dd>
          {contest.min_followers > 0
            ? `${contest.min_followers.toLocaleString()}; where the network does not tell: ${POLICY_WORDS[contest.unknown_followers].toLowerCase()}`
            : "None"}
        </dd>
        <dt>Minimum account age</dt>
        <dd>
          {contest.min_account_age_days > 0
            ? `${contest.min_account_age_days} days; where the network does not tell: ${POLICY_WORDS[contest.unknown_account_age].toLowerCase()}`
            : "None"}
        </dd>
        <dt>Blocked authors</dt>
        <dd>{list(contest.blocked, "None")}</dd>
        <dt>Employees (may not enter)</dt>
        <dd>{list(contest.employees, "None listed")}</dd>
        <dt>Commitment</dt>
        <dd>
          {contest.commitment ? (
            <>
              <code className="contests-hash">{contest.commitment}</code>
              <div className="muted small">
                SHA-256 of the draw's secret seed, published when the contest opened
                {contest.opened_at ? ` (${formatFullDateTime(contest.opened_at)})` : ""}: the seed cannot change
                afterwards, and the certificate reveals it.
              </div>
            </>
          ) : (
            <span className="muted">Published when the contest opens.</span>
          )}
        </dd>
        <dt>Created</dt>
        <dd>{formatFullDateTime(contest.created_at)}</dd>
      </dl>
    </section>
  );
}
