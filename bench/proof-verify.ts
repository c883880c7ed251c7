/**
 * Proof-of-GPU verification benchmark: npx tsx bench/proof-verify.ts [--quick] [--devices N] [--population-only]
 *
 * 1. Server CPU time to verify one challenge for every hardware profile, against the prover's work time on the
 *    claimed hardware (real profiles: the profile's expected time; simulated ones: the measured CPU prover).
 * 2. 1,000 simulated honest devices and 1,000 overclaiming ones (`--devices N` of each) through the real exchange
 *    and verifier on virtual time, with lognormal timing noise, each given one retry: how many are quarantined.
 *    `--population-only` skips part 1 (a bound on a rate of ~0.1% needs a few thousand devices: 0 of N
 *    quarantined bounds the rate below 3/N at 95%).
 */

import {
  leafHash,
  nodeHash,
  type ProofRevealMessage,
  type ProofRevealRequestMessage,
  proofRevealMessage,
  sizeChallenge,
  toHex,
} from "@ignis/protocol/proof";
import { deadlineFittingProver, rateCappedProver } from "../apps/cli/src/prover/adversary-provers.js";
import { challengeMatrices, productRow } from "../apps/cli/src/prover/cpu-product.js";
import { createCpuProver } from "../apps/cli/src/prover/cpu-prover.js";
import { pacedProver } from "../apps/cli/src/prover/paced-prover.js";
import type { Prover } from "../apps/cli/src/prover/prover.js";
import { createVirtualClock } from "../apps/cli/src/prover/prover-clock.js";
import { createChallenge, type IssuedChallenge } from "../apps/server/src/proof/challenge.js";
import { runLocalExchange } from "../apps/server/src/proof/local-exchange.js";
import { nodeSha256 } from "../apps/server/src/proof/node-sha256.js";
import { randomBelow, seededRandom } from "../apps/server/src/proof/random-source.js";
import { chooseRevealRows } from "../apps/server/src/proof/reveal-selection.js";
import { nextVerificationState } from "../apps/server/src/proof/verification-state.js";
import { createVerifierKeyring } from "../apps/server/src/proof/verifier-key.js";
import { verifyReveal } from "../apps/server/src/proof/verify-reveal.js";
import {
  findHardwareProfile,
  type HardwareProfile,
  hardwareProfiles,
  profileOpsPerSecond,
} from "../packages/protocol/src/hardware-profiles.js";

const quick = process.argv.includes("--quick");
const populationOnly = process.argv.includes("--population-only");
const devicesArg = process.argv.indexOf("--devices");
const TYPICAL_RTT_MS = 50;

// ---------------------------------------------------------------- part 1: verification cost per profile

