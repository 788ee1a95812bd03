// The settings form kit's React side: inputs for every field type of formkit.ts, an error
// summary that moves to the field, and save errors in words.
import { useEffect, useId, useRef, type ReactNode } from "react";
import { ApiProblem } from "../../api/client";
import { ErrorNotice, Field } from "../../components/ui";
import {
  emptyRow,
  fieldsOf,
  isGroup,
  isVersionConflict,
  toFormValue,
  type Errors,
  type FieldSpec,
  type FormValue,
  type FormValues,
  type Layout,
  type RowsField,
  type RowValues,
  type Scalar,
  type SimpleField,
} from "./formkit";

/** The sentence shown wherever a change needs settings:write. */
export const WRITE_REASON = "Only SMM managers and administrators can change these settings (they need the settings:write permission).";

interface InputProps {
  field: SimpleField;
  value: Scalar;
  error?: string;
  disabled?: boolean;
  /** A stable name for focusing the input from the error summary. */
  inputName: string;
  onChange(value: Scalar): void;
}

function SimpleInput({ field, value, error, disabled, inputName, onChange }: InputProps) {
  const groupId = useId();
  const text = typeof value === "string" ? value : "";
  const locked = disabled || field.readOnly;
  const hintId = `${groupId}-hint`;
  const errorId = `${groupId}-error`;
  const described = [field.hint ? hintId : "", error ? errorId : ""].filter(Boolean).join(" ") || undefined;
  const notes = (
    <>
      {field.hint && (
        <small id={hintId} className="muted">
          {field.hint}
        </small>
      )}
      {error && (
        <small id={errorId} className="field-error">
          {error}
        </small>
      )}
    </>
  );

  if (field.type === "boolean") {
    return (
      <div className="field settings-check">
        <label>
          <input
            type="checkbox"
            name={inputName}
            checked={value === true}
            disabled={locked}
            aria-describedby={described}
            aria-invalid={error ? true : undefined}
            onChange={(e) => onChange(e.target.checked)}
          />{" "}
          {field.label}
        </label>
        {notes}
      </div>
    );
  }
  if (field.type === "multi") {
    const chosen = Array.isArray(value) ? value : [];
    return (
      <fieldset className="field settings-multi" aria-describedby={described} aria-invalid={error ? true : undefined}>
        <legend>
          {field.label}
          {field.required && <span className="sr-only"> (at least one)</span>}
        </legend>
        <div className="settings-multi-options">
          {field.options.map((o, i) => (
            <label key={o.value}>
              <input
                type="checkbox"
                name={i === 0 ? inputName : undefined}
                value={o.value}
                checked={chosen.includes(o.value)}
                disabled={locked}
                onChange={(e) => onChange(e.target.checked ? [...chosen, o.value] : chosen.filter((v) => v !== o.value))}
              />{" "}
              {o.label}
            </label>
          ))}
          {!field.options.length && <span className="muted small">Nothing to choose from yet.</span>}
        </div>
        {notes}
      </fieldset>
    );
  }
  return (
    <Field label={field.label} hint={field.hint} error={error}>
      {(p) => {
        const common = { ...p, name: inputName, disabled: disabled, "aria-required": field.required || undefined };
        const readOnly = field.readOnly;
        switch (field.type) {
          case "textarea":
          case "json":
            return (
              <textarea
                {...common}
                readOnly={readOnly}
                rows={field.type === "textarea" ? (field.rows ?? 4) : 6}
                className={field.type === "json" ? "settings-code" : undefined}
                spellCheck={field.type === "json" ? false : undefined}
                value={text}
                onChange={(e) => onChange(e.target.value)}
              />
            );
          case "list":
            return field.separator === "line" ? (
              <textarea {...common} readOnly={readOnly} rows={3} value={text} onChange={(e) => onChange(e.target.value)} />
            ) : (
              <input {...common} readOnly={readOnly} type="text" value={text} onChange={(e) => onChange(e.target.value)} />
            );
          case "select":
          case "tristate": {
            const opts =
              field.type === "tristate"
                ? [
                    { value: "", label: field.either },
                    { value: "true", label: field.yes },
                    { value: "false", label: field.no },
                  ]
                : [
                    ...(field.empty !== undefined || !text ? [{ value: "", label: field.empty !== undefined ? (field.emptyLabel ?? "None") : "Choose…" }] : []),
                    ...field.options,
                  ];
            return (
              <select {...common} disabled={locked} value={text} onChange={(e) => onChange(e.target.value)}>
                {opts.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            );
          }
          case "number":
            return (
              <input
                {...common}
                readOnly={readOnly}
                type="text"
                inputMode="decimal"
                value={text}
                onChange={(e) => onChange(e.target.value)}
                className="settings-number"
              />
            );
          case "duration":
            return (
              <input {...common} readOnly={readOnly} type="text" value={text} placeholder="e.g. 1 h 30 min" onChange={(e) => onChange(e.target.value)} className="settings-duration" />
            );
          default: {
            const listId = field.suggestions?.length ? `${p.id}-list` : undefined;
            return (
              <>
                <input
                  {...common}
                  readOnly={readOnly}
                  type={field.inputType ?? "text"}
                  value={text}
                  placeholder={field.placeholder}
                  autoComplete={field.autoComplete}
                  list={listId}
                  onChange={(e) => onChange(e.target.value)}
                />
                {listId && (
                  <datalist id={listId}>
                    {field.suggestions!.map((s) => (
                      <option key={s} value={s} />
                    ))}
                  </datalist>
                )}
              </>
            );
          }
        }
      }}
    </Field>
  );
}

function RowsInput({ field, value, errors, disabled, onChange }: {
  field: RowsField;
  value: RowValues[];
  errors: Errors;
  disabled?: boolean;
  onChange(rows: RowValues[]): void;
}) {
  const noun = field.itemName.charAt(0).toUpperCase() + field.itemName.slice(1);
  const full = field.max !== undefined && value.length >= field.max;
  return (
    <fieldset className="field settings-rows">
      <legend>{field.label}</legend>
      {field.hint && <small className="muted">{field.hint}</small>}
      {value.map((row, index) => (
        <fieldset key={index} className="settings-row" data-testid="settings-form-row">
          <legend>
            {noun} {index + 1}
          </legend>
          {field.fields.map((sub) => (
            <SimpleInput
              key={sub.name}
              field={sub}
              inputName={`${field.name}.${index}.${sub.name}`}
              value={row[sub.name] ?? (toFormValue(sub, sub.default) as Scalar)}
              error={errors[`${field.name}.${index}.${sub.name}`]}
              disabled={disabled}
              onChange={(v) => onChange(value.map((r, i) => (i === index ? { ...r, [sub.name]: v } : r)))}
            />
          ))}
          <button type="button" className="link" disabled={disabled} onClick={() => onChange(value.filter((_, i) => i !== index))}>
            Remove {field.itemName} {index + 1}
          </button>
        </fieldset>
      ))}
      {errors[field.name] && <small className="field-error">{errors[field.name]}</small>}
      <div>
        <button type="button" name={field.name} disabled={disabled || full} onClick={() => onChange([...value, emptyRow(field)])}>
          Another {field.itemName}
        </button>
      </div>
    </fieldset>
  );
}

function FieldInput({ field, values, errors, disabled, onChange }: {
  field: FieldSpec;
  values: FormValues;
  errors: Errors;
  disabled?: boolean;
  onChange(name: string, value: FormValue): void;
}) {
  const value = values[field.name] ?? toFormValue(field, field.default);
  if (field.type === "rows") {
    return (
      <RowsInput
        field={field}
        value={Array.isArray(value) ? (value as unknown[]).filter((r): r is RowValues => typeof r === "object" && r !== null) : []}
        errors={errors}
        disabled={disabled}
        onChange={(rows) => onChange(field.name, rows)}
      />
    );
  }
  return (
    <SimpleInput
      field={field}
      inputName={field.name}
      value={value as Scalar}
      error={errors[field.name]}
      disabled={disabled}
      onChange={(v) => onChange(field.name, v)}
    />
  );
}

/** Every field of a layout, groups as fieldsets. */
export function FormFields({ layout, values, errors, disabled, onChange }: {
  layout: Layout;
  values: FormValues;
  errors: Errors;
  disabled?: boolean;
  onChange(name: string, value: FormValue): void;
}) {
  return (
    <>
      {layout.map((item, i) =>
        isGroup(item) ? (
          <fieldset key={`group-${i}`} className="settings-group">
            <legend>{item.group}</legend>
            {item.hint && <p className="muted small settings-group-hint">{item.hint}</p>}
            <div className="settings-group-fields">
              {item.fields.map((f) => (
                <FieldInput key={f.name} field={f} values={values} errors={errors} disabled={disabled} onChange={onChange} />
              ))}
            </div>
          </fieldset>
        ) : (
          <FieldInput key={item.name} field={item} values={values} errors={errors} disabled={disabled} onChange={onChange} />
        ),
      )}
    </>
  );
}

/**
 * "2 problems to correct" with a button per problem that moves to its field. It takes the
 * focus after each save attempt (`attempt` changes), never while the person types.
 */
export function ErrorSummary({ errors, layout, formRef, attempt }: {
  errors: Errors;
  layout: Layout;
  formRef: React.RefObject<HTMLElement | null>;
  attempt: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const entries = Object.entries(errors);
  const count = entries.length;
  const countRef = useRef(count);
  countRef.current = count;
  useEffect(() => {
    if (attempt && countRef.current) ref.current?.focus();
  }, [attempt]);
  if (!count) return null;
  const order = fieldsOf(layout).map((f) => f.name);
  const rank = (key: string) => {
    const i = order.findIndex((n) => key === n || key.startsWith(`${n}.`));
    return i < 0 ? order.length : i;
  };
  entries.sort((a, b) => rank(a[0]) - rank(b[0]));
  const focus = (name: string) => {
    const el = formRef.current?.querySelector<HTMLElement>(`[name="${CSS.escape(name)}"]`);
    el?.focus();
  };
  return (
    <div ref={ref} tabIndex={-1} role="alert" className="notice notice-error settings-summary">
      <strong>
        {count === 1 ? "1 problem" : `${count} problems`} to correct before saving:
      </strong>
      <ul>
        {entries.map(([name, message]) => (
          <li key={name}>
            <button type="button" className="link" onClick={() => focus(name)}>
              {message}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A failed save in words; a version conflict offers to reload. */
export function SaveError({ error, onReload }: { error: unknown; onReload?: () => void }) {
  if (!error) return null;
  if (error instanceof ApiProblem && isVersionConflict(error.status, error.code)) {
    return (
      <div className="notice notice-error" role="alert">
        <strong>Someone changed it meanwhile: reload.</strong>{" "}
        <span>Your changes were not saved. Reload to see the latest version, then make them again.</span>{" "}
        {onReload && (
          <button type="button" onClick={onReload}>
            Reload
          </button>
        )}
      </div>
    );
  }
  if (error instanceof ApiProblem && error.status === 409) {
    // Not a stale version: it exists already, or the change is refused as it stands.
    return (
      <div className="notice notice-error" role="alert">
        <strong>{error.message}</strong>{" "}
        <span>{/exists|taken/.test(error.code) ? "Choose another id, or edit the existing one." : "Nothing was changed."}</span>
      </div>
    );
  }
  return <ErrorNotice error={error} />;
}

/** Why the controls are disabled, referenced by them with aria-describedby. */
export function WriteReason({ id, children = WRITE_REASON }: { id: string; children?: ReactNode }) {
  return (
    <p id={id} className="notice notice-info settings-reason">
      {children}
    </p>
  );
}
