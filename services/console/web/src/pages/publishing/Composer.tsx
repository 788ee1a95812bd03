// The composer: a post's title, shared text, accounts, a version per network with its
// counter, campaign, labels and time, with a live preview per network; save, submit for
// approval, schedule. At /publishing/new and /publishing/:id.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { ok, publisher } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { ConfirmDialog } from "../../components/Dialog";
import { ErrorNotice, Field, Loading, useAction, useResource } from "../../components/ui";
import { NETWORK_NAMES, networkName, type Network } from "../../lib/networks";
import { formatDateTime, timeZone } from "../../lib/time";
import {
  EDITABLE,
  STATUS_WORDS,
  buildBody,
  emptyForm,
  emptyVariant,
  formFromContent,
  formNetworks,
  parseLabels,
  publishAt,
  selectWorkflow,
  stepText,
  variantFields,
  workflowById,
  type Account,
  type ComposerForm,
  type Content,
  type VariantDraft,
} from "./content";
import { counterText, lengthInfo, variantProblems } from "./networks";
import {
  Announcement,
  AuditTrail,
  CommentBox,
  NetworkTag,
  PostPreview,
  StatusBadge,
  authorsOn,
  checkScheduleInput,
  formProblem,
  scheduleAt,
  useAccounts,
  useAnnouncement,
  useLiveReload,
  useWorkflows,
} from "./shared";

