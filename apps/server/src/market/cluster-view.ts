import type { ClusterView } from "@ignis/protocol";
import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { chargeFor } from "./billing.js";
import type { MarketTables } from "./tables.js";

/** A cluster row without its archive (which can be megabytes and is only read to dispatch a job). */
export type ClusterRow = Omit<Selectable<MarketTables["clusters"]>, "archive">;
/** A job row. */
export type JobRow = Selectable<MarketTables["cluster_jobs"]>;

/** The cluster columns read for views and decisions; the archive is left out on purpose. */
export const CLUSTER_COLUMNS = [
  "id",
  "customer_id",
  "status",
  "gpu_model",
  "count",
  "hours",
  "region",
  "countries",
  "exclude_countries",
  "min_tier",
  "require_proven_memory",
  "max_price_per_hour",
  "hold_price_per_hour",
  "job",
  "archive_bytes",
  "head_port",
  "billing_minute_ms",
  "fee_bps",
  "held",
  "charged",
  "fees",
  "refunded",
  "created_at",
  "starts_at",
  "ends_at",
  "ended_at",
  "end_reason",
  "settled_at",
] as const;

/**
 * PostgreSQL's driver gives bigint columns as strings, PGlite as numbers (or BigInts past 2^53): rows leave the
 * market's readers with decimal strings either way.
 */
export function normalizeCluster<T extends ClusterRow>(row: T): T {
  const text = (v: unknown) => String(v);
  return {
    ...row,
    max_price_per_hour: row.max_price_per_hour === null ? null : text(row.max_price_per_hour),
    hold_price_per_hour: text(row.hold_price_per_hour),
    held: text(row.held),
    charged: text(row.charged),
    fees: text(row.fees),
    refunded: text(row.refunded),
  };
}

/** A job row with its bigint columns as decimal strings (see normalizeCluster). */
export function normalizeJob(row: JobRow): JobRow {
  return {
    ...row,
    price_per_hour: String(row.price_per_hour),
    settled_amount: String(row.settled_amount),
    settled_fee: String(row.settled_fee),
  };
}

/** Reads one cluster (without its archive), or undefined. */
export async function findCluster(db: Db, id: string): Promise<ClusterRow | undefined> {
  const row = await db.selectFrom("clusters").select(CLUSTER_COLUMNS).where("id", "=", id).executeTakeFirst();
  return row && normalizeCluster(row);
}

/** The jobs of some clusters, in rank order, replacements after the jobs they replaced. */
export async function jobsOf(db: Db, clusterIds: string[]): Promise<JobRow[]> {
  if (clusterIds.length === 0) return [];
  const rows = await db
    .selectFrom("cluster_jobs")
    .selectAll()
    .where("cluster_id", "in", clusterIds)
    .orderBy("cluster_id")
    .orderBy("rank")
    .orderBy("assigned_at")
    .execute();
  return rows.map(normalizeJob);
}

/** Metered minutes per job. */
export async function meteredMinutes(db: Db, jobIds: string[]): Promise<Map<string, number>> {
  if (jobIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("cluster_minutes")
    .select(["job_id", sql<string>`count(*)::text`.as("n")])
    .where("job_id", "in", jobIds)
    .groupBy("job_id")
    .execute();
  return new Map(rows.map((r) => [r.job_id, Number(r.n)]));
}

/** Builds the customer's views of several clusters, with their devices, job states and metered use. */
export async function clusterViews(db: Db, clusters: ClusterRow[]): Promise<ClusterView[]> {
  const jobs = await jobsOf(
    db,
    clusters.map((c) => c.id),
  );
  const minutes = await meteredMinutes(
    db,
    jobs.map((j) => j.id),
  );
  const models = new Map(
    (
      await (jobs.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom("devices")
            .select(["id", "gpu_model"])
            .where(
              "id",
              "in",
              jobs.map((j) => j.device_id),
            )
            .execute())
    ).map((d) => [d.id, d.gpu_model]),
  );
  return clusters.map(normalizeCluster).map((c) => {
    const own = jobs.filter((j) => j.cluster_id === c.id);
    const held = BigInt(c.held);
    const charged = BigInt(c.charged);
    const refunded = BigInt(c.refunded);
    return {
      id: c.id,
      status: c.status,
      gpuModel: c.gpu_model,
      count: c.count,
      hours: c.hours,
      region: c.region,
      countries: c.countries ? c.countries.split(",") : null,
      excludeCountries: c.exclude_countries ? c.exclude_countries.split(",") : null,
      minTier: c.min_tier,
      requireProvenMemory: c.require_proven_memory,
      maxPricePerHour: c.max_price_per_hour,
      holdPricePerHour: c.hold_price_per_hour,
      billingMinuteSeconds: c.billing_minute_ms / 1000,
      job: {
        command: c.job.command,
        args: c.job.args,
        envNames: Object.keys(c.job.env).sort(),
        image: c.job.image,
        archiveBytes: c.archive_bytes,
      },
      allowUnsandboxed: c.job.allowUnsandboxed === true,
      escrow: {
        held: held.toString(),
        charged: charged.toString(),
        refunded: refunded.toString(),
        remaining: (held - charged - refunded).toString(),
      },
      devices: own.map((j) => {
        const m = minutes.get(j.id) ?? 0;
        return {
          jobId: j.id,
          rank: j.rank,
          deviceId: j.device_id,
          gpuModel: models.get(j.device_id) ?? c.gpu_model,
          pricePerHour: j.price_per_hour,
          state: j.state,
          exitCode: j.exit_code,
          error: j.error,
          startedAt: j.started_at?.toISOString() ?? null,
          endedAt: j.ended_at?.toISOString() ?? null,
          meteredMinutes: m,
          charged: chargeFor(BigInt(j.price_per_hour), m).toString(),
          replaces: j.replaces,
          awaitingReplacementUntil: j.replace_until === null ? null : new Date(j.replace_until).toISOString(),
        };
      }),
      createdAt: c.created_at.toISOString(),
      endsAt: c.ends_at.toISOString(),
      endedAt: c.ended_at?.toISOString() ?? null,
      endReason: c.end_reason,
    };
  });
}
