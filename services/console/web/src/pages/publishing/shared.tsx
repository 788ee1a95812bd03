// Pieces the publishing views share: network tags, status badges, the post preview, the
// approval trail with comments, the reschedule dialog, and live refresh.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { ApiProblem, ok, publisher } from "../../api/client";
import { useLive, type LiveMessage } from "../../app/live";
import { useBrand, useSession } from "../../app/session";
import { Dialog } from "../../components/Dialog";
import { Badge, ErrorNotice, Field, useAction, useResource } from "../../components/ui";
import { NETWORK_NAMES, isNetwork, networkName, type Network } from "../../lib/networks";
import { formatDateTime } from "../../lib/time";
import { fromLocalInput, toLocalInput } from "../../lib/zoned";
import {
  AUDIT_WORDS,
  STATUS_TONE,
  STATUS_WORDS,
  auditDetail,
  publishAt,
  type Account,
  type Content,
  type ContentStatus,
} from "./content";
import { NETWORK_SHORT, lengthInfo, postText, segments, type VariantFields } from "./networks";

/** The network's short text in place of an icon; `decorative` when its name is written next to it. */
export function NetworkTag({ network, decorative = false }: { network: string; decorative?: boolean }) {
  const short = isNetwork(network) ? NETWORK_SHORT[network] : network.slice(0, 2).toUpperCase();
  if (decorative) {
    return (
      <span className={`pub-net pub-net-${network}`} aria-hidden="true">
        {short}
      </span>
    );
  }
  return (
    <abbr className={`pub-net pub-net-${network}`} title={networkName(network)}>
      <span aria-hidden="true">{short}</span>
      <span className="sr-only">{networkName(network)}</span>
    </abbr>
  );
}

export function NetworkTags({ networks }: { networks: string[] }) {
  return (
    <span className="pub-nets">
      {networks.map((n) => (
        <NetworkTag key={n} network={n} />
      ))}
    </span>
  );
}

export function StatusBadge({ status }: { status: ContentStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{STATUS_WORDS[status]}</Badge>;
}

/** A polite live region for the outcome of actions ("Approved “Launch”"). */
export function Announcement({ text }: { text: string }) {
  return (
    <p className="pub-announce" role="status" aria-live="polite">
      {text}
    </p>
  );
}

/** The brand's publishing accounts (the composer and the previews name them). */
export function useAccounts() {
  const brand = useBrand();
  return useResource(() => ok(publisher.GET("/v1/accounts", { params: { query: { brand_id: brand } } })), [brand]);
}

/** The brand's approval workflows. */
export function useWorkflows() {
  const brand = useBrand();
  return useResource(() => ok(publisher.GET("/v1/workflows", { params: { query: { brand_id: brand } } })), [brand]);
}

/**
 * Call `reload` when a post event (or a reset) arrives; bursts (one publish makes several
 * events) are folded into one reload a moment later.
 */
export function useLiveReload(reload: () => void, filter?: (m: LiveMessage) => boolean): void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const current = useRef(reload);
  current.current = reload;
  useLive(["post"], (m) => {
    if (m !== "reset" && filter && !filter(m)) return;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => current.current(), 250);
  });
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
}

/** The accounts of `network` among `targets` (the authors a preview shows). */
export function authorsOn(network: string, targets: string[], accounts: Account[]): Account[] {
  const wanted = new Set(targets);
  return accounts.filter((a) => a.network === network && wanted.has(a.id));
}

/** How the post will look on one network: author, text with its breaks, links and tags, the cut. */
export function PostPreview({ network, fields, authors }: { network: Network; fields: VariantFields; authors: Account[] }) {
  const info = lengthInfo(network, fields);
  const text = postText(network, fields);
  const parts = segments(network, text, info.limit);
  const author = authors[0];
  const link = fields.link.trim();
  return (
    <article className={`pub-preview pub-preview-${network}`} aria-label={`Preview on ${NETWORK_NAMES[network]}`}>
      <header className="pub-preview-head">
        <NetworkTag network={network} />
        <strong>{author ? author.name : `Your ${NETWORK_NAMES[network]} account`}</strong>
        {authors.length > 1 && <span className="muted small"> and {authors.length - 1} more</span>}
      </header>
      {network === "reddit" && <p className="pub-preview-title">{fields.title.trim() || "(no headline yet)"}</p>}
      <p className="pub-preview-text">
        {parts.length === 0 && <span className="muted">(no text)</span>}
        {parts.map((p, i) => {
          const cls = `pub-seg-${p.kind}`;
          const inner = p.over ? (
            <mark className={`pub-over ${cls}`} title="Past the network's limit: this part will not fit">
              {p.text}
            </mark>
          ) : (
            <span className={cls}>{p.text}</span>
          );
          const startsOver = p.over && (i === 0 || !parts[i - 1]!.over);
          return (
            <span key={i}>
              {startsOver && <span className="sr-only">(over the limit from here:) </span>}
              {inner}
            </span>
          );
        })}
      </p>
      {fields.mediaUrls.length > 0 && (
        <p className="pub-preview-media">
          {fields.mediaUrls.length === 1 ? "1 image or video attached" : `${fields.mediaUrls.length} images or videos attached`}
        </p>
      )}
      {link && !text.includes(link) && (
        <p className="pub-preview-link">
          Link card: <span className="pub-seg-link">{link}</span>
        </p>
      )}
      <footer className={info.over ? "pub-counter pub-counter-over" : "pub-counter"}>
        {info.length} / {info.limit}
        {info.over ? ` — ${info.over} over the limit` : ""}
      </footer>
    </article>
  );
}

