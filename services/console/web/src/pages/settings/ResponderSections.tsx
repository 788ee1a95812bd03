// The responder's settings: routing rules (with the default rule), SLA policies, business
// hours, departments, escalation rules, canned responses and the brand's configuration.
// Every kind is the same list + form (CrudSection); the forms come from responderForms.ts.
import { useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ok, responder, type ResponderTypes } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { Badge, ErrorNotice, Loading, useAction, useResource } from "../../components/ui";
import { CrudSection, type Column, type FormContext } from "./CrudSection";
import { ErrorSummary, FormFields, SaveError, WriteReason } from "./FormKit";
import { formatMinutes, initialValues, readForm, type Errors, type FormValues, type Layout, type Model } from "./formkit";
import { useLookups } from "./lookups";
import {
  brandConfigBody,
  brandConfigLayout,
  brandConfigModel,
  calendarBody,
  calendarCheck,
  calendarLayout,
  calendarModel,
  cannedBody,
  cannedCheck,
  cannedLayout,
  cannedModel,
  defaultActionsBody,
  departmentBody,
  departmentLayout,
  departmentModel,
  describeActions,
  describeConditions,
  describeTargets,
  describeWeek,
  docId,
  docVersion,
  escalationBody,
  escalationCheck,
  escalationLayout,
  escalationModel,
  isDefaultRule,
  METRIC_LABELS,
  nextPosition,
  NO_LOOKUPS,
  routingRuleBody,
  routingRuleCheck,
  routingRuleLayout,
  routingRuleModel,
  slaPolicyBody,
  slaPolicyCheck,
  slaPolicyLayout,
  slaPolicyModel,
  type Doc,
  type Lookups,
} from "./responderForms";

type S = ResponderTypes["schemas"];

interface KindApi<Body> {
  list(brand: string): Promise<Doc[]>;
  create(body: Body): Promise<unknown>;
  replace(id: string, version: number, body: Body): Promise<unknown>;
  remove(id: string, brand: string): Promise<unknown>;
}

const q = (brand: string) => ({ params: { query: { brand_id: brand } } });
const item = (id: string, brand: string) => ({ params: { path: { doc_id: id }, query: { brand_id: brand } } });
const at = (id: string, version: number) => ({ params: { path: { doc_id: id }, query: { version } } });

// One object per kind: openapi-fetch types each literal path, so they are spelled out.
const ROUTING: KindApi<S["RoutingRuleIn"]> = {
  list: (b) => ok(responder.GET("/v1/routing-rules", q(b))),
  create: (body) => ok(responder.POST("/v1/routing-rules", { body })),
  replace: (id, v, body) => ok(responder.PUT("/v1/routing-rules/{doc_id}", { ...at(id, v), body })),
  remove: (id, b) => ok(responder.DELETE("/v1/routing-rules/{doc_id}", item(id, b))),
};
const SLA: KindApi<S["SlaPolicyIn"]> = {
  list: (b) => ok(responder.GET("/v1/sla-policies", q(b))),
  create: (body) => ok(responder.POST("/v1/sla-policies", { body })),
  replace: (id, v, body) => ok(responder.PUT("/v1/sla-policies/{doc_id}", { ...at(id, v), body })),
  remove: (id, b) => ok(responder.DELETE("/v1/sla-policies/{doc_id}", item(id, b))),
};
const CALENDARS: KindApi<S["CalendarIn"]> = {
  list: (b) => ok(responder.GET("/v1/calendars", q(b))),
  create: (body) => ok(responder.POST("/v1/calendars", { body })),
  replace: (id, v, body) => ok(responder.PUT("/v1/calendars/{doc_id}", { ...at(id, v), body })),
  remove: (id, b) => ok(responder.DELETE("/v1/calendars/{doc_id}", item(id, b))),
};
const DEPARTMENTS: KindApi<S["DepartmentIn"]> = {
  list: (b) => ok(responder.GET("/v1/departments", q(b))),
  create: (body) => ok(responder.POST("/v1/departments", { body })),
  replace: (id, v, body) => ok(responder.PUT("/v1/departments/{doc_id}", { ...at(id, v), body })),
  remove: (id, b) => ok(responder.DELETE("/v1/departments/{doc_id}", item(id, b))),
};
const ESCALATIONS: KindApi<S["EscalationRuleIn"]> = {
  list: (b) => ok(responder.GET("/v1/escalation-rules", q(b))),
  create: (body) => ok(responder.POST("/v1/escalation-rules", { body })),
  replace: (id, v, body) => ok(responder.PUT("/v1/escalation-rules/{doc_id}", { ...at(id, v), body })),
  remove: (id, b) => ok(responder.DELETE("/v1/escalation-rules/{doc_id}", item(id, b))),
};
const CANNED: KindApi<S["CannedResponseIn"]> = {
  list: (b) => ok(responder.GET("/v1/canned-responses", q(b))),
  create: (body) => ok(responder.POST("/v1/canned-responses", { body })),
  replace: (id, v, body) => ok(responder.PUT("/v1/canned-responses/{doc_id}", { ...at(id, v), body })),
  remove: (id, b) => ok(responder.DELETE("/v1/canned-responses/{doc_id}", item(id, b))),
};

