// Overview: how much the brand is talked about, in what tone, against whom, by whom and
// about what, and the reputation index built from it.
import { analytics, ok } from "../../api/client";
import type { operations } from "../../api/gen/analytics";
import {
  BarChart,
  Gauge,
  SENTIMENT_COLOURS,
  TimeSeriesChart,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatSigned,
  type TableSpec,
} from "../../components/charts";
import { useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { asJson, COMPONENT_RAW, SENTIMENTS, SENTIMENT_LABELS, componentLabel, csvUrl, fieldOf, slotsOf, type Reputation } from "./data";
import { DownloadCsv, Kpis, Panel, type Scope } from "./parts";

type SeriesQuery = operations["series_v1_metrics_series_get"]["parameters"]["query"];
type TopQuery = operations["top_v1_metrics_top_get"]["parameters"]["query"];
type TopKind = TopQuery["kind"];

const NO_MENTIONS = "No mentions in this range yet.";

export function OverviewTab({ scope }: { scope: Scope }) {
  return (
    <div className="analytics-grid">
      <MentionsPanels scope={scope} />
      <ReputationPanel scope={scope} />
      <TopPanel
        scope={scope}
        kind="share_of_voice"
        chart="share-of-voice"
        title="Share of voice"
        nameHeader="Keyword"
        valueHeader="Share"
        byNetwork
        empty="No brand or competitor keyword matched a mention in this range yet."
      />
      <TopPanel scope={scope} kind="authors" chart="top-authors" title="Top authors" nameHeader="Author" valueHeader="Mentions" byNetwork empty={NO_MENTIONS} />
      <TopPanel scope={scope} kind="terms" chart="top-terms" title="Top terms" nameHeader="Term" valueHeader="Mentions" empty={NO_MENTIONS} />
      <TopPanel scope={scope} kind="hashtags" chart="top-hashtags" title="Top hashtags" nameHeader="Hashtag" valueHeader="Mentions" empty="No hashtags in this range yet." />
    </div>
  );
}

function per(scope: Scope): string {
  return `${scope.window.granularity === "hour" ? "per hour" : "per day"}, ${scope.range.phrase}`;
}

function MentionsPanels({ scope }: { scope: Scope }) {
  const { brand, window: w, network } = scope;
  const query: SeriesQuery = { brand_id: brand, metric: "mentions", from: w.from, to: w.to, granularity: w.granularity, network };
  const { data, error, loading, reload } = useResource(
    () => ok(analytics.GET("/v1/metrics/series", { params: { query } })).then(asJson),
    [brand, w.from, w.to, w.granularity, network],
  );
  const csv = csvUrl("/v1/metrics/series", query);
  const where = network ? ` on ${networkName(network)}` : "";
  const slots = data ? slotsOf(data.points) : [];
  const count = data?.totals.count ?? 0;
  const empty = data && !count ? NO_MENTIONS : undefined;
  const download = <DownloadCsv url={csv} fallbackName="mentions.csv" what="Mentions per slot with sentiment counts, as CSV" />;
  return (
    <>
      <Panel title="Volume" wide loading={loading} error={error} onRetry={() => void reload()}>
        {data ? (
          <>
            <Kpis
              label="Mention figures"
              items={[
                { label: "Mentions", value: formatNumber(count), testId: "kpi-mentions" },
                { label: "Negative", value: formatNumber(data.totals.negative), hint: formatPercent(data.totals.negative_share) },
                {
                  label: "Net sentiment",
                  value: formatSigned(data.totals.net_sentiment),
                  hint: "from −1 to +1",
                  testId: "kpi-net-sentiment",
                },
                { label: "Reach", value: formatNumber(data.totals.reach), hint: "audience of the authors" },
              ]}
            />
            <TimeSeriesChart
              chart="volume"
              title={`Mentions ${per(scope)}${where}`}
              slots={slots}
              granularity={data.granularity}
              series={[
                { key: "count", label: "All mentions", values: fieldOf(data, "count") },
                { key: "negative", label: "Negative", values: fieldOf(data, "negative") },
              ]}
              yLabel="Mentions"
              empty={empty}
              actions={download}
            />
          </>
        ) : null}
      </Panel>
      <Panel title="Sentiment" loading={loading} error={error} onRetry={() => void reload()}>
        {data ? (
          <TimeSeriesChart
            chart="sentiment"
            title={`Sentiment of mentions ${per(scope)}${where}`}
            description="Mentions by sentiment, stacked: the bar's height is all mentions of the slot."
            slots={slots}
            granularity={data.granularity}
            mode="stacked-bars"
            series={SENTIMENTS.map((s) => ({ key: s, label: SENTIMENT_LABELS[s], values: fieldOf(data, s), colour: SENTIMENT_COLOURS[s] }))}
            yLabel="Mentions"
            empty={empty}
            actions={download}
          />
        ) : null}
      </Panel>
      <Panel title="Net sentiment" loading={loading} error={error} onRetry={() => void reload()}>
        {data ? (
          <TimeSeriesChart
            chart="net-sentiment"
            title={`Net sentiment ${per(scope)}${where}`}
            description="(positive − negative) / mentions: +1 all positive, −1 all negative; gaps where there were no mentions."
            slots={slots}
            granularity={data.granularity}
            series={[{ key: "net", label: "Net sentiment", values: fieldOf(data, "net_sentiment"), aggregate: "level" }]}
            format={(v) => formatSigned(v)}
            axisFormat={(v) => formatSigned(v, 1)}
            yDomain={[-1, 1]}
            yLabel="Net sentiment"
            empty={empty}
            actions={download}
          />
        ) : null}
      </Panel>
    </>
  );
}

function TopPanel({
  scope,
  kind,
  chart,
  title,
  nameHeader,
  valueHeader,
  byNetwork = false,
  empty,
}: {
  scope: Scope;
  kind: TopKind;
  chart: string;
  title: string;
  nameHeader: string;
  valueHeader: string;
  /** Whether the API stores this list per network (otherwise the filter is not applied). */
  byNetwork?: boolean;
  empty: string;
}) {
  const { brand, window: w } = scope;
  const network = byNetwork ? scope.network : null;
  const query: TopQuery = { brand_id: brand, kind, from: w.from, to: w.to, granularity: w.granularity, network, limit: 10 };
  const { data, error, loading, reload } = useResource(
    () => ok(analytics.GET("/v1/metrics/top", { params: { query } })).then(asJson),
    [brand, kind, w.from, w.to, w.granularity, network],
  );
  const share = kind === "share_of_voice";
  const note =
    scope.network && !byNetwork
      ? `Counted over all networks: ${title.toLowerCase()} are not stored per network.`
      : data && data.tail_bound > 0
        ? `Exact above ${formatNumber(data.tail_bound)}: smaller values may be short by up to that much.`
        : undefined;
  return (
    <Panel title={title} loading={loading} error={error} onRetry={() => void reload()} note={note}>
      {data ? (
        <BarChart
          chart={chart}
          title={`${title}, ${scope.range.phrase}${network ? ` on ${networkName(network)}` : ""}`}
          description={share && data.items.length > 0 ? `Share of ${formatNumber(data.total)} keyword matches.` : undefined}
          items={data.items.map((i) => ({
            key: i.name,
            label: i.name,
            value: share ? (i.share ?? 0) : i.value,
            detail: share ? `${formatNumber(i.value)} mentions` : i.share == null ? undefined : `${formatPercent(i.share)} of all`,
          }))}
          format={share ? (v) => formatPercent(v) : (v) => formatNumber(v)}
          max={share ? 1 : undefined}
          nameHeader={nameHeader}
          valueHeader={valueHeader}
          detailHeader={share ? "Mentions" : "Share"}
          empty={data.items.length === 0 ? empty : undefined}
          actions={<DownloadCsv url={csvUrl("/v1/metrics/top", query)} fallbackName={`top-${kind}.csv`} what={`${title} as CSV`} />}
        />
      ) : null}
    </Panel>
  );
}

function rawValue(component: string, value: number | null): string {
  if (value == null) return "no data";
  if (component === "response_speed") return formatSeconds(value);
  if (component === "recovery_rate") return formatPercent(value);
  return formatSigned(value);
}

function componentsTable(rep: Reputation): TableSpec {
  return {
    columns: ["Component", "Raw value", "Normalised (0–1)", "Weight", "Weight used", "Points"],
    rows: rep.components.map((c) => [
      componentLabel(c.component),
      rawValue(c.component, c.value),
      c.missing || c.normalised == null ? "no data" : formatNumber(c.normalised, 2),
      formatNumber(c.weight),
      formatPercent(c.weight_used),
      formatNumber(c.contribution, 1),
    ]),
  };
}

function ReputationPanel({ scope }: { scope: Scope }) {
  const { brand, window: w } = scope;
  const { data, error, loading, reload } = useResource(
    () =>
      ok(analytics.GET("/v1/metrics/reputation", { params: { query: { brand_id: brand, from: w.from, to: w.to, granularity: w.granularity } } })),
    [brand, w.from, w.to, w.granularity],
  );
  const note = scope.network ? "Over all networks: the index is brand-wide." : undefined;
  return (
    <Panel title="Reputation index" loading={loading} error={error} onRetry={() => void reload()} note={note}>
      {data ? <ReputationBody rep={data} phrase={scope.range.phrase} /> : null}
    </Panel>
  );
}

function ReputationBody({ rep, phrase }: { rep: Reputation; phrase: string }) {
  const parts = rep.components.map((c) => ({ key: c.component, label: componentLabel(c.component), value: c.missing ? 0 : c.contribution }));
  const score = rep.score;
  const summary =
    score == null
      ? `Reputation index, ${phrase}: no score yet`
      : `Reputation index, ${phrase}: ${formatNumber(score, 0)} of 100; ${parts.map((p) => `${p.label} ${formatNumber(p.value, 1)} points`).join(", ")}`;
  const i = rep.inputs;
  return (
    <>
      <Gauge
        chart="reputation"
        title={`Reputation index, ${phrase}`}
        description={`Score 0–100 (${rep.formula}): each component's points are its normalised value × its share of the weights.`}
        value={score}
        parts={parts}
        summary={summary}
        table={componentsTable(rep)}
        empty="No reputation score yet: it needs mentions with a sentiment, first responses or followed-up reviews in this range."
      />
      <details className="analytics-formula">
        <summary>How the score is made</summary>
        <p className="small">
          score = 100 × Σ wᵢ·normᵢ / Σ wᵢ over the components with data; a component without data gives its weight to the others.
        </p>
        <table>
          <caption className="sr-only">Reputation components</caption>
          <thead>
            <tr>
              <th scope="col">Component</th>
              <th scope="col">Raw value</th>
              <th scope="col">What it is</th>
              <th scope="col">Weight</th>
              <th scope="col">Points</th>
            </tr>
          </thead>
          <tbody>
            {rep.components.map((c) => (
              <tr key={c.component}>
                <th scope="row">{componentLabel(c.component)}</th>
                <td>{rawValue(c.component, c.value)}</td>
                <td className="small">{COMPONENT_RAW[c.component] ?? ""}</td>
                <td>
                  {formatNumber(c.weight)} ({formatPercent(c.weight_used)} used)
                </td>
                <td>{c.missing ? "No data" : formatNumber(c.contribution, 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>Inputs</h3>
        <dl className="analytics-inputs">
          <dt>Mentions with a sentiment</dt>
          <dd>
            {formatNumber(i.with_sentiment)} ({formatNumber(i.positive)} positive, {formatNumber(i.negative)} negative)
          </dd>
          <dt>Previous period</dt>
          <dd>
            {formatNumber(i.previous_with_sentiment)} ({formatNumber(i.previous_positive)} positive, {formatNumber(i.previous_negative)} negative)
          </dd>
          <dt>First responses</dt>
          <dd>
            {formatNumber(i.first_responses)}, median {formatSeconds(i.median_first_response_s)}
          </dd>
          <dt>Negative reviews followed up</dt>
          <dd>
            {formatNumber(i.reviews.improved)} improved, {formatNumber(i.reviews.deleted)} deleted, {formatNumber(i.reviews.unchanged)} unchanged,{" "}
            {formatNumber(i.reviews.worsened)} worsened (recovery {formatPercent(i.reviews.recovery_rate)})
          </dd>
        </dl>
      </details>
    </>
  );
}
