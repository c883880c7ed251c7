import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChallengeView, HardwareClaim, PublicDevice, PublicDeviceDetail } from "@ignis/protocol";
import { findHardwareProfile, profileOpsPerSecond } from "@ignis/protocol";
import { simulatedClaim } from "../../apps/cli/src/hardware/detect.js";
import { rateCappedProver } from "../../apps/cli/src/prover/adversary-provers.js";
import { createCpuProver } from "../../apps/cli/src/prover/cpu-prover.js";
import { pacedProver } from "../../apps/cli/src/prover/paced-prover.js";
import type { Prover } from "../../apps/cli/src/prover/prover.js";
import { systemClock } from "../../apps/cli/src/prover/prover-clock.js";
import { enrollDevice } from "../../apps/cli/src/worker/enroll.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import type { OpenDatabase } from "../../apps/server/src/db/database.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call, enrollmentCode, userWithKey } from "../../apps/server/src/testing/worker-fixture.js";

/**
 * Support for the proof-of-GPU end-to-end suites: a real server whose retry comes after a fraction of a second,
 * simulated devices (honest or with an adversary's prover) enrolled and run by the real worker over real
 * WebSockets, and the public and admin views a test reads the verdicts from.
 */

/** A server with a short retry delay, a supplier key, and cleanup of everything the world made. */
export interface ProofWorld {
  t: TestServer;
  supplierKey: string;
  device(options: DeviceOptions): Promise<SimulatedDevice>;
  publicView(deviceId: string): Promise<PublicDeviceDetail>;
  challenges(deviceId: string): Promise<ChallengeView[]>;
  /** Waits until the public view of the device satisfies `check`. */
  until(
    deviceId: string,
    check: (d: PublicDeviceDetail) => boolean,
    timeoutMs?: number,
  ): Promise<PublicDeviceDetail>;
  stop(): Promise<void>;
}

/** How to enroll and run one simulated device. */
export interface DeviceOptions {
  profile: string;
  /** The claim sent at enrollment; the profile's own simulated claim by default. */
  hardware?: HardwareClaim;
  /** An adversary's prover; the profile's honest paced prover by default. */
  prover?: Prover;
  /** How long the worker holds each answer to the server's pings (a stalled host, real or faked). */
  pongDelayMs?: () => number;
}

/** A running simulated device. */
export interface SimulatedDevice {
  deviceId: string;
  worker: WorkerHandle;
}

/** Retry after a failure this soon, so retry-then-quarantine takes about a second. */
export const RETRY_SECONDS = "0.3";

