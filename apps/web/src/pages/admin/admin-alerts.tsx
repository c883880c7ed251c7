import type { AlertView } from "@ignis/protocol";
import { useState } from "react";
import { StateBadge } from "../../components/badges";
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
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>When</th>
                  <th>Rule</th>
                  <th>Subject</th>
                  <th>Containment</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {d.items.map((a) => (
                  <tr key={a.id}>
                    <td className="small">{dateTime(a.createdAt)}</td>
                    <td>
                      <span className={`badge severity-${a.severity}`}>{a.severity}</span> {a.rule}
                    </td>
                    <td className="small">
                      {a.subject}
                      {a.ip ? <div className="mono muted">{a.ip}</div> : null}
                    </td>
                    <td className="small">
                      {a.containment.kind}
                      {a.contained ? " (in force)" : ""}
                    </td>
                    <td>
                      <StateBadge state={a.status} />
                    </td>
                    <td className="actions">
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
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ResourceView>
    </div>
  );
}