const byName = (a: Doc, b: Doc) => String(a.name ?? "").localeCompare(String(b.name ?? ""));
const byPosition = (a: Doc, b: Doc) => Number(a.position ?? 0) - Number(b.position ?? 0) || byName(a, b);
const nameOf = (d: Doc) => String(d.name ?? docId(d));
const label = (options: { value: string; label: string }[], value: unknown, none: string) =>
  typeof value === "string" && value ? (options.find((o) => o.value === value)?.label ?? value) : none;

function useCanWrite(): boolean {
  return useSession().can("settings:write");
}

/** One responder settings kind as a list + form section. */
function DocSection<Body>(props: {
  title: string;
  singular: string;
  intro?: ReactNode;
  api: KindApi<Body>;
  columns: Column<Doc>[];
  layout(ctx: FormContext<Doc>, lookups: Lookups): Layout;
  model(doc: Doc | undefined, docs: Doc[]): Model;
  check?(model: Model): Errors;
  body(model: Model, brand: string): Body;
  sort?(a: Doc, b: Doc): number;
  empty: ReactNode;
  /** Whether other forms offer this kind as a choice (refresh them after a change). */
  isLookup?: boolean;
  renameError?(path: string): string | undefined;
}) {
  const brand = useBrand();
  const canWrite = useCanWrite();
  const { lookups, refresh } = useLookups();
  return (
    <CrudSection<Doc>
      title={props.title}
      singular={props.singular}
      intro={props.intro}
      load={() => props.api.list(brand)}
      deps={[brand]}
      keyOf={docId}
      nameOf={nameOf}
      columns={props.columns}
      layout={(ctx) => props.layout(ctx, lookups)}
      model={props.model}
      check={props.check}
      create={(model) => props.api.create(props.body(model, brand))}
      update={(doc, model) => props.api.replace(docId(doc), docVersion(doc), props.body(model, brand))}
      remove={(doc) => props.api.remove(docId(doc), brand)}
      canWrite={canWrite}
      sort={props.sort ?? byName}
      empty={props.empty}
      onChanged={props.isLookup ? refresh : undefined}
      renameError={props.renameError}
    />
  );
}

// --- routing rules -------------------------------------------------------------------------

/** A listed rule, or the brand's default rule (shown last; only its actions change). */
type RuleRow = Doc & { __default?: true };

export function RoutingRulesSection() {
  const brand = useBrand();
  const canWrite = useCanWrite();
  const { lookups } = useLookups();
  const load = async (): Promise<RuleRow[]> => {
    const [rules, fallback] = await Promise.all([
      ROUTING.list(brand),
      ok(responder.GET("/v1/routing-rules/default/current", q(brand))).catch(() => null),
    ]);
    const own: RuleRow[] = rules.filter((r) => !isDefaultRule(r, brand)).sort(byPosition);
    return fallback ? [...own, { ...fallback, __default: true }] : own;
  };
  const columns: Column<RuleRow>[] = [
    { header: "Name", cell: (r) => (r.__default ? "Default (catch-all)" : nameOf(r)) },
    { header: "Position", cell: (r) => (r.__default ? "Last" : String(r.position ?? "")) },
    {
      header: "Status",
      cell: (r) => (r.enabled === false ? <Badge tone="neutral">Disabled</Badge> : <Badge tone="ok">Enabled</Badge>),
    },
    { header: "When", cell: (r) => (r.__default ? "No other rule matched" : describeConditions(r.conditions)) },
    { header: "Then", cell: (r) => describeActions(r.actions) },
  ];
  return (
    <CrudSection<RuleRow>
      title="Routing rules"
      singular="routing rule"
      intro="A new case gets the actions of the first enabled rule, by position, whose conditions all hold; the default rule catches the rest."
      load={load}
      deps={[brand]}
      keyOf={(r) => (r.__default ? "default" : docId(r))}
      nameOf={(r) => (r.__default ? "Default" : nameOf(r))}
      columns={columns}
      layout={(ctx) => routingRuleLayout(lookups, ctx.initial, ctx.item?.__default === true)}
      model={(r, rows) => (r ? routingRuleModel(r) : routingRuleModel(undefined, nextPosition(rows.filter((x) => !x.__default))))}
      check={routingRuleCheck}
      create={(model) => ROUTING.create(routingRuleBody(model, brand))}
      update={(r, model) =>
        r.__default
          ? ok(responder.PUT("/v1/routing-rules/default/current", { body: defaultActionsBody(model, brand) }))
          : ROUTING.replace(docId(r), docVersion(r), routingRuleBody(model, brand))
      }
      remove={(r) => ROUTING.remove(docId(r), brand)}
      canDelete={(r) => !r.__default}
      canWrite={canWrite}
      empty="No routing rules."
    />
  );
}

