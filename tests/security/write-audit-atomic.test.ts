import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { createUserWithKey, type FixtureUser } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { ROUTE_MATRIX } from "./route-matrix.js";
import type { MatrixRow } from "./support/matrix-presets.js";
import { changedTables, stateDigest } from "./support/state-digest.js";
import { buildWorld, keepDevicesOnline, type Pov, type World } from "./support/world.js";

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

describeEachDialect("every write route: no audit record, no write", (database) => {
  let w: World;

  beforeAll(async () => {
    w = await buildWorld(database());
    await keepDevicesOnline(w);
    await sql`create table ignis_test_refused_audit (action text not null)`.execute(database().db);
    await sql`create or replace function ignis_test_refuse_listed_audit() returns trigger language plpgsql as $$
      begin
        if new.outcome = 'ok' and exists (select 1 from ignis_test_refused_audit) then
          raise exception 'audit log unavailable';
        end if;
        return new;
      end $$`.execute(database().db);
    await sql`create trigger ignis_test_refuse_listed_audit before insert on audit_log
      for each row execute function ignis_test_refuse_listed_audit()`.execute(database().db);
  }, 60_000);
  afterAll(async () => {
    await sql`drop trigger if exists ignis_test_refuse_listed_audit on audit_log`.execute(database().db);
    await w?.t.stop();
  });

  // Each write route of the matrix, as the first point of view it admits. Routes of the identity provider and
  // the HTML forms need a browser's flow and are covered in their own tests (sign-in, invite).
  const writes = ROUTE_MATRIX.filter((row) => {
    const [method, url] = row.route.split(" ") as [string, string];
    return method !== "GET" && !url.startsWith("/oidc") && okPov(row) !== undefined;
  });

  it("covers every write route of the matrix but those reviewed here", () => {
    const covered = new Set(writes.map((row) => row.route));
    const others = ROUTE_MATRIX.map((row) => row.route).filter(
      (route) => !route.startsWith("GET ") && !route.includes(" /oidc") && !covered.has(route),
    );
    expect(others.sort()).toEqual(
      [
        // No point of view succeeds in the matrix's world; tests/proof/life-cycle.test.ts orders a challenge of a
        // live device with the audit log refusing it.
        "POST /v1/admin/devices/:deviceId/challenges",
        // The matrix's world has no device to rent; the market's tests rent and cancel through the same
        // auditedWrite (market/create-cluster.ts and cancel-cluster.ts take the route's transaction).
        "POST /v1/clusters",
        "POST /v1/clusters/:clusterId/cancel",
        // The matrix ends no real season (rewards-admin.ts uses auditedWrite for it).
        "POST /v1/admin/rewards/seasons/:seasonId/end",
        // A public enrollment needs a real code, key and signature; devices-enrollment.ts uses auditedWrite.
        "POST /v1/enrollments",
        // Browser forms (sign-in.test.ts, invite.test.ts).
        "POST /interaction/:uid/login",
        "POST /invite/:token",
      ].sort(),
    );
  });

  it.each(writes.map((row) => [row.route, row] as const))(
    "%s answers 503 and changes nothing when its audit record cannot be stored",
    async (_route, row) => {
      const [method] = row.route.split(" ") as [string, string];
      const pov = okPov(row)!;
      const req = row.request ? await row.request(w, pov) : { path: row.route.split(" ")[1]! };
      const before = await stateDigest(database().db);
      const requestId = `atomic-${randomUUID().slice(0, 8)}`;
      await sql`insert into ignis_test_refused_audit (action) values ('*')`.execute(database().db);
      let res: Response;
      try {
        res = await w.call(pov, method, req.path, req.body, { "x-request-id": requestId, ...req.headers });
      } finally {
        await sql`delete from ignis_test_refused_audit`.execute(database().db);
      }
      const body = (await res.json()) as { code?: string };
      expect({ status: res.status, code: body.code }).toEqual({ status: 503, code: "unavailable" });
      expect(changedTables(before, await stateDigest(database().db))).toEqual([]);
      const audit = await database()
        .db.selectFrom("audit_log")
        .select("outcome")
        .where("request_id", "=", requestId)
        .execute();
      expect(audit).toEqual([{ outcome: "failed:unavailable" }]);
    },
  );

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});

function okPov(row: MatrixRow): Pov | undefined {
  return (["owner", "customer", "admin", "otherSupplier", "anonymous"] as const).find((pov) => {
    const status = row.expect[pov];
    return status !== undefined && status >= 200 && status < 300;
  });
}
