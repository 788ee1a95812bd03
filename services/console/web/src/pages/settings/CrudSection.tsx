// A generic settings section: a table of items with an "Add" button, and one edit panel
// (a form built from a layout) with "Save", "Cancel" and "Delete" (confirmed in a dialog).
import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ApiProblem } from "../../api/client";
import { ConfirmDialog } from "../../components/Dialog";
import { Empty, ErrorNotice, Loading, useAction, useResource } from "../../components/ui";
import { ErrorSummary, FormFields, SaveError, WriteReason, WRITE_REASON } from "./FormKit";
import {
  fieldErrorsFromDetails,
  fieldsOf,
  initialValues,
  readForm,
  type Errors,
  type FormValue,
  type FormValues,
  type Layout,
  type Model,
} from "./formkit";

export interface Column<Item> {
  header: string;
  cell(item: Item): ReactNode;
}

export type Mode = "create" | "edit";

export interface FormContext<Item> {
  mode: Mode;
  item?: Item;
  /** The model the form started from (for options that must include the current value). */
  initial: Model;
  values: FormValues;
}

export interface CrudSectionProps<Item> {
  /** The section's heading and the table's accessible name. */
  title: string;
  /** What one item is called, lower case: "routing rule". */
  singular: string;
  intro?: ReactNode;
  /** Loads the items; `deps` (the brand) reload them. */
  load(): Promise<Item[]>;
  deps: unknown[];
  keyOf(item: Item): string;
  nameOf(item: Item): string;
  columns: Column<Item>[];
  layout(ctx: FormContext<Item>): Layout;
  model(item: Item | undefined, items: Item[]): Model;
  /** Rules across fields, beyond each field's own. */
  check?(model: Model, mode: Mode, item?: Item): Errors;
  create?(model: Model): Promise<unknown>;
  update?(item: Item, model: Model): Promise<unknown>;
  remove?(item: Item): Promise<unknown>;
  /** Whether the person may make changes (else controls are disabled with `reason`). */
  canWrite: boolean;
  reason?: ReactNode;
  canDelete?(item: Item): boolean;
  /** Renamed API error locations ("targets.0.target_s") to field names, for 422 details. */
  renameError?(path: string): string | undefined;
  /** Extra buttons of a row (enable, test...). */
  rowActions?(item: Item, tools: RowTools): ReactNode;
  /** Shown in the edit panel under the form (outside it: may hold its own form). */
  extras?(ctx: FormContext<Item>, tools: RowTools): ReactNode;
  /** Called after any change is saved (to refresh lists other sections offer). */
  onChanged?(): void;
  sort?(a: Item, b: Item): number;
  empty: ReactNode;
}

export interface RowTools {
  reload(): Promise<void>;
  announce(text: string): void;
  fail(error: unknown): void;
}

type Editing<Item> = { mode: "create" } | { mode: "edit"; item: Item } | null;

