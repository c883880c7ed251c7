import { parseArgs } from "node:util";
import { findHardwareProfile } from "@ignis/protocol";
import { UsageError } from "../command.js";
import { COUNTERFEIT_SLOWDOWN } from "./sim-device.js";

/** Everything `ignis sim` was asked to do, validated. */
export interface SimOptions {
  /** Server URLs; devices are spread over them and fail over to the next one when theirs goes away. */
  servers: string[];
  apiKey: string;
  devices: number;
  /** How many of the devices lie about their GPU (they run a rate-capped prover). */
  counterfeit: number;
  /** How many times slower than claimed the counterfeits compute (50 by default; 1.5 is the smallest lie caught). */
  overclaim: number;
  /** What the counterfeits lie about: `speed` (a slower GPU) or `vram` (less memory than the profile claims). */
  lie: SimLie;
  profile: string;
  /** Seconds to run before stopping and printing the summary; undefined runs until Ctrl-C. */
  durationSeconds: number | undefined;
  /** Fraction of the devices that disconnect each minute and come back a few seconds later. */
  churnPerMinute: number;
  /** Heartbeat interval instead of the one the server announces. */
  heartbeatSeconds: number | undefined;
  processes: number;
  /** Parent folder of the devices' state folders; a temporary folder, removed afterwards, when absent. */
  stateDir: string | undefined;
  /** Enrollments in flight at once. */
  enrollConcurrency: number;
  /** Print the summary as one JSON object (scripts, benches). */
  json: boolean;
}

/** What a simulated counterfeit lies about. */
export type SimLie = "speed" | "vram";

/** Usage text of `ignis sim`. */
export const SIM_USAGE = `usage: ignis sim --server URL[,URL...] --api-key KEY --devices N [options]
  --counterfeit M       M of the N devices lie about their GPU (default 0)
  --lie speed|vram      what they lie about: speed (they compute 50 times slower) or vram (they hold a
                        tenth of the memory the profile claims) (default speed)
  --overclaim F         with --lie speed, the counterfeits compute F times slower than they claim instead of 50
                        (F ≥ 1.1)
  --profile NAME        simulated hardware profile (default sim-a100)
  --duration S          run S seconds, then stop and print the summary (default: until Ctrl-C)
  --churn RATE          fraction of devices that disconnect per minute and reconnect (default 0)
  --heartbeat S         heartbeat interval instead of the server's
  --processes P         spread the devices over P processes (default 1)
  --state DIR           keep device state folders under DIR (default: a temporary folder)
  --enroll-concurrency C  enrollments in flight at once (default 8)
  --json                print the summary as JSON
An admin key makes a new supplier user (and key) that owns the simulated devices, and lets the summary
give the server's account of each honest device that failed (the challenge's timing, or the security alert).
Exit status: 0 when every honest device came online and the server neither failed nor quarantined any, and
every counterfeit was caught; 1 otherwise (the summary names each device and why); 2 for a usage error.`;

/** The flags of `ignis sim`. */
export const SIM_FLAGS = {
  server: { type: "string" },
  "api-key": { type: "string" },
  devices: { type: "string" },
  counterfeit: { type: "string" },
  overclaim: { type: "string" },
  lie: { type: "string" },
  profile: { type: "string" },
  duration: { type: "string" },
  churn: { type: "string" },
  heartbeat: { type: "string" },
  processes: { type: "string" },
  state: { type: "string" },
  "enroll-concurrency": { type: "string" },
  json: { type: "boolean" },
} as const;

const number = (value: string | undefined, name: string, min: number, fallback?: number): number => {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}`);
  return n;
};

/** Parses `ignis sim` arguments; throws UsageError with a readable message. */
export function parseSimOptions(argv: string[]): SimOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: SIM_FLAGS,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const servers = (str("server") ?? "")
    .split(",")
    .map((s) => s.trim().replace(/\/$/, ""))
    .filter(Boolean);
  if (servers.length === 0) throw new UsageError("--server is required");
  for (const s of servers)
    if (!/^https?:\/\//.test(s)) throw new UsageError(`--server ${s}: not an http(s) URL`);
  const apiKey = str("api-key");
  if (!apiKey) throw new UsageError("--api-key is required");
  const devices = Math.floor(number(str("devices"), "devices", 1));
  const counterfeit = Math.floor(number(str("counterfeit"), "counterfeit", 0, 0));
  if (counterfeit > devices) throw new UsageError("--counterfeit cannot exceed --devices");
  const lie = str("lie") ?? "speed";
  if (lie !== "speed" && lie !== "vram") throw new UsageError(`--lie ${lie}: expected speed or vram`);
  const profile = str("profile") ?? "sim-a100";
  const found = findHardwareProfile(profile);
  if (!found?.simulated) throw new UsageError(`--profile ${profile}: not a simulated profile (sim-…)`);
  const churn = number(str("churn"), "churn", 0, 0);
  if (churn > 1) throw new UsageError("--churn is a fraction per minute, at most 1");
  const processes = Math.floor(number(str("processes"), "processes", 1, 1));
  return {
    servers,
    apiKey,
    devices,
    counterfeit,
    overclaim: number(str("overclaim"), "overclaim", 1.1, COUNTERFEIT_SLOWDOWN),
    lie,
    profile,
    durationSeconds: str("duration") === undefined ? undefined : number(str("duration"), "duration", 1),
    churnPerMinute: churn,
    heartbeatSeconds:
      str("heartbeat") === undefined ? undefined : number(str("heartbeat"), "heartbeat", 0.05),
    processes: Math.min(processes, devices),
    stateDir: str("state"),
    enrollConcurrency: Math.floor(number(str("enroll-concurrency"), "enroll-concurrency", 1, 8)),
    json: values.json === true,
  };
}
