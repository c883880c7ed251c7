import type { DeviceView, PublicDeviceDetail } from "@ignis/protocol";
import { type FormEvent, useState } from "react";
import { api } from "../lib/api";
import { percent } from "../lib/format";
import { Link } from "../lib/router";
import { useAction, useApi } from "../lib/use-api";
import { StatusBadge, VerificationBadge } from "./badges";
import { ErrorState } from "./states";
import { VerificationChecks } from "./verification-checks";

/**
 * One of the supplier's devices, with its uptime (from the explorer), a rename form, key rotation and revoke
 * buttons, and, while two machines hold its key, the conflict and how to resolve it.
 */
export function SupplierDeviceRow({ device, onChanged }: { device: DeviceView; onChanged: () => void }) {
  const shown = device.status !== "revoked";
  const uptime = useApi<PublicDeviceDetail>(shown ? `/v1/explorer/devices/${device.id}` : null, {
    pollMs: 15_000,
  });
  const [editing, setEditing] = useState(false);
  const [label, setLabel] = useState(device.label ?? "");
  const rename = useAction((value: string | null) =>
    api<DeviceView>(`/v1/devices/${device.id}`, { method: "PATCH", body: { label: value } }),
  );
  const visibility = useAction((isPublic: boolean) =>
    api<{ labelPublic: boolean }>(`/v1/devices/${device.id}/label-visibility`, {
      method: "PUT",
      body: { public: isPublic },
    }),
  );
  // The explorer shows a label only when it is public, so its answer tells the current choice.
  const labelIsPublic = device.label !== null && (uptime.data?.label ?? null) !== null;
  const revoke = useAction(async () => {
    await api(`/v1/devices/${device.id}/revoke`, { method: "POST", body: {} });
    return true;
  });
  const keep = useAction(async () => {
    await api(`/v1/devices/${device.id}/resolve-conflict`, { method: "POST", body: { action: "keep" } });
    return true;
  });
  const rotate = useAction(async () => {
    await api(`/v1/devices/${device.id}/rotate-key`, { method: "POST", body: {} });
    return true;
  });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const updated = await rename.perform(label.trim() === "" ? null : label.trim());
    if (updated) {
      setEditing(false);
      onChanged();
    }
  };

  return (
    <tr data-device-id={device.id}>
      <td>
        {shown ? (
          <Link to={`/devices/${device.id}`} className="mono">
            {device.id}
          </Link>
        ) : (
          <span className="mono">{device.id}</span>
        )}
        {editing ? (
          <form onSubmit={save} className="inline-form">
            <input
              aria-label="Label"
              value={label}
              maxLength={64}
              onChange={(e) => setLabel(e.target.value)}
            />
            <button type="submit" className="button small primary" disabled={rename.pending}>
              Save
            </button>
            <button type="button" className="button small secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <>
            <div className="label-text" data-testid="my-device-label">
              {device.label ?? <span className="muted">no label</span>}
            </div>
            {device.label && shown ? (
              <label className="check small">
                <input
                  type="checkbox"
                  checked={labelIsPublic}
                  disabled={visibility.pending || !uptime.data}
                  onChange={async (e) => (await visibility.perform(e.target.checked)) && uptime.reload()}
                />
                show label on the explorer
              </label>
            ) : null}
          </>
        )}
        {visibility.error ? (
          <ErrorState error={visibility.error} title="Could not change the label's visibility" />
        ) : null}
        {rename.error ? <ErrorState error={rename.error} title="Rename failed" /> : null}
        {revoke.error ? <ErrorState error={revoke.error} title="Revoke failed" /> : null}
        {device.conflict ? (
          <div className="notice bad" role="alert" data-testid="device-conflict">
            Another machine answered with this device's key at the same time (from{" "}
            {device.conflict.peers.join(" and ")}). Both are refused until you choose: keep this machine once
            you have stopped the other (its key then rotates), or revoke the device and enroll it again.{" "}
            <button
              type="button"
              className="button small primary"
              disabled={keep.pending}
              onClick={async () => (await keep.perform()) && onChanged()}
            >
              Keep one machine
            </button>
          </div>
        ) : null}
        {device.outdated ? (
          <div className="notice warn" role="status" data-testid="device-outdated">
            This worker ({device.workerVersion ?? "protocol v1"}) is older than the network's minimum release.{" "}
            {device.outdated.earning
              ? `It keeps earning until ${new Date(device.outdated.earningUntil).toLocaleString()}.`
              : "Its grace period is over: it stays connected but no longer earns."}{" "}
            Update it on the machine with <code>{device.outdated.updateCommand}</code>.
          </div>
        ) : null}
        {keep.error ? <ErrorState error={keep.error} title="Could not resolve the conflict" /> : null}
        {rotate.error ? <ErrorState error={rotate.error} title="Could not ask for a key rotation" /> : null}
      </td>
      <td data-label="GPU">
        <span>
          {device.gpu.count > 1 ? `${device.gpu.count}× ` : ""}
          {device.gpu.model}
        </span>
      </td>
      <td data-label="Status">
        <StatusBadge status={device.status} />
      </td>
      <td data-label="Proof">
        <VerificationBadge verification={device.verification} />
        <VerificationChecks deviceId={device.id} />
      </td>
      <td className="num" data-label="Uptime 24 h">
        {uptime.data ? percent(uptime.data.uptime24h) : "—"}
      </td>
      <td className="actions">
        {shown ? (
          <>
            <button type="button" className="button small secondary" onClick={() => setEditing(true)}>
              Rename
            </button>
            {device.status !== "conflict" ? (
              <button
                type="button"
                className="button small secondary"
                disabled={rotate.pending}
                title="The device makes a new key and retires this one after the overlap window"
                onClick={async () => (await rotate.perform()) && onChanged()}
              >
                Rotate key
              </button>
            ) : null}
            <button
              type="button"
              className="button small danger"
              disabled={revoke.pending}
              onClick={async () => {
                if (!window.confirm(`Revoke ${device.id}? Its key stops working at once.`)) return;
                if (await revoke.perform()) onChanged();
              }}
            >
              Revoke
            </button>
          </>
        ) : null}
      </td>
    </tr>
  );
}
