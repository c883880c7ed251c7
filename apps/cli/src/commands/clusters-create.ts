import { existsSync, statSync } from "node:fs";
import {
  ClusterView,
  type CreateClusterBody,
  microUnitsOfCredits,
  parseTier,
  TIER_NAMES,
} from "@ignis/protocol";
import cliProgress from "cli-progress";
import { apiRequest } from "../api-client.js";
import type { ResolvedCredential } from "../auth/resolve-credential.js";
import { UsageError } from "../command.js";
import { packDirectory } from "../jobs/tar-pack.js";

/** The flags of `ignis clusters create`. */
export const CREATE_OPTIONS = {
  model: { type: "string" },
  count: { type: "string" },
  hours: { type: "string" },
  "max-price": { type: "string" },
  region: { type: "string" },
  country: { type: "string", multiple: true },
  "exclude-country": { type: "string", multiple: true },
  "min-tier": { type: "string" },
  "proven-memory": { type: "boolean" },
  image: { type: "string" },
  env: { type: "string", multiple: true },
  dir: { type: "string" },
  "no-wait": { type: "boolean" },
} as const;

const FINISHED = new Set(["completed", "failed", "cancelled"]);

function integer(value: unknown, name: string): number {
  if (typeof value !== "string" || !/^\d+$/.test(value))
    throw new UsageError(`--${name} needs a whole number`);
  return Number(value);
}

/** `--max-price` in credits per GPU-hour, as the API's micro-units. */
function maxPrice(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const micro = microUnitsOfCredits(value);
  if (micro === undefined)
    throw new UsageError(`--max-price takes credits per GPU-hour (2.5), got '${value}'`);
  return micro.toString();
}

/** `--country DE,FR --country JP` as ["DE", "FR", "JP"] (the server checks each code). */
function countries(value: unknown): string[] | undefined {
  const list = ((value as string[] | undefined) ?? []).flatMap((v) => v.split(",")).map((c) => c.trim());
  return list.some(Boolean) ? list.filter(Boolean) : undefined;
}

/** `--min-tier 3` or `--min-tier high` as the tier's number. */
function minTier(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const tier = parseTier(value);
  if (tier === undefined) {
    throw new UsageError(
      `--min-tier takes 1-4 or ${Object.values(TIER_NAMES).join(", ")}, got '${value.slice(0, 20)}'`,
    );
  }
  return tier;
}

/** Builds the rental request from the flags and the command after `--`. */
export function createBody(values: Record<string, unknown>, command: string[]): CreateClusterBody {
  if (typeof values.model !== "string") throw new UsageError("--model is required");
  const [program, ...args] = command;
  if (!program) throw new UsageError("give the job's command after --, e.g. -- python train.py");
  const env: Record<string, string> = {};
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let archive: string | undefined;
  if (typeof values.dir === "string") {
    if (!existsSync(values.dir) || !statSync(values.dir).isDirectory())
      throw new UsageError(`--dir ${values.dir} is not a directory`);
    archive = packDirectory(values.dir).toString("base64");
  }
  const maxPricePerHour = maxPrice(values["max-price"]);
  const tier = minTier(values["min-tier"]);
  return {
    gpuModel: values.model,
    count: integer(values.count ?? "1", "count"),
    hours: integer(values.hours ?? "1", "hours"),
    job: {
      command: program,
      ...(args.length > 0 ? { args } : {}),
      ...(Object.keys(env).length > 0 ? { env } : {}),
      ...(typeof values.image === "string" ? { image: values.image } : {}),
      ...(archive ? { archive } : {}),
    },
    ...(maxPricePerHour !== undefined ? { maxPricePerHour } : {}),
    ...(typeof values.region === "string" ? { region: values.region } : {}),
    ...(countries(values.country) ? { countries: countries(values.country)! } : {}),
    ...(countries(values["exclude-country"])
      ? { excludeCountries: countries(values["exclude-country"])! }
      : {}),
    ...(tier !== undefined ? { minTier: tier } : {}),
    ...(values["proven-memory"] === true ? { requireProvenMemory: true } : {}),
  };
}

/** Ranks whose job has started (or already finished) out of the cluster's size. */
export function startedRanks(cluster: ClusterView): number {
  const ranks = new Set(cluster.devices.filter((d) => d.state !== "assigned").map((d) => d.rank));
  return ranks.size;
}

/**
 * Rents the cluster, then shows its scheduling until every rank runs (or the cluster ends): a progress bar on a
 * terminal, one line per change otherwise. The cluster id is the last line of stdout.
 */
export async function createAndWatch(
  credential: ResolvedCredential,
  body: CreateClusterBody,
  options: { wait: boolean; json: boolean; pollMs?: number },
): Promise<ClusterView> {
  let cluster = ClusterView.parse(
    await apiRequest<unknown>(credential.server, "v1/clusters", {
      body,
      token: credential.token,
      timeoutMs: 120_000,
    }),
  );
  const tty = process.stderr.isTTY === true && !options.json;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: "scheduling {id} [{bar}] {value}/{total} ranks started | {status}",
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(cluster.count, startedRanks(cluster), { id: cluster.id, status: cluster.status });
  let last = "";
  const report = (c: ClusterView) => {
    if (bar) return bar.update(startedRanks(c), { status: c.status });
    const line = `${c.id} ${c.status}: ${c.devices.map((d) => `rank ${d.rank} ${d.state}`).join(", ")}`;
    if (line !== last && !options.json) process.stderr.write(`${line}\n`);
    last = line;
  };
  report(cluster);
  while (options.wait && startedRanks(cluster) < cluster.count && !FINISHED.has(cluster.status)) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    cluster = ClusterView.parse(
      await apiRequest<unknown>(credential.server, `v1/clusters/${cluster.id}`, { token: credential.token }),
    );
    report(cluster);
  }
  bar?.stop();
  return cluster;
}
