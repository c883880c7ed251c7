import { randomInt } from "node:crypto";
import { type CreateClusterBody, IgnisError, parseTier, TIER_NAMES } from "@ignis/protocol";
import { newId } from "../db/new-id.js";
import { countryInput } from "../geo/countries.js";
import { escrowFor, MINUTES_PER_HOUR, parseMicroUnits } from "./billing.js";
import { type ClusterRow, findCluster } from "./cluster-view.js";
import { holdEscrow } from "./escrow.js";
import { applyEffects } from "./job-dispatch.js";
import { checkJobSpec, checkRentalShape } from "./job-spec.js";
import type { ClusterTransaction, MarketContext } from "./market-context.js";
import { rankCandidates, reserveDevices, schedulingOptions } from "./scheduler.js";

/** Ports the head rank's rendezvous service listens on (one per cluster, drawn at random). */
export const HEAD_PORT_RANGE = { min: 20_000, max: 29_999 } as const;

/**
 * Rents a cluster. Every check that needs no lock runs first (shape, model, price cap, job spec); then one
 * transaction reserves all the devices and holds the full price in escrow, or does neither. Start orders go to
 * the workers once it has committed.
 */
export async function createCluster(
  ctx: MarketContext,
  customerId: string,
  body: CreateClusterBody,
  run: ClusterTransaction = (work) => ctx.db.transaction().execute(work),
): Promise<ClusterRow> {
  const s = ctx.settings;
  checkRentalShape(body.count, body.hours, s);
  const gpuModel = ctx.prices.canonicalModel(body.gpuModel);
  if (!gpuModel) {
    throw new IgnisError("unknown_gpu_model", `no GPU model '${body.gpuModel.slice(0, 100)}' is offered`, {
      details: { gpuModel: body.gpuModel.slice(0, 100) },
    });
  }
  const maxPrice =
    body.maxPricePerHour === undefined
      ? null
      : parseMicroUnits(body.maxPricePerHour, "invalid_price", { allowZero: true });
  const job = checkJobSpec(body.job, s, { allowUnsandboxed: body.allowUnsandboxed });
  const region = body.region ?? null;
  const countries = countryList(body.countries, "countries");
  const excludeCountries = countryList(body.excludeCountries, "excludeCountries");
  const minTier = minTierOf(body.minTier);
  const ranked = await rankCandidates(
    ctx.db,
    {
      gpuModel,
      region,
      countries,
      excludeCountries,
      minTier,
      requireProvenMemory: body.requireProvenMemory === true,
      maxPricePerGpuHour: maxPrice,
      maxRatePerHour: null,
      allowUnsandboxed: body.allowUnsandboxed === true,
    },
    schedulingOptions(ctx),
  );
  const id = newId("cls");
  const jobIds: string[] = [];
  const cluster = await run(async (trx) => {
    const chosen = await reserveDevices(trx, ranked, body.count, ctx.settings.stakePerGpu, {
      seconds: ctx.settings.stakePendingSeconds,
      nowMs: ctx.now(),
    });
    // Escrow is sized at the highest ask, so a replacement at any rate up to it fits what is held.
    let holdRate = 0n;
    for (const c of chosen) if (c.ratePerHour > holdRate) holdRate = c.ratePerHour;
    const held = escrowFor(holdRate, body.count, body.hours);
    const startsAt = ctx.now();
    const endsAt = startsAt + body.hours * Number(MINUTES_PER_HOUR) * s.billingMinuteMs;
    await trx
      .insertInto("clusters")
      .values({
        id,
        customer_id: customerId,
        status: "pending",
        gpu_model: gpuModel,
        count: body.count,
        hours: body.hours,
        region,
        countries: countries?.join(",") ?? null,
        exclude_countries: excludeCountries?.join(",") ?? null,
        min_tier: minTier,
        require_proven_memory: body.requireProvenMemory === true,
        max_price_per_hour: maxPrice === null ? null : maxPrice.toString(),
        hold_price_per_hour: holdRate.toString(),
        job: JSON.stringify(job.spec),
        archive: job.archive,
        archive_bytes: job.archiveBytes,
        head_port: randomInt(HEAD_PORT_RANGE.min, HEAD_PORT_RANGE.max + 1),
        billing_minute_ms: Math.round(s.billingMinuteMs),
        fee_bps: s.feeBps,
        held: held.toString(),
        starts_at: new Date(startsAt),
        ends_at: new Date(endsAt),
      })
      .execute();
    // Rank 0, the head, goes to the best-ranked device.
    for (const [rank, c] of chosen.entries()) {
      const jobId = newId("job");
      jobIds.push(jobId);
      await trx
        .insertInto("cluster_jobs")
        .values({
          id: jobId,
          cluster_id: id,
          rank,
          device_id: c.deviceId,
          supplier_id: c.ownerId,
          price_per_hour: c.ratePerHour.toString(),
          state: "assigned",
        })
        .execute();
    }
    await holdEscrow(trx, { clusterId: id, customerId, amount: held });
    const created = await findCluster(trx, id);
    if (!created) throw new IgnisError("internal", "a created cluster vanished");
    return created;
  });
  await applyEffects(ctx, { starts: jobIds, stops: [] });
  // Start orders may already have moved it on.
  return (await findCluster(ctx.db, cluster.id)) ?? cluster;
}

/** A request's country filter, each code checked (`invalid_country`), duplicates dropped; null when none. */
function countryList(raw: readonly string[] | undefined, field: string): string[] | null {
  if (!raw || raw.length === 0) return null;
  return [...new Set(raw.map((c) => countryInput(c, field)!))];
}

/** A request's least connectivity tier: 1-4 or a tier's name (`invalid_tier` otherwise); 1 when absent. */
function minTierOf(raw: number | string | undefined): number {
  if (raw === undefined) return 1;
  const tier = parseTier(raw);
  if (tier === undefined) {
    throw new IgnisError(
      "invalid_tier",
      `minTier must be 1-4 or one of ${Object.values(TIER_NAMES).join(", ")}`,
      { details: { minTier: String(raw).slice(0, 20) } },
    );
  }
  return tier;
}
