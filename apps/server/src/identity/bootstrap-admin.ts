import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { issueApiKey } from "./api-keys.js";
import { insertUser, LOCAL_ISSUER } from "./users.js";

/** The file, inside the data dir, that holds the bootstrap admin API key alone on one line. */
export const ADMIN_KEY_FILE = "admin-api-key";

const BOOTSTRAP_LOCK = 0x1a0d01;

/**
 * On the first start of a database, creates the bootstrap admin and writes its API key to `dataDir/admin-api-key`
 * (mode 0600). Returns the file path when it was written now, undefined when the database was already set up.
 */
export async function ensureBootstrapAdmin(db: Db, dataDir: string): Promise<string | undefined> {
  const path = join(dataDir, ADMIN_KEY_FILE);
  return db.transaction().execute(async (trx) => {
    // Replicas starting together on one PostgreSQL: exactly one of them bootstraps.
    await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    const done = await trx
      .selectFrom("settings")
      .select("key")
      .where("key", "=", "bootstrap_admin")
      .executeTakeFirst();
    if (done) return undefined;
    const admin = await insertUser(trx, { issuer: LOCAL_ISSUER, email: "admin@localhost", roles: ["admin"] });
    const issued = await issueApiKey(trx, { userId: admin.id, name: "bootstrap admin", scopes: [] });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${issued.key}\n`, { mode: 0o600 });
    // writeFileSync's mode applies only to a new file; a stale file from an old data dir is tightened too.
    chmodSync(path, 0o600);
    await trx
      .insertInto("settings")
      .values({ key: "bootstrap_admin", value: JSON.stringify({ userId: admin.id, keyId: issued.id }) })
      .execute();
    return path;
  });
}
