// What the team does to a case: assign, status, priority, tags, route or hand off to a
// department, answer a handoff, add an internal note; and the review follow-up's outcome.
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { responder, ok } from "../../api/client";
import { Badge, ErrorNotice, useAction } from "../../components/ui";
import { isActiveStatus, PRIORITY_LABELS } from "../../lib/cases";
import { formatDateTime } from "../../lib/time";
import type { Agent, CaseDetail, Department } from "./api";
import { REVIEW_OUTCOMES, personName } from "./timeline";

type Priority = CaseDetail["priority"];

export interface ActionsProps {
  kase: CaseDetail;
  meId: string;
  isManager: boolean;
  canWrite: boolean;
  agents: { data?: Agent[]; error: unknown; reload: () => void };
  departments: { data?: Department[]; error: unknown; reload: () => void };
  names: ReadonlyMap<string, string>;
  departmentName: (id: string) => string;
  onCase: (kase: CaseDetail) => void;
  /** The page's status command (the "e" shortcut uses it too). */
  status: { busy: boolean; error: unknown; set: (status: "resolved" | "open") => void };
}

/** A titled group. Not a named region on purpose: its title would also be a label that
 * competes with the field of the same name ("Priority", "Department", "Internal note"). */
function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card case-panel">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** Run a command that answers with the case, and show the case it answers with. */
function useCommand(onCase: (kase: CaseDetail) => void) {
  const action = useAction();
  const run = (call: () => Promise<CaseDetail>, after?: () => void) =>
    void action.run(async () => {
      onCase(await call());
      after?.();
    });
  return { ...action, run };
}

export function CaseActions(props: ActionsProps) {
  const { kase, canWrite } = props;
  return (
    <div className="case-actions">
      {!canWrite && (
        <p className="notice notice-info">Your role can read cases but not change them.</p>
      )}
      <StatusPanel {...props} />
      {/* Keyed by the current value: the form starts from the case as it is now. */}
      <AssignPanel key={`a:${kase.assignee_id ?? ""}`} {...props} />
      <PriorityPanel key={`p:${kase.priority}`} {...props} />
      <TagsPanel {...props} />
      <DepartmentPanel {...props} />
      {kase.handoffs.length > 0 && <HandoffsPanel {...props} />}
      <NotePanel {...props} />
      {kase.review && <ReviewPanel kase={kase} />}
    </div>
  );
}

function StatusPanel({ kase, canWrite, status }: ActionsProps) {
  const active = isActiveStatus(kase.status);
  return (
    <Panel title="Status">
      <div className="row">
        {active && (
          <button type="button" className="primary" disabled={!canWrite || status.busy} onClick={() => status.set("resolved")}>
            Resolve
          </button>
        )}
        {kase.status === "resolved" && (
          <button type="button" disabled={!canWrite || status.busy} onClick={() => status.set("open")}>
            Reopen
          </button>
        )}
        {kase.status === "closed" && (
          <p className="muted small">Closed for good: the customer's next message opens a new case.</p>
        )}
      </div>
      <ErrorNotice error={status.error} />
    </Panel>
  );
}

