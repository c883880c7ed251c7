import type { Config } from "../config.js";
import { openDatabase } from "../db/database.js";
import { verifyAuditChain } from "./audit-log.js";

/**
 * `ignis-server audit verify`: walks the whole hash chain straight from the database and names the first
 * broken row; exit 0 when intact, 1 when broken (usage errors, 2, are caught by command-line.ts). It never writes. The embedded database
 * can be opened by one process at a time, so stop the server first or use `ignis admin audit verify`.
 */
export async function runAuditCommand(config: Config): Promise<number> {
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    process.stderr.write(`audit verify: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  try {
    const result = await verifyAuditChain(database.db);
    if (result.ok) {
      process.stdout.write(`audit chain intact: ${result.rows} records\n`);
      return 0;
    }
    process.stdout.write(
      `audit chain BROKEN at seq ${result.brokenSeq}: ${result.reason} (${result.rows} records before it verified)\n`,
    );
    return 1;
  } catch (error) {
    process.stderr.write(`audit verify failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}
