import { request } from "node:http";
import type { Duplex } from "node:stream";
import { WORKER_SESSION_PATH } from "@ignis/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createTestIssuer } from "../testing/test-issuer.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { createHandshakePacer } from "./handshake-pacer.js";

describe("handshake pacer", () => {
  it("admits a second's worth at once, then refuses with a Retry-After until the bucket refills", () => {
    const t0 = 1_000_000;
    const pacer = createHandshakePacer({ perSecond: 10, maxWaitSeconds: 120, random: () => 0 }, t0);
    for (let i = 0; i < 10; i++) expect(pacer.admit(t0).admitted).toBe(true);
    expect(pacer.admit(t0)).toEqual({ admitted: false, retryAfterSeconds: 1 });
    // A tenth of a second later one more token is there.
    expect(pacer.admit(t0 + 100).admitted).toBe(true);
    expect(pacer.stats()).toEqual({ admitted: 11, queued: 0, refused: 1 });
  });

  it("spreads the waits over as many seconds as the refused demand needs at the admitted rate", () => {
    const t0 = 2_000_000;
    const waits: number[] = [];
    const pacer = createHandshakePacer({ perSecond: 100, maxWaitSeconds: 120, random: () => 0.999 }, t0);
    // 5,100 openers in one instant: 100 admitted, 5,000 refused, spread over up to 50 s.
    for (let i = 0; i < 5_100; i++) {
      const turn = pacer.admit(t0);
      if (!turn.admitted) waits.push(turn.retryAfterSeconds);
    }
    expect(waits).toHaveLength(5_000);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...waits)).toBe(50);
    // The next second still knows the demand of the one before.
    const next = pacer.admit(t0 + 1_000 + 500);
    expect(next.admitted).toBe(true);
  });

  it("queues openers past the bucket for their turn, in arrival order, up to queueSeconds of handshakes", () => {
    const t0 = 4_000_000;
    const pacer = createHandshakePacer(
      { perSecond: 10, maxWaitSeconds: 120, queueSeconds: 3, random: () => 0 },
      t0,
    );
    const turns = Array.from({ length: 45 }, () => pacer.admit(t0));
    // Ten at once, then thirty waiting 100 ms more each (a token every 100 ms), then the queue is full.
    expect(turns.slice(0, 10).every((t) => t.admitted && t.delayMs === 0)).toBe(true);
    const delays = turns.slice(10, 40).map((t) => (t.admitted ? t.delayMs : -1));
    expect(delays).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 100));
    // Past the queue: refused, told to come back no sooner than the queue drains.
    for (const t of turns.slice(40)) expect(t).toEqual({ admitted: false, retryAfterSeconds: 4 });
    expect(pacer.stats()).toEqual({ admitted: 40, queued: 30, refused: 5 });
    // The queue drains at the pace: a second later ten more places are free, and the next opener waits behind
    // the twenty still queued.
    const later = pacer.admit(t0 + 1_000);
    expect(later).toEqual({ admitted: true, delayMs: 2_100 });
  });

  it("never asks for more than maxWaitSeconds", () => {
    const t0 = 3_000_000;
    const pacer = createHandshakePacer({ perSecond: 1, maxWaitSeconds: 30, random: () => 0.999 }, t0);
    let last = { admitted: true } as ReturnType<typeof pacer.admit>;
    for (let i = 0; i < 1_000; i++) last = pacer.admit(t0);
    expect(last).toEqual({ admitted: false, retryAfterSeconds: 30 });
  });
});

/** Opens a worker upgrade and reports the answer's status, Retry-After and problem code (if refused). */
function upgrade(
  port: number,
  key = Buffer.alloc(16, 2).toString("base64"),
  keep?: Duplex[],
): Promise<{ status: number; retryAfter?: string; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: "127.0.0.1",
      path: WORKER_SESSION_PATH,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": key,
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers["retry-after"],
          code: body.startsWith("{") ? (JSON.parse(body) as { code?: string }).code : undefined,
        }),
      );
    });
    req.on("upgrade", (res, socket) => {
      // Kept open (and never authenticated), the socket still counts against its address.
      if (keep) {
        socket.on("error", () => {});
        keep.push(socket);
      } else socket.destroy();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("error", reject);
    req.end();
  });
}

