import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { randomRootProver } from "../../apps/cli/src/prover/adversary-provers.js";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import {
  caught,
  claimOf,
  honestProver,
  type ProofWorld,
  silentProver,
  startProofWorld,
  switchableProver,
  verified,
} from "./proof-fixture.js";

/**
 * The verification life cycle as the server runs it: deadlines enforced by timers, sessions that end
 * mid-challenge, a new hardware claim, hired devices, admin triggers and reviews, and a server that stops.
 */
describeEachDialect("proof-of-GPU life cycle", (database) => {
  let w: ProofWorld;
  const pending = async (deviceId: string) =>
    (await waitFor("a pending challenge", async () =>
      (await w.challenges(deviceId)).find((c) => c.outcome === "pending"),
    ))!;
  const deviceRow = (deviceId: string) =>
    w.t.server.ctx.db
      .selectFrom("devices")
      .select(["status", "verification"])
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    w = await startProofWorld(database());
  });
  afterAll(() => w.stop());

  it("times out a device that never answers when its deadline passes, then quarantines it after the retry", async () => {
    const d = await w.device({ profile: "sim-a100", prover: silentProver() });
    await w.until(d.deviceId, caught);
    const challenges = await w.challenges(d.deviceId);
    expect(challenges.map((c) => [c.trigger, c.outcome, c.reason, c.commitAt])).toEqual([
      ["retry", "timeout", "commit_late", null],
      ["connect", "timeout", "commit_late", null],
    ]);
    for (const c of challenges) {
      expect(Date.parse(c.decidedAt!) - Date.parse(c.issuedAt)).toBeGreaterThanOrEqual(c.deadlineMs);
    }
  });

  it("counts a challenge whose session closes mid-way as a timeout, and does not challenge the device offline", async () => {
    const d = await w.device({ profile: "sim-a100", prover: silentProver() });
    const open = await pending(d.deviceId);
    await d.worker.stop();
    const ended = await waitFor("the open challenge to end", async () =>
      (await w.challenges(d.deviceId)).find((c) => c.id === open.id && c.outcome !== "pending"),
    );
    expect(ended).toMatchObject({ outcome: "timeout", reason: "session_closed" });
    expect(await deviceRow(d.deviceId)).toMatchObject({ verification: "unverified" });
    // The retry is timed only for a device whose session the server holds: none is, once the decision is made.
    await w.t.server.ctx.proof.settled();
    expect(w.t.server.ctx.proof.nextChallenge(d.deviceId)).toBeUndefined();
    expect(await w.challenges(d.deviceId)).toHaveLength(1);
  });

  it("challenges a device at once when its GPU claim changes, and verifies the new claim", async () => {
    const d = await w.device({ profile: "sim-a100" });
    await w.until(d.deviceId, verified);
    expect(d.worker.send({ type: "metadata.update", hardware: claimOf("sim-rtx4090", 1) })).toBe(true);
    const recheck = await waitFor("the hardware recheck to end", async () =>
      (await w.challenges(d.deviceId)).find((c) => c.trigger === "hardware" && c.outcome !== "pending"),
    );
    expect(recheck).toMatchObject({ profile: "sim-rtx4090", outcome: "pass" });
    const view = await w.until(d.deviceId, verified);
    expect(view.gpu.model).toBe("NVIDIA RTX 4090 (simulated)");
  });

  it("does not challenge a device while it runs a customer's job", async () => {
    const d = await w.device({ profile: "sim-h100" });
    await w.until(d.deviceId, verified);
    await w.t.server.ctx.db
      .updateTable("devices")
      .set({ status: "hired" })
      .where("id", "=", d.deviceId)
      .execute();
    const refused = await call(w.t, "POST", `/v1/admin/devices/${d.deviceId}/challenges`, w.t.adminKey);
    expect(refused).toMatchObject({ status: 409, body: { code: "device_hired" } });
    expect((await w.challenges(d.deviceId)).every((c) => c.trigger !== "admin")).toBe(true);
  });

  it("refuses to challenge a device that is not connected, and answers 404 for one that does not exist", async () => {
    const silent = (await w.t.server.ctx.db.selectFrom("devices").select("id").execute()).map((r) => r.id);
    const offline = silent.find((id) => !w.t.server.ctx.gateway.isConnected(id))!;
    const refused = await call(w.t, "POST", `/v1/admin/devices/${offline}/challenges`, w.t.adminKey);
    expect(refused).toMatchObject({ status: 409, body: { code: "device_offline" } });
    const missing = await call(w.t, "POST", "/v1/admin/devices/dev_nosuchdevice/challenges", w.t.adminKey);
    expect(missing.status).toBe(404);
  });

  it("puts an admin's challenge on the record before the device hears of it, and sends none it could not record", async () => {
    const d = await w.device({ profile: "sim-a100" });
    await w.until(d.deviceId, verified);
    const db = w.t.server.ctx.db;
    await sql`create or replace function ignis_test_refuse_challenge_audit() returns trigger language plpgsql as $$
      begin
        if new.action = 'admin.proof.challenge' and new.outcome = 'ok' then raise exception 'audit log unavailable'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger ignis_test_refuse_challenge_audit before insert on audit_log
      for each row execute function ignis_test_refuse_challenge_audit()`.execute(db);
    let refused: Awaited<ReturnType<typeof call>>;
    try {
      refused = await call(w.t, "POST", `/v1/admin/devices/${d.deviceId}/challenges`, w.t.adminKey);
    } finally {
      await sql`drop trigger ignis_test_refuse_challenge_audit on audit_log`.execute(db);
    }
    expect(refused).toMatchObject({ status: 503, body: { code: "unavailable" } });
    expect((await w.challenges(d.deviceId)).some((c) => c.trigger === "admin")).toBe(false);
    const ordered = await call(w.t, "POST", `/v1/admin/devices/${d.deviceId}/challenges`, w.t.adminKey);
    expect(ordered.status).toBe(202);
    const record = await db
      .selectFrom("audit_log")
      .select(["outcome", "at"])
      .where("action", "=", "admin.proof.challenge")
      .where("object_id", "=", d.deviceId)
      .where("outcome", "=", "ok")
      .executeTakeFirstOrThrow();
    const admin = (await w.challenges(d.deviceId)).find((c) => c.id === ordered.body.challengeId);
    expect(admin?.trigger).toBe("admin");
    expect(new Date(admin!.issuedAt).getTime()).toBeGreaterThanOrEqual(record.at.getTime());
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it("lets an admin clear a quarantined device after review; it is verified again once it passes", async () => {
    const prover = switchableProver(randomRootProver((n) => randomBytes(n)));
    const d = await w.device({ profile: "sim-rtx4090", prover });
    await w.until(d.deviceId, caught);
    prover.use(honestProver("sim-rtx4090"));
    const released = await call(w.t, "POST", `/v1/admin/devices/${d.deviceId}/proof-release`, w.t.adminKey, {
      note: "driver fixed",
    });
    expect(released).toMatchObject({
      status: 200,
      body: { deviceId: d.deviceId, cleared: true, verification: "unverified" },
    });
    expect(released.body.status).not.toBe("quarantined");
    const view = await w.until(d.deviceId, verified);
    expect(view.status).not.toBe("quarantined");
    const [latest] = await w.challenges(d.deviceId);
    expect(latest).toMatchObject({ trigger: "admin", outcome: "pass" });
    const again = await call(w.t, "POST", `/v1/admin/devices/${d.deviceId}/proof-release`, w.t.adminKey, {});
    expect(again).toMatchObject({ status: 200, body: { cleared: false, verification: "verified" } });
  });

  it("cancels a challenge in flight when the server stops, counting it for nothing (runs last)", async () => {
    const d = await w.device({ profile: "sim-a100", prover: silentProver() });
    const open = await pending(d.deviceId);
    await w.t.server.ctx.proof.stop();
    const [ended] = await w.challenges(d.deviceId);
    expect(ended).toMatchObject({ id: open.id, outcome: "cancelled", reason: "server_stopped" });
    expect((await w.publicView(d.deviceId)).verificationHistory).toEqual([]);
    expect(await deviceRow(d.deviceId)).toMatchObject({ verification: "unverified" });
  });
});
