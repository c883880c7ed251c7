import { describe, expect, it } from "vitest";
import { canonicalJson, sessionSigningText } from "./devices-signatures.js";
import { isIgnisError } from "./errors.js";
import {
  decodeServerFrame,
  decodeWorkerFrame,
  encodeFrame,
  MAX_WORKER_MESSAGE_BYTES,
  type ServerMessage,
} from "./worker-protocol.js";

const load = {
  cpuPercent: 5,
  memUsedGb: 2,
  gpus: [{ utilPercent: 0, memUsedGb: 0, temperatureC: 40 }],
  busy: false,
};
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return isIgnisError(error) ? error.code : "not an IgnisError";
  }
  return "accepted";
};

describe("worker protocol frames", () => {
  it("carries the protocol version on every frame and round-trips a heartbeat", () => {
    const frame = encodeFrame({ type: "heartbeat", seq: 7, load });
    expect(JSON.parse(frame)).toMatchObject({ v: 1, type: "heartbeat", seq: 7 });
    expect(decodeWorkerFrame(frame)).toEqual({ type: "heartbeat", seq: 7, load });
  });

  it("refuses another version, unknown types and fields, bad JSON and oversized frames with stable codes", () => {
    expect(codeOf(() => decodeWorkerFrame(JSON.stringify({ v: 3, type: "heartbeat", seq: 1, load })))).toBe(
      "protocol_unsupported",
    );
    expect(
      codeOf(() =>
        decodeWorkerFrame(encodeFrame({ type: "heartbeat", seq: 1, load, ownerId: "x" } as never)),
      ),
    ).toBe("unknown_field");
    expect(codeOf(() => decodeWorkerFrame(JSON.stringify({ v: 1, type: "device.delete" })))).toBe(
      "validation_failed",
    );
    expect(codeOf(() => decodeWorkerFrame("{"))).toBe("malformed_json");
    expect(codeOf(() => decodeWorkerFrame(" ".repeat(MAX_WORKER_MESSAGE_BYTES + 1)))).toBe(
      "payload_too_large",
    );
  });

  it("bounds heartbeat load values", () => {
    const bad = { ...load, cpuPercent: 1e9 };
    expect(codeOf(() => decodeWorkerFrame(encodeFrame({ type: "heartbeat", seq: 1, load: bad })))).toBe(
      "validation_failed",
    );
  });

  it("includes the proof messages in both unions", () => {
    const commit = { type: "proof.commit", challengeId: "c1", root: "a".repeat(64), elapsedMs: 12 } as const;
    expect(decodeWorkerFrame(encodeFrame(commit))).toEqual(commit);
    const reveal: ServerMessage = {
      type: "proof.reveal-request",
      challengeId: "c1",
      rows: [{ matrix: 0, row: 3 }],
    };
    expect(decodeServerFrame(encodeFrame(reveal))).toEqual(reveal);
  });
});

describe("signing texts", () => {
  it("serialize a claim the same way whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it("bind the session signature to the nonce, the device and the origin", () => {
    const text = sessionSigningText("n", "dev_x", "https://ignis.example");
    expect(text.split("\n")).toEqual(["ignis-session-v1", "n", "dev_x", "https://ignis.example"]);
  });
});
