import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { runStolenKeyScenario, type StolenKeyResult } from "./support/stolen-key-scenario.js";

const CONCURRENCY = 8;
/** The documented bound (docs/security.md): the per-actor floor of the write-surge rule plus the requests in flight. */
const MAX_CHANGED_BEFORE_CONTAINMENT = 30 + CONCURRENCY;
const REVERT_PACE_MS = 400;

describeEachDialect(
  "scenario: a supplier's API key is stolen and used to relabel all 500 devices",
  (database) => {
    let r: StolenKeyResult;
    beforeAll(async () => {
      r = await runStolenKeyScenario(database(), { devices: 500, concurrency: CONCURRENCY });
      console.info(r.timeline.map((e) => `${String(e.atMs).padStart(6)} ms  ${e.what}`).join("\n"));
    }, 120_000);
    afterAll(() => r?.t.stop());

    const call = (key: string, method: string, path: string, body?: unknown) =>
      fetch(`${r.t.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });

    it("raises a write alert during the surge, in the tail of the request that crossed the threshold", () => {
      expect(r.alert).toBeDefined();
      expect(["write_surge", "object_sweep"]).toContain(r.alert!.rule);
      // Counted in requests, not seconds, so a loaded machine cannot fail it: the refusals began while no more
      // than the rule's floor plus the requests in flight had been accepted, and no relabel got through after.
      expect(r.acceptedAtFirstRefusal).not.toBeNull();
      expect(r.acceptedAtFirstRefusal!).toBeLessThanOrEqual(MAX_CHANGED_BEFORE_CONTAINMENT);
      expect(r.accepted - r.acceptedAtFirstRefusal!).toBeLessThan(CONCURRENCY);
    });

    it("suspends the key's user automatically, so the rest of the surge is refused", async () => {
      expect(r.alert!.containment).toEqual({ kind: "suspend_user", userId: r.supplier.userId });
      // Refusals start with the suspension; once the address has spent its failed-authentication budget, the
      // rest are turned away with 429 before the key is even looked up.
      expect(r.statuses["401 account_suspended"]).toBeGreaterThan(0);
      const refused = Object.entries(r.statuses).filter(([k]) => k !== "200");
      expect(refused.every(([k]) => k === "401 account_suspended" || k === "429 rate_limited")).toBe(true);
      expect(r.accepted + refused.reduce((n, [, v]) => n + v, 0)).toBe(500);
      const again = await call(r.supplier.key, "GET", "/v1/me");
      expect(again.status).toBe(401);
    });

    it(`changes at most ${MAX_CHANGED_BEFORE_CONTAINMENT} labels before containment`, async () => {
      const changed = await r.t.server.ctx.db
        .selectFrom("devices")
        .select("id")
        .where("owner_id", "=", r.supplier.userId)
        .where("label", "=", "pwned")
        .execute();
      expect(changed.length).toBe(r.accepted);
      expect(changed.length).toBeLessThanOrEqual(MAX_CHANGED_BEFORE_CONTAINMENT);
    });

    it("keeps every change in the audit log with its old value, so an admin can revert them all", {
      timeout: 60_000,
    }, async () => {
      const res = await call(
        r.t.adminKey,
        "GET",
        `/v1/admin/audit?credential=${r.supplier.keyId}&action=device.update&limit=100`,
      );
      const { items } = (await res.json()) as {
        items: { objectId: string; outcome: string; ip: string; details: { before?: { label: string } } }[];
      };
      const accepted = items.filter((i) => i.outcome === "ok");
      expect(accepted).toHaveLength(r.accepted);
      expect(accepted.every((i) => i.ip === "203.0.113.66")).toBe(true);
      // The owner's account is suspended with the stolen key: the admin releases the alert (one audited action)
      // and revokes the stolen key, then reverts with a fresh key issued to the real owner.
      const alertId = r.alert!.id;
      expect((await call(r.t.adminKey, "POST", `/v1/admin/alerts/${alertId}/release`, {})).status).toBe(200);
      await r.t.server.ctx.db
        .updateTable("api_keys")
        .set({ revoked_at: new Date() })
        .where("id", "=", r.supplier.keyId)
        .execute();
      const issued = await call(r.t.adminKey, "POST", `/v1/admin/users/${r.supplier.userId}/api-keys`, {
        name: "after-incident",
      });
      const { key } = (await issued.json()) as { key: string };
      // Paced under the write-surge floor (30 per 10 s): an honest bulk fix must not look like the attack.
      for (const change of accepted) {
        const back = await call(key, "PATCH", `/v1/devices/${change.objectId}`, {
          label: change.details.before!.label,
        });
        expect(back.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, REVERT_PACE_MS));
      }
      const labels = await r.t.server.ctx.db
        .selectFrom("devices")
        .select(["id", "label"])
        .where("owner_id", "=", r.supplier.userId)
        .execute();
      expect(labels.every((d) => d.label === r.originalLabels.get(d.id))).toBe(true);
    });

    it("verifies the audit chain after the incident", async () => {
      const res = await call(r.t.adminKey, "GET", "/v1/admin/audit/verify");
      expect(await res.json()).toMatchObject({ ok: true });
    });
  },
);
