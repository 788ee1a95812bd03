// The signed-in user's own settings: the time zone times are shown in, and their password.
import { useId, useRef, useState, type FormEvent } from "react";
import { ApiProblem, consoleApi, ok } from "../../api/client";
import { useMe, useSession } from "../../app/session";
import { ErrorNotice, Field } from "../../components/ui";
import { formatDateTime, setTimeZone, timeZone } from "../../lib/time";
import { ErrorSummary, FormFields } from "./FormKit";
import { initialValues, readForm, type Errors, type FormValues } from "./formkit";
import { ownPasswordCheck, ownPasswordError, ownPasswordLayout, timeZoneOptions } from "./usersForms";

function supportedZones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function TimeZoneForm() {
  const { refresh } = useSession();
  // lib/time keeps the choice; a zone equal to the browser's reads as "Browser default".
  const stored = timeZone() === browserZone() ? "" : timeZone();
  const [zone, setZone] = useState(stored);
  const [status, setStatus] = useState("");
  const zones = timeZoneOptions(supportedZones(), stored || undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTimeZone(zone || null);
    const now = timeZone();
    setStatus(`Times now show in ${now}${zone ? "" : " (the browser's zone)"}: it is ${formatDateTime(Date.now(), now)} there.`);
    // Re-read the session so the whole console re-renders in the new zone (the top bar shows it).
    void refresh();
  };
  return (
    <form onSubmit={submit} className="card settings-editor">
      <h3>Time zone</h3>
      <p className="muted small">Every time in the console is shown in this zone. It is kept in this browser.</p>
      <Field label="Time zone" hint={`Browser default is ${browserZone()}.`}>
        {(p) => (
          <select {...p} value={zone} onChange={(e) => setZone(e.target.value)}>
            <option value="">Browser default ({browserZone()})</option>
            {zones.map((z) => (
              <option key={z.value} value={z.value}>
                {z.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" className="primary">
        Save
      </button>
      <p role="status" aria-live="polite" className="settings-status">
        {status}
      </p>
    </form>
  );
}

/** POST /api/auth/password (204): 403 auth.wrong_password, 422 users.weak_password. */
async function changeOwnPassword(current: string, next: string): Promise<void> {
  await ok(consoleApi.POST("/api/auth/password", { body: { current_password: current, new_password: next } }));
}

function PasswordForm() {
  const me = useMe();
  const { refresh } = useSession();
  const layout = ownPasswordLayout();
  const [values, setValues] = useState<FormValues>(() => initialValues(layout));
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setStatus("");
    setFailure(null);
    const { model, errors: found } = readForm(layout, values);
    const all = Object.keys(found).length ? found : ownPasswordCheck(model, me.email);
    setErrors(all);
    setAttempt((n) => n + 1);
    if (Object.keys(all).length) return;
    setBusy(true);
    try {
      await changeOwnPassword(String(model.current_password), String(model.new_password));
      setValues(initialValues(layout));
      setStatus("Your password is changed. Your other sessions were signed out; this one stays signed in.");
    } catch (err) {
      if (err instanceof ApiProblem) {
        if (err.status === 401 && err.code === "auth.required") {
          void refresh();
          return;
        }
        const words = ownPasswordError(err.status, err.code, err.message);
        if (words.field) setErrors({ [words.field]: words.text });
        else setFailure(new Error(words.text));
      } else {
        setFailure(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={formRef} onSubmit={submit} noValidate className="card settings-editor">
      <h3>Password</h3>
      <ErrorSummary errors={errors} layout={layout} formRef={formRef} attempt={attempt} />
      <FormFields
        layout={layout}
        values={values}
        errors={errors}
        disabled={busy}
        onChange={(name, value) => {
          setValues((v) => ({ ...v, [name]: value }));
          if (errors[name]) setErrors(({ [name]: _drop, ...rest }) => rest);
        }}
      />
      <ErrorNotice error={failure} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Changing…" : "Change password"}
      </button>
      <p role="status" aria-live="polite" className="settings-status">
        {status}
      </p>
    </form>
  );
}

export function MyAccountSection() {
  const me = useMe();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="settings-section">
      <h2 id={headingId}>My account</h2>
      <p className="muted settings-intro">
        Signed in as {me.name} ({me.email}); roles: {me.roles.join(", ")}.
      </p>
      <div className="settings-account">
        <TimeZoneForm />
        <PasswordForm />
      </div>
    </section>
  );
}
