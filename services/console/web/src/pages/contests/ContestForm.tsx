// "New contest" and "Edit contest" (drafts only): every field the API takes, with hints,
// checks before sending and the API's refusals shown on their fields in words.
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiProblem } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { ErrorNotice, Field, Loading, PageHeader, useResource } from "../../components/ui";
import { NETWORK_NAMES, NETWORKS, isNetwork, networkName, type Network } from "../../lib/networks";
import { timeZone } from "../../lib/time";
import { zoneLabel } from "../../lib/zoned";
import { createContest, getContest, publishedPosts, replaceContest } from "./api";
import {
  contestName,
  emptyForm,
  FIELD_LABELS,
  formFromContest,
  formProblem,
  formToBody,
  LIMITS,
  METHOD_WORDS,
  METHODS,
  POLICY_WORDS,
  validateForm,
  type Contest,
  type ContestForm,
  type FieldErrors,
  type FormField,
  type Method,
  type Policy,
} from "./contests";

export function ContestFormPage() {
  const { id } = useParams();
  const { can } = useSession();
  const existing = useResource(async () => (id ? getContest(id) : null), [id]);
  const title = id ? "Edit contest" : "New contest";
  if (!can("content:write")) {
    return (
      <section className="contests">
        <PageHeader title={title} />
        <p>Your role cannot set up contests (it needs content:write). Ask an SMM manager or an admin.</p>
        <Link to={id ? `/contests/${id}` : "/contests"}>Back</Link>
      </section>
    );
  }
  if (id && existing.error) {
    return (
      <section className="contests">
        <PageHeader title={title} />
        <ErrorNotice error={existing.error} onRetry={() => void existing.reload()} />
      </section>
    );
  }
  if (id && !existing.data) return <Loading what="Loading the contest" />;
  const contest = existing.data ?? null;
  if (contest && contest.status !== "draft") {
    return (
      <section className="contests">
        <PageHeader title={title} />
        <p role="status">
          “{contestName(contest)}” is no longer a draft: its rules are fixed once it opens, so everyone enters under
          the same rules.
        </p>
        <Link to={`/contests/${contest.id}`}>Back to the contest</Link>
      </section>
    );
  }
  return <ContestEditor key={contest?.id ?? "new"} contest={contest} onReload={() => void existing.reload()} />;
}

