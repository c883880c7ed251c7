import { describe, expect, it } from "vitest";
import type { Bus } from "../bus/bus.js";
import { createInProcessBus } from "../bus/in-process-bus.js";
import { waitFor } from "../testing/wait-for.js";
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
    await waitFor("each replica to hear the other's batch", () => seen.b.length >= 5 && seen.a.length >= 1);
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
    // The full batch goes out at once; the fourth waits for a flush a minute away, so only close sends it.
    await waitFor("the full batch of three", () => received.length >= 3);
    expect(received).toHaveLength(3);
    await a.close();
    await waitFor("the rest, sent on close", () => received.length >= 4);
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
    // The bus delivers in order: once a marker batch published last has arrived, both above were handled.
    await bus.publish(SIGNALS_SUBJECT, {
      replicaId: "a",
      signals: [signal({ objectId: "dev_marker" })],
      handshakes: [],
    });
    await waitFor("the marker batch", () => received.some((s) => s.objectId === "dev_marker"));
    expect(received.map((s) => s.objectId)).toEqual(["dev_ok", "dev_marker"]);
    expect(warnings).toEqual([{ rejected: 2 }]);
    await b.close();
  });

  it("drops a batch the bus refuses with one warning, and keeps going", async () => {
    const warnings: object[] = [];
    let refused = 0;
    const down: Bus = {
      publish: async () => {
        refused += 1;
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
    await waitFor("the first batch refused and warned about", () => warnings.length >= 1);
    a.share(signal({}));
    await waitFor("the second batch refused", () => refused >= 2);
    await a.close();
    expect(refused).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ dropped: 1 });
  });
});
