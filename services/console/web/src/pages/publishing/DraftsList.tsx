// Posts not on the calendar yet: drafts, rejected ones to rework, approved ones without a time.
import { Link } from "react-router-dom";
import { ok, publisher } from "../../api/client";
import { useBrand } from "../../app/session";
import { Empty, ErrorNotice, Loading, useResource } from "../../components/ui";
import { formatDateTime, timeZone } from "../../lib/time";
import { networksOf, publishAt } from "./content";
import { NetworkTags, StatusBadge, useLiveReload } from "./shared";

export function DraftsList() {
  const brand = useBrand();
  const zone = timeZone();
  const list = useResource(
    () =>
      ok(
        publisher.GET("/v1/content", {
          params: { query: { brand_id: brand, status: ["draft", "rejected", "approved"], limit: 200 } },
        }),
      ),
    [brand],
  );
  useLiveReload(() => void list.reload());
  const items = [...(list.data ?? [])].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return (
    <section aria-labelledby="pub-drafts-title">
      <h2 id="pub-drafts-title">Drafts and posts without a time</h2>
      {list.error ? <ErrorNotice error={list.error} onRetry={() => void list.reload()} /> : null}
      {!list.data && list.loading && <Loading what="Loading the drafts" />}
      {list.data && items.length === 0 && <Empty>No drafts. Use “New post” to write one.</Empty>}
      {items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Networks</th>
              <th scope="col">Status</th>
              <th scope="col">Planned for</th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => {
              const at = publishAt(c);
              return (
                <tr key={c.id} data-testid="draft-item" data-content-id={c.id}>
                  <td>
                    <Link to={`/publishing/${c.id}`}>{c.title}</Link>
                  </td>
                  <td>
                    <NetworkTags networks={networksOf(c)} />
                  </td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{at === null ? <span className="muted">No time yet</span> : formatDateTime(at, zone)}</td>
                  <td>{formatDateTime(c.updated_at, zone)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
