import { type CreateClusterBody, TIER_VALID_MS } from "@ignis/protocol";
import { beforeAll, expect, it } from "vitest";
import { recordLink } from "../connectivity/link-store.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createCluster } from "./create-cluster.js";
import {
  clusterRequest,
  createCustomer,
  createTestUser,
  insertDevices,
  type MarketHarness,
  marketHarness,
} from "./market-fixtures.js";
import { rankCandidates, schedulingOptions } from "./scheduler.js";

const MODEL = "Other GPU";
const body = (over: Partial<CreateClusterBody>) => clusterRequest(MODEL, over);

// A customer may ask for a least connectivity tier; a device counts at the tier its latest fresh measurement
// earned, and at tier 1 when it has none (never measured, or measured too long ago).
describeEachDialect("cluster requests that ask for a connectivity tier", (database) => {
  let h: MarketHarness;
  let customer: string;
  const ids = { ultra: "", high: "", standard: "", stale: "", unmeasured: "" };

  beforeAll(async () => {
    h = marketHarness(database().db);
    const supplier = await createTestUser(h.ctx.db, ["supplier"]);
    customer = await createCustomer(h.ctx.db, 100_000_000n);
    const [ultra, high, standard, stale, unmeasured] = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 5,
      seenAt: h.clock.ms,
      model: MODEL,
      profile: "other-gpu",
    });
    Object.assign(ids, { ultra, high, standard, stale, unmeasured });
    const at = new Date(h.clock.ms);
    await recordLink(h.ctx.db, ultra!, { rttMs: 5, mbps: 900, tier: 4, measuredAt: at });
    await recordLink(h.ctx.db, high!, { rttMs: 40, mbps: 200, tier: 3, measuredAt: at });
    await recordLink(h.ctx.db, standard!, { rttMs: 120, mbps: 30, tier: 2, measuredAt: at });
    // Once ultra, but not measured again for longer than a measurement counts.
    await recordLink(h.ctx.db, stale!, {
      rttMs: 5,
      mbps: 900,
      tier: 4,
      measuredAt: new Date(h.clock.ms - TIER_VALID_MS - 60_000),
    });
  });

  const candidates = async (minTier?: number) =>
    (
      await rankCandidates(
        h.ctx.db,
        {
          gpuModel: MODEL,
          region: null,
          ...(minTier === undefined ? {} : { minTier }),
          maxPricePerGpuHour: null,
          maxRatePerHour: null,
        },
        schedulingOptions(h.ctx),
      )
    )
      .map((c) => c.deviceId)
      .sort();

  it("matches only devices at the tier asked for or better, counting stale and unmeasured ones as tier 1", async () => {
    expect(await candidates()).toHaveLength(5);
    expect(await candidates(1)).toHaveLength(5);
    expect(await candidates(2)).toEqual([ids.ultra, ids.high, ids.standard].sort());
    expect(await candidates(3)).toEqual([ids.ultra, ids.high].sort());
    expect(await candidates(4)).toEqual([ids.ultra]);
  });

  it("keeps the cluster's tier (named or numbered) so a replacement rank is hired under it", async () => {
    const cluster = await createCluster(h.ctx, customer, body({ minTier: "ultra" }));
    expect(cluster.min_tier).toBe(4);
    const job = await h.ctx.db
      .selectFrom("cluster_jobs")
      .select("device_id")
      .where("cluster_id", "=", cluster.id)
      .executeTakeFirstOrThrow();
    expect(job.device_id).toBe(ids.ultra);
  });

  it("answers no_capacity when too few devices reach the tier, and changes nothing", async () => {
    const before = await h.ctx.db.selectFrom("clusters").select("id").execute();
    // The ultra device is hired now; the high one alone is left at tier 3 or better.
    await expect(createCluster(h.ctx, customer, body({ minTier: 3, count: 2 }))).rejects.toMatchObject({
      code: "no_capacity",
      details: { requested: 2, available: 1 },
    });
    expect(await h.ctx.db.selectFrom("clusters").select("id").execute()).toHaveLength(before.length);
  });

  it("refuses a tier that is not one with invalid_tier", async () => {
    for (const bad of [0, 5, 2.5, -1, "fastest", "", "04"]) {
      await expect(createCluster(h.ctx, customer, body({ minTier: bad }))).rejects.toMatchObject({
        code: "invalid_tier",
      });
    }
  });
});
