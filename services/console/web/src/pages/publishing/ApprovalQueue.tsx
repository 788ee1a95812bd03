// The approval queue: posts waiting for a decision, oldest request first, with who asked,
// the previews per network, the trail and comments, and Approve / Reject (with a reason).
import { useRef, useState } from "react";
import { Link } from "react-router-dom";
import { ok, publisher } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { Empty, ErrorNotice, Loading, useAction, useResource } from "../../components/ui";
import { isNetwork } from "../../lib/networks";
import { formatDateTime, timeZone } from "../../lib/time";
import {
  publishAt,
  readVariants,
  requesterOf,
  stepText,
  workflowById,
  type Account,
  type Content,
  type WorkflowInfo,
} from "./content";
import {
  Announcement,
  AuditTrail,
  CommentBox,
  PostPreview,
  authorsOn,
  formProblem,
  useAccounts,
  useAnnouncement,
  useLiveReload,
  useWorkflows,
} from "./shared";

export function ApprovalQueue() {
  const brand = useBrand();
  const list = useResource(
    () => ok(publisher.GET("/v1/content", { params: { query: { brand_id: brand, status: ["submitted"], limit: 200 } } })),
    [brand],
  );
  const accounts = useAccounts();
  const workflows = useWorkflows();
  const [announcement, announce] = useAnnouncement();
  useLiveReload(() => void list.reload());

  const items = [...(list.data ?? [])].filter((c) => c.status === "submitted").sort((a, b) => requesterOf(a).at.localeCompare(requesterOf(b).at));
  const decided = (out: Content, words: string) => {
    list.setData((l) => (out.status === "submitted" ? l?.map((c) => (c.id === out.id ? out : c)) : l?.filter((c) => c.id !== out.id)));
    announce(words);
  };

  return (
    <section aria-labelledby="pub-approvals-title">
      <h2 id="pub-approvals-title">Waiting for approval</h2>
      <Announcement text={announcement} />
      {list.error ? <ErrorNotice error={list.error} onRetry={() => void list.reload()} /> : null}
      {!list.data && list.loading && <Loading what="Loading the approval queue" />}
      {list.data && items.length === 0 && <Empty>Nothing is waiting for approval.</Empty>}
      <div className="pub-cards">
        {items.map((c) => (
          <ApprovalCard
            key={c.id}
            content={c}
            accounts={accounts.data ?? []}
            workflow={workflowById(workflows.data ?? [], c.approval.workflow_id)}
            onDecided={decided}
            onComment={(out) => list.setData((l) => l?.map((x) => (x.id === out.id ? out : x)))}
          />
        ))}
      </div>
    </section>
  );
}

function ApprovalCard({
  content,
  accounts,
  workflow,
  onDecided,
  onComment,
}: {
  content: Content;
  accounts: Account[];
  workflow: WorkflowInfo | null;
  onDecided: (out: Content, words: string) => void;
  onComment: (out: Content) => void;
}) {
  const brand = useBrand();
  const { can } = useSession();
  const zone = timeZone();
  const [reason, setReason] = useState("");
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const action = useAction();
  const requester = requesterOf(content);
  const at = publishAt(content);
  const reasonId = `pub-reason-${content.id}`;
  const canDecide = can("content:approve");
  const path = { path: { content_id: content.id }, query: { brand_id: brand } };

  const approve = async () => {
    const out = await action.run(() => ok(publisher.POST("/v1/content/{content_id}/approve", { params: path })));
    if (!out) return;
    const when = publishAt(out);
    onDecided(
      out,
      out.status === "submitted"
        ? `Your approval of “${out.title}” is counted; it waits for ${stepText(out, workflow) || "the next approver"}.`
        : out.status === "scheduled" && when !== null
          ? `Approved “${out.title}”: scheduled for ${formatDateTime(when, zone)}.`
          : `Approved “${out.title}”. It has no future time yet; it can now be scheduled.`,
    );
  };

  const reject = async () => {
    const out = await action.run(async () => {
      if (!reason.trim()) {
        reasonRef.current?.focus();
        throw formProblem("Write the reason for the rejection first: the author sees it.");
      }
      return ok(publisher.POST("/v1/content/{content_id}/reject", { params: path, body: { reason: reason.trim() } }));
    });
    if (out) onDecided(out, `Rejected “${out.title}”: the author sees your reason.`);
  };

  const variants = readVariants(content);
  return (
    <article className="card pub-approval" data-testid="approval-item" data-content-id={content.id} aria-labelledby={`pub-ap-${content.id}`}>
      <h3 id={`pub-ap-${content.id}`}>
        <Link to={`/publishing/${content.id}`}>{content.title}</Link>
      </h3>
      <p className="small">
        Requested by <strong>{requester.user}</strong>{" "}
        <time dateTime={requester.at}>{formatDateTime(requester.at, zone)}</time>
        {" · "}
        {at === null ? "No time chosen yet" : `Planned for ${formatDateTime(at, zone)}`}
        {workflow && ` · ${stepText(content, workflow)}`}
      </p>
      {(content.labels.length > 0 || content.campaign_id) && (
        <p className="small muted">
          {content.campaign_id && <>Campaign {content.campaign_id}. </>}
          {content.labels.length > 0 && <>Labels: {content.labels.join(", ")}.</>}
        </p>
      )}
      <div className="pub-previews">
        {variants.map((v) =>
          isNetwork(v.network) ? (
            <PostPreview
              key={v.network}
              network={v.network}
              fields={{ text: v.text, mediaUrls: v.media_urls, link: v.link ?? "", title: v.title ?? "" }}
              authors={authorsOn(v.network, content.targets, accounts)}
            />
          ) : null,
        )}
      </div>
      <details className="pub-approval-trail">
        <summary>Trail and comments ({content.approval.audit.length})</summary>
        <AuditTrail content={content} />
        <CommentBox content={content} onDone={onComment} />
      </details>
      {canDecide ? (
        <div className="pub-decision">
          <div className="field">
            <label htmlFor={reasonId}>Reason for rejection</label>
            <textarea id={reasonId} ref={reasonRef} rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <ErrorNotice error={action.error} />
          <div className="row">
            <button type="button" className="primary" disabled={action.busy} onClick={() => void approve()}>
              Approve
            </button>
            <button type="button" className="danger" disabled={action.busy} onClick={() => void reject()}>
              Reject
            </button>
          </div>
        </div>
      ) : (
        <p className="muted small">Only SMM managers and admins decide on posts; your role cannot approve.</p>
      )}
    </article>
  );
}
