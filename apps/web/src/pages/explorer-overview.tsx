import type { ExplorerStats } from "@ignis/protocol";
import { BarList } from "../components/bar-list";
import { NetworkMap } from "../components/network-map";
import { ResourceView } from "../components/states";
import { UplotChart } from "../components/uplot-chart";
import { count, percent, shortId } from "../lib/format";
import { Link } from "../lib/router";
import { useApi } from "../lib/use-api";

/** Explorer home: network totals, activity per epoch and the GPU mix, refreshed every few seconds. */
export function ExplorerOverview() {
  const stats = useApi<ExplorerStats>("/v1/explorer/stats", { pollMs: 5000 });
  return (
    <section className="page">
      <header className="page-header">
        <h1>Network overview</h1>
        <p className="muted">Every GPU on Ignis, its uptime and its proof-of-GPU checks. Updated live.</p>
      </header>
      <ResourceView {...stats} what="Loading network stats" onRetry={stats.reload}>
        {(s) => <Overview stats={s} />}
      </ResourceView>
    </section>
  );
}

function Overview({ stats }: { stats: ExplorerStats }) {
  const x = stats.recentEpochs.map((e) => Date.parse(e.startsAt) / 1000);
  return (
    <>
      <div className="cards" data-testid="stats-cards">
        <Card label="Devices online" value={count(stats.devicesOnline)} testId="devices-online" />
        <Card label="Devices" value={count(stats.devicesTotal)} testId="devices-total" />
        <Card label="GPUs" value={count(stats.gpusTotal)} />
        <Card label="Verified" value={percent(stats.verifiedShare)} />
        <Card label="Compute hours this month" value={count(Math.round(stats.computeHoursThisMonth))} />
        <Card
          label="Current epoch"
          value={String(stats.currentEpoch)}
          hint={
            stats.lastPublishedRoot
              ? `last root: epoch ${stats.lastPublishedRoot.epoch} ${shortId(stats.lastPublishedRoot.root, 8, 4)}`
              : "no root published yet"
          }
        />
      </div>
      <div className="panel">
        <h2>Activity per epoch</h2>
        {stats.devicesTotal === 0 ? (
          <p className="muted">No devices yet. Suppliers enroll GPUs from the Supplier page.</p>
        ) : (
          <UplotChart
            ariaLabel="Active devices and compute hours per epoch"
            x={x}
            series={[
              {
                label: "active devices",
                values: stats.recentEpochs.map((e) => e.activeDevices),
                color: "#f97316",
              },
              {
                label: "compute hours",
                values: stats.recentEpochs.map((e) => e.computeHours),
                color: "#3b82f6",
                bars: true,
                rightAxis: true,
              },
            ]}
          />
        )}
      </div>
      <NetworkMap />
      <div className="grid-3">
        <div className="panel">
          <h2>GPUs by model</h2>
          <BarList entries={stats.gpusByModel} empty="No GPUs yet" />
        </div>
        <div className="panel">
          <h2>GPUs by vendor</h2>
          <BarList entries={stats.gpusByVendor} empty="No GPUs yet" />
        </div>
        <div className="panel">
          <h2>GPUs by region</h2>
          <BarList entries={stats.gpusByRegion} empty="No GPUs yet" />
        </div>
      </div>
      <div className="panel">
        <h2>Models</h2>
        {stats.models.length === 0 ? (
          <p className="muted">No devices yet.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Vendor</th>
                  <th className="num">Devices</th>
                  <th className="num">Online</th>
                  <th className="num">GPUs</th>
                </tr>
              </thead>
              <tbody>
                {stats.models.map((m) => (
                  <tr key={`${m.vendor}/${m.model}`}>
                    <td>
                      <Link to={`/devices?model=${encodeURIComponent(m.model)}`}>{m.model}</Link>
                    </td>
                    <td>{m.vendor}</td>
                    <td className="num">{count(m.devices)}</td>
                    <td className="num">{count(m.online)}</td>
                    <td className="num">{count(m.gpus)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <p className="muted small">Generated {new Date(stats.generatedAt).toLocaleTimeString()}</p>
    </>
  );
}

function Card(props: { label: string; value: string; hint?: string; testId?: string }) {
  return (
    <div className="card">
      <div className="card-label">{props.label}</div>
      <div className="card-value" data-testid={props.testId}>
        {props.value}
      </div>
      {props.hint ? <div className="card-hint muted small">{props.hint}</div> : null}
    </div>
  );
}
