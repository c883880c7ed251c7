import type { ChallengeView } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import type { FleetDevice } from "./fleet.js";
import type { ServerDeviceState } from "./fleet-status.js";
import { formatVerdict } from "./sim-summary.js";
import { describeChallenge, judgeRun } from "./sim-verdict.js";

const device = (index: number, fields: Partial<FleetDevice> = {}): FleetDevice => ({
  index,
  deviceId: `dev_${String(index).padStart(26, "a")}`,
  counterfeit: false,
  everOnline: true,
  proofFailure: null,
  lastError: null,
  proofFailures: {},
  ...fields,
});
const trusted: ServerDeviceState = { status: "online", verification: "verified", connected: true };
const caught: ServerDeviceState = { status: "quarantined", verification: "failed", connected: true };

describe("the sim's verdict", () => {
  it("passes when every honest device is online and trusted and every counterfeit is caught", () => {
    const devices = [device(0), device(1), device(2, { counterfeit: true })];
    const states = new Map([
      [devices[0]!.deviceId, trusted],
      [devices[1]!.deviceId, { ...trusted, verification: "unverified" as const }],
      [devices[2]!.deviceId, caught],
    ]);
    const verdict = judgeRun({ honestTarget: 2, devices, states });
    expect(verdict).toEqual({ ok: true, honestNotEnrolled: 0, honestProblems: [], counterfeitMissed: [] });
    expect(formatVerdict(verdict)[0]).toMatch(/^verdict: PASS/);
  });

  it("fails on an honest device the server quarantined, and says why the device was told", () => {
    const devices = [device(0, { proofFailure: { reason: "commit_late", quarantined: true } }), device(1)];
    const states = new Map([
      [devices[0]!.deviceId, caught],
      [devices[1]!.deviceId, trusted],
    ]);
    const verdict = judgeRun({ honestTarget: 2, devices, states });
    expect(verdict.ok).toBe(false);
    expect(verdict.honestProblems).toEqual([
      {
        deviceId: devices[0]!.deviceId,
        index: 0,
        problem: "quarantined",
        cause: "its proof failed (commit_late) and the server quarantined it",
      },
    ]);
    const lines = formatVerdict(verdict);
    expect(lines[0]).toBe("verdict: FAIL (1 quarantined)");
    expect(lines[1]).toContain(
      `honest ${devices[0]!.deviceId} (#0) quarantined: its proof failed (commit_late)`,
    );
  });

  it("fails on honest devices that never came online or never enrolled, naming the last error", () => {
    const devices = [device(0, { everOnline: false, lastError: "connection: ECONNREFUSED" }), device(1)];
    const states = new Map([
      [
        devices[0]!.deviceId,
        { status: "pending" as const, verification: "unverified" as const, connected: false },
      ],
      [devices[1]!.deviceId, trusted],
    ]);
    const verdict = judgeRun({ honestTarget: 3, devices, states });
    expect(verdict.ok).toBe(false);
    expect(verdict.honestNotEnrolled).toBe(1);
    expect(verdict.honestProblems).toEqual([
      expect.objectContaining({ problem: "never_online", cause: "last error: connection: ECONNREFUSED" }),
    ]);
    expect(formatVerdict(verdict)[0]).toBe("verdict: FAIL (1 never came online, 1 never enrolled)");
  });

  it("fails when a counterfeit was neither failed nor quarantined", () => {
    const devices = [device(0), device(1, { counterfeit: true })];
    const states = new Map([
      [devices[0]!.deviceId, trusted],
      [devices[1]!.deviceId, trusted],
    ]);
    const verdict = judgeRun({ honestTarget: 1, devices, states });
    expect(verdict).toMatchObject({
      ok: false,
      honestProblems: [],
      counterfeitMissed: [devices[1]!.deviceId],
    });
    expect(formatVerdict(verdict)[0]).toBe("verdict: FAIL (1 counterfeit not caught)");
  });

  it("describes a late challenge with its timing against the deadline", () => {
    const challenge = {
      id: "9bb3964842067536b718c9348ffc2155",
      trigger: "retry",
      outcome: "timeout",
      reason: "commit_late",
      detail: null,
      commitLatencyMs: 2378,
      deadlineMs: 905,
    } as ChallengeView;
    expect(describeChallenge(challenge)).toBe(
      "challenge 9bb3964842067536b718c9348ffc2155 (retry): commit_late, commit after 2378 ms, deadline 905 ms",
    );
    expect(describeChallenge({ ...challenge, commitLatencyMs: null })).toContain(
      "no commit within the 905 ms deadline",
    );
  });
});
