import type { MaintenanceWindowView } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { Empty, ErrorState, ResourceView } from "../../components/states";
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
        <div className="wide">
          <button type="submit" className="button primary" disabled={create.pending}>
            Announce
          </button>
        </div>
        {create.error ? (
          <div className="wide">
            <ErrorState error={create.error} title="Could not announce the window" />
          </div>
        ) : null}
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
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>From</th>
                    <th>To</th>
                    <th className="num">Grace</th>
                    <th>Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((w) => (
                    <tr key={w.id}>
                      <td className="small">{dateTime(w.start)}</td>
                      <td className="small">{dateTime(w.end)}</td>
                      <td className="num">{w.graceMinutes} min</td>
                      <td>{w.reason}</td>
                    </tr>
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
