import {
  type EnrollmentCodeView,
  findHardwareProfile,
  type HardwareProfile,
  profileOpsPerSecond,
} from "@ignis/protocol";
import type { z } from "zod";
import { apiRequest } from "../api-client.js";
import { rateCappedProver, vramShortProver } from "../prover/adversary-provers.js";
import { pacedProver } from "../prover/paced-prover.js";
import type { Prover } from "../prover/prover.js";
import { systemClock } from "../prover/prover-clock.js";
import { enrollDevice } from "../worker/enroll.js";
import { startWorker, type WorkerExit, type WorkerHandle } from "../worker/worker-agent.js";
import type { SimLie } from "./sim-options.js";

/**
 * A counterfeit computes correct proofs this many times slower than the profile it claims. Simulated deadlines
 * carry a fixed grace for loaded test machines, so timing catches a simulated counterfeit only from 15–27×
 * slower (apps/server/src/proof/simulated-slack.ts); 50× is caught on every challenge.
 */
export const COUNTERFEIT_SLOWDOWN = 50;

/** The share of the claimed memory a `--lie vram` counterfeit holds; it guesses reads of the rest. */
export const COUNTERFEIT_MEMORY_SHARE = 0.1;

/** What one simulated device has done so far. */
export interface SimDeviceCounters {
  heartbeats: number;
  sessions: number;
  errors: number;
  churns: number;
}

/** A failed proof-of-GPU verdict the device was told of: the server's reason code, and whether it quarantined. */
export interface SimProofFailure {
  reason: string;
  quarantined: boolean;
}

/** One simulated device running in this process. */
export interface SimDevice {
  deviceId: string;
  counterfeit: boolean;
  online(): boolean;
  /** True once any of its sessions was authenticated. */
  everOnline(): boolean;
  /** The latest failed proof verdict, until a later one passes. */
  proofFailure(): SimProofFailure | undefined;
  /** Every failed proof verdict it was told of, counted by reason. */
  proofFailures(): Record<string, number>;
  counters(): SimDeviceCounters;
  /** The last error line its worker logged, if any. */
  lastError(): string | undefined;
  /** Why it stopped for good (revoked, replaced), if it did. */
  exit(): WorkerExit | undefined;
  /** Drops the session now, as a flaky network would, and reconnects after `offlineMs`. */
  churn(offlineMs: number): void;
  stop(): Promise<void>;
}

/** A fleet of thousands passes an enroll budget of hundreds a minute: wait up to ten minutes per call. */
const SIM_RETRY_BUDGET_MS = 10 * 60_000;

/** Enrolls one simulated device under the supplier's key into its own state folder; returns its id. */
export async function enrollSimDevice(options: {
  server: string;
  supplierKey: string;
  stateDir: string;
  profile: string;
}): Promise<string> {
  // Both calls wait out the enroll budget's 429s after their Retry-After (api-client.ts), however long a large
  // fleet takes to get through it.
  const { code } = await apiRequest<z.infer<typeof EnrollmentCodeView>>(
    options.server,
    "/v1/enrollment-codes",
    {
      token: options.supplierKey,
      body: {},
      retryBudgetMs: SIM_RETRY_BUDGET_MS,
    },
  );
  const { deviceId } = await enrollDevice({
    server: options.server,
    code,
    stateDir: options.stateDir,
    profile: options.profile,
    retryBudgetMs: SIM_RETRY_BUDGET_MS,
  });
  return deviceId;
}

const ERROR_LINE = /^(connection|refused|proof|prover|ignored|server)\b/;

/**
 * Runs an enrolled simulated device with the real worker over a real WebSocket. A counterfeit claims its
 * profile but proves at a fiftieth of its rate (a slower GPU passing itself off as a faster one), so its commits
 * arrive after the deadline and the server must fail it.
 */
