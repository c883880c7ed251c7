import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, request } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { WORKER_SESSION_PATH } from "@ignis/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMISSION_QUEUE_SECONDS } from "../gateway/handshake-pacer.js";
import { SOCKET_ADMISSION_DEFAULTS } from "../security/socket-admission.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createTestIssuer } from "../testing/test-issuer.js";
import { freePort, startTestServer, type TestServer } from "../testing/test-server.js";
import {
  bindEarly,
  EARLY_HOLD_PER_ADDRESS,
  EARLY_HOLD_SECONDS_OF_PACE,
  type EarlyListener,
  earlyAddress,
  earlyHold,
  LISTEN_BACKLOG,
  listenEarly,
  STARTING_RETRY_AFTER_SECONDS,
  startingRetryAfter,
  takeEarlyListener,
  WORKER_PATH,
} from "./early-listener.js";

/** A WebSocket upgrade request, answered with a plain HTTP status (the worker reads it the same way). */
function upgrade(
  port: number,
  options: { path?: string; key?: string; localAddress?: string } = {},
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: "127.0.0.1",
      path: options.path ?? WORKER_SESSION_PATH,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": options.key ?? Buffer.alloc(16, 1).toString("base64"),
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

describe("early listener: worker upgrades held for the app", () => {
  const open: EarlyListener[] = [];
  afterAll(async () => {
    // Upgrades still held are handed to a sink that ends them, so each listener can close.
    const sink = createServer().on("upgrade", (_request: IncomingMessage, socket: Duplex) =>
      socket.destroy(),
    );
    for (const early of open) {
      early.handOver(sink);
      await new Promise((r) => early.server.close(r));
    }
  });
  /** An early listener with `hold`, and an app stand-in that answers each upgrade handed to it 101. */
  const start = async (hold: { capacity: number; perAddress: number; maxMs: number }) => {
    const port = await freePort();
    const early = await listenEarly(port, "127.0.0.1", hold);
    open.push(early);
    const handed: string[] = [];
    const app = createServer();
    app.on("upgrade", (request: IncomingMessage, socket: Duplex) => {
      handed.push(request.headers["sec-websocket-key"] as string);
      socket.end("HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n");
    });
    return { port, early, app, handed };
  };
  const until = async (what: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!what()) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const keyOf = (n: number) => Buffer.alloc(16, n).toString("base64");

  it("holds worker handshakes up to its capacity and hands them to the app in arrival order", async () => {
    const { port, early, app, handed } = await start({ capacity: 3, perAddress: 64, maxMs: 60_000 });
    const answers: Promise<{ status: number }>[] = [];
    for (let n = 1; n <= 3; n++) {
      answers.push(upgrade(port, { key: keyOf(n) }));
      await until(() => early.held() === n);
    }
    // The fourth finds the hold full: answered `starting` at once, as without a hold.
    const full = await upgrade(port, { key: keyOf(4) });
    expect(full.status).toBe(503);
    expectStartingRetryAfter(full.retryAfter);
    early.handOver(app);
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([101, 101, 101]);
    expect(handed).toEqual([keyOf(1), keyOf(2), keyOf(3)]);
    expect(early.held()).toBe(0);
    // After the hand-over, an upgrade that still reaches this listener goes to the app too.
    expect((await upgrade(port, { key: keyOf(5) })).status).toBe(101);
  });

  it("holds no more than its share from one address, nothing but well-formed worker handshakes, and only for maxMs", async () => {
    const { port, early } = await start({ capacity: 100, perAddress: 2, maxMs: 60_000 });
    // Held until the end of the file, when the sink ends them: their hang-up is expected.
    const first = [upgrade(port), upgrade(port)].map((p) => p.catch(() => undefined));
    await until(() => early.held() === 2);
    expect((await upgrade(port)).status).toBe(503);
    // Another address still has its share.
    void upgrade(port, { localAddress: "127.0.0.2" }).catch(() => undefined);
    await until(() => early.held() === 3);
    // Another path, a bad key: answered `starting`, never held.
    expect((await upgrade(port, { path: "/v1/clusters/x/ssh" })).status).toBe(503);
    expect((await upgrade(port, { key: "not-a-key" })).status).toBe(503);
    expect(early.held()).toBe(3);
    void first;

    const short = await start({ capacity: 100, perAddress: 64, maxMs: 200 });
    const late = await upgrade(short.port);
    expect(late.status).toBe(503);
    expect((JSON.parse(late.body) as { code: string }).code).toBe("starting");
    expect(short.early.held()).toBe(0);
  });

  it("survives openers that reset while their upgrade is answered or held", async () => {
    const { port, early } = await start({ capacity: 5, perAddress: 64, maxMs: 100 });
    // Held ones, refused ones (past the capacity, another path) and ones the hold answers later, each reset at
    // once: a reset socket with no error listener would end this process.
    for (let i = 0; i < 30; i++) {
      const path = i % 3 === 0 ? "/v1/clusters/x/ssh" : WORKER_PATH;
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.write(
        `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n` +
          `sec-websocket-version: 13\r\nsec-websocket-key: ${keyOf(i)}\r\n\r\n`,
      );
      setTimeout(() => socket.resetAndDestroy(), i % 2 === 0 ? 0 : 5);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await until(() => early.held() === 0);
    expect((await upgrade(port)).status).toBe(503);
  });

  it("forgets a held upgrade whose opener leaves", async () => {
    const { port, early } = await start({ capacity: 10, perAddress: 64, maxMs: 60_000 });
    const req = request({
      port,
      host: "127.0.0.1",
      path: WORKER_PATH,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": keyOf(9),
      },
    });
    req.on("error", () => undefined);
    req.end();
    await until(() => early.held() === 1);
    req.destroy();
    await until(() => early.held() === 0);
  });

  it.skipIf(process.platform !== "linux" || !existsSync("/proc/sys/net/core/somaxconn"))(
    "listens with a queue of pending connections as long as the kernel allows, not node's 511",
    async () => {
      const { port } = await start({ capacity: 1, perAddress: 1, maxMs: 1000 });
      // For a listening socket, ss's Send-Q is the backlog it was given (capped at net.core.somaxconn).
      const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
      const ss = spawnSync("ss", ["-ltnH", `sport = :${port}`], { encoding: "utf8" });
      if (ss.error) return; // no iproute2 here: the kernel's view cannot be read
      const sendQ = Number(ss.stdout.trim().split(/\s+/)[2]);
      expect(sendQ).toBe(Math.min(LISTEN_BACKLOG, somaxconn));
      expect(LISTEN_BACKLOG).toBeGreaterThan(511);
    },
  );

  it("holds the app's first seconds of handshakes, read from IGNIS_HANDSHAKES_PER_SECOND as config reads it", () => {
    expect(WORKER_PATH).toBe(WORKER_SESSION_PATH);
    expect(EARLY_HOLD_PER_ADDRESS).toBe(SOCKET_ADMISSION_DEFAULTS.maxPendingPerAddress);
    // The pacer's one-second bucket and its queue: every held upgrade is admitted, at once or in turn.
    expect(EARLY_HOLD_SECONDS_OF_PACE).toBe(1 + ADMISSION_QUEUE_SECONDS);
    expect(earlyHold({}).capacity).toBe(2000 * EARLY_HOLD_SECONDS_OF_PACE);
    expect(earlyHold({ IGNIS_HANDSHAKES_PER_SECOND: " 50 " }).capacity).toBe(50 * EARLY_HOLD_SECONDS_OF_PACE);
    expect(earlyHold({}).perAddress).toBe(EARLY_HOLD_PER_ADDRESS);
    // Behind a trusted proxy every connection is the proxy's: the app keys the cap on the client's address.
    for (const proxy of ["true", "1", "10.0.0.1,10.0.0.2"])
      expect(earlyHold({ IGNIS_TRUST_PROXY: proxy }).perAddress).toBe(2000 * EARLY_HOLD_SECONDS_OF_PACE);
    for (const none of ["", "false", "0"])
      expect(earlyHold({ IGNIS_TRUST_PROXY: none }).perAddress).toBe(EARLY_HOLD_PER_ADDRESS);
    for (const bad of ["0", "-5", "1.5", "x", "2000000"])
      expect(earlyHold({ IGNIS_HANDSHAKES_PER_SECOND: bad }).capacity).toBe(
        2000 * EARLY_HOLD_SECONDS_OF_PACE,
      );
  });
});

describeEachDialect("early listener: readiness", (database) => {
  let early: EarlyListener;
  let port: number;
  let t: TestServer | undefined;
  beforeAll(async () => {
    port = await freePort();
    // Room to hold one worker upgrade, held as long as the server may take to start here.
    early = await listenEarly(port, "127.0.0.1", { capacity: 1, perAddress: 64, maxMs: 600_000 });
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

    // The first worker upgrade is held for the server; the next finds the hold full and is told to come back.
    const held = upgrade(port);
    await new Promise<void>((resolve) => {
      const poll = () => (early.held() === 1 ? resolve() : setTimeout(poll, 10));
      poll();
    });
    const socket = await upgrade(port);
    expect(socket.status).toBe(503);
    expectStartingRetryAfter(socket.retryAfter);
    expect((JSON.parse(socket.body) as { code: string }).code).toBe("starting");

    t = await startTestServer({
      database: database(),
      issuer: await createTestIssuer(),
      env: { IGNIS_PORT: String(port), IGNIS_PUBLIC_URL: `http://127.0.0.1:${port}` },
      overrides: { early },
    });
    const ready = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok" });
    // The worker socket is the gateway's now: the held upgrade was answered by it (101), and a new one too.
    expect((await held).status).toBe(101);
    expect(early.held()).toBe(0);
    expect((await upgrade(port)).status).toBe(101);
  });
});
