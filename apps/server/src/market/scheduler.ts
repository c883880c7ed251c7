import { hardwareProfiles, IgnisError, TIER_VALID_MS } from "@ignis/protocol";
import { type ExpressionBuilder, sql } from "kysely";
import type { Db } from "../db/database.js";
import type { Database } from "../db/schema.js";
import { hireDevices } from "../devices/hiring.js";
import { memoryProvenAt } from "../proof/memory-proof.js";
import { pendingOver, stakeCovers } from "../stakes/eligibility.js";
import { deviceRatePerHour } from "./billing.js";
import { type MarketContext, seenSince } from "./market-context.js";
import type { PriceBook } from "./price-book.js";
import { type ProofCounts, type Reliability, reliabilityOf } from "./reliability.js";

/** What a cluster (or a replacement rank) needs from the market. */
export interface DeviceRequest {
  gpuModel: string;
  region: string | null;
  /** Only devices located in these countries (deviceLocation's country), and never in the excluded ones. */
  countries?: readonly string[] | null;
  excludeCountries?: readonly string[] | null;
  /** Only devices whose fresh link measurement earns at least this tier (1 or absent: any device). */
  minTier?: number;
  /** Only devices whose claimed memory a passed memory check proved (memory-proof.ts). */
  requireProvenMemory?: boolean;
  /** Most the customer pays per GPU-hour, or null. */
  maxPricePerGpuHour: bigint | null;
  /** Most per device-hour (a replacement must fit the escrow already held), or null. */
  maxRatePerHour: bigint | null;
  /** The customer asked that devices running jobs without a sandbox may be hired too. */
  allowUnsandboxed?: boolean;
}

/** Simulated profiles: their devices run simulated jobs (`ignis sim`), so they need no sandbox report. */
const SIMULATED_PROFILES = hardwareProfiles.filter((p) => p.simulated).map((p) => p.id);

/**
 * The devices that may run a customer's job: those whose worker reported a working container sandbox in its
 * metadata (`hardware.sandbox.kind` = `container`), simulated devices, and, only when the customer asked,
 * devices whose worker runs jobs unsandboxed. A device without a report (an older worker, or one whose engine
 * is missing: `sandbox_unavailable`) is never hired.
 */
export function sandboxedEnough(allowUnsandboxed: boolean) {
  const kinds = allowUnsandboxed ? ["container", "unsafe-subprocess"] : ["container"];
  return (eb: ExpressionBuilder<Database, "devices">) =>
    eb.or([
      eb("profile", "in", SIMULATED_PROFILES),
      eb(sql<string>`hardware->'sandbox'->>'kind'`, "in", kinds),
    ]);
}

/** The device columns the pending period is judged on. */
const PENDING_COLUMNS = {
  id: "devices.id",
  gpuCount: "devices.gpu_count",
  verifiedAt: "devices.verified_at",
};

/** A device that could be hired, with its price and reliability. */
export interface Candidate {
  deviceId: string;
  ownerId: string;
  gpuModel: string;
  ratePerHour: bigint;
  reliability: Reliability;
}

/** Reliability bands: devices within one band compete on price. */
export const SCORE_BAND = 0.05;
/** How many of the cheapest matching devices are scored per request, bounding the work of one scheduling. */
export const CANDIDATE_POOL = 500;

/** Orders candidates: reliability band (best first), then price (cheapest first), then exact score, then id. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  const band = (c: Candidate) => Math.floor(c.reliability.score / SCORE_BAND + 1e-9);
  return (
    band(b) - band(a) ||
    (a.ratePerHour < b.ratePerHour ? -1 : a.ratePerHour > b.ratePerHour ? 1 : 0) ||
    b.reliability.score - a.reliability.score ||
    (a.deviceId < b.deviceId ? -1 : 1)
  );
}

/** What ranking needs besides the request. */
export interface RankingOptions {
  prices: PriceBook;
  nowMs: number;
  epochSeconds: number;
  /** Only devices seen (heartbeating) at or after this time are candidates (`seenSince`). */
  seenSince: Date;
  proofCounts?: ProofCounts | undefined;
  /** Micro-units of bonded stake per GPU a candidate needs (0: staking off). */
  stakePerGpu?: bigint | undefined;
  /** Seconds a newly verified device or newly bonded stake waits before the device is hired (0: none). */
  stakePendingSeconds?: number | undefined;
}

/** The ranking options of a market context at this moment. */
export function schedulingOptions(ctx: MarketContext): RankingOptions {
  return {
    prices: ctx.prices,
    nowMs: ctx.now(),
    epochSeconds: ctx.settings.epochSeconds,
    seenSince: seenSince(ctx),
    proofCounts: ctx.proofCounts,
    stakePerGpu: ctx.settings.stakePerGpu,
    stakePendingSeconds: ctx.settings.stakePendingSeconds,
  };
}

