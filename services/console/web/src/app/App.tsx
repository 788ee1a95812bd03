// The signed-in shell: navigation, brand switcher, live status, and the pages (each loaded
// on first visit, so the first load carries only the shell and the inbox).
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { Navigate, NavLink, Route, Routes, useLocation } from "react-router-dom";
import { ErrorNotice, Loading } from "../components/ui";
import { timeZone } from "../lib/time";
import { LoginPage } from "../pages/login/LoginPage";
import { LiveProvider, useLiveStatus } from "./live";
import { useSession, type Permission } from "./session";

// Most sessions start in the inbox: when a session seems to exist (its readable CSRF
// cookie), the inbox chunk loads while /api/auth/me is answered rather than after it.
const signedIn = typeof document !== "undefined" && document.cookie.includes("smm_csrf=");
const inboxChunk = signedIn ? import("../pages/inbox/InboxPage") : null;
const InboxPage = lazy(() => inboxChunk ?? import("../pages/inbox/InboxPage"));
const CasePage = lazy(() => import("../pages/case/CasePage"));
const PublishingPage = lazy(() => import("../pages/publishing/PublishingPage"));
const AnalyticsPage = lazy(() => import("../pages/analytics/AnalyticsPage"));
const ContestsPage = lazy(() => import("../pages/contests/ContestsPage"));
const SettingsPage = lazy(() => import("../pages/settings/SettingsPage"));

const NAV: { to: string; label: string; needs: Permission }[] = [
  { to: "/inbox", label: "Inbox", needs: "mentions:read" },
  { to: "/publishing", label: "Publishing", needs: "content:read" },
  { to: "/analytics", label: "Analytics", needs: "analytics:read" },
  { to: "/contests", label: "Contests", needs: "content:read" },
  { to: "/settings", label: "Settings", needs: "mentions:read" },
];

export function App() {
  const { me, loading } = useSession();
  if (loading) return <Loading what="Opening the console" />;
  if (!me) return <LoginPage />;
  return <Shell />;
}

function Shell() {
  const { me, can, refresh } = useSession();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  // Move focus to the new page's heading so screen readers announce the page change.
  useEffect(() => {
    document.getElementById("page-title")?.focus();
  }, [location.pathname]);
  if (!me) return null;
  const start = NAV.find((n) => can(n.needs))?.to ?? "/settings";
  return (
    <LiveProvider brand={me.brand ?? ""} onSessionEnded={() => void refresh()}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="shell">
        <header className="topbar">
          <span className="logo" aria-hidden="true">
            ◆
          </span>
          <span className="product">SMM console</span>
          <BrandSwitcher />
          <span className="spacer" />
          <LiveIndicator />
          <span className="muted" title="Times are shown in this time zone (change it in Settings)">
            {timeZone()}
          </span>
          <UserMenu />
        </header>
        <nav className="sidenav" aria-label="Sections">
          <ul>
            {NAV.filter((n) => can(n.needs)).map((n) => (
              <li key={n.to}>
                <NavLink to={n.to}>{n.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={main} className="content">
          {!me.brand ? (
            <ErrorNotice error={new Error("No brand is selected: choose one in the brand list above.")} />
          ) : (
            <Suspense fallback={<Loading />}>
              <Routes>
                <Route path="/" element={<Navigate to={start} replace />} />
                <Route path="/inbox" element={<InboxPage />} />
                <Route path="/cases/:caseId" element={<CasePage />} />
                <Route path="/publishing/*" element={<PublishingPage />} />
                <Route path="/analytics/*" element={<AnalyticsPage />} />
                <Route path="/contests/*" element={<ContestsPage />} />
                <Route path="/settings/*" element={<SettingsPage />} />
                <Route path="*" element={<NotFound />} />
              </Routes>
            </Suspense>
          )}
        </main>
      </div>
    </LiveProvider>
  );
}

function NotFound() {
  return (
    <section>
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p>
        This address is not a page of the console. Use the sections on the left, or go to the{" "}
        <NavLink to="/">start page</NavLink>.
      </p>
    </section>
  );
}

function BrandSwitcher() {
  const { me, switchBrand } = useSession();
  const [error, setError] = useState<unknown>(null);
  if (!me) return null;
  const brands = me.brands.filter((b) => b !== "*");
  if (brands.length <= 1 && me.brand) {
    return <span className="brand" aria-label="Brand">{me.brand}</span>;
  }
  return (
    <span className="brand">
      <label htmlFor="brand-switch" className="sr-only">
        Brand
      </label>
      <select
        id="brand-switch"
        value={me.brand ?? ""}
        onChange={(e) => switchBrand(e.target.value).catch(setError)}
      >
        {!me.brand && <option value="">Choose a brand</option>}
        {brands.map((b) => (
          <option key={b} value={b}>
            {b}
          </option>
        ))}
      </select>
      {error ? <ErrorNotice error={error} /> : null}
    </span>
  );
}

function LiveIndicator() {
  const status = useLiveStatus();
  const text = { live: "Live", connecting: "Reconnecting…", offline: "Offline" }[status];
  return (
    <span className={`live live-${status}`} role="status" aria-live="polite" data-testid="live-status">
      <span className="dot" aria-hidden="true" /> {text}
    </span>
  );
}

function UserMenu() {
  const { me, signOut } = useSession();
  if (!me) return null;
  return (
    <span className="user">
      <span title={me.email}>{me.name}</span>{" "}
      <button type="button" className="link" onClick={() => void signOut()}>
        Sign out
      </button>
    </span>
  );
}