/** A server of its own for the suite (its pace's bucket is the suite's), admitting one handshake a second. */
function pacedServer(database: () => OpenDatabase, perSecond = 1): () => TestServer {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      issuer: await createTestIssuer(),
      env: { IGNIS_HANDSHAKES_PER_SECOND: String(perSecond) },
    });
  });
  afterAll(() => t?.stop());
  return () => t;
}

describeEachDialect("admission control on the worker socket", (database) => {
  const server = pacedServer(database);

  it("holds openers past the pace for their turn in the queue, in order, and refuses past the queue with 503 server_busy and a Retry-After", async () => {
    const t = server();
    const port = Number(new URL(t.url).port);
    // Twenty at once against one a second: one in hand, three queued (about 1, 2 and 3 s), sixteen refused.
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        upgrade(port).then((a) => ({ ...a, afterMs: performance.now() - started })),
      ),
    );
    const admitted = answers.filter((a) => a.status === 101).sort((a, b) => a.afterMs - b.afterMs);
    const refused = answers.filter((a) => a.status !== 101);
    // However slow this machine (the openers' arrival may spread, letting a token or two more in), some were
    // held for their turn and admitted a token apart: with one token in hand when they were sent, the i-th
    // (from 0) no sooner than i seconds after.
    expect(admitted.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < admitted.length; i++)
      expect(admitted[i]!.afterMs).toBeGreaterThanOrEqual(i * 1000 - 50);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.code).toBe("server_busy");
      expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
    }
    const metrics = await (
      await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } })
    ).text();
    expect(metrics).toMatch(/ignis_worker_sockets_refused_total\{reason="server_busy"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ignis_worker_sockets_queued_total(\{[^}]*\})? [1-9]/);
  });
});

describeEachDialect("admission control against malformed upgrades", (database) => {
  const server = pacedServer(database);

  it("refuses upgrades that are no WebSocket handshake before they take a turn of the pace", async () => {
    const t = server();
    const port = Number(new URL(t.url).port);
    // A scanner's flood of upgrades with a bad key never becomes sockets, so no per-address cap counts them; if
    // they took turns of the pace, one address could keep the whole fleet answered `server_busy`.
    for (let i = 0; i < 20; i++) expect((await upgrade(port, "not-a-key")).status).toBe(400);
    // The pace (one a second, one in hand) is still whole for the next device.
    expect((await upgrade(port)).status).toBe(101);
  });
});

describeEachDialect("admission control: the queue and the per-address cap", (database) => {
  // Twenty a second: twenty in hand and a queue of three seconds' worth (sixty), more than one address's cap.
  const server = pacedServer(database, 20);

  it("counts openers waiting in the queue against their address's cap of sockets in their handshake", async () => {
    const t = server();
    const port = Number(new URL(t.url).port);
    const kept: Duplex[] = [];
    try {
      // A hundred from one address, none of which authenticates: the pace alone would take them all (twenty at
      // once, the rest queued), but one address holds at most 64 sockets in their handshake, queued ones
      // included; were the queued ones not counted, one address could fill the queue the whole fleet shares.
      const answers = await Promise.all(Array.from({ length: 100 }, () => upgrade(port, undefined, kept)));
      const opened = answers.filter((a) => a.status === 101);
      const refused = answers.filter((a) => a.status !== 101);
      expect(opened).toHaveLength(64);
      expect(refused).toHaveLength(36);
      for (const answer of refused) expect(answer.code).toBe("rate_limited");
    } finally {
      for (const socket of kept) socket.destroy();
    }
  });
});
