import { afterAll, beforeAll, expect, it } from "vitest";
import type { Prover } from "../../apps/cli/src/prover/prover.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { honestProver, type ProofWorld, startProofWorld, verified } from "./proof-fixture.js";

/** Blocks this whole process (server and worker alike) for `ms`, as a GC pause or a swapped-out host does. */
function stallHost(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * An honest device on an unlucky host: its first commit is late with the session answering (a cold start the
 * watch cannot see), and its host stalls 3.5 s in the second challenge; after that it is on time.
 */
function unluckyHonestProver(): Prover {
  const honest = honestProver("sim-a100");
  let commits = 0;
  return {
    name: "honest on an unlucky host",
    async commit(challenge) {
      commits++;
      if (commits === 1) await new Promise((r) => setTimeout(r, challenge.deadlineMs + 100));
      if (commits === 2) stallHost(3_500);
      return honest.commit(challenge);
    },
    reveal: (request) => honest.reveal(request),
    close: () => honest.close(),
  };
}

/**
 * A slow host is not a slow GPU: a stall that delays the session's answers (and here the server's own timers)
 * excuses a late commit, so it never adds up to a quarantine with a failure before it.
 */
describeEachDialect("proof of GPU on a stalled host", (database) => {
  let w: ProofWorld;

  beforeAll(async () => {
    w = await startProofWorld(database());
  });
  afterAll(() => w.stop());

  it("does not quarantine an honest device whose host stalls 3.5 s in the retry after a late commit", async () => {
    const d = await w.device({ profile: "sim-a100", prover: unluckyHonestProver() });
    const view = await w.until(d.deviceId, verified, 20_000);
    expect(view).toMatchObject({ verification: "verified", status: "online" });
    const challenges = await w.challenges(d.deviceId);
    const oldestFirst = challenges.map((c) => [c.trigger, c.outcome, c.reason]).reverse();
    // The deliberately late first commit is counted, unless this machine's own load stalled it too.
    expect([
      ["connect", "timeout", "commit_late"],
      ["connect", "timeout", "host_stall"],
    ]).toContainEqual(oldestFirst[0]);
    expect(oldestFirst[1]).toEqual(["retry", "timeout", "host_stall"]);
    expect(oldestFirst.at(-1)).toEqual(["retry", "pass", null]);
    // This machine's own load may stall a retry or two more: excused too, never a second counted failure.
    for (const between of oldestFirst.slice(2, -1))
      expect(between).toEqual(["retry", "timeout", "host_stall"]);
    expect(challenges.at(-2)!.detail).toMatch(/^stall \d+ ms$/);
  });
});