function AssignPanel({ kase, meId, isManager, canWrite, agents, names, onCase }: ActionsProps) {
  const command = useCommand(onCase);
  const [chosen, setChosen] = useState<string>(kase.assignee_id ?? "");
  const [force, setForce] = useState(false);
  const active = isActiveStatus(kase.status);
  const mine = kase.assignee_id === meId;
  const isAgent = agents.data ? agents.data.some((a) => a.user_id === meId) : true;
  const path = { params: { path: { case_id: kase.id } } };

  const takeIt = () =>
    command.run(() =>
      kase.assignee_id
        ? ok(responder.POST("/v1/cases/{case_id}/assign", { ...path, body: { assignee_id: meId, force: false } }))
        : ok(responder.POST("/v1/cases/{case_id}/claim", path)),
    );
  const assign = (e: FormEvent) => {
    e.preventDefault();
    command.run(() =>
      ok(
        responder.POST("/v1/cases/{case_id}/assign", {
          ...path,
          body: { assignee_id: chosen || null, force: isManager && force },
        }),
      ),
    );
  };
  const meWhy = !canWrite
    ? ""
    : !active
      ? "Only an active case can be assigned."
      : !isAgent
        ? "You have no agent profile in this brand; an administrator adds you in Settings."
        : "";

  return (
    <Panel title="Assignment">
      <p>
        Assigned to <strong>{personName(kase.assignee_id, meId, names)}</strong>
      </p>
      {!mine && (
        <div className="row">
          <button type="button" disabled={!canWrite || Boolean(meWhy) || command.busy} onClick={takeIt} aria-describedby={meWhy ? "case-me-why" : undefined}>
            Assign to me
          </button>
          {meWhy && (
            <small id="case-me-why" className="muted">
              {meWhy}
            </small>
          )}
        </div>
      )}
      <form onSubmit={assign} className="case-form">
        <div className="field">
          <label htmlFor="case-assignee">Assignee</label>
          <select id="case-assignee" value={chosen} disabled={!canWrite || !active} onChange={(e) => setChosen(e.target.value)}>
            <option value="">Nobody (unassigned)</option>
            {kase.assignee_id && !agents.data?.some((a) => a.user_id === kase.assignee_id) && (
              <option value={kase.assignee_id}>{personName(kase.assignee_id, meId, names)}</option>
            )}
            {(agents.data ?? []).map((a) => (
              <option key={a.user_id} value={a.user_id}>
                {personName(a.user_id, meId, names)} — {a.availability}, {a.active_cases ?? 0} of {a.capacity} cases
              </option>
            ))}
          </select>
        </div>
        {isManager && (
          <label className="case-check">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} disabled={!canWrite || !active} /> Assign even
            over the agent's capacity
          </label>
        )}
        <button type="submit" disabled={!canWrite || !active || command.busy || chosen === (kase.assignee_id ?? "")}>
          Change assignee
        </button>
      </form>
      <ErrorNotice error={agents.error} onRetry={agents.reload} />
      <ErrorNotice error={command.error} />
    </Panel>
  );
}

