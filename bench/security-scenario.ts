/**
 * The two security scenarios of docs/security.md, with their timelines:
 *   1. a supplier's API key is stolen and used to relabel all 500 of the supplier's devices as fast as possible;
 *   2. a scraper walks the explorer device by device while legitimate readers browse.
 *
 *   npx tsx bench/security-scenario.ts              # embedded PGlite
 *   npx tsx bench/security-scenario.ts --postgres   # a scratch database per scenario on the test PostgreSQL
 *                                                   # (IGNIS_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1)
 *
 * Budgets and containment are on, as in production; a trusted proxy names each client's address.
 */
import { cpus } from "node:os";
import { createTestDatabase } from "../apps/server/src/testing/dialects.js";
import type { TimelineEvent } from "../tests/security/support/scenario-harness.js";
import { runScraperScenario } from "../tests/security/support/scraper-scenario.js";
import { runStolenKeyScenario } from "../tests/security/support/stolen-key-scenario.js";

function print(title: string, events: TimelineEvent[]): void {
  process.stdout.write(`\n${title}\n`);
  for (const e of events) process.stdout.write(`${String(e.atMs).padStart(8)} ms  ${e.what}\n`);
}

const postgres = process.argv.includes("--postgres");
const fresh = () => createTestDatabase(postgres ? "postgres" : "pglite");

const concurrency = Number(process.env.IGNIS_BENCH_CONCURRENCY ?? 8);
process.stdout.write(
  `security scenarios on ${postgres ? "PostgreSQL" : "PGlite"}, ${cpus().length} CPUs, Node ${process.version}\n`,
);

const db1 = await fresh();
const stolen = await runStolenKeyScenario(db1, { devices: 500, concurrency });
print(`1. stolen API key, 500 devices, ${concurrency} requests in flight`, stolen.timeline);
const changed = await db1.db.selectFrom("devices").select("id").where("label", "=", "pwned").execute();
await stolen.t.stop();
await db1.close();

const db2 = await fresh();
const scraper = await runScraperScenario(db2, { devices: 300, readers: 5 });
print("2. explorer scraper walking real device ids, 5 legitimate readers", scraper.timeline);
await scraper.t.stop();
await db2.close();

process.stdout.write("\nsummary\n");
process.stdout.write(
  `stolen key: alert after ${stolen.alertAfterMs} ms (${stolen.alert?.rule}, ${stolen.alert?.containment.kind}); ` +
    `${changed.length} of 500 labels changed before containment\n`,
);
process.stdout.write(
  `scraper: alert after ${scraper.alertAfterMs} ms (${scraper.alert?.rule}, ${scraper.alert?.containment.kind}); ` +
    `${scraper.scraperServed} pages served to it; readers ${JSON.stringify(scraper.readers)}\n`,
);
