// Contests: the list, "New contest", one contest (rules, steps, entries, certificate), its
// draft's edit form and a print-friendly certificate. Mounted at /contests/*.
import { Link, Route, Routes, useParams } from "react-router-dom";
import { ErrorNotice, Loading, PageHeader } from "../../components/ui";
import { CertificateView } from "./CertificateView";
import { ContestFormPage } from "./ContestForm";
import { ContestList } from "./ContestList";
import { contestName } from "./contests";
import { ContestView, useContestData } from "./ContestView";
import "./contests.css";

export default function ContestsPage() {
  return (
    <Routes>
      <Route index element={<ContestList />} />
      <Route path="new" element={<ContestFormPage />} />
      <Route path=":id" element={<ContestView />} />
      <Route path=":id/edit" element={<ContestFormPage />} />
      <Route path=":id/certificate" element={<CertificatePrint />} />
      <Route path="*" element={<NoSuchPage />} />
    </Routes>
  );
}

/** The certificate alone, laid out for paper (the console's frame is not printed). */
function CertificatePrint() {
  const { id = "" } = useParams();
  const { contest, entries, certificate } = useContestData(id);
  const error = contest.error ?? certificate.error;
  return (
    <div className="contests contests-print">
      <PageHeader title={contest.data ? `Certificate: ${contestName(contest.data)}` : "Certificate"}>
        <Link to={`/contests/${id}`} className="contests-noprint">
          Back to the contest
        </Link>
      </PageHeader>
      {error ? (
        <ErrorNotice
          error={error}
          onRetry={() => {
            void contest.reload();
            void certificate.reload();
          }}
        />
      ) : null}
      {contest.data && !["drawn", "announced"].includes(contest.data.status) ? (
        <p>The winners of this contest are not drawn yet: its certificate exists from the draw on.</p>
      ) : contest.data && certificate.data ? (
        <CertificateView contest={contest.data} certificate={certificate.data} entries={entries.data?.items ?? []} printView />
      ) : error ? null : (
        <Loading what="Loading the certificate" />
      )}
    </div>
  );
}

function NoSuchPage() {
  return (
    <section className="contests">
      <PageHeader title="Page not found" />
      <p>
        This address is not a contests page. Go to <Link to="/contests">all contests</Link>.
      </p>
    </section>
  );
}
