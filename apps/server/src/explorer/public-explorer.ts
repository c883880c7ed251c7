import type {
  ExplorerDevicePage,
  ExplorerDeviceQuery,
  ExplorerMap,
  ExplorerStats,
  PublicDeviceDetail,
} from "@ignis/protocol";
import { DeviceId, IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { readDevicePage } from "./device-page.js";
import { searchPublicDevices } from "./device-search.js";
import { createEpochTotals } from "./epoch-totals.js";
import { computeNetworkMap } from "./network-map.js";
import { computeNetworkStats } from "./network-stats.js";
import { toPublicDevice } from "./public-device.js";
import { lastPublishedRoot } from "./published-roots.js";
import { publishedHour } from "./published-time.js";
import { refreshingValue } from "./refreshing-value.js";
import { uptimeHistory } from "./uptime-history.js";

/** The public explorer: network stats, device search and device pages, all free of owner identity. */
export interface PublicExplorer {
  stats(): Promise<ExplorerStats>;
  /** Where the shown devices are, by country; cached like the stats. */
  map(): Promise<ExplorerMap>;
  devices(query: ExplorerDeviceQuery): Promise<ExplorerDevicePage>;
  /** A shown device's page; a missing and a hidden device both throw the same `not_found`. */
  device(id: string): Promise<PublicDeviceDetail>;
}

/** Stats younger than this are served from memory. */
const STATS_FRESH_MS = 5_000;
/** Past this age a reader waits for fresh stats instead of getting the old ones. */
const STATS_MAX_STALE_MS = 15_000;

/** Creates the explorer over one database; stats are shared by every reader of this process. */
export function createPublicExplorer(options: {
  db: Db;
  epochSeconds: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}): PublicExplorer {
  const { db, epochSeconds } = options;
  const now = options.now ?? Date.now;
  const epochTotals = createEpochTotals(db, epochSeconds);
  const stats = refreshingValue(
    () =>
      computeNetworkStats(
        { db, epochSeconds, epochTotals, lastPublishedRoot: () => lastPublishedRoot(db) },
        now(),
      ),
    {
      freshMs: STATS_FRESH_MS,
      maxStaleMs: STATS_MAX_STALE_MS,
      now,
      ...(options.onError ? { onError: options.onError } : {}),
    },
  );

  const map = refreshingValue(() => computeNetworkMap(db, now()), {
    freshMs: STATS_FRESH_MS,
    maxStaleMs: STATS_MAX_STALE_MS,
    now,
    ...(options.onError ? { onError: options.onError } : {}),
  });

  return {
    stats: () => stats.get(),
    map: () => map.get(),
    devices: (query) => searchPublicDevices(db, query, { now: now(), epochSeconds }),
    async device(id) {
      if (!DeviceId.safeParse(id).success) throw new IgnisError("not_found", "no such device");
      const at = now();
      const page = await readDevicePage(db, id, at, epochSeconds);
      if (!page) throw new IgnisError("not_found", "no such device");
      const { row, sums, history } = page;
      const uptime = uptimeHistory(sums, row.created_at, at, epochSeconds);
      return {
        ...toPublicDevice(row, uptime.uptime24h),
        uptime7d: uptime.uptime7d,
        uptime30d: uptime.uptime30d,
        verifiedAt: row.verified_at ? publishedHour(row.verified_at, at) : null,
        uptimeDaily: uptime.daily,
        uptimeEpochs: uptime.epochs,
        verificationHistory: history,
      };
    },
  };
}
