import { describe, expect, it } from "vitest";
import type { Bus } from "../bus/bus.js";
import { createInProcessBus } from "../bus/in-process-bus.js";
import { signal } from "./rules/signal-fixtures.js";
import { createSignalExchange, SIGNALS_SUBJECT } from "./signal-exchange.js";
import type { RequestSignal } from "./signals.js";

const quiet = { warn: () => undefined };

describe("security signal exchange", () => {
  it("hands each replica the others' observations in batches, never its own", async () => {
    const bus = createInProcessBus();
    const seen = { a: [] as RequestSignal[], b: [] as RequestSignal[] };
    const batches: unknown[] = [];
    bus.subscribe(SIGNALS_SUBJECT, (payload) => void batches.push(payload));
    const exchange = (id: "a" | "b") =>
      createSignalExchange({
        bus,
        replicaId: id,
        log: quiet,
        onSignal: (s) => void seen[id].push(s),
        onHandshake: () => undefined,
        flushMs: 20,
      });
    const [a, b] = [exchange("a"), exchange("b")];
    for (let i = 0; i < 5; i++) a.share(signal({ objectId: `dev_${i}` }));
    b.share(signal({ objectId: "dev_b" }));
    await new Promise((r) => setTimeout(r, 80));
    expect(seen.b.map((s) => s.objectId)).toEqual(["dev_0", "dev_1", "dev_2", "dev_3", "dev_4"]);
    expect(seen.a.map((s) => s.objectId)).toEqual(["dev_b"]);
    // Five observations of A travelled as one message.
    expect(batches).toHaveLength(2);
    await Promise.all([a.close(), b.close()]);
  });

  it("sends a full batch at once and the rest on close", async () => {
    const bus = createInProcessBus();
    const received: RequestSignal[] = [];
    const b = createSignalExchange({
      bus,
      replicaId: "b",
      log: quiet,
      onSignal: (s) => void received.push(s),
      onHandshake: () => undefined,
    });
    const a = createSignalExchange({
      bus,
      replicaId: "a",
      log: quiet,
      onSignal: () => undefined,
      onHandshake: () => undefined,
      flushMs: 60_000,
      maxBatch: 3,
    });
    for (let i = 0; i < 4; i++) a.share(signal({ objectId: `dev_${i}` }));
    await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(3);
    await a.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(4);
    await b.close();
  });

  it("drops observations of another shape (a replica of another version) and feeds the rest", async () => {
    const bus = createInProcessBus();
    const warnings: object[] = [];
    const received: RequestSignal[] = [];
    const b = createSignalExchange({
      bus,
      replicaId: "b",
      log: { warn: (o) => void warnings.push(o) },
      onSignal: (s) => void received.push(s),
      onHandshake: () => undefined,
    });
    await bus.publish(SIGNALS_SUBJECT, {
      replicaId: "a",
      signals: [signal({ objectId: "dev_ok" }), { ...signal({}), rateClass: "teleport" }, "junk"],
      handshakes: [{ at: 1, ip: "x", reason: "gremlins", deviceId: null }],
    });
    await bus.publish(SIGNALS_SUBJECT, { nonsense: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(received.map((s) => s.objectId)).toEqual(["dev_ok"]);
    expect(warnings).toEqual([{ rejected: 2 }]);
    await b.close();
  });

  it("drops a batch the bus refuses with one warning, and keeps going", async () => {
    const warnings: object[] = [];
    const down: Bus = {
      publish: async () => {
        throw new Error("bus down");
      },
      subscribe: () => ({ unsubscribe: () => undefined }),
      close: async () => undefined,
    };
    const a = createSignalExchange({
      bus: down,
      replicaId: "a",
      log: { warn: (o) => void warnings.push(o) },
      onSignal: () => undefined,
      onHandshake: () => undefined,
      flushMs: 5,
    });
    a.share(signal({}));
    await new Promise((r) => setTimeout(r, 30));
    a.share(signal({}));
    await new Promise((r) => setTimeout(r, 30));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ dropped: 1 });
    await a.close();
  });
});