/** The approval trail: submissions, decisions, comments and moves, oldest first. */
export function AuditTrail({ content }: { content: Content }) {
  const audit = content.approval.audit;
  if (!audit.length) return <p className="muted small">No decisions or comments yet.</p>;
  return (
    <ol className="pub-audit">
      {audit.map((e, i) => {
        const detail = auditDetail(e, (ms) => formatDateTime(ms));
        return (
          <li key={i} className={`pub-audit-${e.action}`}>
            <span className="pub-audit-who">{e.user}</span> <span>{AUDIT_WORDS[e.action] ?? e.action}</span>
            {e.action === "rejected" && detail ? ": " : detail ? " — " : ""}
            {detail && <q className={e.action === "commented" || e.action === "rejected" ? "pub-audit-text" : ""}>{detail}</q>}{" "}
            <time className="muted small" dateTime={e.at}>
              {formatDateTime(e.at)}
            </time>
          </li>
        );
      })}
    </ol>
  );
}

/** Add a remark to the item's approval trail (needs content:write, as the API does). */
export function CommentBox({ content, onDone }: { content: Content; onDone: (updated: Content) => void }) {
  const brand = useBrand();
  const { can } = useSession();
  const [text, setText] = useState("");
  const action = useAction();
  if (!can("content:write")) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const out = await action.run(() =>
      ok(
        publisher.POST("/v1/content/{content_id}/comments", {
          params: { path: { content_id: content.id }, query: { brand_id: brand } },
          body: { text: text.trim() },
        }),
      ),
    );
    if (out) {
      setText("");
      onDone(out);
    }
  };
  return (
    <form className="pub-comment" onSubmit={submit}>
      <Field label="Comment">
        {(props) => <textarea {...props} rows={2} value={text} onChange={(e) => setText(e.target.value)} />}
      </Field>
      <ErrorNotice error={action.error} />
      <button type="submit" disabled={action.busy || !text.trim()}>
        Add comment
      </button>
    </form>
  );
}

/** Problems found before asking the API, in the same words-and-next-step shape. */
export function formProblem(message: string): ApiProblem {
  return new ApiProblem(422, "form.invalid", message, "Correct it and try again.");
}

/** Check a time chosen in the user's zone: a real, future time (the API refuses past ones). */
export function checkScheduleInput(value: string, zone: string, now = Date.now()): number {
  const parsed = fromLocalInput(value, zone);
  if (!parsed) throw formProblem("Choose a date and time in “Schedule at”.");
  if (!parsed.exists) throw formProblem(`That time does not exist in ${zone}: the clocks skip it. Choose another time.`);
  if (parsed.at <= now) throw formProblem("That time has passed; choose a time in the future.");
  return parsed.at;
}

/** POST /schedule: put the item on the calendar, or move it, at `at` (UTC) planned in `zone`. */
export function scheduleAt(brand: string, id: string, at: number, zone: string): Promise<Content> {
  return ok(
    publisher.POST("/v1/content/{content_id}/schedule", {
      params: { path: { content_id: id }, query: { brand_id: brand } },
      body: { at: new Date(at).toISOString(), time_zone: zone, now: false },
    }),
  );
}

/** The keyboard way to move a post: a date-time input in the user's zone. */
export function RescheduleDialog({
  content,
  zone,
  onClose,
  onMoved,
}: {
  content: Content;
  zone: string;
  onClose: () => void;
  onMoved: (updated: Content) => void;
}) {
  const brand = useBrand();
  const at = publishAt(content);
  const [value, setValue] = useState(() => (at === null ? "" : toLocalInput(at, zone)));
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const out = await action.run(async () => scheduleAt(brand, content.id, checkScheduleInput(value, zone), zone));
    if (out) onMoved(out);
  };
  return (
    <Dialog title={`Reschedule “${content.title}”`} onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Schedule at" hint={`In your time zone, ${zone}.`}>
          {(props) => (
            <input {...props} type="datetime-local" required value={value} onChange={(e) => setValue(e.target.value)} data-autofocus />
          )}
        </Field>
        <ErrorNotice error={action.error} />
        <div className="row">
          <button type="submit" className="primary" disabled={action.busy}>
            Schedule
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Keep a piece of text for the live region, cleared when the view changes. */
export function useAnnouncement(): [string, (text: string) => void] {
  const [text, setText] = useState("");
  const set = useCallback((t: string) => {
    // Clear first so the same words twice are announced twice.
    setText("");
    setTimeout(() => setText(t), 30);
  }, []);
  return [text, set];
}
