// The inbox's controls: counts per status, saved views, filters and the bulk action bar.
import { forwardRef, useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import type { ResponderTypes } from "../../api/client";
import { agentOptionLabel, type Agent, type Department } from "./agents";
import {
  DEFAULT_FILTERS,
  SLA_CHOICES,
  SORT_CHOICES,
  type AssigneeChoice,
  type InboxFilters,
  type SlaChoice,
  type SortChoice,
  type StatusChoice,
} from "./filters";
import { ACTIVE_STATUSES, PRIORITY_LABELS } from "../../lib/cases";
import { NETWORKS, networkName } from "../../lib/networks";
import {
  PRIORITIES,
  STATUSES,
  STATUS_LABELS,
  type PriorityName,
} from "./format";
import { BUILT_IN_VIEWS, type SavedView } from "./views";

type Counts = ResponderTypes["schemas"]["CaseCounts"];

// --- counts -------------------------------------------------------------------------------

export function CountsBar({ counts, filters, onChange }: {
  counts: Counts | undefined;
  filters: InboxFilters;
  onChange: (next: InboxFilters) => void;
}) {
  const n = (status: string) => counts?.status[status] ?? 0;
  const active = ACTIVE_STATUSES.reduce((sum, s) => sum + n(s), 0);
  const all = Object.values(counts?.status ?? {}).reduce((sum, v) => sum + v, 0);
  const tabs: { value: StatusChoice; label: string; count: number }[] = [
    { value: "active", label: "Active", count: active },
    ...STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s], count: n(s) })),
    { value: "all", label: "All", count: all },
  ];
  const sla = counts?.sla_state ?? {};
  const slaButtons: { value: SlaChoice; label: string; count: number }[] = [
    { value: "breached", label: "Breached", count: sla.breached ?? 0 },
    { value: "at_risk", label: "At risk", count: sla.at_risk ?? 0 },
  ];
  const show = (v: number) => (counts ? String(v) : "…");
  return (
    <div className="inbox-counts">
      <div className="inbox-tabs" role="group" aria-label="Case counts by state">
        {tabs.map((t) => (
          <button
            key={t.value}
            type="button"
            aria-pressed={filters.status === t.value}
            onClick={() => onChange({ ...filters, status: t.value })}
          >
            {t.label} <span className="inbox-count">{show(t.count)}</span>
          </button>
        ))}
      </div>
      <div className="inbox-tabs inbox-sla-tabs" role="group" aria-label="Active cases by SLA">
        {slaButtons.map((t) => (
          <button
            key={t.value}
            type="button"
            className={`inbox-sla-tab-${t.value}`}
            aria-pressed={filters.sla === t.value}
            onClick={() =>
              onChange({ ...filters, status: "active", sla: filters.sla === t.value ? "any" : t.value })
            }
          >
            {t.label} <span className="inbox-count">{show(t.count)}</span>
          </button>
        ))}
      </div>
    </div>
  );
}

// --- saved views --------------------------------------------------------------------------

