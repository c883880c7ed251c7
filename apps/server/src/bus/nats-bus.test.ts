import { IgnisError } from "@ignis/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "../../../../tests/faults/tcp-proxy.js";
import { probeTcp } from "../../../../tests/replicas/probe.js";
import { waitFor } from "../testing/wait-for.js";
import { deviceSubject } from "./bus.js";
import { connectNatsBus, type NatsBus } from "./nats-bus.js";

const NATS_URL = process.env.IGNIS_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const natsProblem = await probeTcp(NATS_URL, "NATS");
if (natsProblem && process.env.IGNIS_TEST_REQUIRE_POSTGRES === "1") {
  throw new Error(`NATS is required in CI (IGNIS_TEST_REQUIRE_POSTGRES=1): ${natsProblem}`);
}
if (natsProblem) console.warn(`[ignis tests] skipping the NATS bus suite: ${natsProblem}`);

const quiet = { info() {}, warn() {}, error() {} };
const target = new URL(NATS_URL);

/** The next `count` payloads a subscription receives (it subscribes at once, before the caller publishes). */
async function collect(
  bus: NatsBus,
  subject: string,
  count: number,
): Promise<Array<{ payload: unknown; subject: string }>> {
  const got: Array<{ payload: unknown; subject: string }> = [];
  const sub = bus.subscribe(subject, (payload, concrete) => {
    if (got.length < count) got.push({ payload, subject: concrete });
  });
  try {
    await waitFor(`${count} message(s) on ${subject}`, () => got.length >= count && got);
  } finally {
    sub.unsubscribe();
  }
  return got;
}

describe.skipIf(natsProblem !== undefined)("the NATS bus", () => {
  let proxy: TcpProxy;
  let replicaA: NatsBus;
  let replicaB: NatsBus;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    // Replica A reaches NATS through a proxy the outage test cuts; replica B connects directly.
    replicaA = await connectNatsBus({ url: `nats://127.0.0.1:${proxy.port}`, name: "test-a", log: quiet });
    replicaB = await connectNatsBus({ url: NATS_URL, name: "test-b", log: quiet });
  });

  afterAll(async () => {
    await replicaA?.close();
    await replicaB?.close();
    await proxy?.close();
  });

  it("delivers a JSON payload published on one replica to a subscriber on another", async () => {
    const subject = deviceSubject(`dev_${Date.now()}`);
    const received = collect(replicaA, subject, 1);
    await replicaA.flush();
    await replicaB.publish(subject, { kind: "send", message: { type: "proof.challenge", n: 16 } });
    expect(await received).toEqual([
      { payload: { kind: "send", message: { type: "proof.challenge", n: 16 } }, subject },
    ]);
  });

  it("hands a wildcard subscriber the concrete subject each message was published on", async () => {
    const prefix = `ignis.test.${Date.now()}`;
    const received = collect(replicaB, `${prefix}.*`, 2);
    await replicaB.flush();
    await replicaA.publish(`${prefix}.one`, 1);
    await replicaA.publish(`${prefix}.two`, 2);
    expect((await received).map((m) => m.subject).sort()).toEqual([`${prefix}.one`, `${prefix}.two`]);
  });

  it("stops delivering to a subscription once it is unsubscribed", async () => {
    const subject = `ignis.test.unsub.${Date.now()}`;
    const seen: unknown[] = [];
    const sub = replicaB.subscribe(subject, (payload) => void seen.push(payload));
    await replicaB.flush();
    // A marker published after "after" on the same connection: NATS keeps one publisher's order to one
    // subscriber connection, so once the marker arrived, "after" would have arrived before it.
    const marker = collect(replicaB, `${subject}.marker`, 1);
    await replicaA.publish(subject, "before");
    await waitFor("the message published before unsubscribing", () => seen.length === 1);
    sub.unsubscribe();
    sub.unsubscribe();
    await replicaB.flush();
    await replicaA.publish(subject, "after");
    await replicaA.publish(`${subject}.marker`, "marker");
    await marker;
    expect(seen).toEqual(["before"]);
  });

  it("refuses publishes with `unavailable` while NATS is unreachable, tells listeners when it returns and resumes delivery", async () => {
    const subject = `ignis.test.outage.${Date.now()}`;
    const seen: unknown[] = [];
    let reconnects = 0;
    replicaA.subscribe(subject, (payload) => void seen.push(payload));
    replicaA.onReconnect?.(() => reconnects++);
    await proxy.cut();
    await waitFor("replica A to see NATS gone", () => !replicaA.connected);
    const refused = await replicaA.publish(subject, "during").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IgnisError);
    expect((refused as IgnisError).code).toBe("unavailable");
    expect(replicaA.stats().refused).toBeGreaterThanOrEqual(1);

    await proxy.restore();
    await waitFor("replica A to reconnect", () => replicaA.connected);
    expect(reconnects).toBe(1);
    // The client renews its subscriptions after reconnecting; publish until one arrives.
    await waitFor("a message published after the outage", async () => {
      await replicaB.publish(subject, "after");
      await replicaB.flush();
      return seen.length > 0;
    });
    expect(seen).not.toContain("during");
    expect(seen[0]).toBe("after");
  });

  it("fails to start with `unavailable` when nothing listens at the URL", async () => {
    const dead = await startTcpProxy({ host: "127.0.0.1", port: 9 });
    const port = dead.port;
    await dead.close();
    const error = await connectNatsBus({
      url: `nats://127.0.0.1:${port}`,
      name: "test-dead",
      log: quiet,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IgnisError);
    expect((error as IgnisError).code).toBe("unavailable");
  });
});
