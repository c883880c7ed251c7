import type { MaintenanceWindowView } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { DataTable } from "../../components/data-table";
import { FormFooter } from "../../components/form-footer";
import { Empty, ResourceView } from "../../components/states";
import { api } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

/** Announced maintenance windows: devices back within the grace period keep credit for the outage. */
export function AdminMaintenance() {
  const windows = useApi<{ items: MaintenanceWindowView[] }>("/v1/admin/maintenance-windows");
  const [form, setForm] = useState({ start: "", end: "", graceMinutes: 30, reason: "" });
  const create = useAction((body: unknown) =>
    api<MaintenanceWindowView>("/v1/admin/maintenance-windows", { method: "POST", body }),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await create.perform({
      start: new Date(form.start).toISOString(),
      end: new Date(form.end).toISOString(),
      graceMinutes: form.graceMinutes,
      reason: form.reason,
    });
    if (created) windows.reload();
  };
  if (windows.error?.isMissingRoute)
    return <Empty>Maintenance windows are not available on this server yet.</Empty>;
  return (
    <>
      <form className="panel form-grid" onSubmit={submit}>
        <h2>Announce a maintenance window</h2>
        <label>
          Starts
          <input
            type="datetime-local"
            value={form.start}
            onChange={(e) => setForm({ ...form, start: e.target.value })}
            required
          />
        </label>
        <label>
          Ends
          <input
            type="datetime-local"
            value={form.end}
            onChange={(e) => setForm({ ...form, end: e.target.value })}
            required
          />
        </label>
        <label>
          Grace (minutes)
          <input
            type="number"
            min={0}
            value={form.graceMinutes}
            onChange={(e) => setForm({ ...form, graceMinutes: Number(e.target.value) })}
          />
        </label>
        <label className="wide">
          Reason
          <input
            value={form.reason}
            onChange={(e) => setForm({ ...form, reason: e.target.value })}
            required
            maxLength={500}
          />
        </label>
        <FormFooter
          label="Announce"
          pending={create.pending}
          error={create.error}
          errorTitle="Could not announce the window"
        />
      </form>
      <div className="panel">
        <h2>Windows</h2>
        <ResourceView
          {...windows}
          what="Loading windows"
          isEmpty={(d) => d.items.length === 0}
          empty="No windows announced."
        >
          {(d) => (
            <DataTable
              rows={d.items}
              rowKey={(w) => w.id}
              columns={[
                { title: "From", cellClass: "small", render: (w) => dateTime(w.start) },
                { title: "To", cellClass: "small", render: (w) => dateTime(w.end) },
                { title: "Grace", numeric: true, render: (w) => `${w.graceMinutes} min` },
                { title: "Reason", render: (w) => w.reason },
              ]}
            />
          )}
        </ResourceView>
      </div>
    </>
  );
}
