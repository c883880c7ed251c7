import { connect } from "node:net";
import { WORKER_SESSION_PATH } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WebSocket } from "ws";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { SOCKET_ADMISSION_DEFAULTS } from "../../apps/server/src/security/socket-admission.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";

/**
 * Opens a worker socket as `ip` (behind the trusted proxy): the open socket, or the HTTP status refusing it (its
 * headers and body go to `onRefused`).
 */
function openSocket(
  t: TestServer,
  ip: string,
  onRefused?: (headers: Record<string, unknown>, body: string) => void,
  requestId?: string,
): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${t.url.replace("http", "ws")}${WORKER_SESSION_PATH}`, {
      headers: { "x-forwarded-for": ip, ...(requestId ? { "x-request-id": requestId } : {}) },
    });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => {
        onRefused?.(res.headers, body);
        resolve(res.statusCode ?? 0);
      });
    });
    ws.once("error", reject);
  });
}

/**
 * Opens an address's whole cap of sockets in their handshake at once: opened one after another on a loaded
 * machine, the first could reach the gateway's 10-s handshake deadline and free its place before the test looks.
 */
function fillCap(t: TestServer, ip: string): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: SOCKET_ADMISSION_DEFAULTS.maxPendingPerAddress }, () =>
      openSocket(t, ip).then((s) => s as WebSocket),
    ),
  );
}

describeEachDialect("worker socket limits", (database) => {
  let t: TestServer;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: { IGNIS_TRUST_PROXY: "127.0.0.1" } });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await t?.stop();
  });

  it("refuses an address's socket beyond its cap of unauthenticated sockets, audited, and admits others", async () => {
    const flooder = "203.0.113.90";
    const flood = await fillCap(t, flooder);
    expect(flood.every((s) => s instanceof WebSocket)).toBe(true);
    sockets.push(...flood);
    let refusal: Record<string, unknown> = {};
    let problem: Record<string, unknown> = {};
    const requestId = "flood-probe-0001";
    expect(
      await openSocket(
        t,
        flooder,
        (h, body) => {
          refusal = h;
          problem = JSON.parse(body) as Record<string, unknown>;
        },
        requestId,
      ),
    ).toBe(429);
    // A handshake takes milliseconds: honest devices behind one NAT are told to retry in a second, not to sit
    // out an uptime slot (the fleet-migration test reconnects 200 devices from one address).
    expect(refusal["retry-after"]).toBe("1");
    // The refusal is problem+json like every other, under the caller's request id (the audit record's too).
    expect(refusal["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refusal["x-request-id"]).toBe(requestId);
    expect(problem).toMatchObject({
      status: 429,
      code: "rate_limited",
      requestId,
      instance: WORKER_SESSION_PATH,
    });
    const other = await openSocket(t, "198.51.100.91");
    expect(other).toBeInstanceOf(WebSocket);
    sockets.push(other as WebSocket);
    const audit = await database()
      .db.selectFrom("audit_log")
      .select(["outcome", "ip", "request_id"])
      .where("action", "=", "worker.socket.open")
      .execute();
    expect(audit).toEqual([{ outcome: "refused:rate_limited", ip: flooder, request_id: requestId }]);
  });

  it("holds an opener past its address's cap in line and opens it as soon as a place frees", async () => {
    const farm = "203.0.113.91";
    const mine = await fillCap(t, farm);
    const lined = async () => (await t.server.ctx.metrics.workerSocketsLined.get()).values[0]?.value ?? 0;
    const before = await lined();
    let settled: WebSocket | number | undefined;
    const waiting = openSocket(t, farm).then((s) => {
      settled = s;
      return s;
    });
    // The opener is held, not refused: nothing is answered while the farm's places are all taken.
    await waitFor("the opener to wait in its address's line", lined, {
      until: (n) => n > before,
      everyMs: 10,
    });
    expect(settled).toBeUndefined();
    mine[0]!.terminate();
    const admitted = await waiting;
    expect(admitted).toBeInstanceOf(WebSocket);
    sockets.push(...mine.slice(1), admitted as WebSocket);
  });

  it("closes a socket that does not authenticate within the handshake deadline", {
    timeout: 20_000,
  }, async () => {
    const s = (await openSocket(t, "192.0.2.92")) as WebSocket;
    const code = await new Promise<number>((resolve) => s.once("close", (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it("cuts off an upgrade request whose headers never finish", { timeout: 20_000 }, async () => {
    const socket = connect(Number(new URL(t.url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`GET ${WORKER_SESSION_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`);
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString();
    });
    // The server hangs up (the test never ends the socket); the test's own timeout catches a server that would
    // wait forever, without timing the cut-off itself.
    await new Promise((resolve) => socket.once("close", resolve));
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
