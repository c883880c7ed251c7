import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import type { Bus } from "../bus/bus.js";
import { createInProcessBus } from "../bus/in-process-bus.js";
import { loadConfig } from "../config.js";
import type { OpenDatabase } from "../db/database.js";
import { ADMIN_KEY_FILE } from "../identity/bootstrap-admin.js";
import { createServer } from "../server.js";
import { describeEachDialect } from "../testing/dialects.js";
import { openDeviceSession } from "../testing/raw-worker-socket.js";
import { freePort, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";

/** One replica: its own port and replica id, the shared database, the shared bus. */
async function startReplica(
  database: OpenDatabase,
  bus: Bus,
  id: string,
  dataDir: string,
): Promise<TestServer> {
  const port = await freePort();
  const server = await createServer(
    loadConfig({
      IGNIS_PORT: String(port),
      IGNIS_HOST: "127.0.0.1",
      IGNIS_PUBLIC_URL: `http://127.0.0.1:${port}`,
      IGNIS_DATA_DIR: dataDir,
      IGNIS_LOG_LEVEL: "silent",
      IGNIS_RATE_LIMITS: "off",
      IGNIS_SECURITY_CONTAINMENT: "off",
      IGNIS_HEARTBEAT_SECONDS: "0.2",
      IGNIS_REPLICA_ID: id,
    }),
    { database, bus },
  );
  await server.listen();
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    adminKey: readFileSync(join(dataDir, ADMIN_KEY_FILE), "utf8").trim(),
    dataDir,
    stop: () => server.close(),
  };
}

describeEachDialect("two replicas over one bus", (database) => {
  let a: TestServer;
  let b: TestServer;
  let dataDir: string;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    const bus = createInProcessBus();
    dataDir = mkdtempSync(join(tmpdir(), "ignis-replicas-"));
    a = await startReplica(database(), bus, "replica-a", dataDir);
    b = await startReplica(database(), bus, "replica-b", dataDir);
    supplier = await userWithKey(a);
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
    rmSync(dataDir, { recursive: true, force: true });
    cleanupStateDirs();
  });

  it("delivers a message to a device whose session is on the other replica", async () => {
    const { stateDir } = await enrollSimulated(a, supplier.key);
    const w = await startTestWorker(b, supplier.key, { stateDir });
    await waitFor("replica A to hold the device's session", () =>
      a.server.ctx.gateway.isConnected(w.deviceId),
    );
    const delivered = await a.server.ctx.gateway.send(w.deviceId, {
      type: "session.error",
      code: "unavailable",
      message: "hello from replica a",
      fatal: false,
    });
    expect(delivered).toBe(true);
    await waitFor("the worker to receive replica A's message", () =>
      w.received.some((m) => m.type === "session.error" && m.message === "hello from replica a"),
    );
    await w.handle.stop();
    await waitFor(
      "replica A to forget the stopped worker",
      () => !a.server.ctx.gateway.isConnected(w.deviceId),
    );
  });

  it("answers false for a device connected nowhere", async () => {
    const { deviceId } = await enrollSimulated(a, supplier.key);
    expect(
      await a.server.ctx.gateway.send(deviceId, {
        type: "session.error",
        code: "x",
        message: "y",
        fatal: false,
      }),
    ).toBe(false);
  });

  it("puts a device in conflict when a copy of its key connects through the other replica while it answers", async () => {
    const { stateDir } = await enrollSimulated(a, supplier.key);
    const real = await startTestWorker(a, supplier.key, { stateDir });
    await waitFor("replica B to hold the device's session", () =>
      b.server.ctx.gateway.isConnected(real.deviceId),
    );
    const copy = await startTestWorker(b, supplier.key, { stateDir, waitOnline: false });
    await waitFor(
      "both sessions to be told device_conflict",
      () =>
        real.received.some((m) => m.type === "session.error" && m.code === "device_conflict") &&
        copy.received.some((m) => m.type === "session.error" && m.code === "device_conflict"),
    );
    const row = await a.server.ctx.db
      .selectFrom("devices")
      .select(["status", "conflict_peers"])
      .where("id", "=", real.deviceId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "conflict", conflict_peers: ["127.0.0.1", "127.0.0.1"] });
    await waitFor(
      "replica A to drop the conflicting device",
      () => !a.server.ctx.gateway.isConnected(real.deviceId),
    );
    await real.handle.stop();
    await copy.handle.stop();
  });

  it("lets a session on the other replica take over from one that no longer answers pings", async () => {
    const { deviceId, stateDir } = await enrollSimulated(a, supplier.key);
    const stale = await openDeviceSession(a.url, deviceId, readDeviceKey(stateDir), { autoPong: false });
    expect(stale.answer.type).toBe("session.hello");
    await waitFor("replica B to hold the device's session", () => b.server.ctx.gateway.isConnected(deviceId));
    const fresh = await startTestWorker(b, supplier.key, { stateDir });
    expect(await stale.raw.nextOf("session.error")).toMatchObject({ code: "session_replaced" });
    expect(fresh.handle.stats().online).toBe(true);
    await fresh.handle.stop();
  });

  it("closes a session on the other replica at once when the device is revoked", async () => {
    const { stateDir } = await enrollSimulated(a, supplier.key);
    const w = await startTestWorker(b, supplier.key, { stateDir });
    const res = await call(a, "POST", `/v1/devices/${w.deviceId}/revoke`, supplier.key);
    expect(res.status).toBe(200);
    expect((await w.handle.done).reason).toBe("revoked");
  });

  it("announces itself gone once on shutdown, with no per-device down from sessions still closing", async () => {
    const inner = createInProcessBus();
    const presence: { replicaId: string; down?: string[]; gone?: boolean }[] = [];
    const recording: Bus = {
      publish(subject, payload) {
        if (subject === "ignis.gateway.presence") presence.push(payload as (typeof presence)[number]);
        return inner.publish(subject, payload);
      },
      subscribe: (subject, handler) => inner.subscribe(subject, handler),
      close: () => inner.close(),
    };
    const d = await startReplica(database(), recording, "replica-d", dataDir);
    const w = await startTestWorker(d, supplier.key, {
      stateDir: (await enrollSimulated(a, supplier.key)).stateDir,
    });
    await waitFor("a heartbeat on replica D", () => d.server.ctx.gateway.stats().heartbeats >= 1);
    await d.stop();
    // The worker answers the close handshake after `gone` went out; its session's close must stay quiet.
    await new Promise((r) => setTimeout(r, 300));
    const own = presence.filter((p) => p.replicaId === "replica-d");
    const goneAt = own.findIndex((p) => p.gone);
    expect(goneAt).toBeGreaterThanOrEqual(0);
    expect(own.slice(goneAt + 1)).toEqual([]);
    await w.handle.stop();
  });

  it("writes the last up-minutes when a replica shuts down", async () => {
    const bus = createInProcessBus();
    const c = await startReplica(database(), bus, "replica-c", dataDir);
    const w = await startTestWorker(c, supplier.key, {
      stateDir: (await enrollSimulated(a, supplier.key)).stateDir,
    });
    await waitFor("a heartbeat on replica C", () => c.server.ctx.gateway.stats().heartbeats >= 1);
    await c.stop();
    const rows = await a.server.ctx.db
      .selectFrom("uptime")
      .select("up_minutes")
      .where("device_id", "=", w.deviceId)
      .execute();
    expect(rows.reduce((n, r) => n + r.up_minutes, 0)).toBeGreaterThanOrEqual(1);
    await w.handle.stop();
  });
});
