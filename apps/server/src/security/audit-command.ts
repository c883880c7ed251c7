import { parseArgs } from "node:util";
import type { Config } from "../config.js";
import { openDatabase } from "../db/database.js";
import { verifyAuditChain } from "./audit-log.js";

const USAGE = "usage: ignis-server audit verify [--data DIR]   (DATABASE_URL selects PostgreSQL)\n";

/**
 * `ignis-server audit verify`: walks the whole hash chain straight from the database and names the first
 * broken row; exit 0 when intact, 1 when broken, 2 on usage errors. It never writes. The embedded database
 * can be opened by one process at a time, so stop the server first or use `ignis admin audit verify`.
 */
export async function runAuditCommand(config: Config, argv: string[]): Promise<number> {
  const parsed = (() => {
    try {
      return parseArgs({
        args: argv,
        options: { data: { type: "string" } },
        allowPositionals: true,
        strict: true,
      });
    } catch {
      return undefined;
    }
  })();
  if (parsed?.positionals.join(" ") !== "verify") {
    process.stderr.write(USAGE);
    return 2;
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
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
