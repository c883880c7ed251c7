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

/** Reads the supplier's devices from the server and counts the states of the given simulated ones. */
export async function readServerView(
  server: string,
  supplierKey: string,
  deviceIds: Iterable<string>,
  counterfeitIds: ReadonlySet<string>,
): Promise<ServerView> {
  const wanted = new Set(deviceIds);
  const view: ServerView = {
    checked: 0,
    connected: 0,
    verified: 0,
    failed: 0,
    quarantined: 0,
    revoked: 0,
    counterfeitCaught: 0,
  };
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = `/v1/devices?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await apiRequest<{ items: DeviceView[]; nextCursor: string | null }>(server, query, {
      token: supplierKey,
    });
    for (const device of body.items) {
      if (!wanted.has(device.id)) continue;
      view.checked++;
      if (device.connected) view.connected++;
      if (device.verification === "verified") view.verified++;
      if (device.verification === "failed") view.failed++;
      if (device.status === "quarantined") view.quarantined++;
      if (device.status === "revoked") view.revoked++;
      if (
        counterfeitIds.has(device.id) &&
        (device.verification === "failed" || device.status === "quarantined")
      ) {
        view.counterfeitCaught++;
      }
    }
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return view;
}
