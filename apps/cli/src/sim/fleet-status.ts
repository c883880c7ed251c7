import type { DeviceView } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";

/** How the server sees the simulated devices: verification and status counts. */
export interface ServerView {
  checked: number;
  connected: number;
  verified: number;
  failed: number;
  quarantined: number;
  revoked: number;
  /** Counterfeit devices the server has failed or quarantined. */
  counterfeitCaught: number;
}

/** Pages read at most (100 devices each): beyond that the counts are of the first devices only. */
const MAX_PAGES = 200;

/** What the server says about one device, as the sim's verdict needs it. */
export type ServerDeviceState = Pick<DeviceView, "status" | "verification" | "connected">;

/** Reads the supplier's devices from the server: the state of each of the given devices it lists. */
export async function readServerDevices(
  server: string,
  supplierKey: string,
  deviceIds: Iterable<string>,
): Promise<Map<string, ServerDeviceState>> {
  const wanted = new Set(deviceIds);
  const states = new Map<string, ServerDeviceState>();
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = `/v1/devices?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    // A server still busy with the run's own load can take long over a page (300 devices on 2 loaded cores
    // took more than the default 30 s): the verdict depends on this read, so it waits longer.
    const body = await apiRequest<{ items: DeviceView[]; nextCursor: string | null }>(server, query, {
      token: supplierKey,
      timeoutMs: 120_000,
    });
    for (const d of body.items) {
      if (wanted.has(d.id))
        states.set(d.id, { status: d.status, verification: d.verification, connected: d.connected });
    }
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return states;
}

/** Counts the states of the simulated devices; a counterfeit is caught once it failed or is quarantined. */
export function countServerView(
  states: ReadonlyMap<string, ServerDeviceState>,
  counterfeitIds: ReadonlySet<string>,
): ServerView {
  const view: ServerView = {
    checked: 0,
    connected: 0,
    verified: 0,
    failed: 0,
    quarantined: 0,
    revoked: 0,
    counterfeitCaught: 0,
  };
  for (const [id, device] of states) {
    view.checked++;
    if (device.connected) view.connected++;
    if (device.verification === "verified") view.verified++;
    if (device.verification === "failed") view.failed++;
    if (device.status === "quarantined") view.quarantined++;
    if (device.status === "revoked") view.revoked++;
    if (counterfeitIds.has(id) && isCaught(device)) view.counterfeitCaught++;
  }
  return view;
}

/** True when the server has failed or quarantined the device. */
export function isCaught(device: ServerDeviceState): boolean {
  return device.verification === "failed" || device.status === "quarantined";
}

/** Reads the supplier's devices from the server and counts the states of the given simulated ones. */
export async function readServerView(
  server: string,
  supplierKey: string,
  deviceIds: Iterable<string>,
  counterfeitIds: ReadonlySet<string>,
): Promise<ServerView> {
  return countServerView(await readServerDevices(server, supplierKey, deviceIds), counterfeitIds);
}
