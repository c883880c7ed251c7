import { afterEach, describe, expect, it, vi } from "vitest";
import { hardwareProfiles } from "../../../../packages/protocol/src/hardware-profiles.js";
import { createCpuProver } from "../../../cli/src/prover/cpu-prover.js";
import { type ExchangeEnd, startExchange } from "./challenge-exchange.js";
import { seededRandom } from "./random-source.js";
import { issueChallenge } from "./simulated-slack.js";
import { createVerifierKeyring } from "./verifier-key.js";

const profile = hardwareProfiles.find((p) => p.id === "sim-a100")!;
const keyring = createVerifierKeyring({ random: seededRandom("exchange keys") });

/** An exchange whose sent messages and end are recorded; `now` is the server clock the test controls. */
function exchangeOf(now: () => number) {
  const sent: Array<{ type: string }> = [];
  const ends: ExchangeEnd[] = [];
  const challenge = issueChallenge({
    profile,
    gpuCount: 1,
    rttMs: 5,
    keyring,
    nowMs: now(),
    random: seededRandom("c"),
  });
  const exchange = startExchange({
    challenge,
    now,
    random: seededRandom("rows"),
    send: (m) => sent.push(m),
    onEnd: (e) => ends.push(e),
  });
  return { exchange, sent, ends, deadlineMs: challenge.size.deadlineMs };
}

const commitFor = (challengeId: string) => ({
  type: "proof.commit" as const,
  challengeId,
  root: "ab".repeat(32),
  elapsedMs: 1,
});

describe("challenge exchange", () => {
  afterEach(() => vi.useRealTimers());

  it("sends the challenge at once and times out at the deadline when the device never answers", () => {
    vi.useFakeTimers({ now: 0 });
    const { sent, ends, deadlineMs } = exchangeOf(Date.now);
    expect(sent.map((m) => m.type)).toEqual(["proof.challenge"]);
    vi.advanceTimersByTime(deadlineMs);
    expect(ends).toEqual([]);
    vi.advanceTimersByTime(2);
    expect(ends).toMatchObject([{ outcome: "timeout", reason: "commit_late" }]);
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
});