export function ViewsBar({ views, active, error, onApply, onSave, onDelete }: {
  views: readonly SavedView[];
  active: SavedView | null;
  error: string;
  onApply: (view: SavedView) => void;
  onSave: (name: string) => boolean;
  onDelete: (name: string) => void;
}) {
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const inputId = useId();
  const errorId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (onSave(name)) {
      setNaming(false);
      setName("");
    }
  };
  const chip = (view: SavedView, builtIn: boolean) => (
    <li key={(builtIn ? "b:" : "s:") + view.name} className="inbox-view">
      <button type="button" aria-pressed={active === view} onClick={() => onApply(view)}>
        {view.name}
      </button>
      {!builtIn && (
        <button
          type="button"
          className="inbox-view-delete"
          aria-label={`Delete the view ${view.name}`}
          title="Delete this view"
          onClick={() => onDelete(view.name)}
        >
          ×
        </button>
      )}
    </li>
  );
  return (
    <nav className="inbox-views" aria-label="Views">
      <ul className="inbox-view-list">
        {BUILT_IN_VIEWS.map((v) => chip(v, true))}
        {views.map((v) => chip(v, false))}
      </ul>
      {naming ? (
        <form className="inbox-save-view row" onSubmit={submit}>
          <label htmlFor={inputId}>View name</label>
          <input
            id={inputId}
            value={name}
            maxLength={60}
            autoFocus
            onChange={(e) => setName(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            onKeyDown={(e) => {
              if (e.key === "Escape") setNaming(false);
            }}
          />
          <button type="submit" className="primary">
            Save view
          </button>
          <button type="button" onClick={() => setNaming(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" onClick={() => setNaming(true)}>
          Save current filters…
        </button>
      )}
      {error && (
        <p id={errorId} className="field-error small" role="alert">
          {error}
        </p>
      )}
    </nav>
  );
}

// --- filters ------------------------------------------------------------------------------

export const FilterBar = forwardRef<HTMLInputElement, {
  filters: InboxFilters;
  agents: readonly Agent[];
  departments: readonly Department[];
  tags: readonly string[];
  meId: string;
  searchHint: string;
  onChange: (next: InboxFilters) => void;
}>(function FilterBar({ filters, agents, departments, tags, meId, searchHint, onChange }, searchRef) {
  const id = useId();
  const [tag, setTag] = useState(filters.tag);
  useEffect(() => setTag(filters.tag), [filters.tag]);
  const set = <K extends keyof InboxFilters>(key: K, value: InboxFilters[K]) => onChange({ ...filters, [key]: value });
  const commitTag = () => {
    if (tag.trim() !== filters.tag) set("tag", tag.trim());
  };
  const assigneeKnown =
    ["anyone", "me", "unassigned"].includes(filters.assignee) ||
    agents.some((a) => `agent:${a.id}` === filters.assignee);
  const departmentKnown = !filters.department || departments.some((d) => d.id === filters.department);
  const field = (name: string, label: string, control: ReactNode, hint?: string) => (
    <div className={`inbox-filter inbox-filter-${name}`}>
      <label htmlFor={`${id}-${name}`}>{label}</label>
      {control}
      {hint && (
        <small id={`${id}-${name}-hint`} className="muted">
          {hint}
        </small>
      )}
    </div>
  );
  return (
    <form className="inbox-filters" role="search" aria-label="Filter cases" onSubmit={(e) => e.preventDefault()}>
      {field(
        "q",
        "Search cases",
        <input
          ref={searchRef}
          id={`${id}-q`}
          type="search"
          value={filters.q}
          placeholder="Author, text or tag"
          aria-describedby={`${id}-q-hint`}
          onChange={(e) => set("q", e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape" && filters.q) set("q", "");
          }}
        />,
        searchHint,
      )}
      {field(
        "status",
        "Status",
        <select id={`${id}-status`} value={filters.status} onChange={(e) => set("status", e.target.value as StatusChoice)}>
          <option value="active">Active (work left)</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
          <option value="all">Any status</option>
        </select>,
      )}
      {field(
        "assignee",
        "Assignee",
        <select
          id={`${id}-assignee`}
          value={filters.assignee}
          onChange={(e) => set("assignee", e.target.value as AssigneeChoice)}
        >
          <option value="anyone">Anyone</option>
          <option value="me">Me</option>
          <option value="unassigned">Unassigned</option>
          {(agents.length > 0 || !assigneeKnown) && (
            <optgroup label="Agents">
              {agents
                .filter((a) => a.id !== meId)
                .map((a) => (
                  <option key={a.id} value={`agent:${a.id}`}>
                    {agentOptionLabel(a, meId)}
                  </option>
                ))}
              {!assigneeKnown && <option value={filters.assignee}>{filters.assignee.slice("agent:".length)}</option>}
            </optgroup>
          )}
        </select>,
      )}
      {field(
        "priority",
        "Priority",
        <select id={`${id}-priority`} value={filters.priority} onChange={(e) => set("priority", e.target.value as "" | PriorityName)}>
          <option value="">Any</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {PRIORITY_LABELS[p]}
            </option>
          ))}
        </select>,
      )}
      {field(
        "network",
        "Network",
        <select id={`${id}-network`} value={filters.network} onChange={(e) => set("network", e.target.value)}>
          <option value="">Any</option>
          {NETWORKS.map((n) => (
            <option key={n} value={n}>
              {networkName(n)}
            </option>
          ))}
        </select>,
      )}
      {field(
        "department",
        "Department",
        <select id={`${id}-department`} value={filters.department} onChange={(e) => set("department", e.target.value)}>
          <option value="">Any</option>
          {departments.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
          {!departmentKnown && <option value={filters.department}>{filters.department}</option>}
        </select>,
      )}
      {field(
        "tag",
        "Tag",
        <>
          <input
            id={`${id}-tag`}
            value={tag}
            list={`${id}-tags`}
            aria-describedby={`${id}-tag-hint`}
            onChange={(e) => setTag(e.target.value)}
            onBlur={commitTag}
            onKeyDown={(e) => {
              if (e.key === "Enter") commitTag();
            }}
          />
          <datalist id={`${id}-tags`}>
            {tags.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </>,
        "Enter to apply",
      )}
      {field(
        "sla",
        "SLA",
        <select id={`${id}-sla`} value={filters.sla} onChange={(e) => set("sla", e.target.value as SlaChoice)}>
          {SLA_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>,
      )}
      {field(
        "sort",
        "Sort",
        <select id={`${id}-sort`} value={filters.sort} onChange={(e) => set("sort", e.target.value as SortChoice)}>
          {SORT_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>,
      )}
      <div className="inbox-filter inbox-filter-reset">
        <button type="button" onClick={() => onChange({ ...DEFAULT_FILTERS })}>
          Reset filters
        </button>
      </div>
    </form>
  );
});

// --- bulk actions -------------------------------------------------------------------------

export function BulkBar({ count, agents, meId, canWrite, busy, onAssign, onStatus }: {
  count: number;
  agents: readonly Agent[];
  meId: string;
  canWrite: boolean;
  busy: boolean;
  onAssign: (assigneeId: string | null) => void;
  onStatus: (status: "resolved" | "closed") => void;
}) {
  const [target, setTarget] = useState("me");
  const id = useId();
  const reason = !canWrite
    ? "Your role can read cases but not change them."
    : count === 0
      ? "Select cases with the checkboxes (or x) to act on several at once."
      : "";
  const disabled = !canWrite || count === 0 || busy;
  return (
    <div className="inbox-bulk" role="group" aria-label="Bulk actions" aria-describedby={reason ? `${id}-why` : undefined}>
      <span className="inbox-bulk-count" aria-live="polite">
        {count} selected
      </span>
      <label htmlFor={`${id}-to`}>Assign to</label>
      <select id={`${id}-to`} value={target} onChange={(e) => setTarget(e.target.value)} disabled={!canWrite}>
        <option value="me">Me</option>
        {agents
          .filter((a) => a.id !== meId)
          .map((a) => (
            <option key={a.id} value={`agent:${a.id}`}>
              {agentOptionLabel(a, meId)}
            </option>
          ))}
        <option value="nobody">Nobody (unassign)</option>
      </select>
      <button
        type="button"
        disabled={disabled}
        onClick={() => onAssign(target === "me" ? meId : target === "nobody" ? null : target.slice("agent:".length))}
      >
        Assign selected
      </button>
      <button type="button" disabled={disabled} onClick={() => onStatus("resolved")}>
        Resolve selected
      </button>
      <button type="button" className="danger" disabled={disabled} onClick={() => onStatus("closed")}>
        Close selected…
      </button>
      {reason && (
        <span id={`${id}-why`} className="small muted">
          {reason}
        </span>
      )}
    </div>
  );
}
