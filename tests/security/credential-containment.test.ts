import type { AlertView } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { issueApiKey } from "../../apps/server/src/identity/api-keys.js";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import {
  createUserWithKey,
  type FixtureUser,
  insertDevices,
} from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { alertsOf, SCENARIO_ENV } from "./support/scenario-harness.js";

let counter = 0;

describeEachDialect("credentials an attacker cannot turn around", (database) => {
  let t: TestServer;
  let owner: FixtureUser;

  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: SCENARIO_ENV });
    owner = await createUserWithKey(database().db, ["supplier"]);
  }, 60_000);
  afterAll(() => t?.stop());

  /** Calls the server from `ip` (through the trusted proxy) and returns the status, body and request id. */
  async function call(
    key: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    ip = "198.51.100.10",
  ): Promise<{ status: number; body: Record<string, unknown>; requestId: string }> {
    counter += 1;
    const requestId = `cred-${counter}-${Date.now().toString(36)}`;
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
        "x-forwarded-for": ip,
        "x-request-id": requestId,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : {}, requestId };
  }

  async function auditOutcome(requestId: string): Promise<string | undefined> {
    const row = await database()
      .db.selectFrom("audit_log")
      .select(["outcome"])
      .where("request_id", "=", requestId)
      .executeTakeFirst();
    return row?.outcome;
  }

  function waitForAlert(match: (a: AlertView) => boolean): Promise<AlertView> {
    return waitFor("the alert", async () => {
      await t.server.ctx.security.settled();
      return (await alertsOf(t)).find(match);
    });
  }

  it("refuses a key without keys:write when it mints or revokes keys, and audits both refusals", async () => {
    const minted = await call(owner.key, "POST", "/v1/api-keys", { name: "read", scopes: ["rewards:read"] });
    expect(minted.status).toBe(201);
    const reader = minted.body.key as string;
    const mint = await call(reader, "POST", "/v1/api-keys", { name: "escalate" });
    expect(mint).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });
    const revoke = await call(reader, "DELETE", `/v1/api-keys/${owner.keyId}`);
    expect(revoke).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });
    expect(await auditOutcome(mint.requestId)).toBe("refused:insufficient_scope");
    expect(await auditOutcome(revoke.requestId)).toBe("refused:insufficient_scope");
    expect((await call(owner.key, "GET", "/v1/me")).status).toBe(200);
  });

  it("mints only keys whose scopes are a subset of the minter's and that expire no later", async () => {
    const minter = await call(owner.key, "POST", "/v1/api-keys", {
      name: "minter",
      scopes: ["rewards:read", "keys:write"],
      expiresInDays: 7,
    });
    const key = minter.body.key as string;
    const admin = await call(key, "POST", "/v1/api-keys", { name: "x", scopes: ["admin"] });
    expect(admin).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });
    expect(await auditOutcome(admin.requestId)).toBe("refused:insufficient_scope");
    const longer = await call(key, "POST", "/v1/api-keys", { name: "x", expiresInDays: 30 });
    expect(longer).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });
    const child = await call(key, "POST", "/v1/api-keys", { name: "child" });
    expect(child.status).toBe(201);
    expect(child.body.scopes).toEqual(["rewards:read", "keys:write"]);
    expect(child.body.expiresAt).toBe(minter.body.expiresAt);
  });

  it("lists keys with their scopes and last use", async () => {
    const list = await call(owner.key, "GET", "/v1/api-keys");
    const items = list.body.items as { id: string; scopes: string[]; lastUsedAt: string | null }[];
    const own = items.find((k) => k.id === owner.keyId);
    expect(own?.lastUsedAt).not.toBeNull();
    expect(items.some((k) => k.scopes.includes("rewards:read"))).toBe(true);
  });

  it("suspends the user, every key and session, when one of their keys surges; an admin lifts it with one action", {
    timeout: 60_000,
  }, async () => {
    const thief = await createUserWithKey(database().db, ["supplier"]);
    const spare = await issueApiKey(database().db, { userId: thief.userId, name: "spare" });
    const devices = await insertDevices(database().db, thief.userId, 60, { labelPrefix: "t" });
    let refused: { status: number; body: Record<string, unknown> } | undefined;
    for (const id of devices) {
      const r = await call(thief.key, "PATCH", `/v1/devices/${id}`, { label: "pwned" }, "203.0.113.70");
      if (r.status !== 200) {
        refused = r;
        break;
      }
    }
    expect(refused).toMatchObject({ status: 401, body: { code: "account_suspended" } });
    const alert = await waitForAlert((a) => a.actorId === thief.userId && a.rule === "write_surge");
    expect(alert.containment).toEqual({ kind: "suspend_user", userId: thief.userId });
    // The thief switches to another key of the same user, and tries to mint a fresh one: both refused.
    const other = await call(spare.key, "GET", "/v1/me", undefined, "203.0.113.71");
    expect(other).toMatchObject({ status: 401, body: { code: "account_suspended" } });
    const mint = await call(spare.key, "POST", "/v1/api-keys", { name: "fresh" }, "203.0.113.71");
    expect(mint).toMatchObject({ status: 401, body: { code: "account_suspended" } });
    expect(await auditOutcome(mint.requestId)).toBe("refused:account_suspended");
    const release = await call(t.adminKey, "POST", `/v1/admin/alerts/${alert.id}/release`, {
      note: "owner rotated keys",
    });
    expect(release).toMatchObject({ status: 200, body: { lifted: true } });
    expect(await auditOutcome(release.requestId)).toBe("ok");
    expect((await call(spare.key, "GET", "/v1/me")).status).toBe(200);
  });

  it("raises an alert when one user mints more than five keys in an hour", async () => {
    const minter = await createUserWithKey(database().db, ["customer"]);
    for (let i = 0; i < 6; i += 1) {
      expect((await call(minter.key, "POST", "/v1/api-keys", { name: `k${i}` })).status).toBe(201);
    }
    const alert = await waitForAlert((a) => a.actorId === minter.userId && a.rule === "key_minting");
    expect(alert).toMatchObject({ severity: "medium", containment: { kind: "none" } });
    expect(alert.evidence).toMatchObject({ keysMinted: 6 });
  });

  it("blocks a scanning address for anonymous requests only: never /healthz, nor a valid key from it", async () => {
    const scanner = "192.0.2.99";
    await t.server.ctx.rateLimits.block(`ip:${scanner}`, 600);
    const anonymous = await call(undefined, "GET", "/v1/explorer/stats", undefined, scanner);
    expect(anonymous).toMatchObject({ status: 429, body: { code: "rate_limited" } });
    // A guessed key from the blocked address is anonymous too (a refused write is audited; a refused read is not,
    // so a flood cannot fill the audit log).
    const guess = await call("ign_guess", "POST", "/v1/api-keys", { name: "x" }, scanner);
    expect(guess).toMatchObject({ status: 429 });
    expect(await auditOutcome(guess.requestId)).toBe("refused:rate_limited");
    expect((await call(undefined, "GET", "/healthz", undefined, scanner)).status).toBe(200);
    expect((await call(t.adminKey, "GET", "/v1/admin/alerts", undefined, scanner)).status).toBe(200);
    expect((await call(owner.key, "GET", "/v1/me", undefined, scanner)).status).toBe(200);
    // Behind the trusted proxy, another client's address is its own.
    expect((await call(undefined, "GET", "/v1/explorer/stats", undefined, "192.0.2.100")).status).toBe(200);
  });

  it("does not believe X-Forwarded-For from a peer outside IGNIS_TRUST_PROXY", async () => {
    const direct = await startTestServer({ database: database(), env: { IGNIS_RATE_LIMITS: "on" } });
    try {
      await direct.server.ctx.rateLimits.block("ip:192.0.2.55", 600);
      const res = await fetch(`${direct.url}/v1/explorer/stats`, {
        headers: { "x-forwarded-for": "192.0.2.55" },
      });
      expect(res.status).toBe(200);
    } finally {
      await direct.stop();
    }
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