function ContestEditor({ contest, onReload }: { contest: Contest | null; onReload: () => void }) {
  const brand = useBrand();
  const navigate = useNavigate();
  const zone = timeZone();
  const [form, setForm] = useState<ContestForm>(() => (contest ? formFromContest(contest, zone) : emptyForm(Date.now(), zone)));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [summary, setSummary] = useState("");
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const focusInvalid = useRef(false);

  useEffect(() => {
    if (focusInvalid.current) {
      focusInvalid.current = false;
      formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    }
  }, [errors]);

  const set = <K extends FormField>(field: K, value: ContestForm[K]) => {
    setForm((f) => ({ ...f, [field]: value }));
    if (errors[field]) setErrors(({ [field]: _, ...rest }) => rest);
  };

  const showErrors = (found: FieldErrors, general: unknown) => {
    const n = Object.keys(found).length;
    setSummary(
      n ? `${n === 1 ? "One field needs" : `${n} fields need`} correcting: ${Object.keys(found).map((f) => FIELD_LABELS[f as FormField]).join(", ")}.` : "",
    );
    focusInvalid.current = n > 0;
    setErrors(found);
    setProblem(general);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validateForm(form, zone);
    if (Object.keys(found).length) return showErrors(found, null);
    setBusy(true);
    setProblem(null);
    try {
      const body = formToBody(form, brand, zone);
      const saved = contest ? await replaceContest(contest.id, body, contest.version) : await createContest(body);
      navigate(`/contests/${saved.id}`);
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 422) {
        const mapped = formProblem(err);
        showErrors(mapped.fields, mapped.general ? new ApiProblem(422, err.code, mapped.general, err.nextStep) : null);
      } else {
        setSummary("");
        setProblem(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const zoneHint = `In your time zone, ${zoneLabel(zone)}.`;
  const hashtagOn = form.methods.includes("hashtag");

  return (
    <section className="contests">
      <PageHeader title={contest ? `Edit “${contestName(contest)}”` : "New contest"} />
      <p className="muted">
        A contest runs on one of the brand's posts. Its rules can be changed while it is a draft; once opened they
        are fixed and the draw's commitment is published.
      </p>
      <form ref={formRef} className="contests-form" onSubmit={(e) => void submit(e)} noValidate>
        <div role="alert" className={summary ? "notice notice-error" : "sr-only"}>
          {summary}
        </div>

        <fieldset className="card">
          <legend>The contest</legend>
          <Field label="Name" hint="Shown in the console and in the announcement. Optional." error={errors.title}>
            {(p) => (
              <input {...p} value={form.title} maxLength={LIMITS.title} onChange={(e) => set("title", e.target.value)} />
            )}
          </Field>
          <PostPicker
            brand={brand}
            onPick={(network, nativeId) => {
              set("network", network);
              set("post_native_id", nativeId);
            }}
          />
          <Field label="Network" hint="Where the contest post is; entries from other networks do not count." error={errors.network}>
            {(p) => (
              <select {...p} value={form.network} onChange={(e) => set("network", e.target.value as Network | "")}>
                <option value="">Choose a network</option>
                {NETWORKS.map((n) => (
                  <option key={n} value={n}>
                    {NETWORK_NAMES[n]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Post id"
            hint="The post's id on its network, as in its address (e.g. the number at the end of an X post's link)."
            error={errors.post_native_id}
          >
            {(p) => (
              <input {...p} className="contests-mono" value={form.post_native_id} maxLength={LIMITS.nativeId}
                onChange={(e) => set("post_native_id", e.target.value)} />
            )}
          </Field>
          <Field
            label="Comment thread id"
            hint="Only where comments live in a thread apart from the post (e.g. a Telegram channel post's discussion). Leave empty otherwise."
            error={errors.thread_native_id}
          >
            {(p) => (
              <input {...p} className="contests-mono" value={form.thread_native_id} maxLength={LIMITS.nativeId}
                onChange={(e) => set("thread_native_id", e.target.value)} />
            )}
          </Field>
        </fieldset>

        <fieldset className="card">
          <legend>When entries count</legend>
          <div className="contests-two">
            <Field label="Entries open" hint={`Entries made from this moment count. ${zoneHint}`} error={errors.opens_at}>
              {(p) => <input {...p} type="datetime-local" value={form.opens_at} onChange={(e) => set("opens_at", e.target.value)} />}
            </Field>
            <Field label="Entries close" hint={`Entries made from this moment on do not count. ${zoneHint}`} error={errors.closes_at}>
              {(p) => <input {...p} type="datetime-local" value={form.closes_at} onChange={(e) => set("closes_at", e.target.value)} />}
            </Field>
          </div>
          <p className="muted small">
            The time that counts is the network's own timestamp of the entry, so an entry that reaches us late still
            counts if it was made in time.
          </p>
        </fieldset>

        <fieldset className="card" aria-describedby={errors.methods ? "contests-methods-error" : undefined}>
          <legend>Ways to enter (any of them counts)</legend>
          {METHODS.map((m) => (
            <div key={m} className="contests-check">
              <input
                type="checkbox"
                id={`contests-method-${m}`}
                checked={form.methods.includes(m)}
                aria-invalid={errors.methods ? true : undefined}
                aria-describedby={`contests-method-${m}-hint`}
                onChange={(e) =>
                  set("methods", e.target.checked ? [...form.methods, m] : form.methods.filter((x: Method) => x !== m))
                }
              />
              <label htmlFor={`contests-method-${m}`}>{METHOD_WORDS[m].label}</label>
              <small id={`contests-method-${m}-hint`} className="muted">
                {METHOD_WORDS[m].hint}
              </small>
            </div>
          ))}
          {errors.methods && (
            <small id="contests-methods-error" className="field-error">
              {errors.methods}
            </small>
          )}
          <Field
            label={hashtagOn ? "Hashtag" : "Hashtag (only for entering with the hashtag)"}
            hint="With or without #; letters, digits and _ only. #AcmeGiveaway also matches #acmegiveaway, not #AcmeGiveaway2."
            error={errors.hashtag}
          >
            {(p) => (
              <input {...p} value={form.hashtag} maxLength={LIMITS.hashtag + 1} disabled={!hashtagOn}
                placeholder="#AcmeGiveaway" onChange={(e) => set("hashtag", e.target.value)} />
            )}
          </Field>
        </fieldset>

        <fieldset className="card">
          <legend>Who may win</legend>
          <Field
            label="Number of winners"
            hint={`1 to ${LIMITS.winners}. One entry per author; if fewer people enter than there are prizes, everyone eligible wins.`}
            error={errors.winner_count}
          >
            {(p) => (
              <input {...p} type="number" inputMode="numeric" min={1} max={LIMITS.winners} step={1}
                value={form.winner_count} onChange={(e) => set("winner_count", e.target.value)} />
            )}
          </Field>
          <div className="contests-two">
            <Field label="Minimum followers" hint="0 for no minimum." error={errors.min_followers}>
              {(p) => (
                <input {...p} type="number" inputMode="numeric" min={0} step={1} value={form.min_followers}
                  onChange={(e) => set("min_followers", e.target.value)} />
              )}
            </Field>
            <PolicyChoice
              name="unknown_followers"
              legend="Where the network does not tell followers"
              hint="Telegram and Reddit comments never tell them."
              value={form.unknown_followers}
              onChange={(v) => set("unknown_followers", v)}
            />
          </div>
          <div className="contests-two">
            <Field label="Minimum account age (days)" hint="0 for no minimum. Age is counted at the time of entering." error={errors.min_account_age_days}>
              {(p) => (
                <input {...p} type="number" inputMode="numeric" min={0} max={LIMITS.accountAgeDays} step={1}
                  value={form.min_account_age_days} onChange={(e) => set("min_account_age_days", e.target.value)} />
              )}
            </Field>
            <PolicyChoice
              name="unknown_account_age"
              legend="Where the network does not tell account age"
              hint="No network tells it yet, so with a minimum this choice decides for everyone."
              value={form.unknown_account_age}
              onChange={(v) => set("unknown_account_age", v)}
            />
          </div>
        </fieldset>

        <fieldset className="card">
          <legend>Exclusions</legend>
          <div className="contests-two">
            <Field
              label="Blocked authors"
              hint="One author id or @handle per line (or separated by commas). Handles match in any letter case."
              error={errors.blocked}
            >
              {(p) => <textarea {...p} value={form.blocked} onChange={(e) => set("blocked", e.target.value)} />}
            </Field>
            <Field
              label="Employees"
              hint="Employees may not enter: one author id or @handle per line (or separated by commas)."
              error={errors.employees}
            >
              {(p) => <textarea {...p} value={form.employees} onChange={(e) => set("employees", e.target.value)} />}
            </Field>
          </div>
        </fieldset>

        {problem ? <ErrorNotice error={problem} onRetry={problem instanceof ApiProblem && problem.status === 409 ? onReload : undefined} /> : null}
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Saving…" : contest ? "Save changes" : "Create draft"}
          </button>
          <Link to={contest ? `/contests/${contest.id}` : "/contests"}>Cancel</Link>
        </div>
      </form>
    </section>
  );
}

function PolicyChoice({ name, legend, hint, value, onChange }: {
  name: string;
  legend: string;
  hint: string;
  value: Policy;
  onChange: (value: Policy) => void;
}) {
  return (
    <fieldset className="contests-policy" aria-describedby={`contests-${name}-hint`}>
      <legend>{legend}</legend>
      {(["accept", "reject"] as const).map((p) => (
        <label key={p} className="contests-radio">
          <input type="radio" name={name} value={p} checked={value === p} onChange={() => onChange(p)} /> {POLICY_WORDS[p]}
        </label>
      ))}
      <small id={`contests-${name}-hint`} className="muted">
        {hint}
      </small>
    </fieldset>
  );
}

/** Fill network and post id from one of the brand's published posts (optional). */
function PostPicker({ brand, onPick }: { brand: string; onPick: (network: Network, nativeId: string) => void }) {
  const { data, error } = useResource(() => publishedPosts(brand), [brand]);
  const posts = useMemo(
    () => (data ?? []).filter((p) => isNetwork(p.network)),
    [data],
  );
  if (error || posts.length === 0) return null;
  return (
    <Field label="Pick a published post" hint="Optional: fills in the network and the post id below.">
      {(p) => (
        <select
          {...p}
          value=""
          onChange={(e) => {
            const post = posts[Number(e.target.value)];
            if (post) onPick(post.network as Network, post.nativeId);
          }}
        >
          <option value="">Choose one of the brand's published posts</option>
          {posts.map((post, i) => (
            <option key={`${post.network}|${post.nativeId}`} value={i}>
              {(post.title || "Untitled post").slice(0, 60)} · {networkName(post.network)} · {post.nativeId}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