// --- SLA policies, calendars, departments ----------------------------------------------------

export function SlaPoliciesSection() {
  const { lookups } = useLookups();
  return (
    <DocSection
      title="SLA policies"
      singular="SLA policy"
      intro="How long the team has to answer and resolve, counted in business hours. Routing rules, departments or the brand's configuration choose the policy of a case."
      api={SLA}
      isLookup
      columns={[
        { header: "Name", cell: nameOf },
        { header: "Targets", cell: (d) => describeTargets(d.targets) },
        { header: "Business hours", cell: (d) => label(lookups.calendars, d.calendar_id, "The brand's") },
        { header: "Waiting for the customer", cell: (d) => (d.pause_when_pending_customer === false ? "Clock runs" : "Clock pauses") },
      ]}
      layout={(ctx, lk) => slaPolicyLayout(lk, ctx.initial)}
      model={(d) => slaPolicyModel(d)}
      check={slaPolicyCheck}
      body={slaPolicyBody}
      empty="No SLA policies: cases have no deadlines."
      renameError={(path) => {
        const m = /^targets\.(\d+)\.(\w+)$/.exec(path);
        return m ? undefined : path;
      }}
    />
  );
}

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

export function CalendarsSection() {
  const zones = timeZones();
  return (
    <DocSection
      title="Business hours"
      singular="business-hours calendar"
      intro="When a team works: SLA targets count only this time. Holidays come from the country's public holidays, plus dates of your own."
      api={CALENDARS}
      isLookup
      columns={[
        { header: "Name", cell: nameOf },
        { header: "Time zone", cell: (d) => String(d.time_zone ?? "") },
        { header: "Hours", cell: (d) => describeWeek(d) },
        {
          header: "Holidays",
          cell: (d) => (d.holidays_country ? `${String(d.holidays_country)}${d.holidays_subdivision ? `-${String(d.holidays_subdivision)}` : ""}` : "None"),
        },
      ]}
      layout={() => calendarLayout(zones)}
      model={(d) => calendarModel(d)}
      check={calendarCheck}
      body={calendarBody}
      empty="No calendars: SLA clocks run around the clock."
    />
  );
}

export function DepartmentsSection() {
  const { lookups } = useLookups();
  return (
    <DocSection
      title="Departments"
      singular="department"
      intro="Teams cases are routed to (support, billing, delivery…), and that agents hand questions to."
      api={DEPARTMENTS}
      isLookup
      columns={[
        { header: "Name", cell: nameOf },
        { header: "Id", cell: (d) => <code>{docId(d)}</code> },
        { header: "SLA policy", cell: (d) => label(lookups.slaPolicies, d.sla_policy_id, "As routed") },
        {
          header: "Handoff answer within",
          cell: (d) => (typeof d.response_target_s === "number" ? formatMinutes(d.response_target_s / 60) : "No target"),
        },
      ]}
      layout={(ctx, lk) => departmentLayout(lk, ctx.initial, ctx.mode === "edit")}
      model={(d) => departmentModel(d)}
      body={departmentBody}
      empty="No departments yet."
    />
  );
}

// --- escalation rules and canned responses ---------------------------------------------------

