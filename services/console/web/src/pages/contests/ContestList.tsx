// The brand's contests, newest first: state in words, entry window in the user's zone, and
// how many entries each has (counted from its entries, as the list does not carry them).
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useLive } from "../../app/live";
import { useBrand, useSession } from "../../app/session";
import { Badge, Empty, ErrorNotice, Loading, PageHeader, useNow, useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { formatDateTime } from "../../lib/time";
import { listContests, listEntries } from "./api";
import {
  contestName,
  countEntries,
  METHOD_WORDS,
  STATUS_WORDS,
  STATUSES,
  statusText,
  type Contest,
} from "./contests";

/** Entries read per contest for the list's counts (pages of 200). */
const LIST_COUNT_PAGES = 5;

export function ContestList() {
  const brand = useBrand();
  const { can } = useSession();
  const navigate = useNavigate();
  const now = useNow(30_000);
  const [status, setStatus] = useState<Contest["status"] | "">("");
  const [more, setMore] = useState<{ items: Contest[]; cursor: string | null }>({ items: [], cursor: null });
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const first = useResource(async () => {
    const page = await listContests(brand, status, null);
    setMore({ items: [], cursor: page.next_cursor ?? null });
    return page.items;
  }, [brand, status]);
  // A contest opened, closed or drawn elsewhere shows its new state without a reload.
  useLive(["contest"], () => void first.reload());

  const contests = [...(first.data ?? []), ...more.items];
  const showMore = async () => {
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await listContests(brand, status, more.cursor);
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor ?? null }));
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  };
  const canWrite = can("content:write");

  return (
    <section className="contests">
      <PageHeader title="Contests">
        <button type="button" className="primary" disabled={!canWrite} onClick={() => navigate("new")}
          aria-describedby={canWrite ? undefined : "contests-new-reason"}>
          New contest
        </button>
        {!canWrite && (
          <span id="contests-new-reason" className="muted small">
            Your role cannot create contests (it needs content:write).
          </span>
        )}
      </PageHeader>
      <p className="muted">
        Giveaways on the brand's posts: people enter by commenting with a hashtag, replying or reposting, and the
        winners are drawn in a way anyone can check. Times are in your time zone.
      </p>
      <div className="row contests-filters">
        <label htmlFor="contests-status">Status</label>
        <select id="contests-status" value={status} onChange={(e) => setStatus(e.target.value as Contest["status"] | "")}>
          <option value="">All</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_WORDS[s].label}
            </option>
          ))}
        </select>
      </div>
      {first.error ? <ErrorNotice error={first.error} onRetry={() => void first.reload()} /> : null}
      {first.loading && !first.data ? (
        <Loading what="Loading contests" />
      ) : contests.length === 0 && !first.error ? (
        <Empty>
          {status
            ? `No contests are ${STATUS_WORDS[status].label.toLowerCase()}.`
            : "No contests yet. Set one up with “New contest”."}
        </Empty>
      ) : contests.length > 0 ? (
        <table aria-label="Contests" className="contests-table">
          <thead>
            <tr>
              <th scope="col">Contest</th>
              <th scope="col">Status</th>
              <th scope="col">Runs on</th>
              <th scope="col">Entry window</th>
              <th scope="col">Winners</th>
              <th scope="col">Entries</th>
            </tr>
          </thead>
          <tbody>
            {contests.map((c) => (
              <tr key={c.id} data-testid="contest-row" data-contest-id={c.id}>
                <th scope="row">
                  <Link to={c.id}>{contestName(c)}</Link>
                  <div className="muted small">{c.methods.map((m) => METHOD_WORDS[m].label).join(" · ")}</div>
                </th>
                <td>
                  <Badge tone={STATUS_WORDS[c.status].tone}>{statusText(c, now)}</Badge>
                </td>
                <td>
                  {networkName(c.network)}
                  <div className="muted small contests-mono">post {c.post_native_id}</div>
                </td>
                <td>
                  <span className="contests-nowrap">from {formatDateTime(c.opens_at)}</span>{" "}
                  <span className="contests-nowrap">to {formatDateTime(c.closes_at)}</span>
                </td>
                <td>{c.winner_count}</td>
                <td>
                  <EntryCount contest={c} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {moreError ? <ErrorNotice error={moreError} onRetry={() => void showMore()} /> : null}
      {more.cursor && (
        <button type="button" onClick={() => void showMore()} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Show more contests"}
        </button>
      )}
    </section>
  );
}

function EntryCount({ contest }: { contest: Contest }) {
  const draft = contest.status === "draft";
  const { data, error } = useResource(
    async () => (draft ? null : listEntries(contest.id, LIST_COUNT_PAGES)),
    [contest.id, contest.status, draft],
  );
  if (draft) return <span className="muted">None yet (draft)</span>;
  if (error) return <span className="muted">Could not count</span>;
  if (!data) return <span className="muted">Counting…</span>;
  const counted = countEntries(data.items);
  const plus = data.complete ? "" : "+";
  return (
    <span>
      {counted.total.toLocaleString()}
      {plus} {counted.total === 1 && !plus ? "entry" : "entries"}
      <div className="muted small">{counted.counting.toLocaleString()}{plus} count</div>
    </span>
  );
}
