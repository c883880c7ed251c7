import type { AlertView } from "@ignis/protocol";
import type { OpenDatabase } from "../../../apps/server/src/db/database.js";
import {
  createUserWithKey,
  type FixtureUser,
  insertDevices,
} from "../../../apps/server/src/security/security-fixtures.js";
import { startTestServer, type TestServer } from "../../../apps/server/src/testing/test-server.js";
import { alertsOf, pool, SCENARIO_ENV, type TimelineEvent } from "./scenario-harness.js";

/** What the stolen-key scenario observed. */
export interface StolenKeyResult {
  t: TestServer;
  supplier: FixtureUser;
  deviceIds: string[];
  originalLabels: Map<string, string>;
  statuses: Record<string, number>;
  /** Relabel requests the server accepted (200) before containment. */
  accepted: number;
  firstRefusalMs: number | null;
  /** Relabels accepted when the first refusal came; null if none was refused. */
  acceptedAtFirstRefusal: number | null;
  alert: AlertView | undefined;
  alertAfterMs: number | null;
  timeline: TimelineEvent[];
}

/**
 * Scenario 1: a supplier's API key is stolen and the attacker relabels all of the supplier's devices as fast as
 * it can (PATCH /v1/devices/{id}), from its own address, with `concurrency` requests in flight.
 */
export async function runStolenKeyScenario(
  database: OpenDatabase,
  options: { devices?: number; concurrency?: number } = {},
): Promise<StolenKeyResult> {
  const t = await startTestServer({ database, env: SCENARIO_ENV });
  const supplier = await createUserWithKey(database.db, ["supplier"]);
  const deviceIds = await insertDevices(database.db, supplier.userId, options.devices ?? 500, {
    labelPrefix: "rack",
  });
  const rows = await database.db
    .selectFrom("devices")
    .select(["id", "label"])
    .where("owner_id", "=", supplier.userId)
    .execute();
  const originalLabels = new Map(rows.map((r) => [r.id, r.label ?? ""]));
  const timeline: TimelineEvent[] = [];
  const statuses: Record<string, number> = {};
  let accepted = 0;
  let firstRefusalMs: number | null = null;
  let acceptedAtFirstRefusal: number | null = null;
  const start = performance.now();
  const startWall = Date.now();
  const ms = () => Math.round(performance.now() - start);
  timeline.push({
    atMs: 0,
    what: `attacker starts relabelling ${deviceIds.length} devices with the stolen key`,
  });
  await pool(deviceIds, options.concurrency ?? 8, async (id) => {
    const res = await fetch(`${t.url}/v1/devices/${id}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${supplier.key}`,
        "content-type": "application/json",
        "x-forwarded-for": "203.0.113.66",
      },
      body: JSON.stringify({ label: "pwned" }),
    });
    const body = (await res.json()) as { code?: string };
    const key = body.code ? `${res.status} ${body.code}` : String(res.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (res.status === 200) accepted += 1;
    else if (firstRefusalMs === null) {
      firstRefusalMs = ms();
      acceptedAtFirstRefusal = accepted;
      timeline.push({ atMs: firstRefusalMs, what: `first refusal: ${key} (after ${accepted} accepted)` });
    }
  });
  timeline.push({ atMs: ms(), what: `attack over: ${JSON.stringify(statuses)}` });
  await t.server.ctx.security.settled();
  const alert = (await alertsOf(t))
    .filter((a) => a.credentialId === supplier.keyId)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  const alertAfterMs = alert ? new Date(alert.createdAt).getTime() - startWall : null;
  if (alert)
    timeline.push({
      atMs: alertAfterMs!,
      what: `alert ${alert.rule} (${alert.severity}): ${alert.containment.kind}`,
    });
  timeline.sort((a, b) => a.atMs - b.atMs);
  return {
    t,
    supplier,
    deviceIds,
    originalLabels,
    statuses,
    accepted,
    firstRefusalMs,
    acceptedAtFirstRefusal,
    alert,
    alertAfterMs,
    timeline,
  };
}
