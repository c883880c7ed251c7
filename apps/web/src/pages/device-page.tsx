import type { PublicDeviceDetail } from "@ignis/protocol";
import { StatusBadge, VerificationBadge } from "../components/badges";
import { Empty, ErrorState, Loading } from "../components/states";
import { UplotChart } from "../components/uplot-chart";
import { dateTime, locationText, memoryText, percent } from "../lib/format";
import { Link } from "../lib/router";
import { useApi } from "../lib/use-api";

/** One device's public page: hardware, state, 30-day uptime chart and proof-of-GPU history, kept current. */
export function DevicePage({ id }: { id: string }) {
  const device = useApi<PublicDeviceDetail>(`/v1/explorer/devices/${encodeURIComponent(id)}`, {
    pollMs: 3000,
  });
  return (
    <section className="page">
      <p>
        <Link to="/devices">← All devices</Link>
      </p>
      {device.data ? (
        <DeviceDetail d={device.data} />
      ) : device.error ? (
        device.error.status === 404 ? (
          <Empty>
            <h1>No such device</h1>
            <p>
              There is no device <code className="mono">{id}</code> on the explorer. It may have been revoked,
              or the id may be mistyped.
            </p>
          </Empty>
        ) : (
          <ErrorState error={device.error} onRetry={device.reload} />
        )
      ) : (
        <Loading what="Loading device" />
      )}
    </section>
  );
}

function DeviceDetail({ d }: { d: PublicDeviceDetail }) {
  const daily = d.uptimeDaily;
  const epochs = d.uptimeEpochs;
  return (
    <>
      <header className="page-header">
        <h1 className="mono break">{d.id}</h1>
        {d.label ? (
          <p className="label-text" data-testid="device-label">
            {d.label}
          </p>
        ) : null}
        <p className="badges" data-testid="device-status">
          <StatusBadge status={d.status} /> <VerificationBadge verification={d.verification} />
        </p>
      </header>
      <dl className="facts">
        <Fact
          term="GPU"
          value={`${d.gpu.count > 1 ? `${d.gpu.count}× ` : ""}${d.gpu.model} (${d.gpu.vramGb} GB)`}
        />
        <Fact term="Memory" value={memoryText(d.memory)} testId="device-memory" />
        <Fact term="Vendor" value={d.vendor} />
        <Fact term="Location" value={locationText(d.location)} />
        <Fact term="Connectivity" value={`tier ${d.connectivity.tier} (${d.connectivity.name})`} />
        <Fact term="Enrolled" value={d.enrolledOn} />
        <Fact term="Verified" value={d.verifiedAt ? dateTime(d.verifiedAt) : "not yet"} />
        <Fact term="Uptime 24 h" value={percent(d.uptime24h)} />
        <Fact term="Uptime 7 d" value={percent(d.uptime7d)} />
        <Fact term="Uptime 30 d" value={percent(d.uptime30d)} />
      </dl>
      <div className="panel">
        <h2>Uptime, last 30 days</h2>
        <UplotChart
          ariaLabel="Daily uptime over the last 30 days"
          yRange={[0, 100]}
          x={daily.map((p) => Date.parse(`${p.day}T00:00:00Z`) / 1000)}
          series={[
            {
              label: "uptime %",
              values: daily.map((p) =>
                p.possibleMinutes > 0 ? Math.min(100, (p.upMinutes / p.possibleMinutes) * 100) : null,
              ),
              color: "#22c55e",
              bars: true,
              format: (v) => `${v.toFixed(1)}%`,
            },
          ]}
        />
      </div>
      <div className="panel">
        <h2>Recent epochs</h2>
        <UplotChart
          ariaLabel="Up-minutes in each recent epoch"
          x={epochs.map((e) => Date.parse(e.startsAt) / 1000)}
          series={[
            { label: "up-minutes", values: epochs.map((e) => e.upMinutes), color: "#f97316", bars: true },
            { label: "possible", values: epochs.map((e) => e.possibleMinutes), color: "#94a3b8" },
          ]}
          height={180}
        />
      </div>
      <div className="panel">
        <h2>Verification history</h2>
        {d.verificationHistory.length === 0 ? (
          <p className="muted">No proof-of-GPU check has been decided for this device yet.</p>
        ) : (
          <ol className="history" data-testid="verification-history">
            {d.verificationHistory.map((v) => (
              <li key={`${v.at}-${v.result}`}>
                <span
                  className={`badge ${v.result === "pass" ? "verification-verified" : "verification-failed"}`}
                >
                  {v.result === "pass" ? "✓ pass" : v.outcome === "timeout" ? "✗ timeout" : "✗ fail"}
                </span>{" "}
                <time dateTime={v.at}>{dateTime(v.at)}</time>
                {v.code ? (
                  <>
                    {" "}
                    <code>{v.code}</code>
                  </>
                ) : null}
              </li>
            ))}
          </ol>
        )}
      </div>
    </>
  );
}

function Fact({ term, value, testId }: { term: string; value: string; testId?: string }) {
  return (
    <div data-testid={testId}>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}
