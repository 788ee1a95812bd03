// Settings: one sub-page per section (/settings/<section>), listed on the side.
import { Navigate, NavLink, Route, Routes } from "react-router-dom";
import { useSession } from "../../app/session";
import { PageHeader } from "../../components/ui";
import { AgentsSection } from "./AgentsSection";
import { ConnectorsSection, KeywordRulesSection } from "./IngestSections";
import { LookupsProvider } from "./lookups";
import { MyAccountSection } from "./MyAccountSection";
import { AccountsSection, WorkflowsSection } from "./PublisherSections";
import {
  BrandConfigSection,
  CalendarsSection,
  CannedResponsesSection,
  DepartmentsSection,
  EscalationRulesSection,
  RoutingRulesSection,
  SlaPoliciesSection,
} from "./ResponderSections";
import { UsersSection } from "./UsersSection";
import "./settings.css";

interface SectionLink {
  path: string;
  label: string;
  element: React.ReactNode;
}

const GROUPS: { title: string; links: SectionLink[] }[] = [
  {
    title: "Listening",
    links: [
      { path: "connectors", label: "Connectors", element: <ConnectorsSection /> },
      { path: "keyword-rules", label: "Keyword rules", element: <KeywordRulesSection /> },
    ],
  },
  {
    title: "Cases",
    links: [
      { path: "routing-rules", label: "Routing rules", element: <RoutingRulesSection /> },
      { path: "sla-policies", label: "SLA policies", element: <SlaPoliciesSection /> },
      { path: "business-hours", label: "Business hours", element: <CalendarsSection /> },
      { path: "departments", label: "Departments", element: <DepartmentsSection /> },
      { path: "escalation-rules", label: "Escalation rules", element: <EscalationRulesSection /> },
      { path: "canned-responses", label: "Canned responses", element: <CannedResponsesSection /> },
      { path: "brand", label: "Brand configuration", element: <BrandConfigSection /> },
    ],
  },
  {
    title: "Team",
    links: [
      { path: "agents", label: "Agents", element: <AgentsSection /> },
      { path: "users", label: "Users", element: <UsersSection /> },
    ],
  },
  {
    title: "Publishing",
    links: [
      { path: "accounts", label: "Accounts", element: <AccountsSection /> },
      { path: "workflows", label: "Approval workflows", element: <WorkflowsSection /> },
    ],
  },
  {
    title: "You",
    links: [{ path: "my-account", label: "My account", element: <MyAccountSection /> }],
  },
];

// Absolute targets: inside a splat route (/settings/*) relative links would resolve against
// the current section's URL (react-router 7), not against /settings.
const BASE = "/settings";

export default function SettingsPage() {
  const { can } = useSession();
  const start = `${BASE}/${can("settings:write") ? "connectors" : "routing-rules"}`;
  return (
    <div className="settings-page">
      <PageHeader title="Settings" />
      <div className="settings-layout">
        <nav className="settings-nav" aria-label="Settings sections">
          {GROUPS.map((group) => (
            <div key={group.title} className="settings-nav-group">
              <p className="settings-nav-title" aria-hidden="true">
                {group.title}
              </p>
              <ul aria-label={group.title}>
                {group.links.map((link) => (
                  <li key={link.path}>
                    <NavLink to={`${BASE}/${link.path}`}>{link.label}</NavLink>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <div className="settings-main">
          <LookupsProvider>
            <Routes>
              <Route index element={<Navigate to={start} replace />} />
              {GROUPS.flatMap((g) => g.links).map((link) => (
                <Route key={link.path} path={link.path} element={link.element} />
              ))}
              <Route path="*" element={<Navigate to={start} replace />} />
            </Routes>
          </LookupsProvider>
        </div>
      </div>
    </div>
  );
}