export function EscalationRulesSection() {
  return (
    <DocSection
      title="Escalation rules"
      singular="escalation rule"
      intro="What happens when an SLA warning or breach fires. Every matching rule acts, by position."
      api={ESCALATIONS}
      sort={byPosition}
      columns={[
        { header: "Name", cell: nameOf },
        { header: "When", cell: (d) => (d.trigger === "warning" ? "SLA warning" : "SLA breach") },
        {
          header: "For",
          cell: (d) =>
            [
              Array.isArray(d.metrics) && d.metrics.length ? d.metrics.map((m) => METRIC_LABELS[String(m)] ?? String(m)).join(", ") : "Every metric",
              Array.isArray(d.departments) && d.departments.length ? `departments ${d.departments.join(", ")}` : "",
              d.min_priority ? `priority ≥ ${String(d.min_priority)}` : "",
            ]
              .filter(Boolean)
              .join(" · "),
        },
        {
          header: "Do",
          cell: (d) =>
            [
              d.raise_priority ? "raise priority" : "",
              d.reassign ? "reassign" : "",
              d.assign_to ? `assign to ${String(d.assign_to)}` : "",
              d.route_to_department ? `route to ${String(d.route_to_department)}` : "",
              Array.isArray(d.notify) && d.notify.length ? `notify ${d.notify.join(", ")}` : "",
            ]
              .filter(Boolean)
              .join(", "),
        },
        { header: "Status", cell: (d) => (d.enabled === false ? <Badge>Disabled</Badge> : <Badge tone="ok">Enabled</Badge>) },
      ]}
      layout={(ctx, lk) => escalationLayout(lk, ctx.initial)}
      model={(d) => escalationModel(d)}
      check={escalationCheck}
      body={escalationBody}
      empty="No escalation rules: warnings and breaches only show in the inbox."
    />
  );
}

export function CannedResponsesSection() {
  return (
    <DocSection
      title="Canned responses"
      singular="canned response"
      intro="Reusable answers agents insert into replies; variables are filled in for each case."
      api={CANNED}
      columns={[
        { header: "Name", cell: nameOf },
        { header: "Language", cell: (d) => (d.language ? String(d.language) : "Any") },
        { header: "Tags", cell: (d) => (Array.isArray(d.tags) && d.tags.length ? d.tags.join(", ") : "—") },
        {
          header: "Text",
          cell: (d) => {
            const text = String(d.text ?? "");
            return <span className="settings-clip">{text.length > 120 ? `${text.slice(0, 120)}…` : text}</span>;
          },
        },
      ]}
      layout={() => cannedLayout()}
      model={(d) => cannedModel(d)}
      check={cannedCheck}
      body={cannedBody}
      empty="No canned responses yet."
    />
  );
}

// --- brand configuration ---------------------------------------------------------------------

export function BrandConfigSection() {
  const brand = useBrand();
  const canWrite = useCanWrite();
  const { lookups } = useLookups();
  const headingId = useId();
  const reasonId = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState<FormValues | null>(null);
  const [initial, setInitial] = useState<Model>({});
  const [errors, setErrors] = useState<Errors>({});
  const [status, setStatus] = useState("");
  const [attempt, setAttempt] = useState(0);
  const save = useAction();
  const resource = useResource(async () => {
    const config = await ok(responder.GET("/v1/brand-config/{brand_id}", { params: { path: { brand_id: brand } } }));
    const model = brandConfigModel(config);
    setInitial(model);
    setValues(initialValues(brandConfigLayout(NO_LOOKUPS, model), model));
    return config;
  }, [brand]);
  const layout = brandConfigLayout(lookups, initial);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!values || !canWrite) return;
    setStatus("");
    const { model, errors: found } = readForm(layout, values);
    setErrors(found);
    setAttempt((n) => n + 1);
    if (Object.keys(found).length) return;
    const saved = await save.run(() =>
      ok(responder.PUT("/v1/brand-config/{brand_id}", { params: { path: { brand_id: brand } }, body: brandConfigBody(model) })),
    );
    if (saved) setStatus("Saved the brand configuration.");
  }

  return (
    <section aria-labelledby={headingId} className="settings-section">
      <div className="settings-section-head">
        <h2 id={headingId}>Brand configuration</h2>
      </div>
      <p className="muted settings-intro">
        How the responder treats this brand ({brand}) as a whole. Saving replaces the whole configuration.
      </p>
      {!canWrite && <WriteReason id={reasonId} />}
      <p role="status" aria-live="polite" className="settings-status">
        {status}
      </p>
      {resource.error ? (
        <ErrorNotice error={resource.error} onRetry={() => void resource.reload()} />
      ) : !values ? (
        <Loading what="Loading the brand configuration" />
      ) : (
        <form ref={formRef} onSubmit={submit} noValidate className="card settings-editor">
          <ErrorSummary errors={errors} layout={layout} formRef={formRef} attempt={attempt} />
          <fieldset className="settings-plain" disabled={!canWrite || save.busy}>
            <legend className="sr-only">Brand configuration</legend>
            <FormFields
              layout={layout}
              values={values}
              errors={errors}
              onChange={(name, value) => setValues((v) => ({ ...(v ?? {}), [name]: value }))}
            />
          </fieldset>
          <SaveError error={save.error} onReload={() => void resource.reload()} />
          <div className="row settings-form-actions">
            <button type="submit" className="primary" disabled={!canWrite || save.busy} aria-describedby={canWrite ? undefined : reasonId}>
              {save.busy ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
