import { afterAll, beforeAll, expect, it } from "vitest";
import { newId } from "../../apps/server/src/db/new-id.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { auditOf, requestId } from "./support/audit-trail.js";
import { SCENARIO_ENV } from "./support/scenario-harness.js";
import { buildWorld, type World } from "./support/world.js";

/** A problem body without the fields that differ per request. */
function shape(body: Record<string, unknown>) {
  const { requestId: _r, instance: _i, ...rest } = body;
  return rest;
}

describeEachDialect("enumeration of device ids", (database) => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(database(), SCENARIO_ENV);
  });
  afterAll(() => w.t.stop());

  const asFrom = (pov: "anonymous" | "otherSupplier", path: string, ip: string, rid = requestId("enum")) =>
    w.call(pov, "GET", path, undefined, { "x-forwarded-for": ip, "x-request-id": rid });

  it("uses random 128-bit ids, not sequential ones", () => {
    const ids = [w.deviceA, w.deviceB, newId("dev")];
    for (const id of ids) expect(id).toMatch(/^dev_[a-z2-7]{26}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it("answers another owner's device exactly like a device that does not exist, and audits the probe", async () => {
    const rid = requestId("probe");
    const other = await asFrom("otherSupplier", `/v1/devices/${w.deviceA}`, "192.0.2.50", rid);
    const missing = await asFrom("otherSupplier", `/v1/devices/${newId("dev")}`, "192.0.2.50");
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(shape(await other.json())).toEqual(shape(await missing.json()));
    expect(await auditOf(w, rid)).toMatchObject([{ outcome: "refused:not_found", object_id: w.deviceA }]);
  });

  it("gives the public explorer no oracle: unknown, malformed and guessed ids all look the same", async () => {
    const answers = await Promise.all(
      [newId("dev"), "dev_short", "'; select 1 --", "../admin"].map(async (id) => {
        const res = await asFrom("anonymous", `/v1/explorer/devices/${encodeURIComponent(id)}`, "192.0.2.51");
        return { status: res.status, body: shape(await res.json()) };
      }),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]!.status).toBe(404);
  });

  it("never names an owner in any explorer answer about a device", async () => {
    const owner = await w.db
      .selectFrom("users")
      .select(["id", "email"])
      .where("id", "=", w.owner.userId)
      .executeTakeFirstOrThrow();
    for (const path of [
      `/v1/explorer/devices/${w.deviceA}`,
      `/v1/explorer/devices?q=${w.deviceA.slice(0, 10)}`,
      "/v1/explorer/stats",
    ]) {
      const text = await (await asFrom("anonymous", path, "192.0.2.52")).text();
      expect(text).not.toContain(owner.id);
      if (owner.email) expect(text).not.toContain(owner.email);
      expect(text).not.toMatch(/owner/i);
    }
  });

  it("throttles and alerts on a burst of guesses from one address, leaving others alone", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1)
      statuses.push(
        (await asFrom("anonymous", `/v1/explorer/devices/${newId("dev")}`, "198.51.100.99")).status,
      );
    await w.t.server.ctx.security.settled();
    expect(statuses.slice(0, 20).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(-10).every((s) => s === 429)).toBe(true);
    const alert = await w.db
      .selectFrom("security_alerts")
      .select(["rule", "containment", "id"])
      .where("subject", "=", "ip:198.51.100.99")
      .executeTakeFirstOrThrow();
    expect(alert.rule).toBe("refusal_burst");
    expect(alert.containment).toMatchObject({ kind: "block_ip" });
    const audit = await w.db
      .selectFrom("audit_log")
      .select("action")
      .where("object_id", "=", alert.id)
      .execute();
    expect(audit.map((a) => a.action)).toContain("security.alert.raise");
    expect((await asFrom("anonymous", `/v1/explorer/devices/${w.deviceA}`, "192.0.2.53")).status).toBe(200);
  });
});