/** Starts the world over a test database. */
export async function startProofWorld(
  database: OpenDatabase,
  env: Record<string, string> = {},
): Promise<ProofWorld> {
  const t = await startTestServer({
    database,
    env: { IGNIS_CHALLENGE_RETRY_SECONDS: RETRY_SECONDS, ...env },
  });
  const { key: supplierKey } = await userWithKey(t, ["supplier"]);
  const dirs: string[] = [];
  const workers: WorkerHandle[] = [];
  const world: ProofWorld = {
    t,
    supplierKey,
    async device(options) {
      const stateDir = mkdtempSync(join(tmpdir(), "ignis-proof-"));
      dirs.push(stateDir);
      const code = await enrollmentCode(t, supplierKey);
      const hardware = options.hardware ?? simulatedClaim(options.profile, "europe");
      const { deviceId } = await enrollDevice({ server: t.url, code, stateDir, hardware });
      const worker = startWorker({
        stateDir,
        reconnectBaseMs: 50,
        reconnectMaxMs: 500,
        ...(options.prover ? { proverOverride: options.prover } : {}),
        ...(options.pongDelayMs ? { pongDelayMs: options.pongDelayMs } : {}),
      });
      workers.push(worker);
      await worker.connected;
      return { deviceId, worker };
    },
    async publicView(deviceId) {
      const res = await call<PublicDeviceDetail>(t, "GET", `/v1/explorer/devices/${deviceId}`);
      if (res.status !== 200) throw new Error(`explorer answered ${res.status}`);
      return res.body;
    },
    async challenges(deviceId) {
      const res = await call<{ items: ChallengeView[] }>(
        t,
        "GET",
        `/v1/admin/devices/${deviceId}/challenges`,
        t.adminKey,
      );
      if (res.status !== 200) throw new Error(`challenge list answered ${res.status}`);
      return res.body.items;
    },
    async until(deviceId, check, timeoutMs = 15_000) {
      const seen = await waitFor(
        "the device's public view to pass the check",
        async () => {
          const view = await world.publicView(deviceId);
          return check(view) ? view : undefined;
        },
        { timeoutMs, everyMs: 50 },
      );
      return seen!;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await t.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** A claim of `count` devices of a simulated profile. */
export function claimOf(profile: string, count: number): HardwareClaim {
  const claim = simulatedClaim(profile, "europe");
  return { ...claim, gpu: { ...claim.gpu, count } };
}

/** The honest prover of a simulated profile: the CPU prover paced to the profile's rate (what the worker picks). */
export function honestProver(profileId: string): Prover {
  const profile = findHardwareProfile(profileId)!;
  return pacedProver(createCpuProver({ clock: systemClock }), {
    opsPerSecond: profileOpsPerSecond(profile),
    clock: systemClock,
  });
}

/** A prover whose behaviour a test switches between challenges (a device that mends its ways, or not). */
export function switchableProver(initial: Prover): Prover & { use(next: Prover): void } {
  let current = initial;
  return {
    name: "switchable",
    commit: (challenge) => current.commit(challenge),
    reveal: (request) => current.reveal(request),
    close: () => current.close(),
    use(next) {
      current = next;
    },
  };
}

/** A prover that never answers: its device is silent while its session stays up. */
export function silentProver(): Prover {
  return {
    name: "silent",
    commit: () => new Promise(() => undefined),
    reveal: () => new Promise(() => undefined),
    close: async () => undefined,
  };
}

/** A prover as fast as `trueProfile` (honest results, just slower) for a device that claims a faster one. */
export function slowerGpu(trueProfile: string): Prover {
  const profile = findHardwareProfile(trueProfile)!;
  return rateCappedProver({ opsPerSecond: profileOpsPerSecond(profile), clock: systemClock });
}

/** True once the device has failed verification and sits in quarantine. */
export const caught = (d: PublicDevice) => d.verification === "failed" && d.status === "quarantined";

/** True once the device is verified. */
export const verified = (d: PublicDevice) => d.verification === "verified";

/** How long a stalled host (real or faked) holds its answers to pings: well over half any simulated slack. */
const STALL_MS = 1_500;

/**
 * A worker whose commits are sometimes late while it holds its pongs: the server sees a stalled host. `stallOn`
 * says, per challenge, whether this one stalls; the pongs are held while a stalled commit is under way.
 */
export function stallingDevice(stallOn: (challengeId: string) => Promise<boolean>): {
  prover: Prover;
  pongDelayMs: () => number;
} {
  const honest = honestProver("sim-a100");
  let stalling = 0;
  return {
    pongDelayMs: () => (stalling > 0 ? STALL_MS : 0),
    prover: {
      name: "stalling",
      async commit(challenge) {
        if (!(await stallOn(challenge.challengeId))) return honest.commit(challenge);
        stalling++;
        try {
          await new Promise((r) => setTimeout(r, challenge.deadlineMs + 300));
          return await honest.commit(challenge);
        } finally {
          stalling--;
        }
      },
      reveal: (request) => honest.reveal(request),
      close: () => honest.close(),
    },
  };
}

/** Whether a challenge belongs to a group round (its row is written just after it is sent). */
export async function inRound(w: ProofWorld, challengeId: string): Promise<boolean> {
  const row = await waitFor("the challenge's row", () =>
    w.t.server.ctx.db
      .selectFrom("proof_challenges")
      .select("group_round")
      .where("id", "=", challengeId)
      .executeTakeFirst(),
  );
  return row!.group_round !== null;
}