/** A Merkle tree where only the opened leaves are real rows and every other leaf is one filler hash. */
function sparseCommitment(leafCount: number, known: Map<number, Uint8Array>) {
  const filler = nodeSha256(new TextEncoder().encode("filler"));
  const levels: Map<number, Uint8Array>[] = [];
  const counts: number[] = [];
  const defaults: Uint8Array[] = [filler];
  let current = new Map(known);
  if (!current.has(leafCount - 1)) current.set(leafCount - 1, filler);
  let count = leafCount;
  for (let d = 0; ; d++) {
    levels.push(current);
    counts.push(count);
    if (count === 1) break;
    const below = current;
    const value = (i: number) => below.get(i) ?? defaults[d];
    const nextCount = Math.ceil(count / 2);
    const parents = new Set([...below.keys()].map((i) => i >>> 1));
    parents.add(nextCount - 1);
    const next = new Map<number, Uint8Array>();
    for (const p of parents)
      next.set(p, 2 * p + 1 < count ? nodeHash(value(2 * p), value(2 * p + 1), nodeSha256) : value(2 * p));
    defaults.push(nodeHash(defaults[d], defaults[d], nodeSha256));
    current = next;
    count = nextCount;
  }
  const proof = (index: number) => {
    const out: string[] = [];
    let idx = index;
    for (let d = 0; d + 1 < levels.length; d++) {
      const sibling = idx ^ 1;
      if (sibling < counts[d]) out.push(toHex(levels[d].get(sibling) ?? defaults[d]));
      idx >>>= 1;
    }
    return out;
  };
  return { root: toHex(current.get(0)!), proof };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeVerification(
  challenge: IssuedChallenge,
  root: string,
  request: ProofRevealRequestMessage,
  reveal: ProofRevealMessage,
) {
  const commit = { type: "proof.commit" as const, challengeId: challenge.challengeId, root, elapsedMs: 1 };
  const wire = JSON.stringify(reveal);
  const verifyMs: number[] = [];
  const parseMs: number[] = [];
  let outcome = "";
  for (let rep = -3; rep < (quick ? 3 : 15); rep++) {
    const t0 = performance.now();
    const parsed = proofRevealMessage.parse(JSON.parse(wire));
    const parsedAt = performance.now();
    const result = verifyReveal({
      challenge,
      commit,
      commitReceivedAtMs: challenge.issuedAtMs + 1,
      request,
      requestSentAtMs: 0,
      reveal: parsed,
      revealReceivedAtMs: 1,
    });
    outcome = result.outcome;
    if (rep < 0) continue; // JIT warm-up
    parseMs.push(parsedAt - t0);
    verifyMs.push(result.verifyCpuMs);
  }
  // The minimum is the intrinsic cost; the median shows what the shared 2-core machine added.
  return {
    verifyMs: Math.min(...verifyMs),
    verifyMedianMs: median(verifyMs),
    parseMs: Math.min(...parseMs),
    revealBytes: wire.length,
    outcome,
  };
}

interface CostRow {
  profile: string;
  shape: string;
  batch: number;
  k: number;
  proverMs: number;
  proverSource: string;
  verifyMs: number;
  verifyMedianMs: number;
  parseMs: number;
  revealKb: number;
  keyMs: number;
  outcome: string;
}

const keyMsByShape = new Map<string, number>();
function keyringFor(shape: { n: number; inner: number }) {
  const keyring = createVerifierKeyring({ random: seededRandom("bench keys") });
  const id = `${shape.n}x${shape.inner}`;
  const t0 = performance.now();
  keyring.keyFor(shape, 0);
  if (!keyMsByShape.has(id)) keyMsByShape.set(id, performance.now() - t0);
  return keyring;
}

async function costOfSmallProfile(profile: HardwareProfile): Promise<CostRow> {
  const keyring = keyringFor(profile.proof);
  // Simulated profiles run ~44 ms instead of ~2 s: their round trip shrinks by the same factor.
  const rttMs = profile.simulated ? (TYPICAL_RTT_MS * profile.proof.targetMs) / 2000 : TYPICAL_RTT_MS;
  const challenge = createChallenge({
    profile,
    gpuCount: 1,
    rttMs,
    keyring,
    nowMs: 0,
    random: seededRandom(profile.id),
  });
  const prover = createCpuProver();
  const times: number[] = [];
  let root = "";
  for (let rep = 0; rep < (profile.simulated ? 5 : 1); rep++) {
    const t0 = performance.now();
    root = (await prover.commit(challenge.message)).root;
    times.push(performance.now() - t0);
  }
  const commit = { type: "proof.commit" as const, challengeId: challenge.challengeId, root, elapsedMs: 0 };
  const request = chooseRevealRows(challenge, commit, seededRandom(`${profile.id} rows`));
  const reveal = await prover.reveal(request);
  const t = timeVerification(challenge, root, request, reveal);
  return {
    profile: profile.id,
    shape: `${profile.proof.n}×${profile.proof.inner}`,
    batch: challenge.size.batch,
    k: challenge.size.revealRows,
    proverMs: profile.simulated ? median(times) : challenge.size.expectedMs,
    proverSource: profile.simulated
      ? `CPU prover, measured`
      : `expected (CPU prover measured ${median(times).toFixed(0)} ms)`,
    verifyMs: t.verifyMs,
    verifyMedianMs: t.verifyMedianMs,
    parseMs: t.parseMs,
    revealKb: t.revealBytes / 1024,
    keyMs: keyMsByShape.get(`${profile.proof.n}x${profile.proof.inner}`) ?? 0,
    outcome: t.outcome,
  };
}

/**
 * GPU profiles share one shape, so one seed and one set of opened rows serve all of them: the rows are
 * drawn from the first matrices of the smallest batch (verification cost does not depend on which rows).
 */
async function costOfGpuProfiles(profiles: HardwareProfile[]): Promise<CostRow[]> {
  const shape = profiles[0].proof;
  const keyring = keyringFor(shape);
  const issue = (profile: HardwareProfile) =>
    createChallenge({
      profile,
      gpuCount: 1,
      rttMs: TYPICAL_RTT_MS,
      keyring,
      nowMs: 0,
      random: seededRandom("gpu seed"),
    });
  const challenges = profiles.map(issue);
  const minBatch = Math.min(...challenges.map((c) => c.size.batch));
  const k = Math.max(...challenges.map((c) => c.size.revealRows));
  const random = seededRandom("gpu rows");
  const leaves = new Set<number>();
  while (leaves.size < k) leaves.add(randomBelow(random, minBatch * shape.n));
  const rows = [...leaves].map((leaf) => ({ matrix: Math.floor(leaf / shape.n), row: leaf % shape.n }));
  const t0 = performance.now();
  const matrices = challengeMatrices(challenges[0].message);
  const values = rows.map(({ matrix, row }) => productRow(matrices, matrix, row));
  console.log(
    `  (computed ${k} honest ${shape.n}×${shape.inner} rows on the CPU in ${(performance.now() - t0).toFixed(0)} ms)`,
  );
  return profiles.map((profile, p) => {
    const challenge = challenges[p];
    const mine = rows.slice(0, challenge.size.revealRows);
    const known = new Map(mine.map((r, i) => [r.matrix * shape.n + r.row, leafHash(values[i], nodeSha256)]));
    const tree = sparseCommitment(challenge.size.batch * shape.n, known);
    const request = { type: "proof.reveal-request" as const, challengeId: challenge.challengeId, rows: mine };
    const reveal = {
      type: "proof.reveal" as const,
      challengeId: challenge.challengeId,
      rows: mine.map((r, i) => ({
        ...r,
        values: Array.from(values[i]),
        proof: tree.proof(r.matrix * shape.n + r.row),
      })),
    };
    const t = timeVerification(challenge, tree.root, request, reveal);
    return {
      profile: profile.id,
      shape: `${shape.n}×${shape.inner}`,
      batch: challenge.size.batch,
      k: challenge.size.revealRows,
      proverMs: challenge.size.expectedMs,
      proverSource: "expected",
      verifyMs: t.verifyMs,
      verifyMedianMs: t.verifyMedianMs,
      parseMs: t.parseMs,
      revealKb: t.revealBytes / 1024,
      keyMs: keyMsByShape.get(`${shape.n}x${shape.inner}`) ?? 0,
      outcome: t.outcome,
    };
  });
}

// ---------------------------------------------------------------- part 2: 1,000 simulated challenges

/** Standard normal from two uniforms (Box–Muller) drawn from a seeded source. */
function normal(random: (n: number) => Uint8Array): number {
  const u = (randomBelow(random, 2 ** 48) + 1) / (2 ** 48 + 1);
  const v = randomBelow(random, 2 ** 48) / 2 ** 48;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

interface Population {
  devices: number;
  firstFailures: number;
  quarantined: number;
  challenges: number;
  /** Outcome and reason of every challenge that did not pass, counted. */
  reasons: Map<string, number>;
}

/**
 * Timing model (real-GPU terms, scaled to the simulated profile's time base): each device's true speed is the
 * claimed one times lognormal(0, 3%) for honest units, or divided by the overclaim factor; each run is slower by
 * exp(|N(0, 6%)|) and 1% of runs stall ×U(1.1, 2); each device's RTT is U(10, 150) ms, each one-way delay
 * RTT/2 × lognormal(0, 30%); overclaimers report the largest RTT the server credits (250 ms) to stretch
 * their deadline and fit as many rows as their real speed allows (or, half of them, compute everything).
 */
async function simulatePopulation(
  kind: "honest" | "overclaim",
  devices: number,
  claimed: HardwareProfile,
): Promise<Population> {
  const random = seededRandom(`population ${kind}`);
  const keyring = createVerifierKeyring({ random: seededRandom(`population keys ${kind}`) });
  // Simulated sizes take ~44 ms instead of ~2 s: network times shrink by the same factor.
  const s =
    sizeChallenge(claimed, { gpuCount: 1, rttMs: 0 }).expectedMs /
    findHardwareProfile("nvidia-h100-sxm")!.proof.targetMs;
  const uniform = () => randomBelow(random, 2 ** 32) / 2 ** 32;
  const runJitter = () =>
    Math.exp(Math.abs(0.06 * normal(random))) * (uniform() < 0.01 ? 1.1 + 0.9 * uniform() : 1);
  const pop: Population = { devices, firstFailures: 0, quarantined: 0, challenges: 0, reasons: new Map() };
  for (let d = 0; d < devices; d++) {
    const clock = createVirtualClock();
    const overclaim = [1.5, 2, 3][d % 3];
    const speed = kind === "honest" ? Math.exp(0.03 * normal(random)) : 1 / overclaim;
    const opsPerSecond = profileOpsPerSecond(claimed) * speed;
    const trueRttReal = 10 + 140 * uniform();
    const fitting = kind === "overclaim" && d % 2 === 0;
    const history: { outcome: "pass" | "fail" | "timeout"; atMs: number }[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const reportedRtt = (kind === "overclaim" ? 250 : trueRttReal) * s;
      const challenge = createChallenge({
        profile: claimed,
        gpuCount: 1,
        rttMs: reportedRtt,
        keyring,
        nowMs: clock.now(),
        random,
      });
      const prover: Prover = fitting
        ? deadlineFittingProver({
            opsPerSecond,
            clock,
            jitter: runJitter,
            // Aims 12% early so that its own jitter rarely makes it late: it wants to reach the reveal.
            marginMs: 1.5 * trueRttReal * s + 0.12 * challenge.size.deadlineMs,
          })
        : kind === "overclaim"
          ? rateCappedProver({ opsPerSecond, clock, jitter: runJitter })
          : pacedProver(createCpuProver({ clock }), { opsPerSecond, clock, jitter: runJitter });
      const oneWay = () => (trueRttReal * s * Math.exp(0.3 * normal(random))) / 2;
      const result = await runLocalExchange({
        challenge,
        responder: prover,
        clock,
        oneWayDelayMs: oneWay,
        random,
      });
      pop.challenges++;
      history.push({ outcome: result.outcome, atMs: clock.now() });
      if (result.outcome === "pass") break;
      const why = `${result.outcome}/${result.reason}`;
      pop.reasons.set(why, (pop.reasons.get(why) ?? 0) + 1);
      if (attempt === 0) pop.firstFailures++;
      clock.advance(1000);
    }
    if (nextVerificationState(history, clock.now()).quarantine) pop.quarantined++;
  }
  return pop;
}

// ---------------------------------------------------------------- main

const fmt = (x: number, digits = 1) => x.toFixed(digits);
console.log(
  `Proof-of-GPU verification benchmark (Node ${process.version}, ${quick ? "quick" : "full"} run)\n`,
);
if (!populationOnly) {
  console.log(
    `Part 1: server verification per challenge (typical RTT ${TYPICAL_RTT_MS} ms; min and median of 15 runs)`,
  );
  const gpu = hardwareProfiles.filter((p) => !p.simulated && p.proof.backend !== "cpu");
  const small = hardwareProfiles.filter((p) => p.simulated || p.proof.backend === "cpu");
  const rows = populationOnly ? [] : [...(await costOfGpuProfiles(quick ? gpu.slice(0, 2) : gpu))];
  if (!populationOnly) for (const p of small) rows.push(await costOfSmallProfile(p));
  console.log(
    "profile            shape        batch    k  prover ms  verify min/med ms  verify/prover  parse ms  (verify+parse)/prover  reveal KB  B·r ms/key  outcome",
  );
  for (const r of rows) {
    const pct = (x: number) => `${fmt((100 * x) / r.proverMs, 2)}%`;
    console.log(
      [
        r.profile.padEnd(18),
        r.shape.padEnd(11),
        String(r.batch).padStart(6),
        String(r.k).padStart(4),
        fmt(r.proverMs).padStart(10),
        `${fmt(r.verifyMs, 2)} / ${fmt(r.verifyMedianMs, 2)}`.padStart(18),
        pct(r.verifyMs).padStart(14),
        fmt(r.parseMs, 2).padStart(9),
        pct(r.verifyMs + r.parseMs).padStart(22),
        fmt(r.revealKb, 0).padStart(10),
        fmt(r.keyMs, 0).padStart(11),
        ` ${r.outcome}`,
      ].join(" "),
    );
  }
  console.log(
    "(prover ms: expected time on the claimed hardware for real profiles, measured CPU prover for sim-*; ratios use the minimum)\n",
  );
}

const devices = devicesArg > 0 ? Number(process.argv[devicesArg + 1]) : quick ? 100 : 1000;
if (!Number.isInteger(devices) || devices < 1) throw new Error("--devices takes a positive whole number");
console.log(`Part 2: ${devices} honest and ${devices} overclaiming sim-h100 devices, one retry each`);
const claimed = findHardwareProfile("sim-h100")!;
const t0 = performance.now();
const honest = await simulatePopulation("honest", devices, claimed);
const cheats = await simulatePopulation("overclaim", devices, claimed);
console.log(
  `honest:      ${honest.challenges} challenges, ${honest.firstFailures} first-attempt failures (${fmt((100 * honest.firstFailures) / devices, 2)}%), ${honest.quarantined} quarantined after the retry (${fmt((100 * honest.quarantined) / devices, 2)}%)`,
);
console.log(
  `overclaim:   ${cheats.challenges} challenges, ${cheats.quarantined} of ${devices} caught (${fmt((100 * cheats.quarantined) / devices, 2)}%) — factors 1.5×/2×/3×, half rate-capped, half deadline-fitting`,
);
const reasons = (pop: Population) => [...pop.reasons].map(([why, count]) => `${why} ${count}`).join(", ");
console.log(
  `failed challenges by outcome/reason — honest: ${reasons(honest)}; overclaim: ${reasons(cheats)}`,
);
console.log(`(simulation took ${fmt((performance.now() - t0) / 1000)} s)`);
