// Failed posts: per account, the network, the reason in words and when, and Retry (which
// posts again from the accounts that failed; the published ones are left alone).
import { Link } from "react-router-dom";
import { ok, publisher } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { Empty, ErrorNotice, Loading, useAction, useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { formatDateTime, timeZone } from "../../lib/time";
import { failuresFromSummary, failuresOf, publishAt, type Account, type Content } from "./content";
import { Announcement, NetworkTag, useAccounts, useAnnouncement, useLiveReload } from "./shared";

export function FailedPosts() {
  const brand = useBrand();
  const list = useResource(
    () => ok(publisher.GET("/v1/content", { params: { query: { brand_id: brand, status: ["failed"], limit: 200 } } })),
    [brand],
  );
  const accounts = useAccounts();
  const [announcement, announce] = useAnnouncement();
  useLiveReload(() => void list.reload());
  const items = [...(list.data ?? [])].filter((c) => c.status === "failed").sort((a, b) => b.updated_at.localeCompare(a.updated_at));

  return (
    <section aria-labelledby="pub-failed-title">
      <h2 id="pub-failed-title">Failed posts</h2>
      <Announcement text={announcement} />
      {list.error ? <ErrorNotice error={list.error} onRetry={() => void list.reload()} /> : null}
      {!list.data && list.loading && <Loading what="Loading the failed posts" />}
      {list.data && items.length === 0 && <Empty>No post has failed.</Empty>}
      <div className="pub-cards">
        {items.map((c) => (
          <FailedCard
            key={c.id}
            content={c}
            accounts={accounts.data ?? []}
            onRetried={(out) => {
              list.setData((l) => l?.filter((x) => x.id !== out.id));
              announce(`Retrying “${out.title}”: posting again from the accounts that failed.`);
            }}
          />
        ))}
      </div>
    </section>
  );
}

function FailedCard({ content, accounts, onRetried }: { content: Content; accounts: Account[]; onRetried: (out: Content) => void }) {
  const brand = useBrand();
  const { can } = useSession();
  const zone = timeZone();
  const path = { path: { content_id: content.id }, query: { brand_id: brand } };
  const deliveries = useResource(
    () => ok(publisher.GET("/v1/content/{content_id}/deliveries", { params: path })),
    [brand, content.id, content.version],
  );
  const action = useAction();
  const fromHistory = deliveries.data ? failuresOf(deliveries.data) : [];
  const failures = fromHistory.length ? fromHistory : failuresFromSummary(content);
  const names = new Map(accounts.map((a) => [a.id, a.name]));
  const at = publishAt(content);
  const retry = async () => {
    const out = await action.run(() => ok(publisher.POST("/v1/content/{content_id}/retry", { params: path })));
    if (out) onRetried(out);
  };
  return (
    <article className="card pub-failed" data-testid="failed-item" data-content-id={content.id} aria-labelledby={`pub-f-${content.id}`}>
      <h3 id={`pub-f-${content.id}`}>
        <Link to={`/publishing/${content.id}`}>{content.title}</Link> <span className="badge badge-danger">Failed</span>
      </h3>
      {at !== null && <p className="small muted">Planned for {formatDateTime(at, zone)}</p>}
      {deliveries.error ? <ErrorNotice error={deliveries.error} onRetry={() => void deliveries.reload()} /> : null}
      {failures.length === 0 ? (
        deliveries.loading ? (
          <Loading what="Reading what went wrong" />
        ) : (
          <p className="muted">The publisher recorded no failed account for this post.</p>
        )
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Network</th>
              <th scope="col">Account</th>
              <th scope="col">Why it failed</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {failures.map((f) => (
              <tr key={`${f.accountId}-${f.network}`}>
                <td>
                  <NetworkTag network={f.network} decorative /> {networkName(f.network)}
                </td>
                <td>{f.accountId ? (names.get(f.accountId) ?? f.accountId) : "—"}</td>
                <td>
                  {f.message}
                  {f.code && <span className="muted small"> ({f.code})</span>}
                  {f.attempts > 1 && <span className="muted small"> after {f.attempts} attempts</span>}
                </td>
                <td>
                  {f.at !== null ? (
                    <time dateTime={new Date(f.at).toISOString()}>{formatDateTime(f.at, zone)}</time>
                  ) : (
                    <time dateTime={content.updated_at}>{formatDateTime(content.updated_at, zone)}</time>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorNotice error={action.error} />
      {can("content:write") ? (
        <div className="row">
          <button type="button" className="primary" disabled={action.busy} onClick={() => void retry()}>
            Retry
          </button>
          <span className="muted small">Fix the cause first (a renewed token, a shorter text); only the failed accounts post again.</span>
        </div>
      ) : (
        <p className="muted small">Your role cannot retry posts.</p>
      )}
    </article>
  );
}
