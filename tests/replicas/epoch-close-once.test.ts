import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Fleet } from "../../apps/cli/src/sim/fleet.js";
import { resolveSimSupplier } from "../../apps/cli/src/sim/supplier-key.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { startHonestFleet } from "./honest-fleet.js";
import { type ReplicaCluster, startReplicaCluster } from "./replica-cluster.js";
import { describeWithReplicaServices } from "./services.js";

const EPOCH_SECONDS = 6;
const DEVICES = 4;
const EPOCHS_TO_WATCH = 3;

describeWithReplicaServices("epoch close across two replica processes", () => {
  let cluster: ReplicaCluster;
  let fleet: Fleet;
  let db: pg.Client;
  const stateRoot = mkdtempSync(join(tmpdir(), "ignis-epoch-once-"));
  /** Epochs each replica's log says it closed. */
  const closedBy = new Map<string, number[]>();

  beforeAll(async () => {
    cluster = await startReplicaCluster({
      replicas: 2,
      env: {
        IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS),
        // One heartbeat per 0.1 s slot, so a steady device fills every slot it is up for.
        IGNIS_HEARTBEAT_SECONDS: "0.1",
        IGNIS_LOG_LEVEL: "info",
      },
      onLine(replicaId, line) {
        if (!line.includes('"reward epoch closed"')) return;
        const { epoch } = JSON.parse(line) as { epoch: number };
        closedBy.set(replicaId, [...(closedBy.get(replicaId) ?? []), epoch]);
      },
    });
    const [a, b] = cluster.replicas;
    const supplier = await resolveSimSupplier(a!.url, cluster.adminKey);
    // Half the devices heartbeat into replica A, half into B: each replica buffers and flushes its own minutes.
    fleet = startHonestFleet({
      servers: [a!.url, b!.url],
      supplierKey: supplier.apiKey,
      stateRoot,
      devices: DEVICES,
      enrollConcurrency: 4,
    });
    await fleet.ready;
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    // Verification is the proof module's business, and uptime accuracy the tracker's: here the devices are
    // simply verified and one up-minute qualifies, so a loaded machine skipping slots cannot hide a double close.
    await db.query("update devices set verification = 'verified', proven_at = now()");
    await db.query("update reward_seasons set min_up_minutes = 1");
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await db?.end();
    await cluster?.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  });

  it("closes each epoch exactly once, with one root and one set of reward rows, while both replicas run", async () => {
    const paid = await waitFor(
      `${EPOCHS_TO_WATCH} paid epochs`,
      async () => {
        const { rows } = await db.query<{ epoch: string; root: string | null; devices: number }>(
          "select epoch, root, devices from reward_epochs where devices > 0 order by epoch",
        );
        return rows.length >= EPOCHS_TO_WATCH ? rows : undefined;
      },
      { timeoutMs: (EPOCHS_TO_WATCH + 3) * EPOCH_SECONDS * 1000, everyMs: 250 },
    );
    expect(cluster.replicas.every((r) => r.running)).toBe(true);

    const epochs = (await db.query("select epoch from reward_epochs order by epoch")).rows.map((r) =>
      Number(r.epoch),
    );
    // A replica commits the epoch before its log line crosses the pipe to this process, so wait for the lines
    // of the epochs already read, then compare up to the last of them (a later epoch may close meanwhile).
    const last = epochs.at(-1) ?? 0;
    const loggedUpTo = () =>
      [...closedBy.values()]
        .flat()
        .filter((epoch) => epoch <= last)
        .sort((x, y) => x - y);
    await waitFor("the close log lines of those epochs", () => loggedUpTo().length >= epochs.length, {
      timeoutMs: 10_000,
    });
    // Every closed epoch was closed by one replica, once: no replica logged an epoch the other also logged.
    expect(loggedUpTo()).toEqual(epochs);

    const rows = await db.query(
      "select epoch, count(*)::int as n, count(distinct device_id)::int as distinct_devices from rewards group by epoch",
    );
    const rewardsPerEpoch = new Map(rows.rows.map((r) => [String(r.epoch), r]));
    for (const epoch of paid) {
      expect(epoch.root).toMatch(/^0x[0-9a-f]{64}$/);
      const counted = rewardsPerEpoch.get(String(epoch.epoch));
      expect(counted?.n).toBe(epoch.devices);
      expect(counted?.distinct_devices).toBe(epoch.devices);
    }
    // Every device earned in the epochs after the first, whichever replica held its session.
    expect(paid.slice(1).every((e) => e.devices === DEVICES)).toBe(true);
  }, 90_000);
});