/** Ranks the online, verified, recently seen devices that match a request; it only reads. */
export async function rankCandidates(
  db: Db,
  request: DeviceRequest,
  options: RankingOptions,
): Promise<Candidate[]> {
  let q = db
    .selectFrom("devices")
    .select(["id", "owner_id", "gpu_model", "gpu_count", "profile", "min_price_per_hour"])
    .where("gpu_model", "=", request.gpuModel)
    .where("status", "=", "online")
    .where("verification", "=", "verified")
    .where("last_seen_at", ">=", options.seenSince)
    .where(sandboxedEnough(request.allowUnsandboxed === true))
    .where(
      stakeCovers({ perGpu: options.stakePerGpu ?? 0n }, { id: "devices.id", gpuCount: "devices.gpu_count" }),
    )
    .where(
      pendingOver(
        { perGpu: options.stakePerGpu ?? 0n, pendingSeconds: options.stakePendingSeconds ?? 0 },
        PENDING_COLUMNS,
        options.nowMs,
      ),
    )
    .orderBy("id")
    .limit(CANDIDATE_POOL * 4);
  if (request.region) q = q.where("region", "=", request.region);
  const located = sql<string | null>`coalesce(geo_country, declared_country)`;
  if (request.countries?.length) q = q.where(located, "in", request.countries);
  // A device of unknown country is never hired by a request that excludes countries: it might be in one of them.
  if (request.excludeCountries?.length) {
    q = q.where(located, "is not", null).where(located, "not in", request.excludeCountries);
  }
  // A device never measured, or measured too long ago, is tier 1 (connectivity-tiers.ts).
  const minTier = request.minTier ?? 1;
  if (minTier > 1) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("device_links")
          .select("device_links.device_id")
          .whereRef("device_links.device_id", "=", "devices.id")
          .where("device_links.tier", ">=", minTier)
          .where("device_links.measured_at", ">=", new Date(options.nowMs - TIER_VALID_MS)),
      ),
    );
  }
  // Verified is already required above, so a proven-at time is all that is left to ask.
  if (request.requireProvenMemory) q = q.where(memoryProvenAt("devices.id"), "is not", null);
  const rows = await q.execute();
  const priced = rows
    .map((r) => {
      const perGpu =
        r.min_price_per_hour !== null
          ? BigInt(r.min_price_per_hour)
          : options.prices.defaultPricePerGpuHour(r.profile, r.gpu_model);
      return { r, perGpu, rate: deviceRatePerHour(perGpu, r.gpu_count) };
    })
    .filter(({ perGpu, rate }) => {
      if (request.maxPricePerGpuHour !== null && perGpu > request.maxPricePerGpuHour) return false;
      return request.maxRatePerHour === null || rate <= request.maxRatePerHour;
    })
    .sort((a, b) => (a.rate < b.rate ? -1 : a.rate > b.rate ? 1 : 0))
    .slice(0, CANDIDATE_POOL);
  const scores = await reliabilityOf(
    db,
    priced.map((p) => p.r.id),
    options,
  );
  return priced
    .map(({ r, rate }) => ({
      deviceId: r.id,
      ownerId: r.owner_id,
      gpuModel: r.gpu_model,
      ratePerHour: rate,
      reliability: scores.get(r.id) ?? { uptime7d: 0, proofPassRate: 0.5, jobSuccessRate: 0.5, score: 0.25 },
    }))
    .sort(compareCandidates);
}

/** How often, and how long apart, a reservation looks again at free devices another transaction holds. */
const RESERVE_TRIES = 40;
const RESERVE_RETRY_MS = 50;

/**
 * Reserves `count` devices from a ranked list inside the caller's transaction: all of them or none. Rows another
 * transaction holds are skipped (SKIP LOCKED), and the status flips only where it is still `online`, so two
 * customers racing for the last device cannot both get it: the loser's transaction sees fewer rows and fails.
 * A free device is also held, for milliseconds, by every write on its row (the heartbeat flush writes each
 * device's last-seen time every few seconds), so when too few rows could be locked but enough are free, the
 * reservation looks again every 50 ms, for up to 2 s: a customer is not told "no capacity" because a heartbeat
 * was being written (on a loaded PostgreSQL, nat-mesh's rental of a free device failed so), and a rival rental
 * has committed (the device is then hired) or failed (it is free again) by then. Never waiting on a lock, it
 * cannot deadlock with the flush's own multi-row update.
 */
export async function reserveDevices(
  trx: Db,
  ranked: Candidate[],
  count: number,
  stakePerGpu = 0n,
  pending: { seconds: number; nowMs: number } = { seconds: 0, nowMs: 0 },
): Promise<Candidate[]> {
  if (ranked.length < count) throw noCapacity(count, ranked.length);
  const reservable = () =>
    trx
      .selectFrom("devices")
      .select("id")
      .where(
        "id",
        "in",
        ranked.map((c) => c.deviceId),
      )
      .where("status", "=", "online")
      .where("verification", "=", "verified")
      // Checked again here: the stake may have started unbonding since the ranking read it.
      .where(stakeCovers({ perGpu: stakePerGpu }, { id: "devices.id", gpuCount: "devices.gpu_count" }))
      .where(
        pendingOver({ perGpu: stakePerGpu, pendingSeconds: pending.seconds }, PENDING_COLUMNS, pending.nowMs),
      );
  let chosen: Candidate[] = [];
  for (let tries = 1; ; tries++) {
    // Rows this transaction locked on an earlier try are its own: they come back.
    const lockable = await reservable().forNoKeyUpdate().skipLocked().execute();
    const free = new Set(lockable.map((r) => r.id));
    chosen = ranked.filter((c) => free.has(c.deviceId)).slice(0, count);
    if (chosen.length >= count) break;
    if (tries >= RESERVE_TRIES || (await reservable().execute()).length < count)
      throw noCapacity(count, chosen.length);
    await new Promise((resolve) => setTimeout(resolve, RESERVE_RETRY_MS));
  }
  const flipped = await hireDevices(
    trx,
    chosen.map((c) => c.deviceId),
  );
  if (flipped.length < count) throw noCapacity(count, flipped.length);
  return chosen;
}

function noCapacity(wanted: number, available: number): IgnisError {
  return new IgnisError("no_capacity", `only ${available} matching device(s) are free; ${wanted} requested`, {
    details: { requested: wanted, available },
  });
}
