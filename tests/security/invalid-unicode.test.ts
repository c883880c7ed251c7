import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { createUserWithKey, type FixtureUser } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

let counter = 0;

describeEachDialect("invalid Unicode in any request", (database) => {
  let t: TestServer;
  let owner: FixtureUser;

  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    owner = await createUserWithKey(database().db, ["supplier"]);
  }, 60_000);
  afterAll(() => t?.stop());

  /** Sends a raw body (already encoded), so the test controls every byte. */
  async function send(key: string | undefined, method: string, path: string, body?: string | Uint8Array) {
    counter += 1;
    const requestId = `uni-${counter}-${Date.now().toString(36)}`;
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        "x-request-id": requestId,
      },
      body: body as BodyInit | undefined,
    });
    const json = (await res.json()) as { code?: string };
    const audit = await database()
      .db.selectFrom("audit_log")
      .select(["outcome"])
      .where("request_id", "=", requestId)
      .executeTakeFirst();
    return { status: res.status, code: json.code, audited: audit?.outcome };
  }

  it("refuses a lone surrogate in a maintenance-window reason with 400, stores nothing, and audits the refusal", async () => {
    const before = await database().db.selectFrom("maintenance_windows").select("id").execute();
    const body = `{"start":"2030-01-01T00:00:00Z","end":"2030-01-01T01:00:00Z","graceMinutes":10,"reason":"up\\ud800grade"}`;
    const r = await send(t.adminKey, "POST", "/v1/admin/maintenance-windows", body);
    expect(r).toEqual({ status: 400, code: "bad_request", audited: "refused:bad_request" });
    const after = await database().db.selectFrom("maintenance_windows").select("id").execute();
    expect(after).toHaveLength(before.length);
  });

  it("refuses a lone surrogate in an enrollment with 400, not 500", async () => {
    const body = `{"code":"\\udc00","publicKey":"x","hardware":{},"signature":"x"}`;
    const r = await send(undefined, "POST", "/v1/enrollments", body);
    expect(r).toEqual({ status: 400, code: "bad_request", audited: "refused:bad_request" });
  });

  it("refuses a lone surrogate in an object key and in a key name", async () => {
    const r = await send(owner.key, "POST", "/v1/api-keys", `{"name":"ok","\\ud83d":1}`);
    expect(r).toMatchObject({ status: 400, code: "bad_request" });
    const named = await send(owner.key, "POST", "/v1/api-keys", `{"name":"k\\ude00"}`);
    expect(named).toEqual({ status: 400, code: "bad_request", audited: "refused:bad_request" });
  });

  it("accepts a properly paired surrogate (an emoji) in a key name", async () => {
    const r = await send(owner.key, "POST", "/v1/api-keys", `{"name":"gpu \\ud83d\\ude80"}`);
    expect(r.status).toBe(201);
  });

  it("refuses a body that is not valid UTF-8", async () => {
    const bytes = new Uint8Array(
      Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    );
    const r = await send(owner.key, "POST", "/v1/api-keys", bytes);
    expect(r).toEqual({ status: 400, code: "bad_request", audited: "refused:bad_request" });
  });

  it("refuses invalid UTF-8 percent-encoded in a query string", async () => {
    for (const q of ["%ED%A0%80", "%FF"]) {
      const res = await fetch(`${t.url}/v1/explorer/devices?q=${q}`);
      expect(res.status).toBe(400);
    }
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