const DELIVERY_WORDS: Record<string, string> = {
  pending: "Waiting to post",
  sending: "Posting",
  waiting: "Waiting for the next attempt",
  published: "Published",
  failed: "Failed",
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function Composer() {
  const { id = "new" } = useParams();
  const isNew = id === "new";
  const brand = useBrand();
  const { can } = useSession();
  const zone = timeZone();
  const navigate = useNavigate();
  const location = useLocation();
  const accounts = useAccounts();
  const workflows = useWorkflows();
  const item = useResource(
    () =>
      isNew
        ? Promise.resolve(null)
        : ok(publisher.GET("/v1/content/{content_id}", { params: { path: { content_id: id }, query: { brand_id: brand } } })),
    [brand, id],
  );

  const [form, setForm] = useState<ComposerForm>(emptyForm);
  const [saved, setSaved] = useState<Content | null>(null);
  const [dirty, setDirty] = useState(false);
  const [changedElsewhere, setChangedElsewhere] = useState<Content | null>(null);
  const [announcement, announce] = useAnnouncement();
  const action = useAction();
  const [confirmCancel, setConfirmCancel] = useState(false);

  const adopt = (c: Content) => {
    setSaved(c);
    setForm(formFromContent(c, zone));
    setDirty(false);
    setChangedElsewhere(null);
  };

  // A new post starts empty (also when "New post" is pressed while editing another).
  useEffect(() => {
    if (isNew && saved) {
      setSaved(null);
      setForm(emptyForm());
      setDirty(false);
      setChangedElsewhere(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [isNew]);

  // Take the stored item when it loads, or when it changed elsewhere and nothing is unsaved.
  useEffect(() => {
    const c = item.data;
    if (!c) return;
    if (!saved || saved.id !== c.id) adopt(c);
    else if (c.version > saved.version) {
      if (dirty) setChangedElsewhere(c);
      else {
        adopt(c);
        if (c.status !== saved.status) announce(`“${c.title}” is now ${STATUS_WORDS[c.status].toLowerCase()}.`);
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [item.data]);

  // Words carried over from the new-post page once the draft got its address.
  useEffect(() => {
    const words = (location.state as { announce?: string } | null)?.announce;
    if (words) announce(words);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [location.key]);

  useLiveReload(
    () => void item.reload(),
    (m) => !isNew && m.data.content_id === id,
  );

  const accountList: Account[] = accounts.data ?? [];
  const networks = formNetworks(form, accountList);
  const labels = parseLabels(form.labels);
  const workflow = workflows.data ? selectWorkflow(workflows.data, labels) : undefined;
  const current = saved && saved.id === id ? saved : null;
  const status = current?.status ?? "draft";
  const canWrite = can("content:write");
  const editable = !current || EDITABLE.has(current.status);
  const readOnly = !canWrite || !editable;

  const update = (change: Partial<ComposerForm>) => {
    setForm((f) => ({ ...f, ...change }));
    setDirty(true);
  };
  const updateVariant = (network: Network, change: Partial<VariantDraft>) => {
    setForm((f) => ({ ...f, variants: { ...f.variants, [network]: { ...(f.variants[network] ?? emptyVariant()), ...change } } }));
    setDirty(true);
  };
  const toggleAccount = (account: Account, on: boolean) => {
    setForm((f) => {
      const targets = on ? [...new Set([...f.targets, account.id])] : f.targets.filter((t) => t !== account.id);
      const variants = { ...f.variants };
      if (on && !variants[account.network as Network]) variants[account.network as Network] = emptyVariant();
      return { ...f, targets, variants };
    });
    setDirty(true);
  };

  const removeVersion = (network: Network) => {
    setForm((f) => ({ ...f, loaded: { ...f.loaded, networks: f.loaded.networks.filter((n) => n !== network) } }));
    setDirty(true);
  };

  // Saved state and the address follow every answer of the API.
  const keep = (c: Content, words?: string) => {
    adopt(c);
    if (isNew) navigate(`/publishing/${c.id}`, { replace: true, state: words ? { announce: words } : null });
    else if (words) announce(words);
  };

  const persist = async (): Promise<Content> => {
    const { body, problems } = buildBody(form, accountList, brand, zone);
    if (!body) throw formProblem(problems.join(" "));
    let out: Content;
    if (!current) out = await ok(publisher.POST("/v1/content", { body }));
    else if (!dirty) return current;
    else {
      out = await ok(
        publisher.PUT("/v1/content/{content_id}", {
          params: { path: { content_id: current.id } },
          body: { ...body, version: current.version },
        }),
      );
    }
    keep(out);
    return out;
  };

  const saveDraft = () =>
    action.run(async () => {
      const out = await persist();
      const back = current && current.status !== out.status ? ` It is now ${STATUS_WORDS[out.status].toLowerCase()}.` : "";
      keep(out, `Saved “${out.title}”.${back}`);
    });

  const submit = () =>
    action.run(async () => {
      const s = await persist();
      const out = await ok(
        publisher.POST("/v1/content/{content_id}/submit", { params: { path: { content_id: s.id }, query: { brand_id: brand } } }),
      );
      const at = publishAt(out);
      keep(
        out,
        out.status === "submitted"
          ? `Submitted “${out.title}” for approval.`
          : out.status === "scheduled" && at !== null
            ? `No approval is needed: “${out.title}” is scheduled for ${formatDateTime(at, zone)}.`
            : `No approval is needed: “${out.title}” is approved. Choose a time and schedule it.`,
      );
    });

  const schedule = () =>
    action.run(async () => {
      const at = checkScheduleInput(form.scheduleAt, zone);
      const s = await persist();
      const out = s.status === "scheduled" && publishAt(s) === at ? s : await scheduleAt(brand, s.id, at, zone);
      keep(out, `Scheduled “${out.title}” for ${formatDateTime(at, zone)} (${zone}).`);
    });

  const unschedule = () =>
    action.run(async () => {
      if (!current) return;
      const out = await ok(
        publisher.POST("/v1/content/{content_id}/unschedule", {
          params: { path: { content_id: current.id }, query: { brand_id: brand } },
        }),
      );
      keep(out, `Took “${out.title}” off the calendar; it stays approved.`);
    });

  const cancelPost = () =>
    action.run(async () => {
      setConfirmCancel(false);
      if (!current) return;
      const out = await ok(
        publisher.POST("/v1/content/{content_id}/cancel", { params: { path: { content_id: current.id }, query: { brand_id: brand } } }),
      );
      keep(out, `Cancelled “${out.title}”.`);
    });

  const duplicate = () =>
    action.run(async () => {
      if (!current) return;
      const out = await ok(
        publisher.POST("/v1/content/{content_id}/duplicate", {
          params: { path: { content_id: current.id }, query: { brand_id: brand } },
        }),
      );
      navigate(`/publishing/${out.id}`, { state: { announce: `Made a copy: “${out.title}”, a new draft.` } });
    });

  // Why a button is not available, in words (null: it is).
  const submitBlocked = !canWrite
    ? "Your role cannot submit posts."
    : !current || status === "draft" || status === "rejected"
      ? null
      : status === "submitted"
        ? "It is waiting for approval."
        : status === "approved" || status === "scheduled"
          ? "It is already approved. Saving a change to its content sends it back to draft; then submit it again."
          : `A ${STATUS_WORDS[status].toLowerCase()} post is not submitted again.`;
  const scheduleBlocked = !canWrite
    ? "Your role cannot schedule posts."
    : !editable
      ? `A ${STATUS_WORDS[status].toLowerCase()} post cannot be scheduled.`
      : status === "approved" || status === "scheduled" || status === "failed"
        ? null
        : status === "submitted"
          ? "It is waiting for approval; once approved it goes on the calendar at the “Schedule at” time."
          : status === "rejected"
            ? "It was rejected: edit it and submit it for approval again."
            : workflow
              ? `It needs approval first (workflow “${workflow.name}”): submit it for approval, ` +
                "and once approved it goes on the calendar at the “Schedule at” time."
              : null;

  if (!isNew && !current) {
    if (item.error) return <ErrorNotice error={item.error} onRetry={() => void item.reload()} />;
    return <Loading what="Opening the post" />;
  }

  const rejection = status === "rejected" ? [...(current?.approval.audit ?? [])].reverse().find((e) => e.action === "rejected") : undefined;
  const at = current ? publishAt(current) : null;

  return (
    <div className="pub-composer">
      <div className="pub-composer-head">
        <h2>{isNew ? "New post" : `Edit “${current?.title ?? ""}”`}</h2>
        {current && (
          <p className="row">
            <StatusBadge status={current.status} />
            {at !== null && (
              <span>
                {current.status === "published" ? "Published for" : "Planned for"} {formatDateTime(at, zone)}
              </span>
            )}
            {dirty && <span className="muted">Unsaved changes</span>}
          </p>
        )}
      </div>
      <Announcement text={announcement} />
      {rejection && (
        <div className="notice notice-error">
          <strong>Rejected by {rejection.user}:</strong> {rejection.reason}. Edit the post and submit it for approval again.
        </div>
      )}
      {changedElsewhere && (
        <div className="notice notice-info" role="status">
          Someone changed this post meanwhile (it is now {STATUS_WORDS[changedElsewhere.status].toLowerCase()}). Your changes are not
          saved yet.{" "}
          <button type="button" className="link" onClick={() => adopt(changedElsewhere)}>
            Load their version
          </button>
        </div>
      )}
      {!canWrite && <p className="notice notice-info">Your role can read posts but not write them.</p>}
      {canWrite && !editable && current && (
        <p className="notice notice-info">
          A {STATUS_WORDS[current.status].toLowerCase()} post cannot be edited. Duplicate it to reuse its content.
        </p>
      )}
      {accounts.error ? <ErrorNotice error={accounts.error} onRetry={() => void accounts.reload()} /> : null}

      <div className="pub-composer-body">
        <form
          className="pub-composer-form"
          onSubmit={(e) => {
            e.preventDefault();
            void saveDraft();
          }}
        >
          <fieldset disabled={readOnly || action.busy} className="pub-plain">
            <Field label="Title" hint="Names the post in the calendar; it is not published.">
              {(props) => <input {...props} value={form.title} maxLength={300} onChange={(e) => update({ title: e.target.value })} />}
            </Field>

            <AccountPicker accounts={accountList} loading={accounts.loading && !accounts.data} targets={form.targets} onToggle={toggleAccount} />

            <Field label="Text" hint="Every network gets this text unless you edit its own version below.">
              {(props) => <textarea {...props} rows={5} value={form.text} onChange={(e) => update({ text: e.target.value })} />}
            </Field>

            {networks.length > 0 && (
              <VariantTabs
                networks={networks}
                unposted={networks.filter((n) => !accountList.some((a) => a.network === n && form.targets.includes(a.id)))}
                form={form}
                onChange={updateVariant}
                onUseShared={(n) => updateVariant(n, { text: null })}
                onRemove={removeVersion}
              />
            )}

            <div className="pub-two">
              <Field label="Campaign" hint="Added to links as utm_campaign.">
                {(props) => <input {...props} value={form.campaign} onChange={(e) => update({ campaign: e.target.value })} />}
              </Field>
              <Field label="Labels" hint="Comma-separated; labels choose the approval workflow.">
                {(props) => <input {...props} value={form.labels} onChange={(e) => update({ labels: e.target.value })} />}
              </Field>
            </div>

            <Field label="Schedule at" hint={`In your time zone, ${zone}. Leave empty to choose the time later.`}>
              {(props) => (
                <input {...props} type="datetime-local" value={form.scheduleAt} onChange={(e) => update({ scheduleAt: e.target.value })} />
              )}
            </Field>
            <p className="muted small">
              {current?.status === "submitted"
                ? `Waiting for approval: ${stepText(current, workflowById(workflows.data ?? [], current.approval.workflow_id)) || "in its workflow"}.`
                : workflow === undefined
                ? workflows.error
                  ? "The approval workflows could not be read; the publisher will say whether approval is needed."
                  : ""
                : workflow
                  ? `Approval: workflow “${workflow.name}” (${plural(workflow.steps.length, "step")}) applies to this post.`
                  : "No approval workflow applies: the post can be scheduled directly."}
            </p>
          </fieldset>

          <ErrorNotice error={action.error} />
          <div className="pub-actions">
            <button type="submit" disabled={readOnly || action.busy}>
              Save draft
            </button>
            <button type="button" disabled={readOnly || action.busy || submitBlocked !== null} onClick={() => void submit()}>
              Submit for approval
            </button>
            <button
              type="button"
              className="primary"
              disabled={readOnly || action.busy || scheduleBlocked !== null}
              onClick={() => void schedule()}
            >
              Schedule
            </button>
            {canWrite && current?.status === "scheduled" && (
              <button type="button" disabled={action.busy} onClick={() => void unschedule()}>
                Take off the calendar
              </button>
            )}
            {canWrite && current && EDITABLE.has(current.status) && (
              <button type="button" className="danger" disabled={action.busy} onClick={() => setConfirmCancel(true)}>
                Cancel post
              </button>
            )}
            {canWrite && current && (current.status === "published" || current.status === "cancelled") && (
              <button type="button" disabled={action.busy} onClick={() => void duplicate()}>
                Duplicate
              </button>
            )}
          </div>
          {editable && canWrite && (submitBlocked || scheduleBlocked) && (
            <ul className="pub-reasons muted small">
              {submitBlocked && <li>Submit for approval: {submitBlocked}</li>}
              {scheduleBlocked && <li>Schedule: {scheduleBlocked}</li>}
            </ul>
          )}
          {current?.status === "submitted" && can("content:approve") && (
            <p className="small">
              Decide on it in <Link to="/publishing/approvals">Approvals</Link>.
            </p>
          )}
        </form>

        <aside className="pub-composer-previews" aria-label="Previews">
          <h3>Preview</h3>
          {networks.length === 0 && <p className="muted">Choose accounts to see how the post will look on each network.</p>}
          {networks.map((n) => (
            <PostPreview key={n} network={n} fields={variantFields(form, n)} authors={authorsOn(n, form.targets, accountList)} />
          ))}
        </aside>
      </div>

      {current && Object.keys(current.deliveries).length > 0 && <Deliveries content={current} accounts={accountList} zone={zone} />}

      {current && (
        <section className="pub-trail" aria-labelledby="pub-trail-title">
          <h3 id="pub-trail-title">Approval trail and comments</h3>
          <AuditTrail content={current} />
          <CommentBox content={current} onDone={(c) => (dirty ? setSaved(c) : adopt(c))} />
        </section>
      )}

      {confirmCancel && (
        <ConfirmDialog
          title="Cancel this post for good?"
          confirmLabel="Cancel the post"
          cancelLabel="Keep it"
          onConfirm={() => void cancelPost()}
          onCancel={() => setConfirmCancel(false)}
        >
          <p>It leaves the calendar and cannot be published; you can duplicate it later to reuse its content.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function AccountPicker({
  accounts,
  loading,
  targets,
  onToggle,
}: {
  accounts: Account[];
  loading: boolean;
  targets: string[];
  onToggle: (account: Account, on: boolean) => void;
}) {
  const chosen = new Set(targets);
  const known = new Set(accounts.map((a) => a.id));
  const missing = targets.filter((t) => !known.has(t));
  return (
    <fieldset className="pub-accounts">
      <legend>Post from</legend>
      {loading && <Loading what="Loading the accounts" />}
      {!loading && accounts.length === 0 && (
        <p className="muted">No publishing accounts are connected for this brand. An administrator connects them in Settings.</p>
      )}
      <ul className="pub-account-list">
        {accounts.map((a) => (
          <li key={a.id}>
            <label>
              <input
                type="checkbox"
                checked={chosen.has(a.id)}
                disabled={!a.enabled && !chosen.has(a.id)}
                onChange={(e) => onToggle(a, e.target.checked)}
              />{" "}
              {a.name} ({networkName(a.network)})
              {!a.enabled && <span className="muted small"> — turned off in Settings</span>}
            </label>
          </li>
        ))}
        {missing.map((t) => (
          <li key={t} className="muted small">
            {t}: this account is no longer connected; posting from it will fail.
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

function VariantTabs({
  networks,
  unposted,
  form,
  onChange,
  onUseShared,
  onRemove,
}: {
  networks: Network[];
  /** Networks with a version but no chosen account (kept from the stored item). */
  unposted: Network[];
  form: ComposerForm;
  onChange: (network: Network, change: Partial<VariantDraft>) => void;
  onUseShared: (network: Network) => void;
  onRemove: (network: Network) => void;
}) {
  const base = useId();
  const [chosen, setChosen] = useState<Network>(networks[0]!);
  const active = networks.includes(chosen) ? chosen : networks[0]!;
  const tabs = useRef(new Map<Network, HTMLButtonElement>());
  const onKey = (e: KeyboardEvent) => {
    const i = networks.indexOf(active);
    const moves: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: networks.length - 1 };
    const to = moves[e.key];
    const next = to === undefined ? undefined : networks[(to + networks.length) % networks.length];
    if (!next) return;
    e.preventDefault();
    setChosen(next);
    tabs.current.get(next)?.focus();
  };
  const problems = useMemo(() => new Map(networks.map((n) => [n, variantProblems(n, variantFields(form, n))])), [networks, form]);
  const draft = form.variants[active] ?? emptyVariant();
  const fields = variantFields(form, active);
  const info = lengthInfo(active, fields);
  const name = NETWORK_NAMES[active];
  const own = draft.text !== null;
  const activeProblems = problems.get(active) ?? [];
  return (
    <div className="pub-variants">
      <h3 id={`${base}-title`}>Versions per network</h3>
      <div role="tablist" aria-labelledby={`${base}-title`} className="tabs pub-tabs" onKeyDown={onKey}>
        {networks.map((n) => {
          const bad = (problems.get(n) ?? []).length > 0;
          return (
            <button
              key={n}
              type="button"
              role="tab"
              id={`${base}-tab-${n}`}
              aria-selected={n === active}
              aria-controls={`${base}-panel`}
              tabIndex={n === active ? 0 : -1}
              ref={(el) => {
                if (el) tabs.current.set(n, el);
                else tabs.current.delete(n);
              }}
              onClick={() => setChosen(n)}
            >
              <NetworkTag network={n} decorative /> {NETWORK_NAMES[n]}
              {bad && <span className="pub-tab-warning"> (needs a fix)</span>}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${active}`} className="pub-tabpanel">
        {unposted.includes(active) && (
          <p className="notice notice-info small">
            No chosen account is on {name}: this version is kept with the post but nothing is posted there.{" "}
            <button type="button" className="link" onClick={() => onRemove(active)}>
              Remove the {name} version
            </button>
          </p>
        )}
        <div className="field">
          <label htmlFor={`${base}-own`}>{name} version</label>
          <textarea
            id={`${base}-own`}
            rows={5}
            value={fields.text}
            aria-describedby={`${base}-counter ${base}-own-hint`}
            aria-invalid={info.over > 0 || undefined}
            onChange={(e) => onChange(active, { text: e.target.value })}
          />
          <small id={`${base}-own-hint`} className="muted">
            {own ? `Edited for ${name}.` : `The shared text; edit it here to change it for ${name} only.`}
            {own && (
              <>
                {" "}
                <button type="button" className="link" onClick={() => onUseShared(active)}>
                  Use the shared text
                </button>
              </>
            )}
          </small>
          <small id={`${base}-counter`} className={info.over ? "pub-counter pub-counter-over" : "pub-counter"} aria-live="polite">
            {counterText(info)}
            {info.what === "caption" ? " (a caption: Telegram allows less text with media)" : ""}
          </small>
        </div>
        {active === "reddit" && (
          <Field label="Reddit headline" hint="Reddit posts need one (up to 300 characters).">
            {(props) => <input {...props} value={draft.title} onChange={(e) => onChange(active, { title: e.target.value })} />}
          </Field>
        )}
        <Field label="Link" hint={`On X, Telegram, Mastodon and YouTube it is added to the end of the text; elsewhere it shows as a link card.`}>
          {(props) => <input {...props} type="url" value={draft.link} onChange={(e) => onChange(active, { link: e.target.value })} />}
        </Field>
        <Field label="Images and videos" hint="One web address (https://…) per line.">
          {(props) => <textarea {...props} rows={2} value={draft.media} onChange={(e) => onChange(active, { media: e.target.value })} />}
        </Field>
        {activeProblems.length > 0 && (
          <ul className="pub-problems">
            {activeProblems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

function Deliveries({ content, accounts, zone }: { content: Content; accounts: Account[]; zone: string }) {
  const names = new Map(accounts.map((a) => [a.id, a.name]));
  return (
    <section aria-labelledby="pub-deliveries-title">
      <h3 id="pub-deliveries-title">Per account</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">Network</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(content.deliveries).map(([accountId, d]) => (
            <tr key={accountId}>
              <td>{names.get(accountId) ?? accountId}</td>
              <td>{d.network ? networkName(d.network) : "—"}</td>
              <td>
                {DELIVERY_WORDS[d.state] ?? d.state}
                {d.state === "published" && d.url && (
                  <>
                    {" "}
                    <a href={d.url} target="_blank" rel="noreferrer">
                      View the post
                    </a>
                  </>
                )}
                {d.state === "waiting" && d.next_attempt_ms ? ` (next attempt ${formatDateTime(d.next_attempt_ms, zone)})` : ""}
                {d.state === "failed" && d.error ? `: ${String(d.error.message ?? d.error.code ?? "")}` : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
