import type { JobLimits, JobMesh, JobStartMessage } from "@ignis/protocol";
import { meshEnv } from "../mesh/mesh-coordinator.js";
import { rendezvousEnv } from "./job-spec.js";
import type { Effects, MarketContext } from "./market-context.js";

/** When rank 0 has never had a session, or had one before addresses were recorded. */
export const UNKNOWN_HEAD_HOST = "127.0.0.1";

const GIB = 1024 ** 3;
/** Processes and threads a rented job may run at once (data loaders fork many; a fork bomb stops here). */
export const RENTAL_PIDS = 32_768;

/**
 * What a rental of a device gives its job, from the device's claim: its cores, its memory, and half its disk
 * for scratch. The worker applies these or its own lower caps (it keeps some memory for itself).
 */
export function rentalLimits(hardware: Record<string, unknown>): JobLimits {
  const cpu = hardware.cpu as { cores?: unknown } | undefined;
  const cores = typeof cpu?.cores === "number" && cpu.cores >= 1 ? cpu.cores : undefined;
  const ramGb = typeof hardware.ramGb === "number" && hardware.ramGb >= 1 ? hardware.ramGb : undefined;
  const diskGb = typeof hardware.diskGb === "number" && hardware.diskGb >= 2 ? hardware.diskGb : undefined;
  return {
    ...(cores ? { cpus: cores } : {}),
    ...(ramGb ? { memoryBytes: ramGb * GIB } : {}),
    pids: RENTAL_PIDS,
    ...(diskGb ? { scratchBytes: Math.floor(diskGb / 2) * GIB } : {}),
  };
}

/**
 * Builds the start orders of some jobs: the customer's command and variables, the rendezvous variables of the
 * rank, the working-directory archive and the rental's deadline. Only active jobs that have not started get one.
 */
export async function startMessages(ctx: MarketContext, jobIds: string[]): Promise<JobStartMessage[]> {
  if (jobIds.length === 0) return [];
  const jobs = await ctx.db
    .selectFrom("cluster_jobs as j")
    .innerJoin("clusters as c", "c.id", "j.cluster_id")
    .innerJoin("devices as d", "d.id", "j.device_id")
    .select([
      "d.hardware",
      "j.id",
      "j.rank",
      "j.device_id",
      "j.cluster_id",
      "c.count",
      "c.job",
      "c.archive",
      "c.head_port",
      "c.ends_at",
    ])
    .where("j.id", "in", jobIds)
    .where("j.active", "=", true)
    .where("j.state", "=", "assigned")
    .execute();
  if (jobs.length === 0) return [];
  // Rank 0's session address, recorded by whichever replica holds its session.
  const heads = await ctx.db
    .selectFrom("cluster_jobs as h")
    .innerJoin("devices as d", "d.id", "h.device_id")
    .select(["h.cluster_id", "d.session_address"])
    .where("h.cluster_id", "in", [...new Set(jobs.map((j) => j.cluster_id))])
    .where("h.rank", "=", 0)
    .where("h.active", "=", true)
    .execute();
  const headOf = new Map(heads.map((h) => [h.cluster_id, h.session_address]));
  const meshOf = ctx.mesh
    ? await ctx.mesh
        .forStarts(
          jobs.map((j) => ({
            jobId: j.id,
            clusterId: j.cluster_id,
            rank: j.rank,
            count: j.count,
            headPort: j.head_port,
            endsAt: new Date(j.ends_at).getTime(),
          })),
        )
        .catch((error: unknown) => {
          // Without an overlay the ranks still start, with the session addresses as their rendezvous.
          ctx.log.warn({ err: error }, "cluster overlay not set up; starting without it");
          return new Map<string, JobMesh>();
        })
    : new Map<string, JobMesh>();
  return jobs.map((j) => {
    const headHost = headOf.get(j.cluster_id) ?? UNKNOWN_HEAD_HOST;
    const mesh = meshOf.get(j.id);
    return {
      type: "job.start",
      jobId: j.id,
      clusterId: j.cluster_id,
      rank: j.rank,
      worldSize: j.count,
      command: j.job.command,
      args: j.job.args,
      env: {
        ...j.job.env,
        ...rendezvousEnv({
          clusterId: j.cluster_id,
          rank: j.rank,
          worldSize: j.count,
          headHost,
          headPort: j.head_port,
        }),
        // On an overlay, the head is rank 0's overlay address: reachable across NATs, and only by this cluster.
        ...(mesh ? meshEnv(mesh, j.rank) : {}),
      },
      image: j.job.image,
      archive: j.archive,
      deadline: new Date(j.ends_at).toISOString(),
      logLimitBytes: ctx.settings.logMaxBytesPerJob,
      limits: rentalLimits(j.hardware),
      ...(mesh ? { mesh } : {}),
    } satisfies JobStartMessage;
  });
}

/**
 * Carries out what a committed use case decided: start and stop orders to workers. It never throws: an order
 * that does not arrive is sent again by the lifecycle tick (starts) or enforced by the worker's own deadline.
 */
export async function applyEffects(ctx: MarketContext, effects: Effects): Promise<void> {
  try {
    await sendOrders(ctx, effects);
  } catch (error) {
    ctx.log.warn({ err: error }, "job orders not sent; the lifecycle tick retries starts");
  }
}

async function sendOrders(ctx: MarketContext, effects: Effects): Promise<void> {
  for (const stop of effects.stops) {
    ctx.channel.send(stop.deviceId, { type: "job.stop", jobId: stop.jobId, reason: stop.reason });
  }
  const messages = await startMessages(ctx, effects.starts);
  const deviceOf = new Map(
    (effects.starts.length === 0
      ? []
      : await ctx.db
          .selectFrom("cluster_jobs")
          .select(["id", "device_id"])
          .where("id", "in", effects.starts)
          .execute()
    ).map((r) => [r.id, r.device_id]),
  );
  for (const message of messages) {
    const deviceId = deviceOf.get(message.jobId);
    if (deviceId) ctx.channel.send(deviceId, message);
  }
}
