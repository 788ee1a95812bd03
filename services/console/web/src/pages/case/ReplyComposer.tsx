// The answer to the customer: text with a per-network counter, canned responses, and what
// the case becomes after sending. The responder may hold it for a manager's approval.
import { useMemo, useRef, useState, type RefObject } from "react";
import { responder, ok } from "../../api/client";
import { ErrorNotice, useAction, useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { loadBrandName, loadCanned, newIdempotencyKey, type CaseDetail } from "./api";
import { fillTemplate, insertText, templateValues, unknownVariables } from "./canned";
import { checkReplyLength, X_URL_LENGTH } from "./replyLength";

type Then = "pending_customer" | "open" | "resolved";

export interface ComposerProps {
  kase: CaseDetail;
  brand: string;
  agentName: string;
  canWrite: boolean;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  onCase: (kase: CaseDetail) => void;
}

export function ReplyComposer({ kase, brand, agentName, canWrite, inputRef, onCase }: ComposerProps) {
  const [text, setText] = useState("");
  const [then, setThen] = useState<Then>("pending_customer");
  /** What the last send did, shown while that reply is still in the state it was sent in. */
  const [done, setDone] = useState<{ replyId: string; state: string; message: string } | null>(null);
  const [warning, setWarning] = useState("");
  const key = useRef(newIdempotencyKey());
  const send = useAction();
  const check = checkReplyLength(kase.network, text);

  const reason = !canWrite
    ? "Your role can read cases but not answer customers."
    : kase.status === "closed"
      ? "The case is closed: the customer's next message opens a new case."
      : !text.trim()
        ? "Write the answer first."
        : check.over > 0
          ? `It is too long for ${networkName(kase.network)}: shorten it by ${check.over} characters.`
          : send.busy
            ? "Sending…"
            : "";

  const edit = (value: string) => {
    setText(value);
    setDone(null);
    // Another text is another reply: a new key, so the responder does not return the old one.
    key.current = newIdempotencyKey();
  };

  const submit = () => {
    if (reason) return;
    void send.run(async () => {
      const out = await ok(
        responder.POST("/v1/cases/{case_id}/replies", {
          params: { path: { case_id: kase.id }, header: { "idempotency-key": key.current } },
          body: { text, then, automatic: false },
        }),
      );
      onCase(out.case);
      setText("");
      setWarning("");
      key.current = newIdempotencyKey();
      setDone({
        replyId: out.reply_id,
        state: out.state,
        message:
          out.state === "pending_approval"
            ? "Saved. It waits for a manager's approval before it is posted; the timeline shows its state."
            : "Sent. The timeline shows when the network confirms it.",
      });
    });
  };

  const pending = kase.replies.filter((r) => r.state === "pending_approval").length;
  const stillSo = done && kase.replies.some((r) => r.id === done.replyId && r.state === done.state);

  return (
    <form
      className="case-composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="field">
        <label htmlFor="case-reply">Reply</label>
        <textarea
          id="case-reply"
          ref={inputRef}
          value={text}
          rows={5}
          disabled={!canWrite}
          aria-invalid={check.over > 0 ? true : undefined}
          aria-describedby="case-reply-count case-reply-hint"
          onChange={(e) => edit(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <small id="case-reply-count" className={check.over > 0 ? "case-count case-count-over" : "case-count muted"}>
          {check.over > 0 ? check.message : `${check.message} on ${networkName(kase.network)}`}
        </small>
        {/* Announced once when the text goes over the limit, not at every key. */}
        <span className="sr-only" aria-live="polite">
          {check.over > 0 ? `Too long for ${networkName(kase.network)}.` : ""}
        </span>
        <small id="case-reply-hint" className="muted">
          {kase.network === "x" ? `Links count as ${X_URL_LENGTH} characters on X. ` : ""}
          Ctrl+Enter sends.
        </small>
      </div>

      <CannedPicker
        kase={kase}
        brand={brand}
        agentName={agentName}
        disabled={!canWrite}
        onInsert={(filled) => {
          const el = inputRef.current;
          const at = insertText(text, el?.selectionStart ?? text.length, el?.selectionEnd ?? text.length, filled);
          edit(at.text);
          setWarning(
            unknownVariables(filled).length
              ? `The canned response has placeholders this page cannot fill: ${unknownVariables(filled).join(", ")}. Replace them before sending.`
              : "",
          );
          requestAnimationFrame(() => {
            el?.focus();
            el?.setSelectionRange(at.caret, at.caret);
          });
        }}
      />
      {warning && <p className="notice notice-info">{warning}</p>}

      <div className="row case-send-row">
        <div className="field case-then">
          <label htmlFor="case-then">After sending</label>
          <select id="case-then" value={then} disabled={!canWrite} onChange={(e) => setThen(e.target.value as Then)}>
            <option value="pending_customer">Wait for the customer</option>
            <option value="open">Keep the case open</option>
            <option value="resolved">Resolve the case</option>
          </select>
        </div>
        <button type="submit" className="primary" disabled={Boolean(reason)} aria-describedby={reason ? "case-send-why" : undefined}>
          Send reply
        </button>
      </div>
      {reason && !send.busy && (
        <p id="case-send-why" className={check.over > 0 ? "case-send-why case-count-over" : "case-send-why muted small"}>
          {reason}
        </p>
      )}
      <ErrorNotice error={send.error} onRetry={reason ? undefined : submit} />
      <p role="status" aria-live="polite" className="case-status-line">
        {send.busy ? "Sending…" : stillSo ? done.message : ""}
      </p>
      {pending > 0 && (
        <p className="notice notice-info">
          {pending === 1 ? "1 answer waits" : `${pending} answers wait`} for a manager's approval (see the timeline).
        </p>
      )}
    </form>
  );
}

function CannedPicker({ kase, brand, agentName, disabled, onInsert }: {
  kase: CaseDetail;
  brand: string;
  agentName: string;
  disabled: boolean;
  onInsert: (text: string) => void;
}) {
  const canned = useResource(() => Promise.all([loadCanned(brand), loadBrandName(brand)]), [brand]);
  const [chosen, setChosen] = useState("");
  const [list, brandName] = canned.data ?? [[], brand];
  // Responses in the case's language first, then the rest.
  const ordered = useMemo(
    () =>
      [...list].sort(
        (a, b) => Number((b.language ?? "") === (kase.language ?? "")) - Number((a.language ?? "") === (kase.language ?? "")),
      ),
    [list, kase.language],
  );
  const values = templateValues({
    author: kase.author,
    agentName,
    caseId: kase.id,
    brand: brandName,
    handoffs: kase.handoffs,
  });
  const selected = ordered.find((c) => c.id === chosen);
  if (canned.error) return <ErrorNotice error={canned.error} onRetry={() => void canned.reload()} />;
  return (
    <div className="row case-canned">
      <div className="field">
        <label htmlFor="case-canned">Canned response</label>
        <select id="case-canned" value={chosen} disabled={disabled || canned.loading || !list.length} onChange={(e) => setChosen(e.target.value)}>
          <option value="">
            {canned.loading ? "Loading…" : list.length ? "Choose one…" : "None yet (add them in Settings)"}
          </option>
          {ordered.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
              {c.language ? ` (${c.language})` : ""}
            </option>
          ))}
        </select>
      </div>
      <button type="button" disabled={disabled || !selected} onClick={() => selected && onInsert(fillTemplate(selected.text, values))}>
        Insert
      </button>
      {selected && <p className="muted small case-canned-preview">{fillTemplate(selected.text, values)}</p>}
    </div>
  );
}
