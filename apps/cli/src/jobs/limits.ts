import { statfs } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import type { JobLimits } from "@ignis/protocol";
import type { EffectiveLimits } from "./job-runtime.js";

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** The supplier's own caps on what a job may use (config `limits`); each is optional. */
export interface LimitCaps {
  cpus?: number | undefined;
  memoryBytes?: number | undefined;
  pids?: number | undefined;
  scratchBytes?: number | undefined;
  tmpBytes?: number | undefined;
  openFiles?: number | undefined;
  killGraceSeconds?: number | undefined;
}

/** What the machine has, for the defaults. */
export interface MachineFacts {
  cpus: number;
  memoryBytes: number;
  /** Free bytes on the filesystem of the scratch folders. */
  freeDiskBytes: number;
}

/** Reads the machine's cores, memory and the free space under `dir`. */
export async function machineFacts(dir: string): Promise<MachineFacts> {
  const disk = await statfs(dir).catch(() => undefined);
  return {
    cpus: Math.max(1, cpus().length),
    memoryBytes: totalmem(),
    freeDiskBytes: disk ? disk.bavail * disk.bsize : 10 * GIB,
  };
}

const DEFAULT_PIDS = 4096;

/**
 * The limits a job runs under: for each resource, the lowest of what the rental gives, the supplier's cap and
 * what the machine has; the worker keeps a share of memory (10 %, at least 512 MiB and at most 4 GiB) and of
 * the free disk (20 %) for itself.
 */
export function effectiveLimits(
  rental: JobLimits | undefined,
  caps: LimitCaps,
  machine: MachineFacts,
): EffectiveLimits {
  const min = (...values: (number | undefined)[]) =>
    Math.min(...values.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v > 0));
  const reserve = Math.min(4 * GIB, Math.max(512 * MIB, machine.memoryBytes * 0.1));
  const memoryBytes = Math.max(
    16 * MIB,
    Math.floor(min(rental?.memoryBytes, caps.memoryBytes, machine.memoryBytes - reserve)),
  );
  return {
    cpus: min(rental?.cpus, caps.cpus, machine.cpus),
    memoryBytes,
    pids: Math.floor(min(rental?.pids ?? DEFAULT_PIDS, caps.pids)),
    scratchBytes: Math.max(
      MIB,
      Math.floor(min(rental?.scratchBytes, caps.scratchBytes, machine.freeDiskBytes * 0.8)),
    ),
    tmpBytes: Math.max(MIB, Math.floor(min(caps.tmpBytes ?? GIB, memoryBytes / 4))),
    openFiles: Math.floor(min(caps.openFiles ?? 65_536)),
    killGraceSeconds: caps.killGraceSeconds ?? 10,
  };
}
