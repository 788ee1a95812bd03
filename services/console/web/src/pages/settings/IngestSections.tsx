// Ingest's settings: connectors (how the brand's networks are heard; secrets are write-only)
// and keyword rules (what the brand, its competitors and its topics are called).
import { useId, useState, type FormEvent } from "react";
import { ingest, ok } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { Badge, ErrorNotice, Field, useAction } from "../../components/ui";
import { formatDateTime } from "../../lib/time";
import { CrudSection, type FormContext, type RowTools } from "./CrudSection";
import { WRITE_REASON } from "./FormKit";
import { splitList } from "./formkit";
import {
  CONNECTOR_KINDS,
  connectorCheck,
  connectorCreateBody,
  connectorHealth,
  connectorLayout,
  connectorModel,
  connectorPatchBody,
  keywordRuleBody,
  keywordRuleLayout,
  keywordRuleModel,
  kindLabel,
  RULE_KINDS,
  type Connector,
  type ConnectorKind,
} from "./ingestForms";
import type { IngestTypes } from "../../api/client";

type Rule = IngestTypes["schemas"]["RuleOut"];

function ConnectorActions({ connector, tools, canWrite }: { connector: Connector; tools: RowTools; canWrite: boolean }) {
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await ok(ingest.PATCH("/v1/connectors/{connector_id}", { params: { path: { connector_id: connector.id } }, body: { enabled: !connector.enabled } }));
      tools.announce(`${connector.enabled ? "Disabled" : "Enabled"} connector “${connector.name}”.`);
      await tools.reload();
    } catch (e) {
      tools.fail(e);
    } finally {
      setBusy(false);
    }
  };
  const test = async () => {
    setBusy(true);
    try {
      const fresh = await ok(ingest.GET("/v1/connectors/{connector_id}", { params: { path: { connector_id: connector.id } } }));
      const { lines, lastSuccessAt } = connectorHealth(fresh);
      if (lastSuccessAt) lines.push(`Last successful poll ${formatDateTime(lastSuccessAt)}.`);
      tools.announce(`Check of “${connector.name}”: ${lines.join(" ")}`);
    } catch (e) {
      tools.fail(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" disabled={busy} aria-label={`Test ${connector.name}`} onClick={() => void test()}>
        Test
      </button>
      <button type="button" disabled={busy || !canWrite} aria-label={`${connector.enabled ? "Disable" : "Enable"} ${connector.name}`} onClick={() => void toggle()}>
        {connector.enabled ? "Disable" : "Enable"}
      </button>
    </>
  );
}

export function ConnectorsSection() {
  const brand = useBrand();
  const canWrite = useSession().can("settings:write");
  const headingId = useId();
  if (!canWrite) {
    // Ingest shows connectors only to those who may change them.
    return (
      <section aria-labelledby={headingId} className="settings-section">
        <h2 id={headingId}>Connectors</h2>
        <p className="notice notice-info settings-reason">
          {WRITE_REASON} Connectors hold the keys to the brand's network accounts, so only they can see them.
        </p>
      </section>
    );
  }
  const kindOf = (ctx: FormContext<Connector>): ConnectorKind =>
    (typeof ctx.values.kind === "string" && ctx.values.kind ? ctx.values.kind : (ctx.item?.kind ?? "telegram")) as ConnectorKind;
  return (
    <CrudSection<Connector>
      title="Connectors"
      singular="connector"
      intro="How the platform hears the brand's networks: webhooks the networks call, or accounts it polls. Secrets are never shown once saved."
      load={() => ok(ingest.GET("/v1/connectors", { params: { query: { brand_id: brand } } }))}
      deps={[brand]}
      keyOf={(c) => c.id}
      nameOf={(c) => c.name}
      sort={(a, b) => a.name.localeCompare(b.name)}
      columns={[
        { header: "Name", cell: (c) => c.name },
        { header: "Kind", cell: (c) => kindLabel(c.kind) },
        { header: "Status", cell: (c) => (c.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge>Disabled</Badge>) },
        {
          header: "Secrets",
          cell: (c) =>
            c.missing_secrets.length ? <Badge tone="warning">Missing: {c.missing_secrets.join(", ")}</Badge> : <Badge tone="ok">All set</Badge>,
        },
        {
          header: "Receives by",
          cell: (c) =>
            c.webhook_path ? (
              <span>
                Webhook <code className="settings-clip">{c.webhook_path}</code>
              </span>
            ) : (
              `Polling${typeof c.poll_status?.state === "string" ? ` (${c.poll_status.state})` : ""}`
            ),
        },
      ]}
      layout={(ctx) => connectorLayout(kindOf(ctx), ctx.item)}
      model={(c) => connectorModel(c)}
      check={connectorCheck}
      create={(model) => ok(ingest.POST("/v1/connectors", { body: connectorCreateBody(model, brand) }))}
      update={(c, model) => ok(ingest.PATCH("/v1/connectors/{connector_id}", { params: { path: { connector_id: c.id } }, body: connectorPatchBody(model) }))}
      remove={(c) => ok(ingest.DELETE("/v1/connectors/{connector_id}", { params: { path: { connector_id: c.id } } }))}
      renameError={(path) => path}
      canWrite={canWrite}
      rowActions={(c, tools) => <ConnectorActions connector={c} tools={tools} canWrite={canWrite} />}
      empty={`No connectors yet: add one per network account (${CONNECTOR_KINDS.length} kinds available).`}
    />
  );
}

// --- keyword rules -------------------------------------------------------------------------

/** Try a query against sample texts before saving it (nothing is stored). */
function QueryTester({ query }: { query: string }) {
  const [texts, setTexts] = useState("");
  const [results, setResults] = useState<{ text: string; match: boolean }[] | null>(null);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const samples = splitList(texts, "line");
    if (!query.trim() || !samples.length) return;
    const out = await action.run(() => ok(ingest.POST("/v1/keyword-rules/test", { body: { query, texts: samples.slice(0, 100) } })));
    if (out) setResults(samples.slice(0, 100).map((text, i) => ({ text, match: out.matches?.[i] === true })));
  };
  return (
    <form onSubmit={submit} className="settings-tester" aria-label="Try the query">
      <h4>Try the query</h4>
      <Field label="Sample texts, one per line" hint="Nothing is stored; the query as typed above is used.">
        {(p) => <textarea {...p} rows={3} value={texts} onChange={(e) => setTexts(e.target.value)} />}
      </Field>
      <button type="submit" disabled={action.busy || !query.trim() || !texts.trim()}>
        Try the query
      </button>
      <ErrorNotice error={action.error} />
      <div role="status" aria-live="polite">
        {results && (
          <ul className="settings-matches">
            {results.map((r, i) => (
              <li key={i}>
                {r.match ? <Badge tone="ok">Matches</Badge> : <Badge>No match</Badge>} {r.text}
              </li>
            ))}
          </ul>
        )}
      </div>
    </form>
  );
}

