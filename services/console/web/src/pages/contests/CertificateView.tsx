// The draw's certificate in full: winners, seed, commitment, entry list and its digest, the
// algorithm, how anyone checks it step by step, recomputed in this browser, downloadable.
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { Badge } from "../../components/ui";
import { networkName } from "../../lib/networks";
import {
  certificateDocument,
  certificateFileName,
  checkCertificate,
  howToVerify,
  PYTHON_CHECK,
  type CheckResult,
} from "./certificate";
import {
  authorOfKey,
  contestName,
  formatFullDateTime,
  ordinal,
  type Certificate,
  type Contest,
  type Entry,
} from "./contests";

type Check = { state: "checking" } | { state: "unavailable" } | { state: "done"; results: CheckResult[] };

export function CertificateView({ contest, certificate, entries, printView = false }: {
  contest: Contest;
  certificate: Certificate;
  entries: readonly Entry[];
  printView?: boolean;
}) {
  const [check, setCheck] = useState<Check>({ state: "checking" });
  const [downloaded, setDownloaded] = useState("");
  useEffect(() => {
    let live = true;
    setCheck({ state: "checking" });
    checkCertificate(certificate, contest.commitment)
      .then((results) => live && setCheck(results ? { state: "done", results } : { state: "unavailable" }))
      .catch(() => live && setCheck({ state: "unavailable" }));
    return () => {
      live = false;
    };
  }, [certificate, contest.commitment]);

  const download = () => {
    const doc = certificateDocument(certificate, contest);
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = certificateFileName(contest.id);
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setDownloaded(`Downloaded ${link.download}.`);
  };

  const results = check.state === "done" ? check.results : [];
  const failed = results.filter((r) => !r.ok);
  const steps = howToVerify(certificate, contest);
  const n = certificate.entries.length;

  return (
    <section aria-label="Certificate" className="card contests-certificate">
      <h2>Certificate of the draw</h2>
      <p>
        “{contestName(contest)}”, on {networkName(contest.network)} post{" "}
        <span className="contests-mono">{contest.post_native_id}</span>, drawn {formatFullDateTime(certificate.drawn_at)}.
      </p>
      <div className="row" role="status" aria-live="polite">
        {certificate.verified ? (
          <Badge tone="ok">✓ Verified by the publisher</Badge>
        ) : (
          <Badge tone="danger">✗ The publisher says it does not verify</Badge>
        )}
        {check.state === "checking" && <span className="muted">Checking it again in this browser…</span>}
        {check.state === "unavailable" && (
          <span className="muted">
            This browser cannot recompute it here (it needs a secure connection); the steps below let anyone do it.
          </span>
        )}
        {check.state === "done" &&
          (failed.length === 0 ? (
            <Badge tone="ok">✓ Recomputed in this browser: all {results.length} checks pass</Badge>
          ) : (
            <Badge tone="danger">
              ✗ Recomputed in this browser: {failed.length} of {results.length} checks fail
            </Badge>
          ))}
      </div>

      <h3>Winners, in prize order</h3>
      {certificate.winners.length === 0 ? (
        <p>No winners: no entry counted.</p>
      ) : (
        <ol className="contests-winners" aria-label="Winners">
          {certificate.winners.map((key, i) => (
            <li key={`${i}-${key}`} data-testid="winner" data-author-key={key}>
              <strong>{ordinal(i + 1)} prize:</strong> {authorOfKey(key, entries)}{" "}
              <span className="muted contests-mono">({key})</span>
            </li>
          ))}
        </ol>
      )}
      {n < certificate.winner_count && (
        <p className="muted">
          {certificate.winner_count} prizes but {n} {n === 1 ? "entry" : "entries"} counted: everyone eligible wins.
        </p>
      )}

      <h3>What the certificate states</h3>
      <dl className="contests-facts">
        <dt>Method</dt>
        <dd>
          {certificate.algorithm} version {certificate.algorithm_version} (SHA-256 and HMAC-SHA256)
        </dd>
        <dt>Entries in the draw</dt>
        <dd>
          {n.toLocaleString()} (one per author, those that counted)
        </dd>
        <dt>Prizes</dt>
        <dd>{certificate.winner_count}</dd>
        <dt>Drawn</dt>
        <dd>{formatFullDateTime(certificate.drawn_at)}</dd>
        <dt>Commitment</dt>
        <dd>
          <code className="contests-hash">{certificate.commitment}</code>
          <div className="muted small">
            SHA-256 of the seed, published when the contest opened
            {contest.opened_at ? ` (${formatFullDateTime(contest.opened_at)})` : ""}
            {contest.commitment && contest.commitment !== certificate.commitment
              ? `; the contest shows ${contest.commitment}, a different value`
              : ""}
            .
          </div>
        </dd>
        <dt>Seed</dt>
        <dd>
          <code className="contests-hash">{certificate.seed}</code>
          <div className="muted small">The secret random seed (32 bytes, in hex), revealed at the draw.</div>
        </dd>
        <dt>Entry list digest</dt>
        <dd>
          <code className="contests-hash">{certificate.entry_list_digest}</code>
          <div className="muted small">SHA-256 of the entry list, one entry per line.</div>
        </dd>
        <dt>Contest id</dt>
        <dd className="contests-mono">{certificate.contest_id}</dd>
      </dl>

      <details open={printView}>
        <summary>All {n.toLocaleString()} entries in the draw</summary>
        {n === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ol className="contests-mono contests-entry-keys">
            {certificate.entries.map((key, i) => (
              <li key={`${i}-${key}`}>{key}</li>
            ))}
          </ol>
        )}
      </details>

      <h3>How to check it, step by step</h3>
      <ol className="contests-verify">
        {steps.map((step) => {
          const result = results.find((r) => r.id === step.id);
          return (
            <li key={step.id} data-testid="verify-step" data-step={step.id}>
              <strong>{step.title}.</strong> {step.text}
              {result && (
                <div className={result.ok ? "contests-pass" : "contests-fail"}>
                  {result.ok ? "✓ Checked in this browser: " : "✗ Does not hold: "}
                  {result.detail}
                </div>
              )}
            </li>
          );
        })}
      </ol>
      <details open={printView}>
        <summary>Check it yourself with a short Python script</summary>
        <p className="muted small">
          Save the downloaded certificate and this script, then run <code>python check.py certificate.json</code>. It
          uses only Python's standard library.
        </p>
        <pre className="contests-code">{PYTHON_CHECK}</pre>
      </details>

      <div className="row contests-noprint">
        <button type="button" onClick={download}>
          Download certificate
        </button>
        {printView ? (
          <button type="button" onClick={() => window.print()}>
            Print
          </button>
        ) : (
          <Link to={`/contests/${contest.id}/certificate`}>Print-friendly view</Link>
        )}
        <span role="status" className="muted small">
          {downloaded}
        </span>
      </div>
    </section>
  );
}
