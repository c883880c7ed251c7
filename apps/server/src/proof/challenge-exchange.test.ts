import { afterEach, describe, expect, it, vi } from "vitest";
import { hardwareProfiles } from "../../../../packages/protocol/src/hardware-profiles.js";
import { createCpuProver } from "../../../cli/src/prover/cpu-prover.js";
import { type ExchangeEnd, lateWindowMs, startExchange } from "./challenge-exchange.js";
import { MEMORY_LATE_DETAIL } from "./challenge-store.js";
import { seededRandom } from "./random-source.js";
import { type SessionHealth, watchSessionHealth } from "./session-health.js";
import { issueChallenge } from "./simulated-slack.js";
import { createVerifierKeyring } from "./verifier-key.js";

const profile = hardwareProfiles.find((p) => p.id === "sim-a100")!;
const keyring = createVerifierKeyring({ random: seededRandom("exchange keys") });

/** An exchange whose sent messages and end are recorded; `now` is the server clock the test controls. */
function exchangeOf(now: () => number, health?: SessionHealth, provesMemory = false) {
  const sent: Array<{ type: string }> = [];
  const ends: ExchangeEnd[] = [];
  const challenge = issueChallenge({
    profile,
    gpuCount: 1,
    rttMs: 5,
    keyring,
    nowMs: now(),
    random: seededRandom("c"),
    provesMemory,
  });
  const exchange = startExchange({
    challenge,
    now,
    random: seededRandom("rows"),
    send: (m) => sent.push(m),
    onEnd: (e) => ends.push(e),
    ...(health ? { health } : {}),
  });
  return {
    exchange,
    sent,
    ends,
    deadlineMs: challenge.size.deadlineMs,
    lateMs: lateWindowMs(challenge),
    memoryDeadlineMs: challenge.vram?.deadlineMs,
  };
}

const commitFor = (challengeId: string) => ({
  type: "proof.commit" as const,
  challengeId,
  root: "ab".repeat(32),
  elapsedMs: 1,
});

