// Pieces every analytics tab uses: the shared query context, panels, figures in words
// (KPIs), and the "Download CSV" button.
import { useId, type ReactNode } from "react";
import { problemOf } from "../../api/client";
import { ErrorNotice, Loading, useAction } from "../../components/ui";
import type { Network } from "../../lib/networks";
import { attachmentName } from "./data";
import type { RangeOption, Window } from "./filters";

/** What every tab's queries share: the brand, the chosen range and its window, the network. */
export interface Scope {
  brand: string;
  range: RangeOption;
  window: Window;
  network: Network | null;
}

/** A titled part of a tab (an <h2> section), with its loading and error states. */
export function Panel({
  title,
  id,
  loading,
  error,
  onRetry,
  note,
  wide,
  children,
}: {
  title: string;
  id?: string;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  /** A line under the title (what the panel counts, what it ignores). */
  note?: ReactNode;
  /** Spans the whole width of the grid. */
  wide?: boolean;
  children?: ReactNode;
}) {
  const headingId = useId();
  return (
    <section
      className={`card analytics-panel${wide ? " analytics-panel-wide" : ""}`}
      aria-labelledby={headingId}
      id={id}
      aria-busy={loading || undefined}
    >
      <h2 id={headingId}>{title}</h2>
      {note ? <p className="muted small analytics-note">{note}</p> : null}
      {error ? <ErrorNotice error={error} onRetry={onRetry} /> : null}
      {/* While a new range loads, the previous figures stay in view under this line. */}
      {loading && !error ? <Loading what={`Loading ${title.toLowerCase()}`} /> : null}
      {!error ? children : null}
    </section>
  );
}

export interface Kpi {
  label: string;
  value: string;
  hint?: string;
  testId?: string;
}

/** Headline figures as a description list: the label, the number, a hint in words. */
export function Kpis({ items, label }: { items: Kpi[]; label: string }) {
  return (
    <dl className="analytics-kpis" aria-label={label}>
      {items.map((k) => (
        <div key={k.label} className="analytics-kpi" data-testid={k.testId}>
          <dt>{k.label}</dt>
          <dd>
            <span className="analytics-kpi-value">{k.value}</span>
            {k.hint ? <span className="analytics-kpi-hint">{k.hint}</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * "Download CSV": asks the API for the panel's rows as CSV (through the console backend,
 * with the session cookie) and saves the file under the name the API gives. Fetching
 * first, rather than following a link, lets an error show in words on the page instead of
 * a JSON file landing in the downloads.
 */
export function DownloadCsv({ url, fallbackName, what }: { url: string; fallbackName: string; what: string }) {
  const { busy, error, run } = useAction();
  const hint = useId();
  return (
    <>
      <button
        type="button"
        className="analytics-csv"
        data-csv-url={url}
        aria-describedby={hint}
        disabled={busy}
        aria-busy={busy || undefined}
        onClick={() =>
          void run(async () => {
            let answer: Response;
            try {
              answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/csv" } });
            } catch {
              throw problemOf(0, null);
            }
            if (!answer.ok) {
              const body: unknown = await answer.json().catch(() => null);
              throw problemOf(answer.status, body);
            }
            const blob = await answer.blob();
            const href = URL.createObjectURL(blob);
            const link = document.createElement("a");
            link.href = href;
            link.download = attachmentName(answer.headers.get("content-disposition"), fallbackName);
            document.body.append(link);
            link.click();
            link.remove();
            // The browser has taken the file once the click returns; free the memory soon after.
            setTimeout(() => URL.revokeObjectURL(href), 30_000);
          })
        }
      >
        Download CSV
      </button>
      <span id={hint} className="sr-only">
        {what}
      </span>
      {error ? <ErrorNotice error={error} /> : null}
    </>
  );
}
