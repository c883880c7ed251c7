import type { ApiKeyView, UserView } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { CopyButton } from "../../components/copy-button";
import { DataTable } from "../../components/data-table";
import { FormFooter } from "../../components/form-footer";
import { ErrorState, ResourceView } from "../../components/states";
import { api } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

interface CreatedKey {
  id: string;
  key: string;
  name: string;
}

/** API keys: the admin's own keys (list, revoke) and issuing a key for any user; a new key is shown once. */
export function AdminApiKeys() {
  const keys = useApi<{ items: ApiKeyView[] } | ApiKeyView[]>("/v1/api-keys");
  const users = useApi<{ items: UserView[] }>("/v1/admin/users?limit=100");
  const [form, setForm] = useState({ userId: "", name: "", expiresInDays: "" });
  const [created, setCreated] = useState<CreatedKey>();
  const issue = useAction((body: Record<string, unknown>) =>
    api<CreatedKey>(form.userId ? `/v1/admin/users/${form.userId}/api-keys` : "/v1/api-keys", {
      method: "POST",
      body,
    }),
  );
  const revoke = useAction(async (id: string) => {
    await api(`/v1/api-keys/${id}`, { method: "DELETE" });
    return true;
  });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const key = await issue.perform({
      name: form.name,
      ...(form.expiresInDays ? { expiresInDays: Number(form.expiresInDays) } : {}),
    });
    if (key) {
      setCreated(key);
      keys.reload();
    }
  };
  const list = (d: { items: ApiKeyView[] } | ApiKeyView[]) => (Array.isArray(d) ? d : d.items);
  return (
    <>
      <form className="panel form-grid" onSubmit={submit}>
        <h2>Issue an API key</h2>
        <label>
          For
          <select value={form.userId} onChange={(e) => setForm({ ...form, userId: e.target.value })}>
            <option value="">myself</option>
            {users.data?.items.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email ?? u.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            required
            maxLength={80}
          />
        </label>
        <label>
          Expires in days
          <input
            type="number"
            min={1}
            max={365}
            value={form.expiresInDays}
            onChange={(e) => setForm({ ...form, expiresInDays: e.target.value })}
          />
        </label>
        <FormFooter
          label="Issue key"
          pending={issue.pending}
          error={issue.error}
          errorTitle="Could not issue the key"
        />
        {created ? (
          <div className="wide">
            <p>
              Key <code>{created.id}</code> — copy it now, it is not shown again:
            </p>
            <div className="command">
              <pre>{created.key}</pre>
              <CopyButton text={created.key} label="Copy key" />
            </div>
          </div>
        ) : null}
      </form>
      <div className="panel">
        <h2>My keys</h2>
        {revoke.error ? <ErrorState error={revoke.error} title="Could not revoke" /> : null}
        <ResourceView
          {...keys}
          what="Loading keys"
          isEmpty={(d) => list(d).length === 0}
          empty="No API keys."
        >
          {(d) => (
            <DataTable
              rows={list(d)}
              rowKey={(k) => k.id}
              columns={[
                {
                  title: "Key",
                  render: (k) => (
                    <>
                      {k.name}
                      <div className="mono small muted">{k.id}</div>
                    </>
                  ),
                },
                {
                  title: "Scopes",
                  cellClass: "small",
                  render: (k) => (k.scopes.length ? k.scopes.join(", ") : "all of the owner's"),
                },
                { title: "Last used", cellClass: "small", render: (k) => dateTime(k.lastUsedAt) },
                { title: "Expires", cellClass: "small", render: (k) => dateTime(k.expiresAt) },
                {
                  title: "",
                  render: (k) =>
                    k.revokedAt ? (
                      <span className="muted">revoked</span>
                    ) : (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={async () => (await revoke.perform(k.id)) && keys.reload()}
                      >
                        Revoke
                      </button>
                    ),
                },
              ]}
            />
          )}
        </ResourceView>
      </div>
    </>
  );
}
