import type { DeviceView } from "@ignis/protocol";
import { EarningsPanel } from "../components/earnings-panel";
import { EnrollPanel } from "../components/enroll-panel";
import { StakesPanel } from "../components/stakes-panel";
import { Empty, ErrorState, Loading } from "../components/states";
import { SupplierDeviceRow } from "../components/supplier-device-row";
import { useApi } from "../lib/use-api";

/** `GET /v1/devices` answers a page; older servers answered a bare list. */
type DeviceList = { items: DeviceView[]; nextCursor?: string | null } | DeviceView[];

/** A supplier's dashboard: their devices, enrollment codes, stakes and earnings. */
export function SupplierPage() {
  const devices = useApi<DeviceList>("/v1/devices?limit=100", { pollMs: 3000 });
  const items = devices.data ? (Array.isArray(devices.data) ? devices.data : devices.data.items) : undefined;
  return (
    <section className="page">
      <header className="page-header">
        <h1>My devices</h1>
        <p className="muted">
          Enroll a machine with a one-time code, watch it come online, rename or revoke it.
        </p>
      </header>
      <EnrollPanel onEnrolled={devices.reload} />
      <div className="panel">
        <h2>Devices</h2>
        {devices.error && !items ? <ErrorState error={devices.error} onRetry={devices.reload} /> : null}
        {!items && !devices.error ? <Loading what="Loading your devices" /> : null}
        {items ? (
          items.length === 0 ? (
            <Empty>
              No devices yet. Create an enrollment code above and run the command on your machine.
            </Empty>
          ) : (
            <div className="table-wrap">
              <table className="cards-on-phone" data-testid="my-devices">
                <thead>
                  <tr>
                    <th>Device</th>
                    <th>GPU</th>
                    <th>Status</th>
                    <th>Proof</th>
                    <th className="num">Uptime 24 h</th>
                    <th>Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((d) => (
                    <SupplierDeviceRow key={d.id} device={d} onChanged={devices.reload} />
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : null}
      </div>
      {items ? <StakesPanel devices={items} /> : null}
      <EarningsPanel />
    </section>
  );
}
