// The publisher's settings: publishing accounts (tokens are write-only) and the approval
// workflows content items go through before they are scheduled.
import { useId } from "react";
import { ok, publisher } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { Badge } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { CrudSection } from "./CrudSection";
import {
  accountCheck,
  accountCreateBody,
  accountLayout,
  accountModel,
  accountUpdateBody,
  describeSteps,
  workflowBody,
  workflowCheck,
  workflowLayout,
  workflowModel,
  type Account,
  type Workflow,
} from "./publisherForms";

function NeedsContentRead({ title }: { title: string }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="settings-section">
      <h2 id={id}>{title}</h2>
      <p className="notice notice-info settings-reason">Only roles that read content (content managers, SMM managers, administrators) can see this.</p>
    </section>
  );
}

export function AccountsSection() {
  const brand = useBrand();
  const { can } = useSession();
  if (!can("content:read")) return <NeedsContentRead title="Accounts" />;
  return (
    <CrudSection<Account>
      title="Accounts"
      singular="publishing account"
      intro="The brand's accounts that posts and replies are published from. Tokens are never shown once saved."
      load={() => ok(publisher.GET("/v1/accounts", { params: { query: { brand_id: brand } } }))}
      deps={[brand]}
      keyOf={(a) => a.id}
      nameOf={(a) => a.name}
      sort={(a, b) => a.network.localeCompare(b.network) || a.name.localeCompare(b.name)}
      columns={[
        { header: "Name", cell: (a) => a.name },
        { header: "Network", cell: (a) => networkName(a.network) },
        { header: "Account", cell: (a) => <code>{a.native_id}</code> },
        { header: "Token", cell: (a) => (a.has_token ? <Badge tone="ok">Set</Badge> : <Badge tone="warning">Not set</Badge>) },
        { header: "Replies", cell: (a) => (a.replies ? "Answers customers" : "Posts only") },
        { header: "Status", cell: (a) => (a.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge>Disabled</Badge>) },
      ]}
      layout={(ctx) =>
        accountLayout(ctx.mode === "edit", ctx.item, typeof ctx.values.network === "string" ? ctx.values.network : ctx.item?.network)
      }
      model={(a) => accountModel(a)}
      check={accountCheck}
      create={(model) => ok(publisher.POST("/v1/accounts", { body: accountCreateBody(model, brand) }))}
      update={(a, model) =>
        ok(publisher.PUT("/v1/accounts/{account_id}", { params: { path: { account_id: a.id } }, body: accountUpdateBody(model, brand, a.version) }))
      }
      remove={(a) => ok(publisher.DELETE("/v1/accounts/{account_id}", { params: { path: { account_id: a.id }, query: { brand_id: brand } } }))}
      canWrite={can("settings:write")}
      empty="No publishing accounts: nothing can be posted or answered yet."
    />
  );
}

export function WorkflowsSection() {
  const brand = useBrand();
  const { can } = useSession();
  if (!can("content:read")) return <NeedsContentRead title="Approval workflows" />;
  return (
    <CrudSection<Workflow>
      title="Approval workflows"
      singular="approval workflow"
      intro="The steps a content item goes through before it can be scheduled. An item takes the first workflow, by position, sharing one of its labels; else the workflow without labels."
      load={() => ok(publisher.GET("/v1/workflows", { params: { query: { brand_id: brand } } }))}
      deps={[brand]}
      keyOf={(w) => String(w.id)}
      nameOf={(w) => String(w.name ?? w.id)}
      sort={(a, b) => Number(a.position ?? 0) - Number(b.position ?? 0)}
      columns={[
        { header: "Name", cell: (w) => String(w.name ?? w.id) },
        { header: "Position", cell: (w) => String(w.position ?? 0) },
        {
          header: "For items labelled",
          cell: (w) => (Array.isArray(w.labels) && w.labels.length ? w.labels.join(", ") : <Badge tone="info">Default</Badge>),
        },
        { header: "Steps", cell: (w) => describeSteps(w.steps) },
      ]}
      layout={(ctx) => workflowLayout(ctx.mode === "edit")}
      model={(w) => workflowModel(w)}
      check={workflowCheck}
      create={(model) => ok(publisher.POST("/v1/workflows", { body: workflowBody(model, brand) }))}
      update={(w, model) =>
        ok(
          publisher.PUT("/v1/workflows/{workflow_id}", {
            params: { path: { workflow_id: String(w.id) } },
            body: { ...workflowBody(model, brand), version: typeof w.version === "number" ? w.version : 1 },
          }),
        )
      }
      remove={(w) => ok(publisher.DELETE("/v1/workflows/{workflow_id}", { params: { path: { workflow_id: String(w.id) }, query: { brand_id: brand } } }))}
      canWrite={can("settings:write")}
      empty="No approval workflows: content is scheduled without approval."
    />
  );
}
