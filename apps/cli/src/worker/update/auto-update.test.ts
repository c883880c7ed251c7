import { describe, expect, it } from "vitest";
import { parse } from "../../commands/worker-update.js";
import { updaterArguments } from "./auto-update.js";

describe("updaterArguments", () => {
  it("hands the updater a signature that starts with '-' intact (one base64url signature in 64 does)", () => {
    const offer = {
      type: "worker.update-available" as const,
      rolloutId: "r1",
      version: "9.0.0",
      url: "/v1/worker/releases/9.0.0/package",
      signature: "-Zk3vQ_x9",
      sha256: "ab".repeat(32),
      size: 1,
    };
    const [, , ...argv] = updaterArguments("/state", offer, "http://server/v1/releases/9.0.0/package");
    expect(parse(argv).values).toEqual({
      state: "/state",
      version: "9.0.0",
      package: "http://server/v1/releases/9.0.0/package",
      signature: "-Zk3vQ_x9",
      sha256: "ab".repeat(32),
    });
  });
});
