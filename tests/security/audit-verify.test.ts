import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../../apps/server/src/db/database.js";
import { openDatabase } from "../../apps/server/src/db/database.js";
import { migrateToLatest } from "../../apps/server/src/db/migrate.js";
import { appendAudit } from "../../apps/server/src/security/audit-log.js";
import { createTestDatabase, describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");

async function exec(bin: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout } = await run(process.execPath, [join(ROOT, bin), ...args], {
      env: { ...process.env, IGNIS_LOG_LEVEL: "silent", ...env },
      cwd: ROOT,
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

/** Edits one audit row the way someone with database rights would: behind the append-only trigger. */
async function tamper(db: Db, seq: string): Promise<void> {
  await sql`alter table audit_log disable trigger audit_log_no_update`.execute(db);
  try {
    await sql`update audit_log set outcome = 'ok', details = '{"status":200}' where seq = ${seq}`.execute(db);
  } finally {
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(db);
  }
}

describeEachDialect("ignis admin audit verify (over HTTP)", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
  });
  afterAll(() => t.stop());

  it("reports an intact chain with exit 0, then names the edited row with exit 1", async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(`${t.url}/v1/api-keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `k${i}` }),
      });
      expect(res.status).toBe(201);
    }
    const cli = [
      "apps/cli/bin/ignis.js",
      ["admin", "audit", "verify", "--server", t.url, "--api-key", t.adminKey],
    ] as const;
    const intact = await exec(cli[0], [...cli[1]]);
    expect(intact).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^audit chain intact: \d+ records/),
    });
    const victim = await database()
      .db.selectFrom("audit_log")
      .select("seq")
      .where("action", "=", "api-key.create")
      .orderBy("seq")
      .limit(1)
      .offset(2)
      .executeTakeFirstOrThrow();
    await tamper(database().db, String(victim.seq));
    const broken = await exec(cli[0], [...cli[1], "--json"]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({
      ok: false,
      brokenSeq: String(victim.seq),
      reason: "row altered",
    });
  }, 60_000);
});

describeEachDialect("ignis-server audit verify (on the database itself)", (_database, dialect) => {
  let dataDir: string;
  let url: string | undefined;
  let db: Awaited<ReturnType<typeof openDatabase>>;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "ignis-audit-"));
    if (dialect === "postgres") {
      const created = await createTestDatabase("postgres");
      url = created.url;
      db = created;
    } else {
      db = await openDatabase({ dataDir });
      await migrateToLatest(db.db);
    }
    for (let i = 0; i < 4; i += 1)
      await appendAudit(db.db, {
        actorType: "user",
        actorId: `usr_${i}`,
        action: "device.update",
        outcome: "ok",
      });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("exits 0 on an intact chain and 1, naming the row, once a row is edited", async () => {
    const args = ["audit", "verify", "--data", dataDir];
    const env: Record<string, string> = url ? { DATABASE_URL: url } : {};
    // The embedded database admits one process at a time: let the command have it.
    if (!url) await db.close();
    expect(await exec("apps/server/bin/ignis-server.js", args, env)).toMatchObject({
      code: 0,
      stdout: "audit chain intact: 4 records\n",
    });
    if (!url) db = await openDatabase({ dataDir });
    await tamper(db.db, "3");
    if (!url) await db.close();
    const broken = await exec("apps/server/bin/ignis-server.js", args, env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("BROKEN at seq 3: row altered");
    if (!url) db = await openDatabase({ dataDir });
  }, 60_000);
});
