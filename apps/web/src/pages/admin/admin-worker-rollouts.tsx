import type { WorkerRolloutView } from "@ignis/protocol";
import { StateBadge } from "../../components/badges";
import { DataTable } from "../../components/data-table";
import { Empty, ErrorState, ResourceView } from "../../components/states";
import { api } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useAction, useApi } from "../../lib/use-api";

/** The share of offered devices that failed to come back, as the pause threshold reads it. */
function failedShare(r: WorkerRolloutView): string {
  if (r.counts.offered === 0) return "—";
  return `${((r.counts.failed / r.counts.offered) * 100).toFixed(1)}%`;
}

/**
 * Staged worker rollouts: each release's stage (share of the fleet offered it), how many offered devices came
 * back updated or failed, and why a rollout paused itself; admins pause, resume, widen or finish one.
 */
export function AdminWorkerRollouts() {
  const rollouts = useApi<{ items: WorkerRolloutView[] }>("/v1/admin/worker-rollouts", { pollMs: 5000 });
  const change = useAction(async (id: string, body: { status?: string; percent?: number }) => {
    await api<WorkerRolloutView>(`/v1/admin/worker-rollouts/${id}`, { method: "PATCH", body });
    return true;
  });
  const act = async (id: string, body: { status?: string; percent?: number }) => {
    if (await change.perform(id, body)) rollouts.reload();
  };
  if (rollouts.error?.isMissingRoute)
    return <Empty>Worker rollouts are not available on this server yet.</Empty>;
  return (
    <div className="panel">
      <h2>Worker rollouts</h2>
      <p className="muted">
        A rollout offers a signed release to a share of the devices that update automatically and pauses
        itself when more offered devices than its threshold fail to come back. Start one with{" "}
        <code>POST /v1/admin/worker-rollouts</code>.
      </p>
      {change.error ? <ErrorState error={change.error} title="Could not change the rollout" /> : null}
      <ResourceView
        {...rollouts}
        what="Loading rollouts"
        onRetry={rollouts.reload}
        isEmpty={(d) => d.items.length === 0}
        empty="No rollouts yet."
      >
        {(d) => (
          <DataTable
            rows={d.items}
            rowKey={(r) => r.id}
            columns={[
              { title: "Release", cellClass: "mono", render: (r) => r.version },
              {
                title: "Status",
                render: (r) => (
                  <>
                    <StateBadge state={r.status} />
                    {r.pausedReason ? <div className="small muted">{r.pausedReason}</div> : null}
                  </>
                ),
              },
              { title: "Stage", numeric: true, render: (r) => `${r.percent}%` },
              { title: "Offered", numeric: true, render: (r) => r.counts.offered },
              { title: "Updated", numeric: true, render: (r) => r.counts.updated },
              { title: "Failed", numeric: true, render: (r) => r.counts.failed },
              {
                title: "Failed share (pause above)",
                numeric: true,
                render: (r) => `${failedShare(r)} (${(r.failureThresholdBps / 100).toFixed(1)}%)`,
              },
              { title: "Updated at", cellClass: "small", render: (r) => dateTime(r.updatedAt) },
              {
                title: "",
                cellClass: "actions",
                render: (r) => (
                  <>
                    {r.status === "running" ? (
                      <button
                        type="button"
                        className="button small secondary"
                        onClick={() => act(r.id, { status: "paused" })}
                      >
                        Pause
                      </button>
                    ) : null}
                    {r.status === "paused" ? (
                      <button
                        type="button"
                        className="button small secondary"
                        onClick={() => act(r.id, { status: "running" })}
                      >
                        Resume
                      </button>
                    ) : null}
                    {r.status !== "done" && r.percent < 100 ? (
                      <button
                        type="button"
                        className="button small secondary"
                        onClick={() => act(r.id, { percent: Math.min(100, r.percent * 2) })}
                      >
                        Widen to {Math.min(100, r.percent * 2)}%
                      </button>
                    ) : null}
                    {r.status !== "done" ? (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={() => act(r.id, { status: "done" })}
                      >
                        Finish
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
