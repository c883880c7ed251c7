import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerMessage } from "@ignis/protocol";
import { enrollDevice } from "../../../cli/src/worker/enroll.js";
import {
  type StartWorkerOptions,
  startWorker,
  type WorkerHandle,
} from "../../../cli/src/worker/worker-agent.js";
import { updateDeviceRows } from "./device-rows.js";
import type { TestServer } from "./test-server.js";
import { waitFor } from "./wait-for.js";

/**
 * Test support for worker sessions: suppliers with API keys, enrolled simulated devices and in-process workers
 * over real WebSockets (the same agent `ignis worker run` uses). Not a test file; suites import it.
 */

/** JSON over HTTP with a bearer key; returns the status and the parsed body. */
export async function call<T = Record<string, unknown>>(
  t: TestServer,
  method: string,
  path: string,
  key?: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Creates a user with the given roles and an API key for them, through the admin routes. */
export async function userWithKey(
  t: TestServer,
  roles: Array<"supplier" | "customer" | "admin"> = ["supplier"],
): Promise<{ userId: string; key: string }> {
  const email = `u${Math.random().toString(36).slice(2, 10)}@example.com`;
  const user = await call<{ id: string }>(t, "POST", "/v1/admin/users", t.adminKey, { email, roles });
  if (user.status !== 201) throw new Error(`user creation failed: ${user.status}`);
  const key = await call<{ key: string }>(t, "POST", `/v1/admin/users/${user.body.id}/api-keys`, t.adminKey, {
    name: "test",
  });
  return { userId: user.body.id, key: key.body.key };
}

/** A fresh enrollment code of the key's user. */
export async function enrollmentCode(t: TestServer, key: string): Promise<string> {
  const res = await call<{ code: string }>(t, "POST", "/v1/enrollment-codes", key);
  if (res.status !== 201)
    throw new Error(`enrollment code refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.code;
}

/** Folders made by this fixture, removed by `cleanupStateDirs`. */
const stateDirs: string[] = [];

/** Enrolls a simulated device under the key's user; returns its id and state folder. */
export async function enrollSimulated(
  t: TestServer,
  key: string,
  profile = "sim-a100",
): Promise<{ deviceId: string; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), "ignis-worker-"));
  stateDirs.push(stateDir);
  const code = await enrollmentCode(t, key);
  const { deviceId } = await enrollDevice({ server: t.url, code, stateDir, profile });
  return { deviceId, stateDir };
}

/** A running in-process worker and the messages it received. */
export interface TestWorker {
  deviceId: string;
  stateDir: string;
  handle: WorkerHandle;
  received: ServerMessage[];
}

/**
 * Enrolls (unless `stateDir` is given) and starts a worker connected to `t` (whatever server it enrolled with);
 * resolves once its session is authenticated.
 */
export async function startTestWorker(
  t: TestServer,
  key: string,
  options: Partial<StartWorkerOptions> & { profile?: string; waitOnline?: boolean } = {},
): Promise<TestWorker> {
  const enrolled = options.stateDir
    ? { stateDir: options.stateDir, deviceId: "" }
    : await enrollSimulated(t, key, options.profile);
  const received: ServerMessage[] = [];
  const handle = startWorker({
    reconnectBaseMs: 50,
    reconnectMaxMs: 500,
    ...options,
    server: options.server ?? t.url,
    stateDir: enrolled.stateDir,
    onMessage: (m) => {
      received.push(m);
      options.onMessage?.(m);
    },
  });
  if (options.waitOnline !== false) await handle.connected;
  return { deviceId: handle.deviceId, stateDir: enrolled.stateDir, handle, received };
}

/** Removes the state folders this fixture made. */
export function cleanupStateDirs(): void {
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Server settings for suites about renting, not proofs: after a device's connect challenge, no retry and (in
 * practice) no re-check comes during the suite, so a verdict cannot undo {@link vouchForDevice} mid-test.
 */
export const PROOF_AT_REST = {
  IGNIS_CHALLENGE_RETRY_SECONDS: "86400",
  IGNIS_CHALLENGE_MEAN_SECONDS: "604800",
} as const;

/**
 * Marks a device verified for a suite that is not about proofs, once its connect challenge is decided: a verdict
 * landing after the vouching (a simulated proof can miss its deadline on a loaded machine) would make it
 * unverified again, and no cluster would hire it. Use with a server started with {@link PROOF_AT_REST}.
 */
export async function vouchForDevice(t: TestServer, deviceId: string): Promise<void> {
  const { db, proof } = t.server.ctx;
  await waitFor(
    "the device's connect challenge to be decided",
    async () =>
      !proof.challenging(deviceId) &&
      (await db
        .selectFrom("proof_challenges")
        .select("id")
        .where("device_id", "=", deviceId)
        .where("outcome", "!=", "pending")
        .executeTakeFirst()) !== undefined,
    { timeoutMs: 60_000 },
  );
  await updateDeviceRows(db, [deviceId], { verification: "verified", proven_at: new Date() });
}
