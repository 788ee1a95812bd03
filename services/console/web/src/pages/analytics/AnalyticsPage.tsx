// Analytics: listening, care, content and alerts of the current brand, over a chosen range
// and optionally one network. Tabs are sub-routes (/analytics, /analytics/care, ...); the
// filters live in the address (?range=30d&network=vk) so every tab and link keeps them.
import { useMemo } from "react";
import { Navigate, NavLink, Route, Routes, useSearchParams } from "react-router-dom";
import { useBrand } from "../../app/session";
import { PageHeader } from "../../components/ui";
import { NETWORKS, networkName } from "../../lib/networks";
import { timeZone } from "../../lib/time";
import { AlertsTab } from "./AlertsTab";
import "./analytics.css";
import { CareTab } from "./CareTab";
import { ContentTab } from "./ContentTab";
import { RANGES, rangeWindow, readFilters, withFilter } from "./filters";
import { OverviewTab } from "./OverviewTab";
import type { Scope } from "./parts";

const TABS = [
  { to: "/analytics", label: "Overview", end: true },
  { to: "/analytics/care", label: "Care", end: false },
  { to: "/analytics/content", label: "Content", end: false },
  { to: "/analytics/alerts", label: "Alerts", end: false },
];

export default function AnalyticsPage() {
  const brand = useBrand();
  const [search, setSearch] = useSearchParams();
  const { range, network } = readFilters(search);
  // The window moves on at each new hour (or day); within it the strings, and so the
  // queries, stay the same across renders.
  const period = rangeWindow(range, Date.now());
  const scope = useMemo<Scope>(
    () => ({ brand, range, network, window: period }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [brand, range, network, period.from, period.to],
  );
  const query = search.toString();
  const set = (name: "range" | "network", value: string) => setSearch(withFilter(search, name, value), { replace: true });

  return (
    <div className="analytics">
      <PageHeader title="Analytics">
        <div className="analytics-filters" role="group" aria-label="Filters">
          <div className="analytics-filter">
            <label htmlFor="analytics-range">Range</label>
            <select id="analytics-range" value={range.key} onChange={(e) => set("range", e.target.value)}>
              {RANGES.map((r) => (
                <option key={r.key} value={r.key}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          <div className="analytics-filter">
            <label htmlFor="analytics-network">Network</label>
            <select id="analytics-network" value={network ?? ""} onChange={(e) => set("network", e.target.value)}>
              <option value="">All networks</option>
              {NETWORKS.map((n) => (
                <option key={n} value={n}>
                  {networkName(n)}
                </option>
              ))}
            </select>
          </div>
        </div>
      </PageHeader>
      <p className="muted small analytics-zone">
        Times are shown in {timeZone()}; daily figures cover whole UTC days, as the analytics service stores them.
      </p>
      <nav className="tabs" aria-label="Analytics sections">
        {TABS.map((t) => (
          <NavLink key={t.to} to={{ pathname: t.to, search: query ? `?${query}` : "" }} end={t.end}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<OverviewTab scope={scope} />} />
        <Route path="care" element={<CareTab scope={scope} />} />
        <Route path="content" element={<ContentTab scope={scope} />} />
        <Route path="alerts" element={<AlertsTab scope={scope} />} />
        <Route path="*" element={<Navigate to={{ pathname: "/analytics", search: query ? `?${query}` : "" }} replace />} />
      </Routes>
    </div>
  );
}
