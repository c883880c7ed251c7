import type { UserView } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { CopyButton } from "../../components/copy-button";
import { FormFooter } from "../../components/form-footer";
import { ErrorState, ResourceView } from "../../components/states";
import { api } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

const ROLES = ["supplier", "customer", "admin"] as const;
type Role = (typeof ROLES)[number];

/** Users and their roles: invite a user (an invite link with the embedded provider) and change roles. */
export function AdminUsers() {
  const users = useApi<{ items: UserView[]; nextCursor: string | null }>("/v1/admin/users?limit=100");
  const [email, setEmail] = useState("");
  const [roles, setRoles] = useState<Role[]>(["supplier"]);
  const [invite, setInvite] = useState<string>();
  const create = useAction((body: unknown) => api<UserView>("/v1/admin/users", { method: "POST", body }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const user = await create.perform({ email, roles });
    if (user) {
      setInvite(user.inviteUrl);
      setEmail("");
      users.reload();
    }
  };
  return (
    <>
      <form className="panel form-grid" onSubmit={submit}>
        <h2>Add a user</h2>
        <label className="wide">
          E-mail
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </label>
        <div className="wide">
          <RolePicker value={roles} onChange={setRoles} />
        </div>
        <FormFooter
          label="Add user"
          pending={create.pending}
          disabled={roles.length === 0}
          error={create.error}
          errorTitle="Could not add the user"
        />
        {invite ? (
          <div className="wide command">
            <pre>{invite}</pre>
            <CopyButton text={invite} label="Copy invite link" />
          </div>
        ) : null}
      </form>
      <div className="panel">
        <h2>Users</h2>
        <ResourceView
          {...users}
          what="Loading users"
          onRetry={users.reload}
          isEmpty={(d) => d.items.length === 0}
        >
          {(d) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>User</th>
                    <th>Roles</th>
                    <th>Created</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((u) => (
                    <UserRow key={u.id} user={u} onChanged={users.reload} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </ResourceView>
      </div>
    </>
  );
}

function UserRow({ user, onChanged }: { user: UserView; onChanged: () => void }) {
  const update = useAction((roles: Role[]) =>
    api<UserView>(`/v1/admin/users/${user.id}`, { method: "PATCH", body: { roles } }),
  );
  return (
    <tr>
      <td>
        {user.email ?? <span className="muted">no e-mail</span>}
        <div className="mono small muted">{user.id}</div>
      </td>
      <td>
        <RolePicker
          value={user.roles as Role[]}
          disabled={update.pending}
          onChange={async (roles) => (await update.perform(roles)) && onChanged()}
        />
        {update.error ? <ErrorState error={update.error} title="Could not change roles" /> : null}
      </td>
      <td className="small">{dateTime(user.createdAt)}</td>
    </tr>
  );
}

function RolePicker(props: { value: Role[]; onChange: (roles: Role[]) => void; disabled?: boolean }) {
  return (
    <fieldset className="roles" disabled={props.disabled}>
      <legend className="sr-only">Roles</legend>
      {ROLES.map((r) => (
        <label key={r} className="check">
          <input
            type="checkbox"
            checked={props.value.includes(r)}
            onChange={(e) =>
              props.onChange(e.target.checked ? [...props.value, r] : props.value.filter((x) => x !== r))
            }
          />
          {r}
        </label>
      ))}
    </fieldset>
  );
}
