// Publishing: the calendar, drafts, the approval queue, failed posts and the composer,
// mounted at /publishing/* (sub-views are nested routes, so each has its own address).
import { NavLink, Route, Routes, useNavigate } from "react-router-dom";
import { useSession } from "../../app/session";
import { PageHeader } from "../../components/ui";
import { ApprovalQueue } from "./ApprovalQueue";
import { CalendarView } from "./CalendarView";
import { Composer } from "./Composer";
import { DraftsList } from "./DraftsList";
import { FailedPosts } from "./FailedPosts";
import "./publishing.css";

export default function PublishingPage() {
  const { can } = useSession();
  const navigate = useNavigate();
  return (
    <section className="pub">
      <PageHeader title="Publishing">
        {can("content:write") && (
          <button type="button" className="primary" onClick={() => navigate("/publishing/new")}>
            New post
          </button>
        )}
      </PageHeader>
      <nav className="tabs" aria-label="Publishing views">
        <NavLink to="/publishing" end>
          Calendar
        </NavLink>
        <NavLink to="/publishing/drafts">Drafts</NavLink>
        <NavLink to="/publishing/approvals">Approvals</NavLink>
        <NavLink to="/publishing/failed">Failed</NavLink>
      </nav>
      <Routes>
        <Route index element={<CalendarView />} />
        <Route path="calendar" element={<CalendarView />} />
        <Route path="drafts" element={<DraftsList />} />
        <Route path="approvals" element={<ApprovalQueue />} />
        <Route path="failed" element={<FailedPosts />} />
        {/* "new" and an item's id share one route, so the composer keeps its state when a new
            draft gets its address. */}
        <Route path=":id" element={<Composer />} />
      </Routes>
    </section>
  );
}
