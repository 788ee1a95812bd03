// The case's facts at a glance and its SLA countdowns (ticking each second).
import { Badge, useNow } from "../../components/ui";
import { priorityLabel } from "../../lib/cases";
import { networkName } from "../../lib/networks";
import { formatDateTime } from "../../lib/time";
import type { CaseDetail } from "./api";
import { clockViews, stateSummary, stateTone, worstState, type SlaClock } from "./caseSla";
import { statusLabel } from "./timeline";

type Tone = "neutral" | "ok" | "warning" | "danger" | "info";

const STATUS_TONE: Record<string, Tone> = {
  new: "info",
  open: "info",
  pending_customer: "neutral",
  pending_department: "warning",
  resolved: "ok",
  closed: "neutral",
};

const PRIORITY_TONE: Record<string, Tone> = { low: "neutral", normal: "neutral", high: "warning", urgent: "danger" };

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The author as people read it: "Jane Doe (@jane)". */
export function authorLabel(author: CaseDetail["author"]): string {
  const name = str(author["display_name"]);
  const handle = str(author["handle"]);
  if (name && handle) return `${name} (@${handle})`;
  return name || (handle ? `@${handle}` : str(author["id"]) || "Unknown author");
}

export function CaseFacts({ kase, assignee, department }: { kase: CaseDetail; assignee: string; department: string }) {
  const followers = kase.author["followers"];
  return (
    <div className="case-facts-wrap">
      <dl className="case-facts">
        <div>
          <dt>Author</dt>
          <dd>
            {authorLabel(kase.author)}
            {kase.author["verified"] === true && <span className="muted"> · verified</span>}
            {typeof followers === "number" && <span className="muted"> · {followers.toLocaleString()} followers</span>}
          </dd>
        </div>
        <div>
          <dt>Network</dt>
          <dd>{networkName(kase.network)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd data-testid="case-status">
            <Badge tone={STATUS_TONE[kase.status] ?? "neutral"}>{statusLabel(kase.status)}</Badge>
          </dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd data-testid="case-priority">
            <Badge tone={PRIORITY_TONE[kase.priority] ?? "neutral"}>{priorityLabel(kase.priority)}</Badge>
          </dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd data-testid="case-assignee">{assignee}</dd>
        </div>
        <div>
          <dt>Department</dt>
          <dd data-testid="case-department">{department || "None"}</dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd data-testid="case-tags">
            {kase.tags.length ? (
              <span className="case-tag-list">
                {kase.tags.map((t) => (
                  <Badge key={t}>{t}</Badge>
                ))}
              </span>
            ) : (
              "None"
            )}
          </dd>
        </div>
        <div>
          <dt>Opened</dt>
          <dd>
            <time dateTime={kase.opened_at}>{formatDateTime(kase.opened_at)}</time>
          </dd>
        </div>
      </dl>
      <SlaClocks clocks={kase.sla} />
    </div>
  );
}

/** The countdowns; only this part re-renders every second. */
export function SlaClocks({ clocks }: { clocks: SlaClock[] }) {
  const now = useNow(1000);
  const views = clockViews(clocks, now);
  const worst = worstState(views);
  return (
    <section className="case-sla" data-testid="sla" data-state={worst} aria-label="SLA">
      <h2 className="case-sla-title">SLA</h2>
      {views.length === 0 ? (
        <p className="muted small">No SLA applies to this case.</p>
      ) : (
        <ul className="case-clocks">
          {views.map((v) => (
            <li
              key={v.metric}
              className={`case-clock case-clock-${v.state} ${v.state === "ok" || v.state === "warning" || v.state === "breached" ? `sla-${v.state}` : ""}`}
              data-testid="sla-clock"
              data-metric={v.metric}
              data-state={v.state}
            >
              <span className="case-clock-label">{v.label}</span>{" "}
              <Badge tone={stateTone(v.state)}>{v.word}</Badge>
              {v.detail && <span className="case-clock-detail"> {v.detail}</span>}
            </li>
          ))}
        </ul>
      )}
      {/* Words only (no ticking numbers), so a screen reader hears a change of state once. */}
      <p className="sr-only" role="status" aria-live="polite">
        {stateSummary(views)}
      </p>
    </section>
  );
}
