// The conversation and the case's history as one ordered list, newest at the bottom.
import { useId, useState } from "react";
import { responder, ok } from "../../api/client";
import { Badge, ErrorNotice, useAction } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { formatDateTime } from "../../lib/time";
import type { CaseDetail } from "./api";
import { authorLabel } from "./CaseHeader";
import {
  describeEntry,
  replyStatus,
  stepWords,
  type EventItem,
  type MentionItem,
  type ReplyItem,
  type TimelineItem,
} from "./timeline";

export interface TimelineProps {
  kase: CaseDetail;
  items: TimelineItem[];
  name: (ref: string) => string;
  department: (id: string) => string;
  /** May approve or reject replies waiting for approval (SMM managers and admins). */
  canDecide: boolean;
  onCase: (kase: CaseDetail) => void;
}

function When({ at }: { at: number }) {
  if (!at) return null;
  const iso = new Date(at).toISOString();
  return (
    <time className="case-when" dateTime={iso}>
      {formatDateTime(at)}
    </time>
  );
}

function External({ href, children }: { href: string; children: string }) {
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
      <span className="sr-only"> (opens in a new tab)</span>
    </a>
  );
}

export function CaseTimeline({ kase, items, name, department, canDecide, onCase }: TimelineProps) {
  if (!items.length) return <p className="empty">Nothing has happened on this case yet.</p>;
  return (
    <ol aria-label="Timeline" className="case-timeline">
      {items.map((item) => {
        switch (item.kind) {
          case "mention":
            return <MentionRow key={item.key} item={item} kase={kase} />;
          case "reply":
            return <ReplyRow key={item.key} item={item} kase={kase} name={name} canDecide={canDecide} onCase={onCase} />;
          default:
            return <EventRow key={item.key} item={item} name={name} department={department} />;
        }
      })}
    </ol>
  );
}

function MentionRow({ item, kase }: { item: MentionItem; kase: CaseDetail }) {
  const m = item.mention;
  const author = m ? authorLabel(m.author as CaseDetail["author"]) : authorLabel(kase.author);
  const text = m?.text ?? item.fallbackText;
  return (
    <li className="case-item case-item-mention" data-testid="timeline-item" data-kind="mention" data-mention-id={item.mentionId}>
      <div className="case-item-head">
        <strong>{author} wrote</strong> <When at={item.at} />
        {item.deleted && <Badge tone="warning">Deleted on the network</Badge>}
        {m?.edited_at && <span className="muted small">edited</span>}
        {m?.url && (
          <span className="case-item-link">
            <External href={m.url}>{`Open the original on ${networkName(m.network)}`}</External>
          </span>
        )}
      </div>
      {text ? (
        <p className="case-item-text">{text}</p>
      ) : (
        <p className="case-item-text muted">{m === null ? "Loading the message…" : "(no text)"}</p>
      )}
      {m && m.attachments.length > 0 && (
        <ul className="case-attachments">
          {m.attachments.map((a, i) => (
            <li key={i}>
              <External href={a.url}>{`Attachment ${i + 1} (${a.kind})`}</External>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function ReplyRow({ item, kase, name, canDecide, onCase }: {
  item: ReplyItem;
  kase: CaseDetail;
  name: (ref: string) => string;
  canDecide: boolean;
  onCase: (kase: CaseDetail) => void;
}) {
  const { reply } = item;
  const status = replyStatus(reply);
  const steps = item.steps.filter((s) => s.kind !== "delivered" && s.kind !== "failed");
  return (
    <li
      className={`case-item case-item-reply case-reply-${reply.state}`}
      data-testid="timeline-item"
      data-kind="reply"
      data-reply-id={reply.id}
      data-state={reply.state}
    >
      <div className="case-item-head">
        <strong>
          {reply.automatic ? "Automatic acknowledgement" : `${capitalise(name(reply.by))} answered`}
        </strong>{" "}
        <When at={item.at} />
      </div>
      <p className="case-item-text">{reply.text}</p>
      <p className="case-reply-state">
        <Badge tone={status.tone}>{status.word}</Badge>
        {reply.state === "published" && item.deliveredAt !== null && (
          <>
            {" "}
            <When at={item.deliveredAt} />
          </>
        )}
        {status.detail && <span className="case-reply-why"> {status.detail}</span>}
        {item.url && (
          <span className="case-item-link">
            {" "}
            <External href={item.url}>{`View on ${networkName(kase.network)}`}</External>
          </span>
        )}
      </p>
      {steps.length > 0 && (
        <ul className="case-steps">
          {steps.map((s, i) => (
            <li key={i}>
              {stepWords(s, name)} <When at={s.at} />
            </li>
          ))}
        </ul>
      )}
      {reply.state === "pending_approval" &&
        (canDecide ? (
          <Decision kase={kase} replyId={reply.id} onCase={onCase} />
        ) : (
          <p className="muted small">An SMM manager approves or rejects it before it is posted.</p>
        ))}
    </li>
  );
}

function capitalise(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function Decision({ kase, replyId, onCase }: { kase: CaseDetail; replyId: string; onCase: (kase: CaseDetail) => void }) {
  const id = useId();
  const [reason, setReason] = useState("");
  const action = useAction();
  const decide = (verdict: "approve" | "reject") =>
    void action.run(async () => {
      const params = { path: { case_id: kase.id, reply_id: replyId } };
      const body = { reason: reason.trim() };
      const out = await ok(
        verdict === "approve"
          ? responder.POST("/v1/cases/{case_id}/replies/{reply_id}/approve", { params, body })
          : responder.POST("/v1/cases/{case_id}/replies/{reply_id}/reject", { params, body }),
      );
      onCase(out);
    });
  return (
    <div className="case-decision">
      <div className="field">
        <label htmlFor={id}>Rejection reason</label>
        <input
          id={id}
          value={reason}
          maxLength={1000}
          onChange={(e) => setReason(e.target.value)}
          aria-describedby={`${id}-hint`}
        />
        <small id={`${id}-hint`} className="muted">
          Tell the agent what to change (also kept with an approval).
        </small>
      </div>
      <div className="row">
        <button type="button" className="primary" disabled={action.busy} onClick={() => decide("approve")}>
          Approve
        </button>
        <button type="button" className="danger" disabled={action.busy} onClick={() => decide("reject")}>
          Reject
        </button>
      </div>
      <ErrorNotice error={action.error} />
    </div>
  );
}

function EventRow({ item, name, department }: { item: EventItem; name: (ref: string) => string; department: (id: string) => string }) {
  const { entry } = item;
  const words = describeEntry(entry, name, department);
  return (
    <li
      className={`case-item case-item-event case-tone-${words.tone}`}
      data-testid="timeline-item"
      data-kind="event"
      data-type={entry.type}
    >
      <div className="case-item-head">
        <strong>{words.title}</strong> <span className="muted small">by {name(entry.actor)}</span> <When at={item.at} />
      </div>
      {words.detail && <p className={entry.type === "case.note_added" ? "case-item-text case-note" : "case-item-detail muted"}>{words.detail}</p>}
    </li>
  );
}
