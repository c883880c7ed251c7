/**
 * Link measurement over worker sessions on this machine: N real workers (in process, over loopback WebSockets)
 * start at once and ask the server to measure their links. Prints what each measurement found, how many were
 * turned away as `busy` (a replica measures at most four at once), and the server's wall time per measurement.
 * Loopback has no real network: the figures show the cost and the ceiling of the probe, not a supplier's link.
 *
 *   npx tsx bench/link-probe.ts [devices=8]
 */
import { findLink } from "../apps/server/src/connectivity/link-store.js";
import { openDatabase } from "../apps/server/src/db/database.js";
import { startTestServer } from "../apps/server/src/testing/test-server.js";
import { waitFor } from "../apps/server/src/testing/wait-for.js";
import { cleanupStateDirs, startTestWorker, userWithKey } from "../apps/server/src/testing/worker-fixture.js";

const DEVICES = Number(process.argv[2] ?? 8);
const database = await openDatabase({});
const t = await startTestServer({ database });
const supplier = await userWithKey(t);
const workers = await Promise.all(
  Array.from({ length: DEVICES }, () => startTestWorker(t, supplier.key, { linkCheck: { startDelayMs: 0 } })),
);
const started = performance.now();
const results = await Promise.all(
  workers.map((w) =>
    waitFor("a link result", () => w.received.find((m) => m.type === "link.result"), { timeoutMs: 120_000 }),
  ),
);
const wallMs = performance.now() - started;
const measured = results.filter((r) => r.outcome === "measured");
console.log(
  `${DEVICES} workers asked at once: ${measured.length} measured, ${results.length - measured.length} busy`,
);
for (const w of workers) {
  const m = await findLink(t.server.ctx.db, w.deviceId);
  if (m) console.log(`  rtt ${m.rttMs.toFixed(2)} ms, ${m.mbps.toFixed(0)} Mbit/s, tier ${m.tier}`);
}
console.log(
  `all answered in ${(wallMs / 1000).toFixed(2)} s (${(wallMs / Math.max(1, measured.length)).toFixed(0)} ms per measurement)`,
);
for (const w of workers) await w.handle.stop();
await t.stop();
await database.close?.();
cleanupStateDirs();
process.exit(0);
