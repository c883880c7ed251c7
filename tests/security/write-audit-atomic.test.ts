import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { createUserWithKey, type FixtureUser } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

describeEachDialect("a write and its audit record commit together or not at all", (database) => {
  let t: TestServer;
  let owner: FixtureUser;

  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    owner = await createUserWithKey(database().db, ["supplier"]);
    // The audit log refuses one action, as a full disk or a broken replica would refuse every append.
    await sql`create or replace function ignis_test_refuse_audit() returns trigger language plpgsql as $$
      begin
        if new.action = 'api-key.create' and new.outcome = 'ok' then raise exception 'audit log unavailable'; end if;
        return new;
      end $$`.execute(database().db);
    await sql`create trigger ignis_test_refuse_audit before insert on audit_log
      for each row execute function ignis_test_refuse_audit()`.execute(database().db);
  }, 60_000);
  afterAll(async () => {
    await sql`drop trigger if exists ignis_test_refuse_audit on audit_log`.execute(database().db);
    await t?.stop();
  });

  const keysOf = async (userId: string) =>
    (await database().db.selectFrom("api_keys").select("id").where("user_id", "=", userId).execute()).length;

  it("answers 503 and keeps no key when the key's audit record cannot be stored", async () => {
    const before = await keysOf(owner.userId);
    const res = await fetch(`${t.url}/v1/api-keys`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${owner.key}`,
        "content-type": "application/json",
        "x-request-id": "atomic-mint-refused",
      },
      body: JSON.stringify({ name: "never stored" }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("unavailable");
    expect(await keysOf(owner.userId)).toBe(before);
    // The failure itself is on the record, outside the rolled-back transaction.
    const audit = await database()
      .db.selectFrom("audit_log")
      .select(["outcome"])
      .where("request_id", "=", "atomic-mint-refused")
      .execute();
    expect(audit).toEqual([{ outcome: "failed:unavailable" }]);
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });

  it("stores a revocation and its audit record together", async () => {
    const other = await createUserWithKey(database().db, ["supplier"]);
    const spare = await fetch(`${t.url}/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "admin's own" }),
    });
    expect(spare.status).toBe(503);
    const res = await fetch(`${t.url}/v1/api-keys/${other.keyId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${other.key}`, "x-request-id": "atomic-revoke-ok" },
    });
    expect(res.status).toBe(204);
    const audit = await database()
      .db.selectFrom("audit_log")
      .select(["outcome", "action"])
      .where("request_id", "=", "atomic-revoke-ok")
      .execute();
    expect(audit).toEqual([{ outcome: "ok", action: "api-key.revoke" }]);
    const row = await database()
      .db.selectFrom("api_keys")
      .select("revoked_at")
      .where("id", "=", other.keyId)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).toBeInstanceOf(Date);
  });
});
