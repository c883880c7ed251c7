import type { AlertView } from "@ignis/protocol";
import { useState } from "react";
import { StateBadge } from "../../components/badges";
import { DataTable } from "../../components/data-table";
import { ErrorState, ResourceView } from "../../components/states";
import { api, query } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

/** Security alerts, newest first, with acknowledge and release (lifts the containment) actions. */
export function AdminAlerts() {
  const [status, setStatus] = useState("");
  const alerts = useApi<{ items: AlertView[]; nextCursor: string | null }>(
    `/v1/admin/alerts${query({ status, limit: 50 })}`,
    { pollMs: 5000 },
  );
  const review = useAction(async (id: string, action: "acknowledge" | "release") => {
    await api(`/v1/admin/alerts/${id}/${action}`, { method: "POST", body: {} });
    return true;
  });
  const act = async (id: string, action: "acknowledge" | "release") => {
    if (await review.perform(id, action)) alerts.reload();
  };
  return (
    <div className="panel">
      <h2>Security alerts</h2>
      <div className="filters">
        <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Status">
          <option value="">Any status</option>
          <option value="open">open</option>
          <option value="acknowledged">acknowledged</option>
          <option value="released">released</option>
        </select>
      </div>
      {review.error ? <ErrorState error={review.error} title="Could not update the alert" /> : null}
      <ResourceView
        {...alerts}
        what="Loading alerts"
        onRetry={alerts.reload}
        isEmpty={(d) => d.items.length === 0}
        empty="No alerts. Write-rate anomalies and failed proofs appear here within seconds."
      >
        {(d) => (
          <DataTable
            rows={d.items}
            rowKey={(a) => a.id}
            columns={[
              { title: "When", cellClass: "small", render: (a) => dateTime(a.createdAt) },
              {
                title: "Rule",
                render: (a) => (
                  <>
                    <span className={`badge severity-${a.severity}`}>{a.severity}</span> {a.rule}
                  </>
                ),
              },
              {
                title: "Subject",
                cellClass: "small",
                render: (a) => (
                  <>
                    {a.subject}
                    {a.ip ? <div className="mono muted">{a.ip}</div> : null}
                  </>
                ),
              },
              {
                title: "Containment",
                cellClass: "small",
                render: (a) => `${a.containment.kind}${a.contained ? " (in force)" : ""}`,
              },
              { title: "Status", render: (a) => <StateBadge state={a.status} /> },
              {
                title: "",
                cellClass: "actions",
                render: (a) => (
                  <>
                    {a.status === "open" ? (
                      <button
                        type="button"
                        className="button small secondary"
                        onClick={() => act(a.id, "acknowledge")}
                      >
                        Acknowledge
                      </button>
                    ) : null}
                    {a.contained ? (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={() => act(a.id, "release")}
                      >
                        Release
                      </button>
                    ) : null}
                  </>
                ),
              },
            ]}
          />
        )}
      </ResourceView>
    </div>
  );
}