function PriorityPanel({ kase, canWrite, onCase }: ActionsProps) {
  const command = useCommand(onCase);
  const [priority, setPriority] = useState<Priority>(kase.priority);
  return (
    <Panel title="Priority">
      <form
        className="row case-form"
        onSubmit={(e) => {
          e.preventDefault();
          command.run(() =>
            ok(responder.POST("/v1/cases/{case_id}/priority", { params: { path: { case_id: kase.id } }, body: { priority, reason: "" } })),
          );
        }}
      >
        <div className="field">
          {/* The panel's title says it; the label is for screen readers. */}
          <label htmlFor="case-priority-select" className="sr-only">
            Priority
          </label>
          <select id="case-priority-select" value={priority} disabled={!canWrite} onChange={(e) => setPriority(e.target.value as Priority)}>
            {Object.entries(PRIORITY_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={!canWrite || command.busy || priority === kase.priority}>
          Set priority
        </button>
      </form>
      <ErrorNotice error={command.error} />
    </Panel>
  );
}

function TagsPanel({ kase, canWrite, onCase }: ActionsProps) {
  const command = useCommand(onCase);
  const [tag, setTag] = useState("");
  const path = { params: { path: { case_id: kase.id } } };
  const newTags = tag
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t && !kase.tags.includes(t));
  return (
    <Panel title="Tags">
      {kase.tags.length ? (
        <ul className="case-tags">
          {kase.tags.map((t) => (
            <li key={t}>
              <Badge>{t}</Badge>
              {canWrite && (
                <button
                  type="button"
                  className="link"
                  aria-label={`Remove tag ${t}`}
                  disabled={command.busy}
                  onClick={() => command.run(() => ok(responder.POST("/v1/cases/{case_id}/tags", { ...path, body: { add: [], remove: [t] } })))}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No tags.</p>
      )}
      {canWrite && (
        <form
          className="row case-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!newTags.length) return;
            command.run(
              () => ok(responder.POST("/v1/cases/{case_id}/tags", { ...path, body: { add: newTags.slice(0, 20), remove: [] } })),
              () => setTag(""),
            );
          }}
        >
          <div className="field">
            <label htmlFor="case-new-tag">New tag</label>
            <input id="case-new-tag" value={tag} maxLength={200} onChange={(e) => setTag(e.target.value)} aria-describedby="case-new-tag-hint" />
            <small id="case-new-tag-hint" className="muted">
              Separate several with commas.
            </small>
          </div>
          <button type="submit" disabled={command.busy || !newTags.length}>
            Add tag
          </button>
        </form>
      )}
      <ErrorNotice error={command.error} />
    </Panel>
  );
}

function DepartmentPanel({ kase, canWrite, departments, departmentName, onCase }: ActionsProps) {
  const command = useCommand(onCase);
  const [dept, setDept] = useState("");
  const [note, setNote] = useState("");
  const active = isActiveStatus(kase.status);
  const list = departments.data ?? [];
  const path = { params: { path: { case_id: kase.id } } };
  const why = !dept ? "Choose a department first." : !active ? "Only an active case can move." : "";
  return (
    <Panel title="Routing and handoff">
      <p>
        Now with <strong>{kase.department ? departmentName(kase.department) : "no department"}</strong>
      </p>
      <div className="field">
        <label htmlFor="case-dept">Department</label>
        <select id="case-dept" value={dept} disabled={!canWrite || !list.length} onChange={(e) => setDept(e.target.value)}>
          <option value="">{list.length ? "Choose one…" : "None yet (add them in Settings)"}</option>
          {list.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="case-handoff-note">Handoff note</label>
        <textarea
          id="case-handoff-note"
          value={note}
          rows={3}
          maxLength={10_000}
          disabled={!canWrite}
          onChange={(e) => setNote(e.target.value)}
          aria-describedby="case-handoff-hint"
        />
        <small id="case-handoff-hint" className="muted">
          Route: the department takes the case over (its SLA applies); the note is the reason. Hand off: the
          department is asked and answers here; the note is what it needs to know.
        </small>
      </div>
      <div className="row">
        <button
          type="button"
          disabled={!canWrite || Boolean(why) || command.busy || dept === kase.department}
          onClick={() =>
            command.run(
              () => ok(responder.POST("/v1/cases/{case_id}/route", { ...path, body: { department: dept, reason: note.trim().slice(0, 1000) } })),
              () => setNote(""),
            )
          }
        >
          Route to department
        </button>
        <button
          type="button"
          disabled={!canWrite || Boolean(why) || command.busy || !note.trim()}
          onClick={() =>
            command.run(
              async () =>
                (await ok(responder.POST("/v1/cases/{case_id}/handoffs", { ...path, body: { department: dept, note: note.trim() } }))).case,
              () => setNote(""),
            )
          }
        >
          Hand off to department
        </button>
        <button
          type="button"
          className="link"
          disabled={!canWrite || !active || command.busy}
          onClick={() => command.run(() => ok(responder.POST("/v1/cases/{case_id}/reroute", path)))}
        >
          Re-run routing rules
        </button>
      </div>
      {canWrite && why && <small className="muted">{why}</small>}
      {canWrite && !why && !note.trim() && <small className="muted"> A handoff needs a note.</small>}
      <ErrorNotice error={departments.error} onRetry={departments.reload} />
      <ErrorNotice error={command.error} />
    </Panel>
  );
}

function HandoffsPanel({ kase, meId, canWrite, names, departmentName, onCase }: ActionsProps) {
  return (
    <Panel title="Handoffs">
      <ul className="case-handoffs">
        {kase.handoffs.map((h) => (
          <li key={h.id} data-testid="handoff" data-handoff-id={h.id}>
            <p>
              <strong>{departmentName(h.department)}</strong> asked by {personName(h.by.replace(/^user:/, ""), meId, names)},{" "}
              <time dateTime={h.at}>{formatDateTime(h.at)}</time>
            </p>
            <p className="case-note">{h.note}</p>
            {h.answer ? (
              <p>
                <Badge tone="ok">Answered</Badge>{" "}
                {h.answered_by && <>by {personName(h.answered_by.replace(/^user:/, ""), meId, names)} </>}
                {h.answered_at && <time dateTime={h.answered_at}>{formatDateTime(h.answered_at)}</time>}
                <span className="case-note">{h.answer}</span>
              </p>
            ) : (
              <AnswerForm kase={kase} handoffId={h.id} canWrite={canWrite} onCase={onCase} />
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function AnswerForm({ kase, handoffId, canWrite, onCase }: { kase: CaseDetail; handoffId: string; canWrite: boolean; onCase: (kase: CaseDetail) => void }) {
  const id = useId();
  const command = useCommand(onCase);
  const [answer, setAnswer] = useState("");
  return (
    <form
      className="case-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!answer.trim()) return;
        command.run(
          () =>
            ok(
              responder.POST("/v1/cases/{case_id}/handoffs/{handoff_id}/answer", {
                params: { path: { case_id: kase.id, handoff_id: handoffId } },
                body: { answer: answer.trim() },
              }),
            ),
          () => setAnswer(""),
        );
      }}
    >
      <p>
        <Badge tone="warning">Waiting for an answer</Badge>
      </p>
      <div className="field">
        <label htmlFor={id}>Department answer</label>
        <textarea id={id} value={answer} rows={3} maxLength={10_000} disabled={!canWrite} onChange={(e) => setAnswer(e.target.value)} />
      </div>
      <button type="submit" disabled={!canWrite || command.busy || !answer.trim()}>
        Send answer
      </button>
      <ErrorNotice error={command.error} />
    </form>
  );
}

function NotePanel({ kase, canWrite, onCase }: ActionsProps) {
  const command = useCommand(onCase);
  const [text, setText] = useState("");
  return (
    <Panel title="Notes">
      <form
        className="case-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return;
          command.run(
            () => ok(responder.POST("/v1/cases/{case_id}/notes", { params: { path: { case_id: kase.id } }, body: { text: text.trim() } })),
            () => setText(""),
          );
        }}
      >
        <div className="field">
          <label htmlFor="case-note">Internal note</label>
          <textarea
            id="case-note"
            value={text}
            rows={3}
            maxLength={10_000}
            disabled={!canWrite}
            onChange={(e) => setText(e.target.value)}
            aria-describedby="case-note-hint"
          />
          <small id="case-note-hint" className="muted">
            Seen by the team only, never sent to the customer.
          </small>
        </div>
        <button type="submit" disabled={!canWrite || command.busy || !text.trim()}>
          Add note
        </button>
      </form>
      <ErrorNotice error={command.error} />
    </Panel>
  );
}

function ReviewPanel({ kase }: { kase: CaseDetail }) {
  const review = kase.review!;
  const outcome = review.outcome ? REVIEW_OUTCOMES[review.outcome] : undefined;
  return (
    <Panel title="Review follow-up">
      <div data-testid="review-follow-up" data-outcome={review.outcome ?? "watching"}>
        {review.outcome ? (
          <p>
            <Badge tone={review.outcome === "improved" || review.outcome === "deleted" ? "ok" : "warning"}>
              {outcome?.word ?? review.outcome}
            </Badge>{" "}
            {outcome?.meaning}
          </p>
        ) : (
          <p>
            <Badge tone="info">Watching</Badge> The negative review is followed
            {review.watch_until && (
              <>
                {" "}
                until <time dateTime={review.watch_until}>{formatDateTime(review.watch_until)}</time>
              </>
            )}
            : an edit or deletion by the customer records the outcome; otherwise it ends as unchanged.
          </p>
        )}
        {typeof review.score_before === "number" && (
          <p className="muted small">Sentiment when resolved: {review.score_before.toFixed(2)}</p>
        )}
      </div>
    </Panel>
  );
}
