import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionSigningText, WORKER_SESSION_PATH } from "@ignis/protocol";
import v1 from "@ignis/protocol/fixtures/worker-protocol-v1.json" with { type: "json" };
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { generateDeviceKey, signText } from "../../../cli/src/worker/device-key.js";
import { startWorker } from "../../../cli/src/worker/worker-agent.js";
import { WORKER_RELEASE } from "../../../cli/src/worker/worker-release.js";
import { readDeviceKey, writeDeviceKey, writeDeviceState } from "../../../cli/src/worker/worker-state.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";
import { CloseCode } from "./close-codes.js";

/** A socket that keeps every frame as the raw JSON object it was, envelope version included. */
async function openFrames(url: string) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${WORKER_SESSION_PATH}`);
  const frames: Array<Record<string, unknown>> = [];
  ws.on("message", (data) => frames.push(JSON.parse(data.toString())));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const frameOf = (type: string) => waitFor(`a ${type} frame`, () => frames.find((f) => f.type === type));
  return { ws, frames, closed, frameOf };
}

/** A v1 fixture frame with the test's device, key and signature filled in. */
function fill(frame: object, values: Record<string, string>): string {
  let text = JSON.stringify(frame);
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`$${name}`, value);
  return text;
}

describeEachDialect("worker protocol negotiation", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: { IGNIS_HEARTBEAT_SECONDS: "0.5" } });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  /** Opens a session with the v1 fixture opener; returns the socket once it was answered. */
  const openV1 = async () => {
    const device = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(device.stateDir);
    const s = await openFrames(t.url);
    const challenge = await s.frameOf("session.challenge");
    const values = {
      deviceId: device.deviceId,
      publicKey: key.publicKey,
      signature: signText(key, sessionSigningText(String(challenge.nonce), device.deviceId, t.url)),
    };
    s.ws.send(fill(v1.worker.auth, values));
    return { ...s, device, values, challenge };
  };

  it("speaks v1 to a worker that sends the v1 fixture frames, exactly as v1 defined them", async () => {
    const s = await openV1();
    // The challenge is a v1 frame any v1 worker decodes; the range it adds is an extra field.
    expect(s.challenge).toMatchObject({ v: 1, type: "session.challenge", protocol: { min: 1, max: 2 } });
    const hello = await s.frameOf("session.hello");
    expect(Object.keys(hello).sort()).toEqual(Object.keys(v1.server.hello).sort());
    expect(hello).toMatchObject({ v: 1, deviceId: s.device.deviceId });
    s.ws.send(fill(v1.worker.heartbeat, s.values));
    s.ws.send(fill(v1.worker.heartbeatBare, s.values));
    const ack = await s.frameOf("heartbeat.ack");
    expect(Object.keys(ack).sort()).toEqual(Object.keys(v1.server.heartbeatAck).sort());
    expect(ack).toMatchObject({ v: 1, seq: 0 });
    const session = t.server.ctx.gateway.session(s.device.deviceId);
    expect(session).toMatchObject({ protocolVersion: 1, workerVersion: null });
    expect(session?.supports("self-update")).toBe(false);
    // A feature-gated frame is never sent to a v1 session.
    const notice = { type: "worker.notice", code: "worker_outdated", message: "update" } as const;
    expect(await t.server.ctx.gateway.send(s.device.deviceId, notice)).toBe(false);
    expect(s.frames.some((f) => f.type === "session.error")).toBe(false);
    s.ws.close();
  });

  it("negotiates v2 with the current worker and exposes its version and features to other modules", async () => {
    const w = await startTestWorker(t, supplier.key);
    const hello = w.received.find((m) => m.type === "session.hello");
    expect(hello).toMatchObject({
      protocol: 2,
      // A simulated device's CPU prover answers the memory phase, so it announces proof-vram too.
      features: ["self-update", "notices", "proof-verdicts", "link-probe", "proof-vram"],
    });
    expect(w.handle.protocolVersion()).toBe(2);
    const session = await waitFor("the session", () => t.server.ctx.gateway.session(w.deviceId));
    expect(session.protocolVersion).toBe(2);
    expect(session.workerVersion).toBe(WORKER_RELEASE);
    expect(session.supports("notices")).toBe(true);
    expect(session.supports("proof-verdicts")).toBe(true);
    expect(session.supports("exec")).toBe(false);
    const notice = { type: "worker.notice", code: "worker_outdated", message: "update" } as const;
    expect(await t.server.ctx.gateway.send(w.deviceId, notice)).toBe(true);
    await waitFor("the notice", () => w.received.find((m) => m.type === "worker.notice"));
    await w.handle.stop();
  });

  it("refuses an N-2 (v0) opener and a range beyond N with protocol_unsupported, naming the supported range, and audits it", async () => {
    const device = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(device.stateDir);
    const openers = [
      (values: Record<string, string>) => fill({ ...v1.worker.auth, v: 0 }, values),
      (values: Record<string, string>) =>
        fill({ ...v1.worker.auth, v: 2, protocol: { min: 3, max: 4 } }, values),
      (values: Record<string, string>) => fill({ ...v1.worker.auth, protocol: { min: 0, max: 0 } }, values),
    ];
    for (const opener of openers) {
      const s = await openFrames(t.url);
      const challenge = await s.frameOf("session.challenge");
      const signature = signText(key, sessionSigningText(String(challenge.nonce), device.deviceId, t.url));
      s.ws.send(opener({ deviceId: device.deviceId, publicKey: key.publicKey, signature }));
      const error = await s.frameOf("session.error");
      expect(error).toMatchObject({ code: "protocol_unsupported", fatal: true });
      expect(String(error.message)).toContain("v1-v2");
      expect(await s.closed).toEqual({ code: CloseCode.protocolUnsupported, reason: "protocol_unsupported" });
    }
    const refusals = await waitFor("three audited refusals", async () => {
      const rows = await t.server.ctx.db
        .selectFrom("audit_log")
        .select(["outcome", "details"])
        .where("outcome", "=", "refused:protocol_unsupported")
        .execute();
      return rows.length >= 3 ? rows : undefined;
    });
    expect(refusals[0]!.details).toMatchObject({ supported: { min: 1, max: 2 } });
    // Nothing changed for the device: it never came online.
    const view = await call<{ status: string }>(t, "GET", `/v1/devices/${device.deviceId}`, supplier.key);
    expect(view.body.status).toBe("pending");
  });
});

it("a current worker speaks plain v1 to a server that predates negotiation (the v1 fixture frames)", async () => {
  // A v1 server as released: it answers the fixture frames and refuses any field v1 did not define.
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => wss.once("listening", resolve));
  const port = (wss.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const received: Array<Record<string, unknown>> = [];
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ ...v1.server.challenge, origin: url }));
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      received.push(frame);
      if (frame.type === "session.auth") {
        const known = Object.keys(v1.worker.auth).sort();
        if (frame.v !== 1 || JSON.stringify(Object.keys(frame).sort()) !== JSON.stringify(known)) {
          ws.send(JSON.stringify(v1.server.error));
          ws.close(4401);
          return;
        }
        ws.send(JSON.stringify({ ...v1.server.hello, deviceId: frame.deviceId }));
      }
    });
  });
  const stateDir = mkdtempSync(join(tmpdir(), "ignis-v1-server-"));
  try {
    const key = generateDeviceKey();
    writeDeviceState(stateDir, {
      deviceId: "dev_00000000000000000000000000",
      server: url,
      keyId: "key_fixture",
      publicKey: key.publicKey,
      profile: "sim-a100",
      enrolledAt: new Date().toISOString(),
    });
    writeDeviceKey(stateDir, key);
    const worker = startWorker({ stateDir, server: url, reconnectBaseMs: 50 });
    await worker.connected;
    const heartbeat = await waitFor("a heartbeat", () => received.find((f) => f.type === "heartbeat"));
    expect(heartbeat.v).toBe(1);
    expect(received.find((f) => f.type === "session.auth")).not.toHaveProperty("protocol");
    expect(worker.protocolVersion()).toBe(1);
    expect(worker.stats().refusals).toBe(0);
    await worker.stop();
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    await new Promise((resolve) => wss.close(resolve));
  }
});
