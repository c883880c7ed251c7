import { describe, expect, it } from "vitest";
import { isIgnisError } from "./errors.js";
import v1 from "./fixtures/worker-protocol-v1.json" with { type: "json" };
import { decodeServerFrame, decodeWorkerFrame, encodeFrame } from "./worker-protocol.js";
import {
  compareWorkerVersions,
  negotiateProtocol,
  WORKER_PROTOCOL_MIN_VERSION,
  WORKER_PROTOCOL_VERSION,
} from "./worker-versions.js";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return isIgnisError(error) ? error.code : "not an IgnisError";
  }
  return "accepted";
};
const filled = (frame: object) =>
  JSON.stringify(frame)
    .replaceAll("$deviceId", "dev_00000000000000000000000000")
    .replaceAll("$publicKey", "A".repeat(43))
    .replaceAll("$signature", "B".repeat(86));

describe("worker protocol versions", () => {
  it("speaks the current version and the one before it", () => {
    expect(WORKER_PROTOCOL_VERSION).toBe(2);
    expect(WORKER_PROTOCOL_MIN_VERSION).toBe(WORKER_PROTOCOL_VERSION - 1);
  });

  it("speaks v1 to a worker that names no range, and the highest shared version to one that does", () => {
    expect(negotiateProtocol({})).toEqual({ version: 1, features: [] });
    expect(
      negotiateProtocol({ protocol: { min: 1, max: 2 }, features: ["self-update", "teleport"] }),
    ).toEqual({
      version: 2,
      features: ["self-update"],
    });
    expect(negotiateProtocol({ protocol: { min: 1, max: 9 } }).version).toBe(2);
    // Features ride on v2: a worker that settles on v1 gets none.
    expect(negotiateProtocol({ protocol: { min: 1, max: 1 }, features: ["self-update"] })).toEqual({
      version: 1,
      features: [],
    });
  });

  it("refuses a range below N-1 or above N with protocol_unsupported naming the supported range", () => {
    for (const protocol of [
      { min: 0, max: 0 },
      { min: 3, max: 4 },
    ]) {
      let refusal: unknown;
      try {
        negotiateProtocol({ protocol });
      } catch (error) {
        refusal = error;
      }
      expect(isIgnisError(refusal, "protocol_unsupported")).toBe(true);
      expect((refusal as Error).message).toContain("v1-v2");
      expect((refusal as { details: unknown }).details).toEqual({
        supported: { min: 1, max: 2 },
        offered: protocol,
      });
    }
  });

  it("decodes every v1 worker fixture frame, and v2 frames, but refuses v0 (N-2) and v3 envelopes", () => {
    for (const frame of Object.values(v1.worker)) {
      expect(decodeWorkerFrame(filled(frame)).type).toBe(frame.type);
    }
    const heartbeat = { ...v1.worker.heartbeatBare };
    expect(decodeWorkerFrame(JSON.stringify({ ...heartbeat, v: 2 })).type).toBe("heartbeat");
    expect(codeOf(() => decodeWorkerFrame(JSON.stringify({ ...heartbeat, v: 0 })))).toBe(
      "protocol_unsupported",
    );
    expect(codeOf(() => decodeWorkerFrame(JSON.stringify({ ...heartbeat, v: 3 })))).toBe(
      "protocol_unsupported",
    );
    expect(codeOf(() => decodeWorkerFrame(JSON.stringify({ ...heartbeat, v: undefined })))).toBe(
      "bad_request",
    );
  });

  it("keeps v1 server fixture frames decodable, so a v2 worker can talk to a v1 server", () => {
    for (const frame of Object.values(v1.server)) {
      expect(decodeServerFrame(JSON.stringify(frame)).type).toBe(frame.type);
    }
  });

  it("encodes in v1 unless told the session's version", () => {
    const bare = { type: "heartbeat", seq: 1, load: v1.worker.heartbeatBare.load } as const;
    expect(JSON.parse(encodeFrame(bare))).toEqual(v1.worker.heartbeatBare);
    expect(JSON.parse(encodeFrame(bare, 2)).v).toBe(2);
  });

  it("orders worker releases, pre-releases before their release", () => {
    const sorted = ["0.10.0", "0.2.0", "0.2.0-rc.1", "1.0.0", "0.1.9"].sort(compareWorkerVersions);
    expect(sorted).toEqual(["0.1.9", "0.2.0-rc.1", "0.2.0", "0.10.0", "1.0.0"]);
    expect(compareWorkerVersions("0.2.0", "0.2.0")).toBe(0);
  });
});
