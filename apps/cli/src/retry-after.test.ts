import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, apiRequest } from "./api-client.js";
import { retryAfterMs, withJitter } from "./retry-after.js";
import { generateDeviceKey } from "./worker/device-key.js";
import { startWorker } from "./worker/worker-agent.js";
import { ensureStateDir, writeDeviceKey, writeDeviceState } from "./worker/worker-state.js";

/** A real HTTP server whose answers the test scripts, recording when each request arrived. */
async function scriptedServer(
  answer: (n: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = createServer((req, res) => {
    arrivals.push(Date.now());
    answer(arrivals.length, req, res);
  });
  // A WebSocket upgrade is refused the way a busy proxy refuses it: a plain HTTP answer.
  server.on("upgrade", (req, socket) => {
    arrivals.push(Date.now());
    socket.end(
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    void req;
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

let open: Server | undefined;
afterEach(async () => {
  open?.closeAllConnections();
  await new Promise((r) => open?.close(r) ?? r(undefined));
  open = undefined;
});

describe("Retry-After", () => {
  it("reads delay-seconds and HTTP dates, and caps what a far-off clock asks", () => {
    const now = Date.parse("2026-12-06T12:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs("Sun, 06 Dec 2026 12:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("Sun, 06 Dec 2026 11:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("99999", now)).toBe(300_000);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it("adds jitter on top of the asked wait, never below it", () => {
    expect(withJitter(1000, () => 0)).toBe(1000);
    expect(withJitter(1000, () => 1)).toBe(1500);
  });

  it("the API client waits out a 429 for as long as Retry-After says, then gets the answer", async () => {
    const s = await scriptedServer((n, _req, res) => {
      if (n === 1) {
        res.writeHead(429, { "retry-after": "1", "content-type": "application/problem+json" });
        res.end(JSON.stringify({ code: "rate_limited", detail: "slow down" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
    open = s.server;
    const retries: number[] = [];
    const body = await apiRequest<{ ok: boolean }>(s.url, "v1/thing", {
      body: {},
      onRetry: ({ status }) => retries.push(status),
    });
    expect(body).toEqual({ ok: true });
    expect(retries).toEqual([429]);
    expect(s.arrivals).toHaveLength(2);
    expect(s.arrivals[1]! - s.arrivals[0]!).toBeGreaterThanOrEqual(1000);
  });

  it("the API client retries a 503 with an HTTP-date Retry-After", async () => {
    const s = await scriptedServer((n, _req, res) => {
      if (n < 3) {
        res.writeHead(503, { "retry-after": new Date(Date.now() + 1000).toUTCString() });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    open = s.server;
    await expect(apiRequest(s.url, "v1/thing")).resolves.toEqual({});
    expect(s.arrivals).toHaveLength(3);
  });

  it("the API client gives up with the server's problem once the wait would pass its budget", async () => {
    const s = await scriptedServer((_n, _req, res) => {
      res.writeHead(429, { "retry-after": "30", "content-type": "application/problem+json" });
      res.end(JSON.stringify({ code: "rate_limited", detail: "too many enrollments" }));
    });
    open = s.server;
    const error = await apiRequest(s.url, "v1/thing", { retryBudgetMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited" });
    expect(s.arrivals).toHaveLength(1);
  });

  it("a worker told 503 with Retry-After on its upgrade waits that long before reconnecting", async () => {
    const s = await scriptedServer((_n, _req, res) => res.end());
    open = s.server;
    const stateDir = mkdtempSync(join(tmpdir(), "ignis-retry-worker-"));
    try {
      ensureStateDir(stateDir);
      const key = generateDeviceKey();
      writeDeviceKey(stateDir, key);
      writeDeviceState(stateDir, {
        server: s.url,
        deviceId: "dev_retryafter",
        keyId: "key_retryafter",
        publicKey: key.publicKey,
        profile: "sim-a100",
        enrolledAt: new Date().toISOString(),
      });
      const lines: string[] = [];
      let seen!: () => void;
      const third = new Promise<void>((r) => (seen = r));
      // Its own backoff starts at 20 ms: the one-second gaps can only come from the server's Retry-After.
      const worker = startWorker({
        stateDir,
        reconnectBaseMs: 20,
        log: (line) => {
          lines.push(line);
          if (lines.filter((l) => l.includes("HTTP 503")).length >= 2) seen();
        },
      });
      await third;
      await worker.stop();
      expect(s.arrivals.length).toBeGreaterThanOrEqual(2);
      expect(s.arrivals[1]! - s.arrivals[0]!).toBeGreaterThanOrEqual(1000);
      expect(lines[0]).toMatch(
        /the server answered HTTP 503 \(busy: it asked to come back later\); retrying in \d+ ms/,
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
