// Agents of the brand: queues (departments), skills (languages, networks), capacity and
// availability. Managers change everything; an agent may change their own availability.
import { useState } from "react";
import { consoleApi, ok, responder } from "../../api/client";
import { useBrand, useMe, useSession } from "../../app/session";
import { Badge, useResource } from "../../components/ui";
import { networkName } from "../../lib/networks";
import { CrudSection, type RowTools } from "./CrudSection";
import { useLookups } from "./lookups";
import {
  AVAILABILITY,
  AVAILABILITY_LABELS,
  agentCreateBody,
  agentLayout,
  agentModel,
  agentUpdateBody,
  docVersion,
  type Doc,
} from "./responderForms";

const userIdOf = (a: Doc) => String(a.user_id ?? "");
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);

function AvailabilityPicker({ agent, tools, allowed }: { agent: Doc; tools: RowTools; allowed: boolean }) {
  const brand = useBrand();
  const [busy, setBusy] = useState(false);
  const name = String(agent.name || userIdOf(agent));
  const change = async (availability: (typeof AVAILABILITY)[number]) => {
    setBusy(true);
    try {
      await ok(
        responder.PATCH("/v1/agents/{user_id}", {
          params: { path: { user_id: userIdOf(agent) }, query: { brand_id: brand, version: docVersion(agent) } },
          body: { availability },
        }),
      );
      tools.announce(`${name} is now ${AVAILABILITY_LABELS[availability]!.toLowerCase()}.`);
      await tools.reload();
    } catch (e) {
      tools.fail(e);
    } finally {
      setBusy(false);
    }
  };
  if (!allowed) return null;
  return (
    <select
      aria-label={`Availability of ${name}`}
      value={String(agent.availability ?? "offline")}
      disabled={busy}
      onChange={(e) => void change(e.target.value as (typeof AVAILABILITY)[number])}
    >
      {AVAILABILITY.map((a) => (
        <option key={a} value={a}>
          {AVAILABILITY_LABELS[a]}
        </option>
      ))}
    </select>
  );
}

export function AgentsSection() {
  const brand = useBrand();
  const me = useMe();
  const { can } = useSession();
  const canWrite = can("settings:write");
  const { lookups } = useLookups();
  // Administrators see the console's users: offer their ids when adding an agent.
  const users = useResource(
    async () => (can("users:manage") ? (await ok(consoleApi.GET("/api/users"))).items : []),
    [brand, can],
  );
  const suggestions = (users.data ?? []).map((u) => u.id);
  const tone = (a: unknown) => (a === "online" ? "ok" : a === "away" ? "warning" : "neutral");
  return (
    <CrudSection<Doc>
      title="Agents"
      singular="agent"
      intro="Who answers cases in this brand: their queues, skills, how many open cases they take at once, and whether they are available now."
      load={() => ok(responder.GET("/v1/agents", { params: { query: { brand_id: brand } } }))}
      deps={[brand]}
      keyOf={userIdOf}
      nameOf={(a) => String(a.name || userIdOf(a))}
      sort={(a, b) => String(a.name || userIdOf(a)).localeCompare(String(b.name || userIdOf(b)))}
      columns={[
        {
          header: "Agent",
          cell: (a) => (
            <>
              {String(a.name || userIdOf(a))}
              {a.name ? <span className="muted small"> ({userIdOf(a)})</span> : null}
            </>
          ),
        },
        { header: "Availability", cell: (a) => <Badge tone={tone(a.availability)}>{AVAILABILITY_LABELS[String(a.availability)] ?? String(a.availability)}</Badge> },
        { header: "Load", cell: (a) => `${Number(a.active_cases ?? 0)} of ${Number(a.capacity ?? 0)} cases` },
        { header: "Departments", cell: (a) => list(a.departments).join(", ") || "General queue" },
        { header: "Languages", cell: (a) => list(a.languages).join(", ") || "Any" },
        { header: "Networks", cell: (a) => list(a.networks).map(networkName).join(", ") || "Any" },
        { header: "Replies", cell: (a) => (a.requires_approval === true ? "Need approval" : "Sent directly") },
      ]}
      layout={(ctx) => agentLayout(lookups, ctx.initial, ctx.mode === "edit", suggestions)}
      model={(a) => agentModel(a)}
      create={(model) => ok(responder.POST("/v1/agents", { body: agentCreateBody(model, brand) }))}
      update={async (a, model) => {
        const body = agentUpdateBody(model, a);
        if (!body) return null;
        return ok(
          responder.PATCH("/v1/agents/{user_id}", {
            params: { path: { user_id: userIdOf(a) }, query: { brand_id: brand, version: docVersion(a) } },
            body,
          }),
        );
      }}
      remove={(a) => ok(responder.DELETE("/v1/agents/{user_id}", { params: { path: { user_id: userIdOf(a) }, query: { brand_id: brand } } }))}
      canWrite={canWrite}
      reason={
        can("mentions:write")
          ? "Only SMM managers and administrators can add, change or remove agents (settings:write); you can change your own availability in your row."
          : undefined
      }
      rowActions={(a, tools) => (
        <AvailabilityPicker agent={a} tools={tools} allowed={canWrite || (can("mentions:write") && userIdOf(a) === me.id)} />
      )}
      empty="No agents in this brand yet: cases wait in their queues until someone claims them."
    />
  );
}
