import type { ExplorerStats, ModelShare, NetworkEpoch } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { deviceLocation } from "./device-location.js";
import type { EpochTotals } from "./epoch-totals.js";
import { epochAt, epochStartMs, firstEpochOfMonth } from "./epoch-window.js";
import { HIDDEN_STATUSES, publicStatus } from "./public-device.js";
import type { PublishedRoot } from "./published-roots.js";

/** Epochs in the overview chart. */
const CHART_EPOCHS = 48;
/** The device columns the stats are counted by (the location's three included, as deviceLocation reads them). */
const GROUPED_BY = [
  "status",
  "verification",
  "gpu_vendor",
  "gpu_model",
  "region",
  "geo_country",
  "declared_country",
] as const;
/** Statuses that mean "connected right now". */
const CONNECTED = new Set(["online", "hired"]);

/** What the stats are computed from. */
export interface NetworkStatsSources {
  db: Db;
  epochSeconds: number;
  epochTotals: EpochTotals;
  lastPublishedRoot: () => Promise<PublishedRoot | null>;
}

function add(record: Record<string, number>, key: string, n: number) {
  record[key] = (record[key] ?? 0) + n;
}

/** Computes the network overview from the devices and uptime tables; callers cache it (refreshingValue). */
export async function computeNetworkStats(src: NetworkStatsSources, now: number): Promise<ExplorerStats> {
  const current = epochAt(now, src.epochSeconds);
  const monthFirst = firstEpochOfMonth(now, src.epochSeconds);
  const chartFirst = current - (CHART_EPOCHS - 1);
  const [groups, totals, root] = await Promise.all([
    src.db
      .selectFrom("devices")
      .select([...GROUPED_BY, sql<string>`count(*)`.as("devices"), sql<string>`sum(gpu_count)`.as("gpus")])
      .where("status", "not in", HIDDEN_STATUSES)
      .groupBy([...GROUPED_BY])
      .execute(),
    src.epochTotals.between(Math.min(monthFirst, chartFirst), current, now),
    src.lastPublishedRoot(),
  ]);

  let devicesTotal = 0;
  let devicesOnline = 0;
  let verified = 0;
  let gpusTotal = 0;
  const gpusByModel: Record<string, number> = {};
  const gpusByVendor: Record<string, number> = {};
  const gpusByRegion: Record<string, number> = {};
  const devicesByStatus: Record<string, number> = {};
  const models = new Map<string, ModelShare>();
  for (const g of groups) {
    const devices = Number(g.devices);
    const gpus = Number(g.gpus);
    const online = CONNECTED.has(g.status) ? devices : 0;
    devicesTotal += devices;
    devicesOnline += online;
    gpusTotal += gpus;
    if (g.verification === "verified") verified += devices;
    add(gpusByModel, g.gpu_model, gpus);
    add(gpusByVendor, g.gpu_vendor, gpus);
    // The same region as each device's public location (and the map), so the two views never disagree.
    add(gpusByRegion, deviceLocation(g).region, gpus);
    add(devicesByStatus, publicStatus(g.status), devices);
    const key = `${g.gpu_vendor}\u0000${g.gpu_model}`;
    const m = models.get(key) ?? { model: g.gpu_model, vendor: g.gpu_vendor, devices: 0, online: 0, gpus: 0 };
    m.devices += devices;
    m.online += online;
    m.gpus += gpus;
    models.set(key, m);
  }

  let monthMinutes = 0;
  for (const [epoch, t] of totals) if (epoch >= monthFirst) monthMinutes += t.upMinutes;
  const recentEpochs: NetworkEpoch[] = [];
  for (let epoch = chartFirst; epoch <= current; epoch++) {
    const t = totals.get(epoch);
    recentEpochs.push({
      epoch,
      startsAt: new Date(epochStartMs(epoch, src.epochSeconds)).toISOString(),
      activeDevices: t?.activeDevices ?? 0,
      computeHours: Math.round(((t?.upMinutes ?? 0) / 60) * 100) / 100,
    });
  }

  return {
    devicesOnline,
    devicesTotal,
    gpusTotal,
    gpusByModel,
    gpusByVendor,
    gpusByRegion,
    devicesByStatus,
    models: [...models.values()].sort((a, b) => b.gpus - a.gpus || a.model.localeCompare(b.model)),
    verifiedShare: devicesTotal === 0 ? 0 : Math.round((verified / devicesTotal) * 10_000) / 10_000,
    computeHoursThisMonth: Math.round((monthMinutes / 60) * 100) / 100,
    currentEpoch: current,
    epochSeconds: src.epochSeconds,
    lastPublishedRoot: root,
    recentEpochs,
    generatedAt: new Date(now).toISOString(),
  };
}
