// Console users: create with roles and brands, edit them, disable or enable, set a password.
// Only for users:manage (administrators); everyone else reads who can.
import { useId, useState, type FormEvent } from "react";
import { consoleApi, ok } from "../../api/client";
import { useMe, useSession } from "../../app/session";
import { Badge, ErrorNotice, Field, useAction } from "../../components/ui";
import { formatDateTime } from "../../lib/time";
import { CrudSection, type RowTools } from "./CrudSection";
import {
  passwordProblem,
  ROLE_LABELS,
  userCreateBody,
  userCreateCheck,
  userCreateLayout,
  userEditCheck,
  userEditLayout,
  userModel,
  userPatchBody,
  type User,
} from "./usersForms";

function DisableButton({ user, tools, self }: { user: User; tools: RowTools; self: boolean }) {
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await ok(
        consoleApi.PATCH("/api/users/{user_id}", {
          params: { path: { user_id: user.id } },
          body: { disabled: !user.disabled, version: user.version },
        }),
      );
      tools.announce(user.disabled ? `Enabled ${user.email}: they can sign in again.` : `Disabled ${user.email}: their sessions ended.`);
      await tools.reload();
    } catch (e) {
      tools.fail(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      disabled={busy || self}
      title={self ? "You cannot disable yourself." : undefined}
      aria-label={`${user.disabled ? "Enable" : "Disable"} ${user.email}`}
      onClick={() => void toggle()}
    >
      {user.disabled ? "Enable" : "Disable"}
    </button>
  );
}

/** An administrator sets another user's password (lifting any lock). */
function SetPassword({ user }: { user: User }) {
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | undefined>();
  const [done, setDone] = useState("");
  const action = useAction();
  const headingId = useId();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone("");
    const found = passwordProblem(password, user.email) ?? undefined;
    setProblem(found);
    if (found) return;
    const ok204 = await action.run(async () => {
      await ok(consoleApi.POST("/api/users/{user_id}/password", { params: { path: { user_id: user.id } }, body: { password } }));
      return true;
    });
    if (ok204) {
      setPassword("");
      setDone(`Password set for ${user.email}; their other sessions ended and any lock is lifted.`);
    }
  };
  return (
    <form onSubmit={submit} noValidate className="settings-subform" aria-labelledby={headingId}>
      <h4 id={headingId}>Set a new password</h4>
      <Field label="New password for this user" hint="At least 12 characters, two kinds. Tell them through a safe channel." error={problem}>
        {(p) => <input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
      </Field>
      <button type="submit" disabled={action.busy || !password}>
        Set password
      </button>
      <ErrorNotice error={action.error} />
      <p role="status" aria-live="polite" className="settings-status">
        {done}
      </p>
    </form>
  );
}

export function UsersSection() {
  const { can } = useSession();
  const me = useMe();
  const id = useId();
  if (!can("users:manage")) {
    return (
      <section aria-labelledby={id} className="settings-section">
        <h2 id={id}>Users</h2>
        <p className="notice notice-info settings-reason">
          Only administrators (the users:manage permission) can add people, change their roles and brands, or reset
          passwords. Ask an administrator of your brand. You can change your own password under My account.
        </p>
      </section>
    );
  }
  return (
    <CrudSection<User>
      title="Users"
      singular="user"
      intro="People who can sign in to the console, their roles and the brands they work in. Changing someone's access ends their sessions."
      load={async () => (await ok(consoleApi.GET("/api/users"))).items}
      deps={[]}
      keyOf={(u) => u.id}
      nameOf={(u) => u.email}
      sort={(a, b) => a.email.localeCompare(b.email)}
      columns={[
        {
          header: "Email",
          cell: (u) => (
            <>
              {u.email}
              {u.id === me.id && <span className="muted small"> (you: you cannot disable yourself)</span>}
            </>
          ),
        },
        { header: "Name", cell: (u) => u.name },
        { header: "Roles", cell: (u) => u.roles.map((r) => ROLE_LABELS[r] ?? r).join(", ") },
        { header: "Brands", cell: (u) => (u.brands.includes("*") ? "Every brand" : u.brands.join(", ") || "None") },
        { header: "Status", cell: (u) => (u.disabled ? <Badge tone="danger">Disabled</Badge> : <Badge tone="ok">Active</Badge>) },
        { header: "Added", cell: (u) => formatDateTime(u.created_ms) },
        { header: "Id", cell: (u) => <code className="small">{u.id}</code> },
      ]}
      layout={(ctx) => (ctx.mode === "create" ? userCreateLayout() : userEditLayout())}
      model={(u) => userModel(u, me.brand ?? undefined)}
      check={(model, mode) => (mode === "create" ? userCreateCheck(model) : userEditCheck(model))}
      create={(model) => ok(consoleApi.POST("/api/users", { body: userCreateBody(model) }))}
      update={(u, model) => ok(consoleApi.PATCH("/api/users/{user_id}", { params: { path: { user_id: u.id } }, body: userPatchBody(model, u) }))}
      canWrite
      rowActions={(u, tools) => <DisableButton user={u} tools={tools} self={u.id === me.id} />}
      extras={(ctx) => (ctx.item ? <SetPassword user={ctx.item} /> : null)}
      empty="No users you may manage."
    />
  );
}
