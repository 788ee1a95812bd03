// Trends and alerts: the brand's alert episodes, open ones first, with why they fired;
// people with alerts:manage acknowledge and resolve them. Live: every smm.alert.* event
// refetches its episode, so the list follows the detector without a reload.
import { useRef, useState } from "react";
import { analytics, ok } from "../../api/client";
import { useLive } from "../../app/live";
import { useSession } from "../../app/session";
import { formatNumber } from "../../components/charts";
import { Badge, Empty, ErrorNotice, useAction, useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { formatDateTime } from "../../lib/time";
import { alertHeadline, alertKindLabel, mergeAlerts, severityLabel, severityTone, sortAlerts, type Alert } from "./data";
import { Panel, type Scope } from "./parts";

interface AlertPage {
  items: Alert[];
  /** Cursor of the next page of closed episodes. */
  more: string | null;
}

export function AlertsTab({ scope }: { scope: Scope }) {
  const { brand, window: w, network } = scope;
  const { can } = useSession();
  const manage = can("alerts:manage");
  const [announcement, setAnnouncement] = useState("");
  const closedQuery = { brand_id: brand, status: "closed" as const, since: w.from, limit: 50 };
  const { data, error, loading, reload, setData } = useResource<AlertPage>(async () => {
    // Open episodes whenever they started; closed ones of the range, a page at a time.
    const [open, closed] = await Promise.all([
      ok(analytics.GET("/v1/alerts", { params: { query: { brand_id: brand, status: "open", limit: 200 } } })),
      ok(analytics.GET("/v1/alerts", { params: { query: closedQuery } })),
    ]);
    return { items: sortAlerts([...open.items, ...closed.items]), more: closed.next_cursor ?? null };
  }, [brand, w.from]);
  const older = useAction();

  const merge = (fresh: Alert[]) => setData((d) => (d ? { ...d, items: mergeAlerts(d.items, fresh) } : d));

  useLive(["alert"], (m) => {
    if (m === "reset") {
      void reload();
      return;
    }
    const id = typeof m.data.episode_id === "string" ? m.data.episode_id : null;
    if (!id) {
      void reload();
      return;
    }
    ok(analytics.GET("/v1/alerts/{episode_id}", { params: { path: { episode_id: id }, query: { brand_id: brand } } }))
      .then((a) => {
        merge([a]);
        if (m.type === "smm.alert.opened") {
          setAnnouncement(`New alert: ${alertHeadline(a)}, severity ${severityLabel(a.severity).toLowerCase()}.`);
        }
      })
      .catch(() => void reload());
  });

  const loadOlder = () =>
    void older.run(async () => {
      if (!data?.more) return;
      const page = await ok(analytics.GET("/v1/alerts", { params: { query: { ...closedQuery, cursor: data.more } } }));
      setData((d) => (d ? { items: mergeAlerts(d.items, page.items), more: page.next_cursor ?? null } : d));
    });

  const shown = (data?.items ?? []).filter((a) => !network || a.networks.includes(network));
  const openCount = shown.filter((a) => a.status === "open").length;
  const note = [
    "Open alerts are listed whenever they started; closed ones if they started in the range.",
    network ? `Only alerts involving ${networkName(network)}.` : "",
  ]
    .filter(Boolean)
    .join(" ");

  return (
    <div className="analytics-alerts">
      <p role="status" aria-live="polite" className="sr-only">
        {announcement}
      </p>
      <Panel title="Alerts" wide loading={loading} error={error} onRetry={() => void reload()} note={note}>
        {data ? (
          <>
            <p className="analytics-alert-count" data-testid="alert-count">
              {formatNumber(openCount)} open, {formatNumber(shown.length - openCount)} closed
            </p>
            {!manage ? (
              <p className="muted small">Your role can read alerts but not acknowledge or resolve them (it needs “alerts:manage”).</p>
            ) : null}
            {shown.length === 0 ? (
              <Empty>No alerts in this range: nothing unusual was detected{network ? ` on ${networkName(network)}` : ""}.</Empty>
            ) : (
              <ul className="analytics-alert-list">
                {shown.map((a) => (
                  <li key={a.id}>
                    <AlertCard alert={a} brand={brand} manage={manage} onChanged={(x, said) => (merge([x]), setAnnouncement(said))} />
                  </li>
                ))}
              </ul>
            )}
            {data.more ? (
              <button type="button" onClick={loadOlder} disabled={older.busy}>
                Show older closed alerts
              </button>
            ) : null}
            {older.error ? <ErrorNotice error={older.error} onRetry={loadOlder} /> : null}
          </>
        ) : null}
      </Panel>
    </div>
  );
}

function AlertCard({
  alert: a,
  brand,
  manage,
  onChanged,
}: {
  alert: Alert;
  brand: string;
  manage: boolean;
  onChanged: (alert: Alert, announcement: string) => void;
}) {
  const action = useAction();
  const resolveButton = useRef<HTMLButtonElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const open = a.status === "open";
  const headingId = `alert-${a.id}-title`;
  const act = (verb: "acknowledge" | "resolve") =>
    void action.run(async () => {
      const params = { params: { path: { episode_id: a.id }, query: { brand_id: brand } } };
      const updated =
        verb === "acknowledge"
          ? await ok(analytics.POST("/v1/alerts/{episode_id}/acknowledge", params))
          : await ok(analytics.POST("/v1/alerts/{episode_id}/resolve", params));
      onChanged(updated, `${alertHeadline(updated)} ${verb === "acknowledge" ? "acknowledged" : "resolved"}.`);
      // The pressed button goes away; keep the keyboard focus in the card.
      requestAnimationFrame(() => (resolveButton.current ?? heading.current)?.focus());
    });
  return (
    <article
      className={`analytics-alert analytics-alert-${a.status} analytics-alert-${a.peak_severity}`}
      aria-labelledby={headingId}
      data-testid="alert-row"
      data-alert-id={a.id}
      data-status={a.status}
    >
      <header className="analytics-alert-head">
        <h3 id={headingId} ref={heading} tabIndex={-1}>
          {alertHeadline(a)}
        </h3>
        <Badge tone={open ? "warning" : "neutral"}>{open ? "Open" : a.close_reason === "resolved" ? "Resolved" : "Closed"}</Badge>
        <Badge tone={severityTone(a.severity)}>Severity: {severityLabel(a.severity)}</Badge>
        {a.peak_severity !== a.severity ? <Badge tone={severityTone(a.peak_severity)}>Peak: {severityLabel(a.peak_severity)}</Badge> : null}
        {a.acknowledged_at ? <Badge tone="info">Acknowledged</Badge> : null}
      </header>
      <p className="analytics-alert-figures">
        {formatNumber(a.observed)} {a.kind === "negative_spike" ? "negative mentions" : "mentions"} in the latest hour
        against {formatNumber(a.expected, 1)} expected ({formatNumber(a.ratio, 1)}×)
        {a.p_value != null ? `, p = ${a.p_value.toExponential(1)}` : ""}; detected in {formatNumber(a.detections)}{" "}
        {a.detections === 1 ? "hour" : "hours"}, peak {formatNumber(a.peak_observed)}.
      </p>
      <dl className="analytics-alert-facts">
        <div>
          <dt>Kind</dt>
          <dd>{alertKindLabel(a.kind)}</dd>
        </div>
        <div>
          <dt>Opened</dt>
          <dd>{formatDateTime(a.opened_at)}</dd>
        </div>
        <div>
          <dt>Last detected</dt>
          <dd>{formatDateTime(a.last_detected_at)}</dd>
        </div>
        {a.acknowledged_at ? (
          <div>
            <dt>Acknowledged</dt>
            <dd>
              {formatDateTime(a.acknowledged_at)}
              {a.acknowledged_by ? ` by ${a.acknowledged_by}` : ""}
            </dd>
          </div>
        ) : null}
        {a.closed_at ? (
          <div>
            <dt>{a.close_reason === "resolved" ? "Resolved" : "Closed (quiet for 2 hours)"}</dt>
            <dd>
              {formatDateTime(a.closed_at)}
              {a.resolved_by ? ` by ${a.resolved_by}` : ""}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Networks</dt>
          <dd>{a.networks.length ? a.networks.map(networkName).join(", ") : "–"}</dd>
        </div>
      </dl>
      {a.top_terms.length > 0 ? (
        <div className="analytics-alert-terms">
          <h4>Top terms of the latest hour</h4>
          <ul>
            {a.top_terms.map((t) => (
              <li key={t.term}>
                {t.term} <span className="muted">({formatNumber(t.count)})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {a.sample_mention_ids.length > 0 ? (
        <details className="analytics-alert-samples">
          <summary>Sample mentions ({formatNumber(a.sample_mention_ids.length)})</summary>
          <ul>
            {a.sample_mention_ids.map((id) => (
              <li key={id}>
                <code>{id}</code>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {open && manage ? (
        <div className="row analytics-alert-actions">
          {!a.acknowledged_at ? (
            <button type="button" onClick={() => act("acknowledge")} disabled={action.busy}>
              Acknowledge
            </button>
          ) : null}
          <button type="button" className="primary" ref={resolveButton} onClick={() => act("resolve")} disabled={action.busy}>
            Resolve
          </button>
        </div>
      ) : null}
      {action.error ? <ErrorNotice error={action.error} /> : null}
    </article>
  );
}