export function KeywordRulesSection() {
  const brand = useBrand();
  const canWrite = useSession().can("settings:write");
  return (
    <CrudSection<Rule>
      title="Keyword rules"
      singular="keyword rule"
      intro="Queries that find the brand, its competitors (share of voice) and topics (tags on mentions)."
      load={() => ok(ingest.GET("/v1/keyword-rules", { params: { query: { brand_id: brand } } }))}
      deps={[brand]}
      keyOf={(r) => r.id}
      nameOf={(r) => r.name}
      sort={(a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name)}
      columns={[
        { header: "Name", cell: (r) => r.name },
        { header: "Finds", cell: (r) => RULE_KINDS.find((k) => k.value === r.kind)?.label ?? r.kind },
        { header: "Label", cell: (r) => r.label },
        { header: "Query", cell: (r) => <code className="settings-clip">{r.query}</code> },
      ]}
      layout={() => keywordRuleLayout()}
      model={(r) => keywordRuleModel(r)}
      create={(model) => ok(ingest.POST("/v1/keyword-rules", { body: keywordRuleBody(model, brand) }))}
      update={(r, model) => ok(ingest.PUT("/v1/keyword-rules/{rule_id}", { params: { path: { rule_id: r.id } }, body: keywordRuleBody(model, brand) }))}
      remove={(r) => ok(ingest.DELETE("/v1/keyword-rules/{rule_id}", { params: { path: { rule_id: r.id } } }))}
      canWrite={canWrite}
      extras={(ctx) => <QueryTester query={typeof ctx.values.query === "string" ? ctx.values.query : ""} />}
      empty="No keyword rules: mentions are not matched to the brand, competitors or topics."
    />
  );
}
