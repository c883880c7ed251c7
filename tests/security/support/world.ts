import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { OpenDatabase } from "../../../apps/server/src/db/database.js";
import { newId } from "../../../apps/server/src/db/new-id.js";
import { issueApiKey } from "../../../apps/server/src/identity/api-keys.js";
import {
  createUserWithKey,
  type FixtureUser,
  insertDevices,
} from "../../../apps/server/src/security/security-fixtures.js";
import { startTestServer, type TestServer } from "../../../apps/server/src/testing/test-server.js";

/** The points of view of the authorization matrix. */
export const POVS = [
  "anonymous",
  "owner",
  "otherSupplier",
  "customer",
  "admin",
  "deviceA",
  "deviceB",
] as const;
/** One point of view. */
export type Pov = (typeof POVS)[number];

/** A running server with one actor per point of view and objects owned by them. */
export interface World {
  t: TestServer;
  db: OpenDatabase["db"];
  owner: FixtureUser;
  otherSupplier: FixtureUser;
  customer: FixtureUser;
  admin: { userId: string; key: string };
  /** Owned by `owner` and by `otherSupplier`. */
  deviceA: string;
  deviceB: string;
  /** A completed cluster of `customer`. */
  clusterId: string;
  /** An open security alert. */
  alertId: string;
  /** The bearer a point of view presents (undefined for anonymous). */
  bearer(pov: Pov): string | undefined;
  /** Calls the server as a point of view. */
  call(
    pov: Pov,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

/** Starts a server (rate limits and containment off unless `env` says otherwise) and builds the world. */
export async function buildWorld(database: OpenDatabase, env: Record<string, string> = {}): Promise<World> {
  // Staking on (MATRIX_STAKES in route-matrix.ts), so the stake routes answer past policy in every suite.
  const t = await startTestServer({ database, env: { IGNIS_STAKE_PER_GPU: "1000", ...env } });
  const db = database.db;
  const owner = await createUserWithKey(db, ["supplier"]);
  const otherSupplier = await createUserWithKey(db, ["supplier"]);
  const customer = await createUserWithKey(db, ["customer"]);
  const adminRow = await db
    .selectFrom("api_keys")
    .select("user_id")
    .orderBy("created_at")
    .limit(1)
    .executeTakeFirstOrThrow();
  const [deviceA] = await insertDevices(db, owner.userId, 1, { status: "online", labelPrefix: "a" });
  const [deviceB] = await insertDevices(db, otherSupplier.userId, 1, { status: "online", labelPrefix: "b" });
  const clusterId = await insertCompletedCluster(db, customer.userId);
  const alertId = await insertAlertFor(db, owner);
  const bearers: Record<Pov, string | undefined> = {
    anonymous: undefined,
    owner: owner.key,
    otherSupplier: otherSupplier.key,
    customer: customer.key,
    admin: t.adminKey,
    // A device has no bearer credential: the best it can present is its own identity, which must grant nothing.
    deviceA: `device:${deviceA}`,
    deviceB: `device:${deviceB}`,
  };
  const world: World = {
    t,
    db,
    owner,
    otherSupplier,
    customer,
    admin: { userId: adminRow.user_id, key: t.adminKey },
    deviceA: deviceA!,
    deviceB: deviceB!,
    clusterId,
    alertId,
    bearer: (pov) => bearers[pov],
    call(pov, method, path, body, headers = {}) {
      const bearer = bearers[pov];
      return fetch(`${t.url}${path}`, {
        method,
        redirect: "manual",
        headers: {
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
    },
  };
  return world;
}

/**
 * The world's devices have no session, so the presence sweep marks them offline once they look stale; on a
 * loaded machine that happens halfway through a long suite and looks like a write to a suite that compares the
 * tables before and after a request. Seen a day ahead, they stay online for the whole run.
 */
export async function keepDevicesOnline(w: World): Promise<void> {
  await w.db
    .updateTable("devices")
    .set({ last_seen_at: new Date(Date.now() + 86_400_000) })
    .where("status", "=", "online")
    .execute();
}

/** A fresh API key of a user (for routes that destroy the key they act on). */
export async function freshKey(db: World["db"], userId: string): Promise<string> {
  return (await issueApiKey(db, { userId, name: `k-${randomUUID().slice(0, 8)}` })).id;
}

async function insertCompletedCluster(db: World["db"], customerId: string): Promise<string> {
  const id = newId("cls");
  const now = new Date();
  await sql`
    insert into clusters (id, customer_id, status, gpu_model, count, hours, hold_price_per_hour, job, head_port,
      billing_minute_ms, fee_bps, held, starts_at, ends_at, ended_at, end_reason, settled_at)
    values (${id}, ${customerId}, 'completed', 'NVIDIA A100 (simulated)', 1, 1, 1000000, ${JSON.stringify({ command: "true", args: [], env: {}, image: "ubuntu:24.04" })},
      29500, 60000, 1000, 0, ${now}, ${now}, ${now}, 'completed', ${now})`.execute(db);
  return id;
}

async function insertAlertFor(db: World["db"], user: FixtureUser): Promise<string> {
  const id = newId("alr");
  await db
    .insertInto("security_alerts")
    .values({
      id,
      rule: "object_sweep",
      severity: "medium",
      subject: `cred:${user.keyId}`,
      actor_type: "user",
      actor_id: user.userId,
      credential_id: user.keyId,
      ip: "192.0.2.1",
      evidence: JSON.stringify({ note: "matrix fixture" }),
      containment: JSON.stringify({ kind: "none" }),
    })
    .execute();
  return id;
}
