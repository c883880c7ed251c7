import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkedHotFrame, encodeHeartbeatAck } from "./hot-frames.js";
import { decodeWorkerFrame, encodeFrame, WorkerMessageSchema } from "./worker-protocol.js";

const base64url = (length: number) =>
  fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
    minLength: length,
    maxLength: length,
  });
const deviceId = fc
  .string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 26, maxLength: 26 })
  .map((s) => `dev_${s}`);

/** Numbers around every bound the schemas set, and the values JSON can carry that are not plain numbers. */
const edgyNumber = fc.oneof(
  fc.double({ noNaN: false }),
  fc.integer({ min: -100, max: 300 }),
  fc.constantFrom(
    0,
    -0,
    -1e-9,
    100,
    100.0000001,
    4096,
    4096.5,
    65_536,
    65_537,
    -50,
    -50.1,
    200,
    200.1,
    2 ** 53,
    2 ** 53 - 1,
    Number.POSITIVE_INFINITY,
  ),
);
/** Values of the wrong kind for any field. */
const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 50 }),
  edgyNumber,
  fc.constant([]),
  fc.constant({}),
);

const gpu = fc.record({
  utilPercent: fc.double({ min: 0, max: 100, noNaN: true }),
  memUsedGb: fc.double({ min: 0, max: 4096, noNaN: true }),
  temperatureC: fc.option(fc.double({ min: -50, max: 200, noNaN: true }), { nil: null }),
});
const load = fc.record({
  cpuPercent: fc.double({ min: 0, max: 100, noNaN: true }),
  memUsedGb: fc.double({ min: 0, max: 65_536, noNaN: true }),
  // Long lists are rare in a plain array arbitrary: 63 to 65 GPUs straddle the bound of 64.
  gpus: fc.oneof(fc.array(gpu, { maxLength: 4 }), fc.array(gpu, { minLength: 63, maxLength: 65 })),
  busy: fc.boolean(),
});
const heartbeat = fc.record(
  {
    type: fc.constant("heartbeat"),
    seq: fc.oneof(fc.nat(), fc.constantFrom(2 ** 53 - 1, 2 ** 53, -1, 1.5)),
    deviceId: fc.oneof(deviceId, fc.constantFrom("dev_", "DEV_aaaaaaaaaaaaaaaaaaaaaaaaaa")),
    ack: fc.boolean(),
    load,
  },
  { requiredKeys: ["type", "seq", "load"] },
);
const auth = fc.record(
  {
    type: fc.constant("session.auth"),
    deviceId,
    publicKey: fc.oneof(base64url(43), base64url(42), fc.constant(`${"a".repeat(42)}=`)),
    signature: fc.oneof(base64url(86), base64url(87)),
    agent: fc.record({ version: fc.string({ maxLength: 42 }), profile: fc.string({ maxLength: 42 }) }),
  },
  { requiredKeys: ["type", "deviceId", "publicKey", "signature"] },
);

/** Changes one value somewhere in the frame, adds a key, or drops one: most results are invalid frames. */
function mutate(frame: Record<string, unknown>) {
  return fc
    .tuple(fc.nat(), fc.nat(), junk, fc.constantFrom("set", "add", "drop"))
    .map(([a, b, value, op]) => {
      const copy = structuredClone(frame);
      const objects: Record<string, unknown>[] = [copy];
      const visit = (node: unknown) => {
        if (node !== null && typeof node === "object") {
          if (!Array.isArray(node)) objects.push(node as Record<string, unknown>);
          for (const child of Object.values(node)) visit(child);
        }
      };
      visit(copy.load ?? copy.agent);
      const target = objects[a % objects.length]!;
      const keys = Object.keys(target);
      const key = keys[b % Math.max(1, keys.length)] ?? "x";
      if (op === "set") target[key] = value;
      else if (op === "add") target[b % 2 === 0 ? "ownerId" : "__proto__"] = value;
      else delete target[key];
      return copy;
    });
}

/** A frame as the decoder sees it: parsed from JSON text (so `-0`, `1e999` and `__proto__` behave as on the wire). */
const viaJson = (frame: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(frame) ?? "null");
const frames = fc.oneof(
  heartbeat,
  auth,
  heartbeat.chain(mutate),
  auth.chain(mutate),
  fc.constant({ type: "heartbeat", seq: 1, load: { cpuPercent: 1, memUsedGb: 1, gpus: [], busy: false } }),
);

describe("hand-checked hot frames", () => {
  it("accept exactly the heartbeats and session openers the schema accepts, with the same value", () => {
    fc.assert(
      fc.property(frames, (generated) => {
        const frame = viaJson(generated);
        const schema = WorkerMessageSchema.safeParse(structuredClone(frame));
        const hand = checkedHotFrame(structuredClone(frame));
        expect(hand !== undefined).toBe(schema.success);
        if (hand) expect(hand).toEqual(schema.data);
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts both valid and invalid generated frames in good number, so the agreement is not vacuous", () => {
    const sample = fc.sample(frames, 2000).map((f) => checkedHotFrame(viaJson(f)) !== undefined);
    expect(sample.filter(Boolean).length).toBeGreaterThan(200);
    expect(sample.filter((ok) => !ok).length).toBeGreaterThan(200);
  });

  it("leaves the refusal of a bad hot frame to the schema, with its usual codes", () => {
    const frame = (body: object) => JSON.stringify({ v: 1, ...body });
    const load = { cpuPercent: 1, memUsedGb: 1, gpus: [], busy: false };
    expect(() => decodeWorkerFrame(frame({ type: "heartbeat", seq: 1, load, ownerId: "u" }))).toThrow(
      expect.objectContaining({ code: "unknown_field" }),
    );
    expect(() => decodeWorkerFrame(frame({ type: "heartbeat", seq: -1, load }))).toThrow(
      expect.objectContaining({ code: "validation_failed" }),
    );
    expect(decodeWorkerFrame(frame({ type: "heartbeat", seq: 3, ack: true, load }))).toEqual({
      type: "heartbeat",
      seq: 3,
      ack: true,
      load,
    });
  });
});

describe("the hand-written heartbeat acknowledgement", () => {
  it("is the frame the generic encoder writes", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (seq, serverTime) => {
        expect(encodeHeartbeatAck(seq, serverTime)).toBe(
          encodeFrame({ type: "heartbeat.ack", seq, serverTime }),
        );
      }),
    );
  });
});
