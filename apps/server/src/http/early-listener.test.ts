import { request } from "node:http";
import { WORKER_SESSION_PATH } from "@ignis/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEachDialect } from "../testing/dialects.js";
import { createTestIssuer } from "../testing/test-issuer.js";
import { freePort, startTestServer, type TestServer } from "../testing/test-server.js";
import {
  bindEarly,
  type EarlyListener,
  earlyAddress,
  listenEarly,
  STARTING_RETRY_AFTER_SECONDS,
  startingRetryAfter,
  takeEarlyListener,
} from "./early-listener.js";

/** A WebSocket upgrade request, answered with a plain HTTP status (the worker reads it the same way). */
function upgrade(port: number): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: "127.0.0.1",
      path: WORKER_SESSION_PATH,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.alloc(16, 1).toString("base64"),
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }),
      );
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, retryAfter: undefined, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}

function expectStartingRetryAfter(value: string | null | undefined): void {
  expect(value).toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThanOrEqual(STARTING_RETRY_AFTER_SECONDS.min);
  expect(Number(value)).toBeLessThanOrEqual(STARTING_RETRY_AFTER_SECONDS.max);
}

describe("early listener: where it binds", () => {
  it("reads the port the way config does: flag over IGNIS_PORT over 8080, IGNIS_HOST over 0.0.0.0", () => {
    expect(earlyAddress([], {})).toEqual({ port: 8080, host: "0.0.0.0" });
    expect(earlyAddress([], { IGNIS_PORT: " ", IGNIS_HOST: "" })).toEqual({ port: 8080, host: "0.0.0.0" });
    expect(earlyAddress([], { IGNIS_PORT: "9000", IGNIS_HOST: "127.0.0.1" })).toEqual({
      port: 9000,
      host: "127.0.0.1",
    });
    expect(earlyAddress(["--port", "7000", "--data", "/d"], { IGNIS_PORT: "9000" })?.port).toBe(7000);
    expect(earlyAddress(["--data=/d", "--port=7001"], {})?.port).toBe(7001);
  });

  it("leaves every other command line and any port config would refuse to the ordinary start", () => {
    for (const argv of [["invite"], ["--help"], ["--version"], ["--port"], ["--prot", "1"]])
      expect(earlyAddress(argv, {})).toBeUndefined();
    for (const port of ["70000", "-1", "80a", "1.5"])
      expect(earlyAddress([], { IGNIS_PORT: port })).toBeUndefined();
  });

  it("picks Retry-After within its spread", () => {
    expect(startingRetryAfter(() => 0)).toBe(STARTING_RETRY_AFTER_SECONDS.min);
    expect(startingRetryAfter(() => 0.999)).toBe(STARTING_RETRY_AFTER_SECONDS.max);
  });

  it("hands over a listener bound where the config listens, once, and closes one bound elsewhere", async () => {
    const port = await freePort();
    await bindEarly(["--port", String(port)], { IGNIS_HOST: "127.0.0.1" });
    const taken = await takeEarlyListener(port, "127.0.0.1");
    expect(taken?.address()).toBe(`http://127.0.0.1:${port}`);
    expect(await takeEarlyListener(port, "127.0.0.1")).toBeUndefined();
    await new Promise((r) => taken!.server.close(r));

    await bindEarly(["--port", String(port)], { IGNIS_HOST: "127.0.0.1" });
    expect(await takeEarlyListener(port + 1, "127.0.0.1")).toBeUndefined();
    // Closed, so the port is free again.
    const again = await listenEarly(port, "127.0.0.1");
    await new Promise((r) => again.server.close(r));
  });
});

describeEachDialect("early listener: readiness", (database) => {
  let early: EarlyListener;
  let port: number;
  let t: TestServer | undefined;
  beforeAll(async () => {
    port = await freePort();
    early = await listenEarly(port, "127.0.0.1");
  });
  afterAll(async () => {
    if (t) await t.stop();
    else if (early) await new Promise((r) => early.server.close(r));
  });

  it("answers 503 starting with a Retry-After before the server is ready, then the server on the same port", async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: "starting" });
    expectStartingRetryAfter(health.headers.get("retry-after"));

    const api = await fetch(`http://127.0.0.1:${port}/v1/devices`);
    expect(api.status).toBe(503);
    expect(api.headers.get("content-type")).toContain("application/problem+json");
    expect(((await api.json()) as { code: string }).code).toBe("starting");

    const socket = await upgrade(port);
    expect(socket.status).toBe(503);
    expectStartingRetryAfter(socket.retryAfter);
    expect((JSON.parse(socket.body) as { code: string }).code).toBe("starting");

    t = await startTestServer({
      database: database(),
      issuer: await createTestIssuer(),
      env: { IGNIS_PORT: String(port), IGNIS_PUBLIC_URL: `http://127.0.0.1:${port}` },
      overrides: { listener: early.server },
    });
    const ready = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok" });
    // The worker socket is the gateway's now: the upgrade is accepted (101) instead of refused.
    expect((await upgrade(port)).status).toBe(101);
  });
});
