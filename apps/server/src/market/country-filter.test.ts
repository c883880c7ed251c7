import type { CreateClusterBody } from "@ignis/protocol";
import { beforeAll, expect, it } from "vitest";
import { updateDeviceRows } from "../testing/device-rows.js";
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

// A customer may keep a job in (or out of) countries; devices are matched by the country the explorer shows
// them in: the session address's, else the owner's declaration.
describeEachDialect("cluster requests that name countries", (database) => {
  let h: MarketHarness;
  let customer: string;
  const ids: Record<"de" | "jp" | "declaredFr" | "unknown", string> = {
    de: "",
    jp: "",
    declaredFr: "",
    unknown: "",
  };

  beforeAll(async () => {
    h = marketHarness(database().db);
    const supplier = await createTestUser(h.ctx.db, ["supplier"]);
    customer = await createCustomer(h.ctx.db, 100_000_000n);
    const [de, jp, fr, unknown] = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 4,
      seenAt: h.clock.ms,
      model: MODEL,
      profile: "other-gpu",
    });
    Object.assign(ids, { de, jp, declaredFr: fr, unknown });
    await updateDeviceRows(h.ctx.db, [de!], { geo_country: "DE" });
    // The address wins over a declaration: this one is hired as JP, never as the declared DE.
    await updateDeviceRows(h.ctx.db, [jp!], { geo_country: "JP", declared_country: "DE" });
    await updateDeviceRows(h.ctx.db, [fr!], { declared_country: "FR" });
  });

  /** The devices the market would hire for a request naming these countries. */
  const candidates = async (countries: string[] | null, excludeCountries: string[] | null = null) =>
    (
      await rankCandidates(
        h.ctx.db,
        {
          gpuModel: MODEL,
          region: null,
          countries,
          excludeCountries,
          maxPricePerGpuHour: null,
          maxRatePerHour: null,
        },
        schedulingOptions(h.ctx),
      )
    )
      .map((c) => c.deviceId)
      .sort();

  it("matches only the countries asked for, by address first, then by declaration", async () => {
    expect(await candidates(["DE"])).toEqual([ids.de]);
    expect(await candidates(["JP"])).toEqual([ids.jp]);
    expect(await candidates(["FR"])).toEqual([ids.declaredFr]);
    expect(await candidates(["DE", "FR"])).toEqual([ids.de, ids.declaredFr].sort());
    expect(await candidates(null)).toHaveLength(4);
  });

  it("never matches an excluded country, nor a device whose country is unknown", async () => {
    expect(await candidates(null, ["DE", "FR"])).toEqual([ids.jp]);
    expect(await candidates(["JP"], ["JP"])).toEqual([]);
  });

  it("keeps the cluster's filter (checked and upper-cased) so a replacement rank is hired under it", async () => {
    const cluster = await createCluster(
      h.ctx,
      customer,
      body({ countries: ["de", "DE"], excludeCountries: ["fr"] }),
    );
    expect(cluster).toMatchObject({ countries: "DE", exclude_countries: "FR" });
    const job = await h.ctx.db
      .selectFrom("cluster_jobs")
      .select("device_id")
      .where("cluster_id", "=", cluster.id)
      .executeTakeFirstOrThrow();
    expect(job.device_id).toBe(ids.de);
  });

  it("answers no_capacity when no device is in the countries asked for, and invalid_country for a bad code", async () => {
    await expect(createCluster(h.ctx, customer, body({ countries: ["BR"] }))).rejects.toMatchObject({
      code: "no_capacity",
    });
    const before = await h.ctx.db.selectFrom("clusters").select("id").execute();
    for (const bad of [["XX"], ["DEU"], [""], ["DE", "ZZ"]]) {
      await expect(createCluster(h.ctx, customer, body({ countries: bad }))).rejects.toMatchObject({
        code: "invalid_country",
      });
      await expect(createCluster(h.ctx, customer, body({ excludeCountries: bad }))).rejects.toMatchObject({
        code: "invalid_country",
      });
    }
    expect(await h.ctx.db.selectFrom("clusters").select("id").execute()).toHaveLength(before.length);
  });
});
