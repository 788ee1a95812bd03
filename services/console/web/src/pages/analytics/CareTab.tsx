// Care: how fast and how well the team answers: response and resolution times, SLA met
// rates, the backlog of open cases, resolution and review recovery.
import { analytics, ok } from "../../api/client";
import type { operations } from "../../api/gen/analytics";
import {
  BarChart,
  TimeSeriesChart,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatSecondsShort,
} from "../../components/charts";
import { useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { asJson, careLabel, csvUrl, fieldOf, slotsOf } from "./data";
import { DownloadCsv, Kpis, Panel, type Scope } from "./parts";

type CareQuery = operations["care_v1_metrics_care_get"]["parameters"]["query"];
type SeriesQuery = operations["series_v1_metrics_series_get"]["parameters"]["query"];

export function CareTab({ scope }: { scope: Scope }) {
  const { brand, window: w, network } = scope;
  const careQuery: CareQuery = { brand_id: brand, from: w.from, to: w.to, granularity: w.granularity, network };
  const timesQuery: SeriesQuery = {
    brand_id: brand,
    metric: "first_response_time",
    from: w.from,
    to: w.to,
    granularity: w.granularity,
    network,
  };
  const deps = [brand, w.from, w.to, w.granularity, network];
  const care = useResource(() => ok(analytics.GET("/v1/metrics/care", { params: { query: careQuery } })).then(asJson), deps);
  const times = useResource(() => ok(analytics.GET("/v1/metrics/series", { params: { query: timesQuery } })).then(asJson), deps);
  const where = network ? ` on ${networkName(network)}` : "";
  const per = `${w.granularity === "hour" ? "per hour" : "per day"}, ${scope.range.phrase}${where}`;
  const c = care.data;
  const t = times.data;
  const firstResponse = c?.times.find((d) => d.metric === "first_response_time");
  const firstSla = c?.sla.find((s) => s.metric === "first_response");
  const careCsv = <DownloadCsv url={csvUrl("/v1/metrics/care", careQuery)} fallbackName="care.csv" what="Cases opened, resolved and backlog per slot, as CSV" />;

  return (
    <div className="analytics-grid">
      <Panel title="Response times" wide loading={times.loading || care.loading} error={times.error ?? care.error} onRetry={() => void (times.reload(), care.reload())}>
        {c ? (
          <Kpis
            label="Care figures"
            items={[
              { label: "First response, median", value: formatSeconds(firstResponse?.p50_s), hint: `${formatNumber(firstResponse?.count ?? 0)} responses` },
              { label: "First response, 90th percentile", value: formatSeconds(firstResponse?.p90_s) },
              { label: "First response SLA met", value: formatPercent(firstSla?.met_rate), hint: "met / (met + breached)", testId: "kpi-sla-met" },
              { label: "Resolution rate", value: formatPercent(c.resolution_rate), hint: "resolved / (opened + reopened)", testId: "kpi-resolution-rate" },
            ]}
          />
        ) : null}
        {t ? (
          <TimeSeriesChart
            chart="first-response"
            title={`First response time ${per}`}
            description="Median (p50) and 90th percentile (p90) of the time to the first reply, in business time as SLAs count it."
            slots={slotsOf(t.points)}
            granularity={t.granularity}
            series={[
              { key: "p50", label: "Median (p50)", values: fieldOf(t, "p50_s"), aggregate: "level" },
              { key: "p90", label: "90th percentile (p90)", values: fieldOf(t, "p90_s"), aggregate: "level" },
            ]}
            format={(v) => formatSeconds(v)}
            axisFormat={(v) => formatSecondsShort(v)}
            yLabel="Time to first response"
            durations
            empty={!t.totals.count ? "No first responses in this range yet." : undefined}
            actions={
              <DownloadCsv url={csvUrl("/v1/metrics/series", timesQuery)} fallbackName="first-response.csv" what="First response times per slot, as CSV" />
            }
          />
        ) : null}
        {c ? (
          <div className="analytics-table-wrap">
            <table>
              <caption>Response and resolution times, {scope.range.phrase}</caption>
              <thead>
                <tr>
                  <th scope="col">Measure</th>
                  <th scope="col">Count</th>
                  <th scope="col">Mean</th>
                  <th scope="col">Median (p50)</th>
                  <th scope="col">p90</th>
                  <th scope="col">p95</th>
                </tr>
              </thead>
              <tbody>
                {c.times.map((d) => (
                  <tr key={d.metric}>
                    <th scope="row">{careLabel(d.metric)}</th>
                    <td className="chart-num">{formatNumber(d.count)}</td>
                    <td className="chart-num">{formatSeconds(d.mean_s)}</td>
                    <td className="chart-num">{formatSeconds(d.p50_s)}</td>
                    <td className="chart-num">{formatSeconds(d.p90_s)}</td>
                    <td className="chart-num">{formatSeconds(d.p95_s)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="muted small">Percentiles are merged from histograms and are within 5 %.</p>
          </div>
        ) : null}
      </Panel>

      <Panel title="SLA met rate" loading={care.loading} error={care.error} onRetry={() => void care.reload()}>
        {c ? (
          <BarChart
            chart="sla-met"
            title={`SLA met rate by target, ${scope.range.phrase}${where}`}
            description="Met / (met + breached). A reply after a breach counts as late, not as a second miss."
            items={c.sla.map((s) => ({
              key: s.metric,
              label: careLabel(s.metric),
              value: s.met_rate,
              detail: `${formatNumber(s.met)} met, ${formatNumber(s.breached)} breached, ${formatNumber(s.late)} late`,
            }))}
            format={(v) => formatPercent(v)}
            max={1}
            nameHeader="SLA target"
            valueHeader="Met rate"
            detailHeader="Outcomes"
            empty={c.sla.every((s) => s.met + s.breached === 0) ? "No SLA outcomes in this range yet." : undefined}
            actions={careCsv}
          />
        ) : null}
      </Panel>

      <Panel title="Backlog" loading={care.loading} error={care.error} onRetry={() => void care.reload()}>
        {c ? (
          <TimeSeriesChart
            chart="backlog"
            title={`Open cases at the end of each slot, ${scope.range.phrase}`}
            slots={slotsOf(c.points)}
            granularity={c.granularity}
            series={[{ key: "backlog", label: "Open cases", values: c.points.map((p) => p.backlog), aggregate: "level" }]}
            mode="area"
            yLabel="Open cases"
            empty={
              network
                ? "The backlog is counted for the whole brand only: choose All networks to see it."
                : c.points.every((p) => !p.backlog) && !c.opened && !c.resolved
                  ? "No cases in this range yet."
                  : undefined
            }
            actions={careCsv}
          />
        ) : null}
      </Panel>

      <Panel title="Resolution" loading={care.loading} error={care.error} onRetry={() => void care.reload()}>
        {c ? (
          <>
            <Kpis
              label="Case figures"
              items={[
                { label: "Resolution rate", value: formatPercent(c.resolution_rate) },
                { label: "Opened", value: formatNumber(c.opened), hint: c.reopened ? `${formatNumber(c.reopened)} reopened` : undefined },
                { label: "Resolved", value: formatNumber(c.resolved) },
                {
                  label: "Backlog",
                  value: formatNumber(c.backlog_end),
                  hint: c.backlog_start == null ? undefined : `from ${formatNumber(c.backlog_start)} at the start`,
                },
                {
                  label: "Review recovery",
                  value: formatPercent(c.reviews?.recovery_rate),
                  hint: c.reviews ? `${formatNumber(c.reviews.improved + c.reviews.deleted)} of ${formatNumber(c.reviews.improved + c.reviews.deleted + c.reviews.unchanged + c.reviews.worsened)} reviews` : undefined,
                },
                {
                  label: "Replies published",
                  value: formatNumber(c.replies_published),
                  hint: c.replies_failed ? `${formatNumber(c.replies_failed)} failed` : undefined,
                },
              ]}
            />
            <TimeSeriesChart
              chart="cases"
              title={`Cases opened and resolved ${per}`}
              slots={slotsOf(c.points)}
              granularity={c.granularity}
              series={[
                ...(network ? [] : [{ key: "opened", label: "Opened", values: c.points.map((p) => p.opened) }]),
                { key: "resolved", label: "Resolved", values: c.points.map((p) => p.resolved) },
              ]}
              yLabel="Cases"
              empty={!c.opened && !c.resolved ? "No cases opened or resolved in this range yet." : undefined}
              actions={careCsv}
            />
            {network ? <p className="muted small">On one network only resolved cases are counted; opened cases and the backlog are brand-wide.</p> : null}
          </>
        ) : null}
      </Panel>
    </div>
  );
}