export function CrudSection<Item>(props: CrudSectionProps<Item>) {
  const { title, singular, canWrite } = props;
  const headingId = useId();
  const reasonId = useId();
  const { data, error, loading, reload, setData } = useResource(props.load, props.deps);
  const items = useMemo(() => (data && props.sort ? [...data].sort(props.sort) : (data ?? [])), [data, props.sort]);
  const [editing, setEditing] = useState<Editing<Item>>(null);
  const [values, setValues] = useState<FormValues>({});
  const [initial, setInitial] = useState<Model>({});
  const [errors, setErrors] = useState<Errors>({});
  const [status, setStatus] = useState("");
  const [rowError, setRowError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const save = useAction();
  const removal = useAction();
  const formRef = useRef<HTMLFormElement>(null);
  const panelHeading = useRef<HTMLHeadingElement>(null);
  const sectionHeading = useRef<HTMLHeadingElement>(null);

  // A brand switch shows another brand's items: close what was open.
  useEffect(() => {
    setEditing(null);
    setStatus("");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, props.deps);

  const ctx: FormContext<Item> | null = editing
    ? { mode: editing.mode, item: editing.mode === "edit" ? editing.item : undefined, initial, values }
    : null;
  const layout: Layout = ctx ? props.layout(ctx) : [];

  function open(next: Editing<Item>, list: Item[] = items) {
    save.clear();
    removal.clear();
    setErrors({});
    setStatus("");
    setEditing(next);
    if (!next) {
      sectionHeading.current?.focus();
      return;
    }
    const item = next.mode === "edit" ? next.item : undefined;
    const model = props.model(item, list);
    setInitial(model);
    setValues(initialValues(props.layout({ mode: next.mode, item, initial: model, values: {} }), model));
  }

  useEffect(() => {
    if (editing) panelHeading.current?.focus();
  }, [editing]);

  const tools: RowTools = {
    reload: async () => {
      await reload();
    },
    announce: setStatus,
    fail: setRowError,
  };

  /** After a conflict: read the items again and reopen the one being edited, as it is now. */
  async function reloadAndReopen() {
    const fresh = await props.load().catch((e: unknown) => {
      setRowError(e);
      return null;
    });
    if (!fresh) return;
    setData(fresh);
    if (editing?.mode === "edit") {
      const key = props.keyOf(editing.item);
      const again = fresh.find((i) => props.keyOf(i) === key);
      open(again ? { mode: "edit", item: again } : null, fresh);
      if (!again) setStatus(`The ${singular} was deleted meanwhile.`);
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!editing || !canWrite) return;
    const { model, errors: fieldErrors } = readForm(layout, values);
    const crossErrors = Object.keys(fieldErrors).length ? {} : (props.check?.(model, editing.mode, ctx?.item) ?? {});
    const all = { ...fieldErrors, ...crossErrors };
    setErrors(all);
    setAttempt((n) => n + 1);
    if (Object.keys(all).length) return;
    const label = String(model.name ?? model.id ?? (editing.mode === "edit" ? props.nameOf(editing.item) : ""));
    const done = await save.run(async () => {
      if (editing.mode === "create") await props.create!(model);
      else await props.update!(editing.item, model);
      return true;
    });
    if (done) {
      setEditing(null);
      sectionHeading.current?.focus();
      await reload();
      props.onChanged?.();
      setStatus(editing.mode === "create" ? `Added ${singular} “${label}”.` : `Saved ${singular} “${label}”.`);
    }
  }

  // A 422 from the API: put its messages next to the fields they are about.
  useEffect(() => {
    const problem = save.error;
    if (problem instanceof ApiProblem && problem.status === 422) {
      const names = fieldsOf(layout).map((f) => f.name);
      const mapped = fieldErrorsFromDetails(problem.details, names, props.renameError);
      if (Object.keys(mapped).length) setErrors(mapped);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [save.error]);

  async function confirmDelete() {
    if (editing?.mode !== "edit" || !props.remove) return;
    const item = editing.item;
    const done = await removal.run(async () => {
      await props.remove!(item);
      return true;
    });
    setConfirming(false);
    if (done) {
      setEditing(null);
      sectionHeading.current?.focus();
      await reload();
      props.onChanged?.();
      setStatus(`Deleted ${singular} “${props.nameOf(item)}”.`);
    }
  }

  const change = (name: string, value: FormValue) => {
    setValues((v) => ({ ...v, [name]: value }));
    if (errors[name]) setErrors(({ [name]: _drop, ...rest }) => rest);
  };

  const editingItem = editing?.mode === "edit" ? editing.item : undefined;
  const deletable = editingItem !== undefined && props.remove !== undefined && (props.canDelete?.(editingItem) ?? true);

  return (
    <section aria-labelledby={headingId} className="settings-section">
      <div className="settings-section-head">
        <h2 id={headingId} ref={sectionHeading} tabIndex={-1}>
          {title}
        </h2>
        {props.create && (
          <button
            type="button"
            className="primary"
            disabled={!canWrite}
            aria-describedby={canWrite ? undefined : reasonId}
            onClick={() => open({ mode: "create" })}
          >
            Add
          </button>
        )}
      </div>
      {props.intro && <div className="muted settings-intro">{props.intro}</div>}
      {!canWrite && <WriteReason id={reasonId}>{props.reason ?? WRITE_REASON}</WriteReason>}
      <p role="status" aria-live="polite" className="settings-status">
        {status}
      </p>
      <ErrorNotice error={rowError} />
      {error ? (
        <ErrorNotice error={error} onRetry={() => void reload()} />
      ) : loading && !data ? (
        <Loading what={`Loading ${title.toLowerCase()}`} />
      ) : !items.length ? (
        <Empty>{props.empty}</Empty>
      ) : (
        <div className="settings-table-wrap">
          <table aria-label={title}>
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th key={c.header} scope="col">
                    {c.header}
                  </th>
                ))}
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => {
                const key = props.keyOf(item);
                const name = props.nameOf(item);
                return (
                  <tr key={key} data-testid="settings-row" data-id={key} aria-current={editingItem !== undefined && props.keyOf(editingItem) === key ? "true" : undefined}>
                    {props.columns.map((c, i) =>
                      i === 0 ? (
                        <th key={c.header} scope="row">
                          {c.cell(item)}
                        </th>
                      ) : (
                        <td key={c.header}>{c.cell(item)}</td>
                      ),
                    )}
                    <td className="settings-actions">
                      <button type="button" aria-label={`${canWrite ? "Edit" : "View"} ${name}`} onClick={() => open({ mode: "edit", item })}>
                        {canWrite ? "Edit" : "View"}
                      </button>
                      {props.rowActions?.(item, tools)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {editing && ctx && (
        <section className="card settings-editor" aria-labelledby={`${headingId}-editor`}>
          <h3 id={`${headingId}-editor`} ref={panelHeading} tabIndex={-1}>
            {editing.mode === "create" ? `New ${singular}` : `${canWrite ? "Edit" : "View"} ${singular} “${props.nameOf(editing.item)}”`}
          </h3>
          <form ref={formRef} onSubmit={submit} noValidate>
            <ErrorSummary errors={errors} layout={layout} formRef={formRef} attempt={attempt} />
            <fieldset className="settings-plain" disabled={!canWrite || save.busy}>
              <legend className="sr-only">{editing.mode === "create" ? `New ${singular}` : `${singular} ${props.nameOf(editing.item)}`}</legend>
              <FormFields layout={layout} values={values} errors={errors} onChange={change} />
            </fieldset>
            <SaveError error={save.error} onReload={() => void reloadAndReopen()} />
            <SaveError error={removal.error} onReload={() => void reloadAndReopen()} />
            <div className="row settings-form-actions">
              <button type="submit" className="primary" disabled={!canWrite || save.busy} aria-describedby={canWrite ? undefined : reasonId}>
                {save.busy ? "Saving…" : "Save"}
              </button>
              <button type="button" onClick={() => open(null)}>
                Cancel
              </button>
              {deletable && (
                <button
                  type="button"
                  className="danger settings-delete"
                  disabled={!canWrite || removal.busy}
                  aria-describedby={canWrite ? undefined : reasonId}
                  onClick={() => setConfirming(true)}
                >
                  Delete
                </button>
              )}
            </div>
          </form>
          {props.extras?.(ctx, tools)}
          <ConfirmDialog
            open={confirming}
            title={`Delete ${singular} “${editingItem !== undefined ? props.nameOf(editingItem) : ""}”?`}
            confirmLabel="Delete"
            busy={removal.busy}
            onConfirm={() => void confirmDelete()}
            onCancel={() => setConfirming(false)}
          >
            <p>This cannot be undone.</p>
          </ConfirmDialog>
        </section>
      )}
    </section>
  );
}
