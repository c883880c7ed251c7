import { afterEach, describe, expect, it, vi } from "vitest";
import { hardwareProfiles } from "../../../../packages/protocol/src/hardware-profiles.js";
import { type ExchangeEnd, startExchange } from "./challenge-exchange.js";
import { seededRandom } from "./random-source.js";
import { probeIntervalMs, watchSessionHealth } from "./session-health.js";
import { issueChallenge } from "./simulated-slack.js";
import { judgeLateCommit } from "./speed-fraud.js";
import { nextVerificationState, type ProofHistoryEntry } from "./verification-state.js";
import { createVerifierKeyring } from "./verifier-key.js";
import type { ProofResult } from "./verify-reveal.js";

/** A decided challenge: pass, or a timeout with a reason; `latency` is the commit's, null when none came. */
const entry = (reason: string | null, latency: number | null = 1_500): ProofHistoryEntry => ({
  outcome: reason === null ? "pass" : "timeout",
  reason,
  atMs: 0,
  commitLatencyMs: reason === null ? 40 : latency,
  deadlineMs: 1_000,
});

/** A late commit just decided by the exchange: measured (it arrived) or not. */
const lateEnd = (commitLatencyMs: number | null): ExchangeEnd => ({
  challengeId: "c".repeat(32),
  outcome: "timeout",
  reason: "commit_late",
  atMs: 0,
  result: { outcome: "timeout", reason: "commit_late", commitLatencyMs, deadlineMs: 1_000 } as ProofResult,
});

describe("speed fraud from repeated clean late commits", () => {
  it("calls a second late commit from a healthy session speed_short, a failure of the fraud class", () => {
    const judged = judgeLateCommit([entry(null), entry("commit_late")], lateEnd(1_250));
    expect(judged).toMatchObject({ outcome: "fail", reason: "speed_short" });
    expect(judged.result).toMatchObject({ outcome: "fail", reason: "speed_short", commitLatencyMs: 1_250 });
  });

  it("never calls a first late commit fraud", () => {
    expect(judgeLateCommit([entry(null)], lateEnd(1_250))).toMatchObject({ reason: "commit_late" });
    expect(judgeLateCommit([], lateEnd(1_250))).toMatchObject({ reason: "commit_late" });
  });

  it("skips late commits a host stall excused, between or before", () => {
    const history = [entry("commit_late"), entry("host_stall"), entry("host_stall")];
    expect(judgeLateCommit(history, lateEnd(1_250))).toMatchObject({ reason: "speed_short" });
    expect(judgeLateCommit([entry(null), entry("host_stall")], lateEnd(1_250))).toMatchObject({
      reason: "commit_late",
    });
  });

  it("does not call an outage fraud: a commit that never came, now or before, is not a late commit", () => {
    expect(judgeLateCommit([entry("commit_late")], lateEnd(null))).toMatchObject({ reason: "commit_late" });
    expect(judgeLateCommit([entry("commit_late", null)], lateEnd(1_250))).toMatchObject({
      reason: "commit_late",
    });
    expect(judgeLateCommit([entry("session_closed")], lateEnd(1_250))).toMatchObject({
      reason: "commit_late",
    });
  });

  it("does not call late memory roots speed fraud: the commit itself came in time", () => {
    const memoryLate = { ...entry("commit_late", 110) };
    expect(judgeLateCommit([entry("commit_late")], lateEnd(110))).toMatchObject({ reason: "commit_late" });
    expect(judgeLateCommit([memoryLate], lateEnd(1_250))).toMatchObject({ reason: "commit_late" });
  });

  it("leaves every other ending as it is", () => {
    const stalled = { ...lateEnd(1_250), reason: "host_stall" };
    expect(judgeLateCommit([entry("commit_late")], stalled)).toBe(stalled);
  });
});

describe("a 1.5× overclaim on a healthy host, through the exchange on an injected clock", () => {
  afterEach(() => vi.useRealTimers());
  const h100 = hardwareProfiles.find((p) => p.id === "nvidia-h100-sxm")!;
  const keyring = createVerifierKeyring({ random: seededRandom("overclaim keys") });

  /** One challenge to a device 1.5× slower than an H100 whose worker answers every ping at once. */
  async function overclaimedChallenge(): Promise<ExchangeEnd> {
    const challenge = issueChallenge({
      profile: h100,
      gpuCount: 1,
      rttMs: 20,
      keyring,
      nowMs: Date.now(),
      random: seededRandom(`challenge ${Date.now()}`),
    });
    const health = watchSessionHealth({
      now: Date.now,
      probe: () => Promise.resolve(true),
      everyMs: probeIntervalMs(challenge.size),
      baselineRttMs: 20,
    });
    const ends: ExchangeEnd[] = [];
    const exchange = startExchange({
      challenge,
      now: Date.now,
      random: seededRandom("rows"),
      send: () => undefined,
      onEnd: (e) => ends.push(e),
      health,
    });
    // The worker's event loop is free while its GPU computes: every ping is answered between timers.
    await vi.advanceTimersByTimeAsync(Math.ceil(challenge.size.expectedMs * 1.5));
    exchange.commit({
      type: "proof.commit",
      challengeId: exchange.challenge.challengeId,
      root: "ab".repeat(32),
      elapsedMs: challenge.size.expectedMs * 1.5,
    });
    return ends[0]!;
  }

  it("is late twice with a healthy session, ends as speed_short and is quarantined", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const history: ProofHistoryEntry[] = [];
    const decided = async () => {
      const end = judgeLateCommit(history, await overclaimedChallenge());
      history.push({
        outcome: end.outcome as "fail" | "timeout",
        reason: end.reason,
        atMs: end.atMs,
        commitLatencyMs: end.result?.commitLatencyMs ?? null,
        deadlineMs: end.result!.deadlineMs,
      });
      return { end, decision: nextVerificationState(history, end.atMs, undefined, seededRandom("d")) };
    };
    const first = await decided();
    expect(first.end).toMatchObject({ outcome: "timeout", reason: "commit_late", stallMs: 0 });
    expect(first.decision).toMatchObject({ state: "unverified", quarantine: false });
    vi.advanceTimersByTime(120_000);
    const retry = await decided();
    expect(retry.end).toMatchObject({ outcome: "fail", reason: "speed_short" });
    expect(retry.decision).toMatchObject({ state: "failed", quarantine: true, consecutiveFailures: 2 });
  });
});
