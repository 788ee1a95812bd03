// The cases table: one row per case, the focused row for keyboard triage, checkboxes for bulk
// actions, and SLA countdowns that tick every second (only those cells re-render).
import { memo, useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { Badge } from "../../components/ui";
import { PRIORITY_LABELS, slaMetricLabel } from "../../lib/cases";
import { networkName } from "../../lib/networks";
import { formatDateTime, formatTime } from "../../lib/time";
import { assigneeLabel, type Agent } from "./agents";
import {
  ageText,
  authorLabel,
  authorName,
  excerpt,
  STATUS_LABELS,
  type CaseOut,
  type PriorityName,
} from "./format";
import { slaLabel, slaSummary, slaText, type BreachTimes } from "./sla";
import { useTick } from "./ticker";

const PRIORITY_TONE: Record<PriorityName, "danger" | "warning" | "neutral" | "info"> = {
  urgent: "danger",
  high: "warning",
  normal: "neutral",
  low: "neutral",
};

export function caseHref(id: string, reply = false): string {
  return `/cases/${encodeURIComponent(id)}${reply ? "?reply=1" : ""}`;
}

function SlaCell({ c, breaches }: { c: CaseOut; breaches: BreachTimes }) {
  const now = useTick();
  const s = slaSummary(c, now, breaches);
  const label = slaLabel(s);
  const tone = s.state === "breached" ? "danger" : s.state === "warning" ? "warning" : s.state === "ok" && s.mode === "counting" ? "ok" : "neutral";
  const at = s.breachAt !== null ? formatTime(s.breachAt) : null;
  return (
    <td data-testid="sla" data-sla-state={s.state} className={`inbox-sla inbox-sla-${s.state}`}>
      <Badge tone={tone}>{label}</Badge>{" "}
      <span className="inbox-countdown">{slaText(s, now)}</span>
      {(s.metric || at) && (
        <span className="inbox-sla-detail small muted">
          {s.metric ? slaMetricLabel(s.metric).toLowerCase() : ""}
          {at ? (
            <>
              {s.metric ? ", " : ""}
              <time dateTime={new Date(s.breachAt!).toISOString()} title={formatDateTime(s.breachAt!)}>
                {s.state === "breached" ? "since" : "at"} {at}
              </time>
            </>
          ) : null}
        </span>
      )}
    </td>
  );
}

function AgeCell({ openedAt }: { openedAt: string }) {
  const now = useTick();
  const opened = Date.parse(openedAt);
  return (
    <td className="inbox-age">
      <time dateTime={openedAt} title={`Opened ${formatDateTime(opened)}`}>
        {ageText(now - opened)}
      </time>
    </td>
  );
}

interface RowProps {
  c: CaseOut;
  focused: boolean;
  tabbable: boolean;
  selected: boolean;
  fresh: boolean;
  assignee: string;
  breaches: BreachTimes;
  breachVersion: number;
  onFocusRow: (id: string) => void;
  onToggle: (id: string) => void;
}

const CaseRow = memo(function CaseRow({ c, focused, tabbable, selected, fresh, assignee, breaches, onFocusRow, onToggle }: RowProps) {
  const author = authorLabel(c.author);
  const name = authorName(c.author);
  const network = networkName(c.network);
  return (
    <tr
      data-testid="case-row"
      data-case-id={c.id}
      aria-selected={focused}
      tabIndex={tabbable ? 0 : -1}
      className={["inbox-row", focused ? "inbox-row-focused" : "", fresh ? "inbox-row-new" : "", selected ? "inbox-row-checked" : ""]
        .filter(Boolean)
        .join(" ")}
      onFocus={() => onFocusRow(c.id)}
      onClick={() => onFocusRow(c.id)}
    >
      <td className="inbox-check">
        <input
          type="checkbox"
          checked={selected}
          onChange={() => onToggle(c.id)}
          aria-label={`Select the case from ${author} on ${network}`}
        />
      </td>
      <td className="inbox-network">{network}</td>
      <td className="inbox-author">
        <Link to={caseHref(c.id)}>{author}</Link>
        {name && <span className="small muted inbox-author-name">{name}</span>}
        {fresh && (
          <>
            {" "}
            <Badge tone="info">New</Badge>
          </>
        )}
      </td>
      <td className="inbox-excerpt" title={c.preview}>
        {excerpt(c.preview) || <span className="muted">(no text)</span>}
        {c.mention_count > 1 && <span className="small muted"> · {c.mention_count} messages</span>}
      </td>
      <SlaCell c={c} breaches={breaches} />
      <td>
        <Badge tone={PRIORITY_TONE[c.priority]}>{PRIORITY_LABELS[c.priority]}</Badge>
      </td>
      <td className="inbox-status">{STATUS_LABELS[c.status]}</td>
      <td className={c.assignee_id ? "" : "muted"}>{assignee}</td>
      <td className={c.department ? "" : "muted"}>{c.department ?? "None"}</td>
      <td className="inbox-tags">
        {(c.tags ?? []).length ? (
          <ul className="inbox-tag-list">
            {(c.tags ?? []).map((t) => (
              <li key={t} className="inbox-tag">
                {t}
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">None</span>
        )}
      </td>
      <AgeCell openedAt={c.opened_at} />
    </tr>
  );
});

export function CaseTable({
  rows,
  focusId,
  focusRequest,
  selected,
  fresh,
  meId,
  agents,
  breaches,
  breachVersion,
  busy,
  describedBy,
  onFocusRow,
  onToggle,
  onToggleAll,
}: {
  rows: readonly CaseOut[];
  focusId: string | null;
  /** Changes when the keyboard moved the focus: the focused row then takes DOM focus. */
  focusRequest: number;
  selected: ReadonlySet<string>;
  fresh: ReadonlySet<string>;
  meId: string;
  agents: readonly Agent[];
  breaches: BreachTimes;
  breachVersion: number;
  busy: boolean;
  describedBy?: string;
  onFocusRow: (id: string) => void;
  onToggle: (id: string) => void;
  onToggleAll: (all: boolean) => void;
}) {
  const body = useRef<HTMLTableSectionElement>(null);
  const all = useRef<HTMLInputElement>(null);
  const checked = rows.filter((r) => selected.has(r.id)).length;

  useEffect(() => {
    if (all.current) all.current.indeterminate = checked > 0 && checked < rows.length;
  }, [checked, rows.length]);

  useEffect(() => {
    if (!focusRequest || !focusId || !body.current) return;
    const row = [...body.current.querySelectorAll<HTMLTableRowElement>("tr[data-case-id]")].find(
      (r) => r.dataset.caseId === focusId,
    );
    row?.focus();
    row?.scrollIntoView?.({ block: "nearest" });
  }, [focusRequest, focusId]);

  const tabbableId = focusId && rows.some((r) => r.id === focusId) ? focusId : rows[0]?.id;

  return (
    <div className="inbox-table-wrap">
      <table className="inbox-table" aria-label="Cases" aria-describedby={describedBy} aria-busy={busy}>
        <thead>
          <tr>
            <th scope="col" className="inbox-check">
              <input
                ref={all}
                type="checkbox"
                checked={rows.length > 0 && checked === rows.length}
                disabled={!rows.length}
                onChange={(e) => onToggleAll(e.target.checked)}
                aria-label="Select all cases shown"
              />
            </th>
            <th scope="col">Network</th>
            <th scope="col">Author</th>
            <th scope="col">Message</th>
            <th scope="col">SLA</th>
            <th scope="col">Priority</th>
            <th scope="col">Status</th>
            <th scope="col">Assignee</th>
            <th scope="col">Department</th>
            <th scope="col">Tags</th>
            <th scope="col">Age</th>
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.map((c) => (
            <CaseRow
              key={c.id}
              c={c}
              focused={c.id === focusId}
              tabbable={c.id === tabbableId}
              selected={selected.has(c.id)}
              fresh={fresh.has(c.id)}
              assignee={assigneeLabel(c.assignee_id, meId, agents)}
              breaches={breaches}
              breachVersion={breachVersion}
              onFocusRow={onFocusRow}
              onToggle={onToggle}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
