import type { ClusterNetworkView, ClusterView } from "@ignis/protocol";
import { useEffect, useRef, useState } from "react";
import { StateBadge } from "../components/badges";
import { Empty, ErrorState, Loading } from "../components/states";
import { api, query } from "../lib/api";
import { credits, dateTime } from "../lib/format";
import { type ApiProblem, asProblem } from "../lib/problem";
import { Link } from "../lib/router";
import { useAction, useApi } from "../lib/use-api";

interface LogLine {
  seq: number;
  rank: number;
  stream: "stdout" | "stderr" | "system";
  data: string;
  at: string;
}

const FINISHED = new Set(["completed", "failed", "cancelled"]);

/** One cluster: its devices and their job states, the escrow, and the job's logs as they arrive. */
export function ClusterPage({ id }: { id: string }) {
  const cluster = useApi<ClusterView>(`/v1/clusters/${encodeURIComponent(id)}`, { pollMs: 3000 });
  const cancel = useAction(() => api<ClusterView>(`/v1/clusters/${id}/cancel`, { method: "POST", body: {} }));
  const c = cluster.data;
  return (
    <section className="page">
      <p>
        <Link to="/customer">← All clusters</Link>
      </p>
      {!c && cluster.error ? <ErrorState error={cluster.error} onRetry={cluster.reload} /> : null}
      {!c && !cluster.error ? <Loading what="Loading cluster" /> : null}
      {c ? (
        <>
          <header className="page-header">
            <h1 className="mono break">{c.id}</h1>
            <p>
              <StateBadge state={c.status} /> {c.count}× {c.gpuModel} for {c.hours} h · ends{" "}
              {dateTime(c.endsAt)}
            </p>
            {!FINISHED.has(c.status) ? (
              <button
                type="button"
                className="button danger"
                disabled={cancel.pending}
                onClick={async () => (await cancel.perform()) && cluster.reload()}
              >
                Cancel cluster
              </button>
            ) : null}
            {cancel.error ? <ErrorState error={cancel.error} title="Could not cancel" /> : null}
          </header>
          <dl className="facts">
            <div>
              <dt>Held</dt>
              <dd>{credits(c.escrow.held)}</dd>
            </div>
            <div>
              <dt>Charged</dt>
              <dd>{credits(c.escrow.charged)}</dd>
            </div>
            <div>
              <dt>Refunded</dt>
              <dd>{credits(c.escrow.refunded)}</dd>
            </div>
            <div>
              <dt>Command</dt>
              <dd className="mono">{[c.job.command, ...c.job.args].join(" ")}</dd>
            </div>
          </dl>
          <div className="panel">
            <h2>Jobs</h2>
            {c.devices.length === 0 ? (
              <Empty>No device assigned yet.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th className="num">Rank</th>
                      <th>Device</th>
                      <th>State</th>
                      <th className="num">Minutes</th>
                      <th className="num">Charged</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.devices.map((d) => (
                      <tr key={d.jobId}>
                        <td className="num">{d.rank}</td>
                        <td className="mono">{d.deviceId}</td>
                        <td>
                          <StateBadge state={d.state} />
                          {d.exitCode !== null ? (
                            <span className="muted small"> exit {d.exitCode}</span>
                          ) : null}
                          {d.error ? <div className="muted small">{d.error}</div> : null}
                          {d.awaitingReplacementUntil ? (
                            <div className="muted small">
                              waiting for a free device until{" "}
                              {new Date(d.awaitingReplacementUntil).toLocaleTimeString()}
                            </div>
                          ) : null}
                        </td>
                        <td className="num">{d.meteredMinutes}</td>
                        <td className="num">{credits(d.charged)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          {c.status === "running" ? <Network clusterId={c.id} /> : null}
          <Logs clusterId={c.id} follow={!FINISHED.has(c.status)} />
        </>
      ) : null}
    </section>
  );
}

/**
 * The running cluster's private overlay: each rank's overlay address and, as a matrix (rows: from, columns: to),
 * the round trip, throughput and path the ranks measured between them.
 */
function Network({ clusterId }: { clusterId: string }) {
  const network = useApi<ClusterNetworkView>(`/v1/clusters/${encodeURIComponent(clusterId)}/network`, {
    pollMs: 5000,
  });
  const n = network.data;
  const noOverlay = network.error?.code === "mesh_unavailable";
  const link = (from: number, to: number) => n?.matrix.find((l) => l.from === from && l.to === to);
  return (
    <div className="panel" data-testid="cluster-network">
      <h2>Network</h2>
      {noOverlay ? (
        <Empty>No private overlay: not every device of this cluster can join one.</Empty>
      ) : network.error && !n ? (
        <ErrorState error={network.error} onRetry={network.reload} />
      ) : !n ? (
        <Loading what="Loading network" />
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>from ↓ · to →</th>
                {n.peers.map((p) => (
                  <th key={p.rank} className="num">
                    rank {p.rank} <span className="mono muted small">{p.meshAddr}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {n.peers.map((from) => (
                <tr key={from.rank}>
                  <th className="num">
                    rank {from.rank} <span className="mono muted small">{from.meshAddr}</span>
                  </th>
                  {n.peers.map((to) => {
                    const l = link(from.rank, to.rank);
                    return (
                      <td key={to.rank} className="num">
                        {from.rank === to.rank ? (
                          <span className="muted">—</span>
                        ) : l ? (
                          <>
                            {l.rttMs.toFixed(1)} ms · {l.mbps.toFixed(0)} Mbit/s{" "}
                            <span className={l.path === "direct" ? "small" : "small muted"}>{l.path}</span>
                          </>
                        ) : (
                          <span className="muted small">measuring…</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Follows the cluster's logs with the `after` cursor, appending new lines; every line renders as text. */
function Logs({ clusterId, follow }: { clusterId: string; follow: boolean }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<ApiProblem>();
  const after = useRef<string | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const pull = async () => {
      try {
        const page = await api<{ items: LogLine[]; nextCursor: string | null }>(
          `/v1/clusters/${clusterId}/logs${query({ after: after.current, limit: 100 })}`,
        );
        if (stopped) return;
        setError(undefined);
        if (page.items.length) setLines((old) => [...old, ...page.items].slice(-2000));
        if (page.nextCursor) after.current = page.nextCursor;
        if (page.items.length === 100) return void pull();
      } catch (e) {
        if (!stopped) setError(asProblem(e));
      }
      if (!stopped && follow) timer = window.setTimeout(pull, 2000);
    };
    void pull();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [clusterId, follow]);
  return (
    <div className="panel">
      <h2>Logs</h2>
      {error ? <ErrorState error={error} title="Could not read logs" /> : null}
      {lines.length === 0 && !error ? <p className="muted">No output yet.</p> : null}
      {lines.length ? (
        <pre className="logs">
          {lines.map((l) => (
            <div key={l.seq} className={`log-${l.stream}`}>
              <span className="muted">[{l.rank}]</span> {l.data}
            </div>
          ))}
        </pre>
      ) : null}
    </div>
  );
}
