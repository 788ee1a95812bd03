// Content: what the brand's own posts earned (per post, per campaign) and when posting
// pays off best, in the user's time zone.
import { analytics, ok } from "../../api/client";
import type { operations } from "../../api/gen/analytics";
import { BarChart, Heatmap, formatMoneyMinor, formatNumber, formatPercent, type HeatCell } from "../../components/charts";
import { useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { formatDateTime, timeZone } from "../../lib/time";
import {
  bestTimesGrid,
  csvUrl,
  engagementTotals,
  hourNames,
  jsonOf,
  postLabel,
  weekdayNames,
  type BestTimes,
  type Campaign,
  type CampaignList,
  type PostList,
} from "./data";
import { DownloadCsv, Kpis, Panel, type Scope } from "./parts";

type PostsQuery = operations["list_posts_v1_content_posts_get"]["parameters"]["query"];
type CampaignsQuery = operations["list_campaigns_v1_campaigns_get"]["parameters"]["query"];

export function ContentTab({ scope }: { scope: Scope }) {
  return (
    <div className="analytics-grid">
      <PostsPanel scope={scope} />
      <CampaignsPanel scope={scope} />
      <BestTimesPanel scope={scope} />
    </div>
  );
}

function PostsPanel({ scope }: { scope: Scope }) {
  const { brand, window: w, network } = scope;
  const query: PostsQuery = { brand_id: brand, from: w.from, to: w.to, network, sort: "engagements", limit: 100 };
  const { data, error, loading, reload } = useResource(
    () => ok(analytics.GET("/v1/content/posts", { params: { query } })).then(jsonOf<PostList>),
    [brand, w.from, w.to, network],
  );
  const posts = data?.posts ?? [];
  const totals = engagementTotals(posts);
  const where = network ? ` on ${networkName(network)}` : "";
  const empty = data && posts.length === 0 ? "No posts published in this range yet." : undefined;
  return (
    <Panel title="Engagement by post" wide loading={loading} error={error} onRetry={() => void reload()}>
      {data ? (
        <>
          <Kpis
            label="Post figures"
            items={[
              { label: "Posts", value: formatNumber(totals.posts) },
              { label: "Engagements", value: formatNumber(totals.engagements), hint: "likes + comments + shares" },
              { label: "Engagement rate", value: formatPercent(totals.rate), hint: "engagements / views, where views are reported", testId: "kpi-engagement-rate" },
              { label: "Clicks", value: formatNumber(totals.clicks) },
            ]}
          />
          <BarChart
            chart="engagement"
            title={`Top posts by engagements, ${scope.range.phrase}${where}`}
            items={posts.slice(0, 10).map((p) => ({
              key: `${p.network}:${p.native_id}`,
              label: postLabel(p, networkName),
              value: p.engagements,
              detail: `${networkName(p.network)}; engagement rate ${formatPercent(p.engagement_rate)}`,
            }))}
            nameHeader="Post"
            valueHeader="Engagements"
            detailHeader="Network and rate"
            empty={empty}
            actions={<DownloadCsv url={csvUrl("/v1/content/posts", query)} fallbackName="posts.csv" what="Posts with their engagement, as CSV" />}
          />
          {posts.length > 0 ? (
            <div className="analytics-table-wrap">
              <table data-testid="posts-table">
                <caption>
                  Posts published {scope.range.phrase}
                  {where}, most engagements first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Post</th>
                    <th scope="col">Network</th>
                    <th scope="col">Published</th>
                    <th scope="col">Likes</th>
                    <th scope="col">Comments</th>
                    <th scope="col">Shares</th>
                    <th scope="col">Views</th>
                    <th scope="col">Clicks</th>
                    <th scope="col">Engagements</th>
                    <th scope="col">Engagement rate</th>
                    <th scope="col">Campaign</th>
                  </tr>
                </thead>
                <tbody>
                  {posts.map((p) => (
                    <tr key={`${p.network}:${p.native_id}`}>
                      <th scope="row">
                        {p.url ? (
                          <a href={p.url} target="_blank" rel="noreferrer noopener">
                            {postLabel(p, networkName)}
                            <span className="sr-only"> (opens the post on {networkName(p.network)})</span>
                          </a>
                        ) : (
                          postLabel(p, networkName)
                        )}
                      </th>
                      <td>{networkName(p.network)}</td>
                      <td>{p.published_at ? formatDateTime(p.published_at) : "–"}</td>
                      <td className="chart-num">{formatNumber(p.likes)}</td>
                      <td className="chart-num">{formatNumber(p.comments)}</td>
                      <td className="chart-num">{formatNumber(p.shares)}</td>
                      <td className="chart-num">{formatNumber(p.views)}</td>
                      <td className="chart-num">{formatNumber(p.clicks)}</td>
                      <td className="chart-num">{formatNumber(p.engagements)}</td>
                      <td className="chart-num">{formatPercent(p.engagement_rate)}</td>
                      <td>{p.campaign_id ?? "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted small">“–”: the network does not report that figure. Engagement rate needs views.</p>
            </div>
          ) : null}
        </>
      ) : null}
    </Panel>
  );
}

/** A campaign's figures, or its figures on one network when a network is chosen. */
function campaignFigures(c: Campaign, network: string | null) {
  const on = network ? c.networks.find((n) => n.network === network) : undefined;
  if (network && !on) return null;
  const src = on ?? c;
  return {
    totals: src.totals,
    spend: src.spend_minor,
    perEngagement: src.cost_per_engagement_minor,
    perClick: src.cost_per_click_minor,
  };
}

function CampaignsPanel({ scope }: { scope: Scope }) {
  const { brand, network } = scope;
  const query: CampaignsQuery = { brand_id: brand, limit: 100 };
  const { data, error, loading, reload } = useResource(
    () => ok(analytics.GET("/v1/campaigns", { params: { query } })).then(jsonOf<CampaignList>),
    [brand],
  );
  const rows = (data?.campaigns ?? []).flatMap((c) => {
    const f = campaignFigures(c, network);
    return f ? [{ c, f }] : [];
  });
  rows.sort((a, b) => (b.f.totals.engagements ?? -1) - (a.f.totals.engagements ?? -1) || a.c.campaign_id.localeCompare(b.c.campaign_id));
  const where = network ? ` on ${networkName(network)}` : "";
  return (
    <Panel
      title="Engagement by campaign"
      wide
      loading={loading}
      error={error}
      onRetry={() => void reload()}
      note="All time: a campaign's figures are not limited to the range. Costs are in the currency its spend was entered in."
    >
      {data ? (
        <>
          <BarChart
            chart="campaign-engagement"
            title={`Campaigns by engagements, all time${where}`}
            items={rows.slice(0, 10).map(({ c, f }) => ({
              key: c.campaign_id,
              label: c.campaign_id,
              value: f.totals.engagements,
              detail: `${formatNumber(f.totals.posts)} posts; engagement rate ${formatPercent(f.totals.engagement_rate)}`,
            }))}
            nameHeader="Campaign"
            valueHeader="Engagements"
            detailHeader="Posts and rate"
            colour="#009E73"
            empty={rows.length === 0 ? `No campaigns${where} yet.` : undefined}
            actions={<DownloadCsv url={csvUrl("/v1/campaigns", query)} fallbackName="campaigns.csv" what="Campaigns with engagement and spend, as CSV" />}
          />
          {rows.length > 0 ? (
            <div className="analytics-table-wrap">
              <table data-testid="campaigns-table">
                <caption>Campaigns{where}</caption>
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">Posts</th>
                    <th scope="col">Engagements</th>
                    <th scope="col">Engagement rate</th>
                    <th scope="col">Clicks</th>
                    <th scope="col">Spend</th>
                    <th scope="col">Cost per engagement</th>
                    <th scope="col">Cost per click</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ c, f }) => (
                    <tr key={c.campaign_id}>
                      <th scope="row">{c.campaign_id}</th>
                      <td className="chart-num">{formatNumber(f.totals.posts)}</td>
                      <td className="chart-num">{formatNumber(f.totals.engagements)}</td>
                      <td className="chart-num">{formatPercent(f.totals.engagement_rate)}</td>
                      <td className="chart-num">{formatNumber(f.totals.clicks)}</td>
                      <td className="chart-num">{f.spend ? formatMoneyMinor(f.spend, c.currency) : "–"}</td>
                      <td className="chart-num">{formatMoneyMinor(f.perEngagement, c.currency)}</td>
                      <td className="chart-num">{formatMoneyMinor(f.perClick, c.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </Panel>
  );
}

function BestTimesPanel({ scope }: { scope: Scope }) {
  const { brand, window: w, network } = scope;
  const zone = timeZone();
  const { data, error, loading, reload } = useResource(
    () =>
      ok(
        analytics.GET("/v1/content/best-times", {
          params: { query: { brand_id: brand, tz: zone, network, from: w.from, to: w.to } },
        }),
      ),
    [brand, zone, network, w.from, w.to],
  );
  return (
    <Panel title="Best times to post" wide loading={loading} error={error} onRetry={() => void reload()}>
      {data ? <BestTimesBody data={data} phrase={scope.range.phrase} network={network} /> : null}
    </Panel>
  );
}

function BestTimesBody({ data, phrase, network }: { data: BestTimes; phrase: string; network: string | null }) {
  const days = weekdayNames("short");
  const longDays = weekdayNames("long");
  const hours = hourNames();
  const grid = bestTimesGrid(data);
  const cells: HeatCell[][] = grid.map((row) =>
    row.map((cell) => ({
      value: cell.average,
      highlight: cell.best,
      weak: cell.thin,
      detail:
        cell.average == null
          ? undefined
          : [
              `${formatNumber(cell.posts)} ${cell.posts === 1 ? "post" : "posts"}, ${formatNumber(cell.engagements)} engagements`,
              ...(cell.thin ? [`Too few posts to rank (${data.min_posts} needed)`] : []),
            ],
    })),
  );
  const slotName = (s: { weekday: number; hour: number }) => `${days[s.weekday] ?? ""} ${hours[s.hour] ?? ""}`;
  const best = data.best
    .map((s) => `${slotName(s)} (${formatNumber(s.average_engagements, 1)} average engagements over ${formatNumber(s.posts)} posts)`)
    .join(", ");
  const title = `Average engagements per post by weekday and hour (${data.time_zone}), ${phrase}${network ? ` on ${networkName(network)}` : ""}`;
  const summary = `${title}: ${formatNumber(data.posts)} posts; ${
    best ? `best ${best}` : `no slot has the ${data.min_posts} posts needed to rank it`
  }`;
  return (
    <>
      <Heatmap
        chart="best-times"
        title={title}
        description={`Darker is more engagements per post. ★ marks the best slots (at least ${data.min_posts} posts each); faded cells have fewer posts.`}
        rows={days}
        columns={hours}
        cells={cells}
        summary={summary}
        cornerHeader="Weekday"
        format={(v) => formatNumber(v, 1)}
        empty={data.posts === 0 ? "No published posts with engagement figures in this range yet." : undefined}
      />
      {data.posts > 0 ? (
        data.best.length > 0 ? (
          <div>
            <h3>Best slots</h3>
            <ol className="analytics-best">
              {data.best.map((s) => (
                <li key={`${s.weekday}-${s.hour}`}>
                  {longDays[s.weekday]} {hours[s.hour]}: {formatNumber(s.average_engagements, 1)} average engagements ({formatNumber(s.posts)} posts)
                </li>
              ))}
            </ol>
          </div>
        ) : (
          <p className="muted">
            No weekday and hour has {data.min_posts} posts yet, so none is ranked: choose a longer range.
          </p>
        )
      ) : null}
    </>
  );
}
