import { describe, expect, it } from "vitest";
import { CLOCK_FAIL_MS, CLOCK_WARN_MS, clockCheck, serverCheck } from "./server-checks.js";
import type { ServerProbe } from "./server-probe.js";

const NOW = Date.parse("2026-12-06T12:00:00.000Z");

function probe(skewMs: number, over: Partial<Extract<ServerProbe, { reachable: true }>> = {}): ServerProbe {
  return {
    reachable: true,
    httpStatus: 200,
    status: "ok",
    version: "0.1.0",
    serverTimeMs: NOW - skewMs,
    serverTimeResolutionMs: 1,
    localMidMs: NOW,
    rttMs: 10,
    ...over,
  };
}

describe("the clock check", () => {
  it("passes a clock within the warning bound of the server's", () => {
    expect(clockCheck(probe(800)).status).toBe("pass");
  });

  it("warns with the time-sync fix past the warning bound", () => {
    const c = clockCheck(probe(-(CLOCK_WARN_MS + 500)));
    expect(c).toMatchObject({ status: "warn", detail: expect.stringContaining("behind the server's") });
    expect(c.fix).toContain("timedatectl set-ntp true");
  });

  it("fails a clock minutes off", () => {
    expect(clockCheck(probe(CLOCK_FAIL_MS + 60_000))).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/^this clock is 120 s ahead of the server's/),
    });
  });

  it("gives a skew inside the measurement's margin (a slow round trip, a Date header) the benefit of the doubt", () => {
    expect(clockCheck(probe(CLOCK_WARN_MS + 400, { rttMs: 1000 })).status).toBe("pass");
    expect(clockCheck(probe(CLOCK_WARN_MS + 400, { serverTimeResolutionMs: 500 })).status).toBe("pass");
  });

  it("does not guess without a server clock", () => {
    expect(clockCheck({ reachable: false, reason: "ECONNREFUSED" }).status).toBe("warn");
  });
});

describe("the server check", () => {
  it("fails with a fix when no server is known at all", () => {
    expect(serverCheck(undefined, undefined)).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("--server URL"),
    });
  });

  it("fails an answer that is not a healthy ignis-server", () => {
    expect(serverCheck("http://x", probe(0, { httpStatus: 404, status: null }))).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("HTTP 404"),
    });
  });

  it("only warns while the server is starting", () => {
    expect(serverCheck("http://x", probe(0, { httpStatus: 503, status: "starting" })).status).toBe("warn");
  });
});
