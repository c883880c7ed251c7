import { type FormEvent, useState } from "react";
import { DataTable } from "../../components/data-table";
import { FormFooter } from "../../components/form-footer";
import { Empty, ResourceView } from "../../components/states";
import { api } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

interface KeyMigration {
  id: string;
  startedAt: string;
  rotateBy: string;
  note: string | null;
  devicesNotified?: number;
  devicesPending?: number;
}

/** Fleet key migrations: ask every device to rotate its key in-band by a deadline, and watch the stragglers. */
export function AdminKeyMigrations() {
  const migrations = useApi<{ items: KeyMigration[] } | KeyMigration[]>("/v1/admin/key-migrations", {
    pollMs: 10_000,
  });
  const [form, setForm] = useState({ rotateBy: "", note: "" });
  const start = useAction((body: unknown) =>
    api<KeyMigration>("/v1/admin/key-migrations", { method: "POST", body }),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await start.perform({
      rotateBy: new Date(form.rotateBy).toISOString(),
      ...(form.note ? { note: form.note } : {}),
    });
    if (created) migrations.reload();
  };
  const list = (d: { items: KeyMigration[] } | KeyMigration[]) => (Array.isArray(d) ? d : d.items);
  if (migrations.error?.isMissingRoute)
    return <Empty>Key migrations are not available on this server yet.</Empty>;
  return (
    <>
      <form className="panel form-grid" onSubmit={submit}>
        <h2>Start a key migration</h2>
        <p className="wide muted">
          Connected devices rotate at once with an overlap window; offline ones rotate with their old key when
          they return, until the deadline.
        </p>
        <label>
          Rotate by
          <input
            type="datetime-local"
            value={form.rotateBy}
            onChange={(e) => setForm({ ...form, rotateBy: e.target.value })}
            required
          />
        </label>
        <label className="wide">
          Note
          <input
            value={form.note}
            onChange={(e) => setForm({ ...form, note: e.target.value })}
            maxLength={200}
          />
        </label>
        <FormFooter
          label="Start migration"
          pending={start.pending}
          error={start.error}
          errorTitle="Could not start the migration"
        />
      </form>
      <div className="panel">
        <h2>Migrations</h2>
        <ResourceView
          {...migrations}
          what="Loading migrations"
          isEmpty={(d) => list(d).length === 0}
          empty="No migrations yet."
        >
          {(d) => (
            <DataTable
              rows={list(d)}
              rowKey={(m) => m.id}
              columns={[
                { title: "Started", cellClass: "small", render: (m) => dateTime(m.startedAt) },
                { title: "Rotate by", cellClass: "small", render: (m) => dateTime(m.rotateBy) },
                { title: "Pending devices", numeric: true, render: (m) => m.devicesPending ?? "—" },
                { title: "Note", render: (m) => m.note ?? "" },
              ]}
            />
          )}
        </ResourceView>
      </div>
    </>
  );
}