describe("challenge exchange", () => {
  afterEach(() => vi.useRealTimers());

  it("sends the challenge at once and times out when the device never answers, one late window after the deadline", () => {
    vi.useFakeTimers({ now: 0 });
    const { sent, ends, deadlineMs, lateMs } = exchangeOf(Date.now);
    expect(sent.map((m) => m.type)).toEqual(["proof.challenge"]);
    vi.advanceTimersByTime(deadlineMs + lateMs);
    expect(ends).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(ends).toMatchObject([
      { outcome: "timeout", reason: "commit_late", result: { commitLatencyMs: null } },
    ]);
  });

  it("measures a commit that arrives after the deadline, within the late window, and does not ask for rows", () => {
    vi.useFakeTimers({ now: 0 });
    const { exchange, sent, ends, deadlineMs } = exchangeOf(Date.now);
    vi.advanceTimersByTime(deadlineMs + 100);
    exchange.commit(commitFor(exchange.challenge.challengeId));
    expect(sent).toHaveLength(1);
    expect(ends).toMatchObject([
      {
        outcome: "timeout",
        reason: "commit_late",
        commitAtMs: deadlineMs + 100,
        result: { commitLatencyMs: deadlineMs + 100 },
      },
    ]);
  });

  it("excuses a commit made late by a 3.5 s host stall: the session left its pings unanswered meanwhile", async () => {
    vi.useFakeTimers({ now: 0 });
    const waiting: Array<(answered: boolean) => void> = [];
    const health = watchSessionHealth({
      now: Date.now,
      probe: () => new Promise<boolean>((resolve) => waiting.push(resolve)),
      everyMs: 100,
      baselineRttMs: 5,
    });
    const { exchange, ends, deadlineMs } = exchangeOf(Date.now, health);
    for (const resolve of waiting.splice(0)) resolve(true);
    await Promise.resolve();
    // The host stalls for 3.5 s, longer than the deadline and the late window; then the commit comes.
    vi.advanceTimersByTime(3_500);
    exchange.commit(commitFor(exchange.challenge.challengeId));
    expect(ends).toMatchObject([{ outcome: "timeout", reason: "host_stall" }]);
    expect(ends[0]!.stallMs).toBeGreaterThanOrEqual(deadlineMs);
  });

  it("waits out a stall before giving up on a silent device, and then does not excuse it", () => {
    vi.useFakeTimers({ now: 0 });
    const stalledOnce = { stallMs: () => 1_000, stop: () => undefined };
    const { ends, deadlineMs, lateMs } = exchangeOf(Date.now, stalledOnce);
    vi.advanceTimersByTime(deadlineMs + lateMs + 1_000);
    expect(ends).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(ends).toMatchObject([
      { outcome: "timeout", reason: "commit_late", stallMs: 1_000, result: { commitLatencyMs: null } },
    ]);
  });

  it("does not excuse a late commit from a session that answered every ping", () => {
    let clock = 0;
    const healthy = { stallMs: () => 3, stop: () => undefined };
    const { exchange, ends, deadlineMs } = exchangeOf(() => clock, healthy);
    clock = deadlineMs + 400;
    exchange.commit(commitFor(exchange.challenge.challengeId));
    expect(ends).toMatchObject([
      { outcome: "timeout", reason: "commit_late", stallMs: 3, result: { detail: "stall 3 ms" } },
    ]);
  });

  it("excuses a commit late by less than the stall seen, even a stall shorter than half the slack", () => {
    let clock = 0;
    const stalled = { stallMs: () => 150, stop: () => undefined };
    const { exchange, ends, deadlineMs } = exchangeOf(() => clock, stalled);
    expect(150).toBeLessThan((deadlineMs - exchange.challenge.size.expectedMs) / 2);
    clock = deadlineMs + 100;
    exchange.commit(commitFor(exchange.challenge.challengeId));
    expect(ends).toMatchObject([{ outcome: "timeout", reason: "host_stall", stallMs: 150 }]);
    // Later than the stall explains: counted.
    const again = exchangeOf(() => clock, stalled);
    clock += again.deadlineMs + 200;
    again.exchange.commit(commitFor(again.exchange.challenge.challengeId));
    expect(again.ends).toMatchObject([{ outcome: "timeout", reason: "commit_late" }]);
  });

  it("ignores a commit that answers another challenge (a late answer to an old one)", () => {
    vi.useFakeTimers({ now: 0 });
    const { exchange, sent, ends } = exchangeOf(Date.now);
    exchange.commit(commitFor("0".repeat(32)));
    expect(sent).toHaveLength(1);
    expect(ends).toEqual([]);
  });

  it("judges a commit by the server's clock on arrival: after the deadline it is late", () => {
    let clock = 0;
    const { exchange, ends, deadlineMs } = exchangeOf(() => clock);
    clock = deadlineMs + 1;
    exchange.commit(commitFor(exchange.challenge.challengeId));
    expect(ends).toMatchObject([{ outcome: "timeout", reason: "commit_late" }]);
  });

  it("asks for rows only after the commit, and passes an honest device's reveal", async () => {
    const prover = createCpuProver();
    const { exchange, sent, ends } = exchangeOf(Date.now);
    const commit = await prover.commit(exchange.challenge.message);
    exchange.commit(commit);
    const request = sent.at(-1) as Parameters<typeof prover.reveal>[0];
    expect(request.type).toBe("proof.reveal-request");
    exchange.reveal(await prover.reveal(request));
    expect(ends).toMatchObject([
      { outcome: "pass", reason: null, result: { rowsChecked: request.rows.length } },
    ]);
    await prover.close();
  });

  it("ends once: an abandoned exchange ignores whatever arrives after", () => {
    vi.useFakeTimers({ now: 0 });
    const { exchange, ends, deadlineMs } = exchangeOf(Date.now);
    exchange.abandon("timeout", "session_closed");
    exchange.commit(commitFor(exchange.challenge.challengeId));
    exchange.abandon("cancelled", "server_stopped");
    vi.advanceTimersByTime(deadlineMs + 10);
    expect(ends).toMatchObject([{ outcome: "timeout", reason: "session_closed" }]);
  });

  it("excuses memory roots made late by a host stall, as it excuses a late commit", () => {
    vi.useFakeTimers({ now: 0 });
    const stalled = { stallMs: () => 60_000, stop: vi.fn() };
    const { exchange, ends, memoryDeadlineMs } = exchangeOf(Date.now, stalled, true);
    expect(memoryDeadlineMs).toBeGreaterThan(0);
    exchange.commit(commitFor(exchange.challenge.challengeId));
    // Stalls are still watched while the memory roots are awaited.
    expect(stalled.stop).not.toHaveBeenCalled();
    vi.advanceTimersByTime(memoryDeadlineMs! + 2);
    expect(ends).toMatchObject([{ outcome: "timeout", reason: "host_stall", stallMs: 60_000 }]);
  });

  it("fails late memory roots from a healthy session as commit_late, naming the memory phase", () => {
    vi.useFakeTimers({ now: 0 });
    const healthy = { stallMs: () => 3, stop: () => undefined };
    const { exchange, ends, memoryDeadlineMs } = exchangeOf(Date.now, healthy, true);
    exchange.commit(commitFor(exchange.challenge.challengeId));
    vi.advanceTimersByTime(memoryDeadlineMs! + 2);
    expect(ends).toMatchObject([
      {
        outcome: "timeout",
        reason: "commit_late",
        result: { detail: MEMORY_LATE_DETAIL, commitLatencyMs: 0 },
      },
    ]);
  });
});
