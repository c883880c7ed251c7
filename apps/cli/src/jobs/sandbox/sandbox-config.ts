import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isImageReference } from "@ignis/protocol";
import { z } from "zod";
import { parseCidr } from "./fence.js";

/** The default job image: what `ignis worker image build` makes, and what command jobs without an image run in. */
export const DEFAULT_JOB_IMAGE = "localhost/ignis-job:latest";

const Caps = z.strictObject({
  cpus: z.number().positive().optional(),
  memoryBytes: z.int().positive().optional(),
  pids: z.int().min(16).optional(),
  scratchBytes: z.int().positive().optional(),
  tmpBytes: z.int().positive().optional(),
  openFiles: z.int().min(64).optional(),
  killGraceSeconds: z.number().min(0).max(600).optional(),
});

/** The worker's sandbox settings (`<state>/sandbox.json`, every field optional; flags of `worker run` win). */
export const SandboxConfig = z.strictObject({
  engine: z.enum(["auto", "podman", "docker"]).default("auto"),
  /** The OCI runtime (`runc`, `crun`); by default the engine's, falling back to runc when that one fails. */
  runtime: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,40}$/)
    .nullable()
    .default(null),
  jobImage: z.string().refine(isImageReference, "an image reference").default(DEFAULT_JOB_IMAGE),
  /** Private ranges jobs may reach (a LAN dataset server); everything private stays blocked otherwise. */
  allowNetworks: z
    .array(z.string().refine((c) => parseCidr(c) !== null, "a CIDR such as 192.168.5.0/24"))
    .default([]),
  /** The GPUs this device's jobs get: all of the machine's, or their indices. */
  gpus: z.union([z.literal("all"), z.array(z.int().min(0).max(63))]).default("all"),
  /** The user jobs run as inside their containers; never root. */
  user: z
    .string()
    .regex(/^[1-9][0-9]{0,9}(:[1-9][0-9]{0,9})?$/, "a non-root uid[:gid]")
    .default("1000:1000"),
  /** Rootful podman: host uid of container uid 0 for this device's jobs (default: a slot from the device id). */
  uidBase: z.int().min(100_000).max(4_000_000_000).nullable().default(null),
  limits: Caps.default({}),
  /** Seconds between measurements of a job's scratch folder. */
  scratchCheckSeconds: z.number().min(0.1).max(600).default(5),
});
/** Sandbox settings. */
export type SandboxConfig = z.infer<typeof SandboxConfig>;

/** Reads `<state>/sandbox.json` (defaults when absent); throws with the file's path when it is not valid. */
export function readSandboxConfig(stateDir: string): SandboxConfig {
  const path = join(stateDir, "sandbox.json");
  let raw: unknown = {};
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new Error(`${path}: ${(error as Error).message}`);
  }
  const parsed = SandboxConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
