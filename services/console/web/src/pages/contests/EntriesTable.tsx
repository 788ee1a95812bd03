// A contest's entries with their decisions: how many count, why the others do not, and the
// entries themselves (filtered by decision, shown a hundred at a time).
import { useMemo, useState } from "react";
import { Badge, ErrorNotice } from "../../components/ui";
import { formatDateTime, formatTime } from "../../lib/time";
import type { EntryList } from "./api";
import { counts, countEntries, decisionText, KIND_WORDS, METHOD_WORDS, type Contest, type Entry, type Method } from "./contests";

const SHOWN = 100;

export function EntriesTable({ contest, list, error, onRetry, refreshedAt, watching }: {
  contest: Contest;
  list: EntryList | undefined;
  error: unknown;
  onRetry: () => void;
  refreshedAt: number | null;
  watching: boolean;
}) {
  const [filter, setFilter] = useState("all");
  const [shown, setShown] = useState(SHOWN);
  const entries = useMemo(() => list?.items ?? [], [list]);
  const summary = useMemo(() => countEntries(entries), [entries]);
  const visible = useMemo(
    () =>
      entries.filter((e) =>
        filter === "all"
          ? true
          : filter === "counting"
            ? counts(e)
            : filter === "not-counting"
              ? !counts(e)
              : !counts(e) && (e.withdrawn ? "entry.withdrawn" : e.decision.code) === filter,
      ),
    [entries, filter],
  );
  const final = contest.status === "drawn" || contest.status === "announced";

  return (
    <section aria-labelledby="contests-entries-title" className="contests-entries">
      <h2 id="contests-entries-title">Entries</h2>
      {error ? <ErrorNotice error={error} onRetry={onRetry} /> : null}
      {contest.status === "draft" ? (
        <p className="muted">Entries are collected once the contest is open; a draft ignores comments and reposts.</p>
      ) : (
        <p className="muted small">
          {final
            ? "These are the draw's decisions: final."
            : "Decisions are provisional until the draw, which judges every entry once more."}{" "}
          {watching && "Refreshes every 10 seconds."}
          {refreshedAt !== null && ` Last updated ${formatTime(refreshedAt)}.`}
        </p>
      )}
      {list && (
        <div className="contests-counts" data-testid="entry-counts">
          <p>
            <strong>{summary.total.toLocaleString()}</strong> {summary.total === 1 ? "entry" : "entries"}:{" "}
            <strong>{summary.counting.toLocaleString()}</strong> {summary.counting === 1 ? "counts" : "count"},{" "}
            <strong>{summary.notCounting.toLocaleString()}</strong> {summary.notCounting === 1 ? "does" : "do"} not.
          </p>
          {summary.reasons.length > 0 && (
            <ul aria-label="Why entries do not count">
              {summary.reasons.map((r) => (
                <li key={r.code}>
                  {r.label}: {r.count.toLocaleString()}
                </li>
              ))}
            </ul>
          )}
          {!list.complete && (
            <p className="notice notice-info">
              This shows the first {entries.length.toLocaleString()} entries only; the counts cover those.
              {final && " The certificate below counts every entry in the draw."}
            </p>
          )}
        </div>
      )}
      {list && entries.length > 0 && (
        <div className="row">
          <label htmlFor="contests-entry-filter">Show</label>
          <select id="contests-entry-filter" value={filter} onChange={(e) => (setFilter(e.target.value), setShown(SHOWN))}>
            <option value="all">All entries</option>
            <option value="counting">Entries that count</option>
            <option value="not-counting">Entries that do not count</option>
            {summary.reasons.map((r) => (
              <option key={r.code} value={r.code}>
                Not counting: {r.label}
              </option>
            ))}
          </select>
          <span className="muted small" role="status">
            {visible.length.toLocaleString()} shown
          </span>
        </div>
      )}
      <table aria-label="Entries" className="contests-table">
        <thead>
          <tr>
            <th scope="col">Made</th>
            <th scope="col">Author</th>
            <th scope="col">Followers</th>
            <th scope="col">Kind</th>
            <th scope="col">Text</th>
            <th scope="col">Decision</th>
          </tr>
        </thead>
        <tbody>
          {!list ? (
            <tr>
              <td colSpan={6} className="muted">
                {error ? "The entries could not be loaded." : "Loading entries…"}
              </td>
            </tr>
          ) : visible.length === 0 ? (
            <tr>
              <td colSpan={6} className="muted">
                {entries.length ? "No entry matches this filter." : "No entries yet."}
              </td>
            </tr>
          ) : (
            visible.slice(0, shown).map((e) => <EntryRow key={e.mention_id} entry={e} />)
          )}
        </tbody>
      </table>
      {visible.length > shown && (
        <button type="button" onClick={() => setShown((n) => n + SHOWN)}>
          Show more entries ({(visible.length - shown).toLocaleString()} more)
        </button>
      )}
    </section>
  );
}

function EntryRow({ entry }: { entry: Entry }) {
  const ok = counts(entry);
  const method = entry.decision.method as Method | null | undefined;
  return (
    <tr data-testid="entry-row" data-mention-id={entry.mention_id} data-decision={entry.withdrawn ? "entry.withdrawn" : entry.decision.code}>
      <td className="contests-nowrap">{formatDateTime(entry.created_at)}</td>
      <td>
        {entry.author_handle ? (entry.author_handle.startsWith("@") ? entry.author_handle : `@${entry.author_handle}`) : <span className="muted">no handle</span>}
        <div className="muted small contests-mono">{entry.author_id}</div>
      </td>
      <td>{entry.author_followers == null ? <span className="muted">unknown</span> : entry.author_followers.toLocaleString()}</td>
      <td>{KIND_WORDS[entry.kind] ?? entry.kind}</td>
      <td className="contests-text">{entry.text || <span className="muted">(no text)</span>}</td>
      <td>
        <Badge tone={ok ? "ok" : "neutral"}>{ok ? "Counts" : "Does not count"}</Badge>
        <div className="small">
          {ok
            ? method && METHOD_WORDS[method]
              ? `By ${METHOD_WORDS[method].label.toLowerCase()}`
              : ""
            : decisionText(entry.withdrawn ? { code: "entry.withdrawn" } : entry.decision)}
        </div>
        {!ok && entry.decision.message && !entry.withdrawn && (
          <div className="muted small">{entry.decision.message}</div>
        )}
      </td>
    </tr>
  );
}
