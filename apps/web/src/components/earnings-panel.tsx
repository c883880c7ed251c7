import type { EarningsView } from "@ignis/protocol";
import { credits, creditsForChart } from "../lib/format";
import { useApi } from "../lib/use-api";
import { Empty, ErrorState, Loading } from "./states";
import { UplotChart } from "./uplot-chart";

/** The supplier's rewards: balance, per-device totals and a chart of earnings per epoch. */
export function EarningsPanel() {
  const earnings = useApi<EarningsView>("/v1/rewards/earnings?limit=100", { pollMs: 15_000 });
  return (
    <div className="panel">
      <h2>Earnings</h2>
      {earnings.error && !earnings.data ? (
        earnings.error.isMissingRoute ? (
          <Empty>Rewards are not running on this server yet.</Empty>
        ) : (
          <ErrorState error={earnings.error} onRetry={earnings.reload} />
        )
      ) : null}
      {!earnings.data && !earnings.error ? <Loading what="Loading earnings" /> : null}
      {earnings.data ? <Earnings view={earnings.data} /> : null}
    </div>
  );
}

function Earnings({ view }: { view: EarningsView }) {
  // Sum the page's per-device rows into one bar per epoch, oldest first.
  const byEpoch = new Map<number, { startsAt: string; amount: bigint }>();
  for (const item of view.items) {
    const entry = byEpoch.get(item.epoch) ?? { startsAt: item.epochStartsAt, amount: 0n };
    entry.amount += BigInt(item.amount);
    byEpoch.set(item.epoch, entry);
  }
  const epochs = [...byEpoch.entries()].sort((a, b) => a[0] - b[0]);
  return (
    <>
      <div className="cards">
        <div className="card">
          <div className="card-label">Balance</div>
          <div className="card-value">{credits(view.balance)}</div>
        </div>
        <div className="card">
          <div className="card-label">Total earned</div>
          <div className="card-value">{credits(view.total)}</div>
        </div>
        <div className="card">
          <div className="card-label">Epochs paid</div>
          <div className="card-value">{byEpoch.size}</div>
        </div>
      </div>
      {epochs.length === 0 ? (
        <Empty>No rewards yet. Verified devices earn from the first epoch they are up in.</Empty>
      ) : (
        <UplotChart
          ariaLabel="Earnings per epoch"
          x={epochs.map(([, e]) => Date.parse(e.startsAt) / 1000)}
          series={[
            {
              label: "earned (credits)",
              values: epochs.map(([, e]) => creditsForChart(e.amount.toString())),
              color: "#22c55e",
              bars: true,
            },
          ]}
        />
      )}
      {view.devices.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Device</th>
                <th className="num">Epochs</th>
                <th className="num">Total</th>
              </tr>
            </thead>
            <tbody>
              {view.devices.map((d) => (
                <tr key={d.deviceId}>
                  <td className="mono">{d.deviceId}</td>
                  <td className="num">{d.epochs}</td>
                  <td className="num">{credits(d.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