export function runSimDevice(options: {
  stateDir: string;
  deviceId: string;
  /** One URL, or several comma-separated to fail over between. */
  server: string;
  profile: string;
  counterfeit: boolean;
  /** How many times slower than its claim a counterfeit computes (COUNTERFEIT_SLOWDOWN when absent). */
  overclaim?: number | undefined;
  /** What a counterfeit lies about (speed when absent). */
  lie?: SimLie | undefined;
  heartbeatSeconds?: number | undefined;
}): SimDevice {
  const profile = findHardwareProfile(options.profile);
  if (!profile) throw new Error(`unknown profile ${options.profile}`);
  const totals: SimDeviceCounters = { heartbeats: 0, sessions: 0, errors: 0, churns: 0 };
  let lastError: string | undefined;
  let proofFailure: SimProofFailure | undefined;
  const failures: Record<string, number> = {};
  let everOnline = false;
  let exit: WorkerExit | undefined;
  let worker: WorkerHandle | undefined;
  let comeback: NodeJS.Timeout | undefined;
  let stopped = false;

  const start = () => {
    const handle = startWorker({
      stateDir: options.stateDir,
      server: options.server,
      heartbeatSeconds: options.heartbeatSeconds,
      proverOverride: options.counterfeit
        ? counterfeitProver(profile, options.lie ?? "speed", options.overclaim ?? COUNTERFEIT_SLOWDOWN)
        : undefined,
      onMessage(message) {
        if (message.type === "session.hello") everOnline = true;
        if (message.type !== "proof.verdict") return;
        if (message.outcome !== "pass") {
          const reason = message.reason ?? "failed";
          failures[reason] = (failures[reason] ?? 0) + 1;
        }
        proofFailure =
          message.outcome === "pass"
            ? undefined
            : { reason: message.reason ?? "failed", quarantined: message.quarantined };
      },
      log(line) {
        if (!ERROR_LINE.test(line)) return;
        totals.errors++;
        lastError = line;
      },
    });
    worker = handle;
    void handle.done.then((e) => {
      if (e.reason !== "stopped") exit = e;
    });
  };
  const retire = async (handle: WorkerHandle) => {
    await handle.stop();
    const s = handle.stats();
    totals.heartbeats += s.heartbeats;
    totals.sessions += s.sessions;
  };
  start();

  return {
    deviceId: options.deviceId,
    counterfeit: options.counterfeit,
    online: () => worker?.stats().online ?? false,
    everOnline: () => everOnline,
    proofFailure: () => proofFailure,
    proofFailures: () => ({ ...failures }),
    counters() {
      const s = worker?.stats();
      return {
        ...totals,
        heartbeats: totals.heartbeats + (s?.heartbeats ?? 0),
        sessions: totals.sessions + (s?.sessions ?? 0),
      };
    },
    lastError: () => lastError,
    exit: () => exit,
    churn(offlineMs) {
      const handle = worker;
      if (!handle || stopped || exit || comeback) return;
      totals.churns++;
      worker = undefined;
      void retire(handle).then(() => {
        comeback = setTimeout(() => {
          comeback = undefined;
          if (!stopped) start();
        }, offlineMs);
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(comeback);
      const handle = worker;
      worker = undefined;
      if (handle) await retire(handle);
    },
  };
}

/**
 * The prover of a counterfeit: for `speed`, correct proofs `overclaim` times slower than claimed; for `vram`, the
 * claimed rate but a tenth of the claimed memory (the memory phase's reads of the rest are guessed).
 */
function counterfeitProver(profile: HardwareProfile, lie: SimLie, overclaim: number): Prover {
  const opsPerSecond = profileOpsPerSecond(profile);
  if (lie === "vram") {
    return pacedProver(vramShortProver({ fraction: COUNTERFEIT_MEMORY_SHARE }), {
      opsPerSecond,
      clock: systemClock,
    });
  }
  return rateCappedProver({ opsPerSecond: opsPerSecond / overclaim, clock: systemClock });
}
