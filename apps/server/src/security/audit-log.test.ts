import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachDialect } from "../testing/dialects.js";
import { appendAudit, verifyAuditChain } from "./audit-log.js";
import { auditDeviceEvent } from "./device-events.js";

describeEachDialect("audit log chain", (database) => {
  it("verifies a chain of records appended one by one and in batches", async () => {
    const db = database().db;
    for (let i = 0; i < 5; i += 1) {
      await appendAudit(db, {
        actorType: "user",
        actorId: `usr_${i}`,
        action: "device.update",
        outcome: "ok",
      });
    }
    await appendAudit(db, [
      { actorType: "anonymous", action: "GET /v1/me", outcome: "refused:invalid_api_key", ip: "192.0.2.1" },
      {
        actorType: "system",
        action: "security.alert.raise",
        outcome: "ok",
        details: { nested: { b: 1, a: [2] } },
      },
    ]);
    await auditDeviceEvent(db, {
      deviceId: "dev_x",
      keyId: "dk_x",
      action: "device.hardware.update",
      details: { before: { gpu: 1 }, after: { gpu: 8 } },
    });
    expect(await verifyAuditChain(db)).toEqual({ ok: true, rows: 8 });
  });

  it("stores a record whose details hold NUL or a lone surrogate, replaced, and keeps the chain valid", async () => {
    const db = database().db;
    await appendAudit(db, {
      actorType: "device",
      action: "device.metadata.update",
      outcome: "ok",
      details: { label: "a\u0000b\ud800c", "k\udc00": "\ud83d\ude80 paired" },
    });
    const row = await db
      .selectFrom("audit_log")
      .select("details")
      .where("action", "=", "device.metadata.update")
      .executeTakeFirstOrThrow();
    expect(row.details).toEqual({ label: "a\uFFFDb\uFFFDc", "k\uFFFD": "\ud83d\ude80 paired" });
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it("refuses to update, delete or truncate audit rows", async () => {
    const db = database().db;
    await expect(
      db.updateTable("audit_log").set({ outcome: "ok" }).where("seq", "=", "1").execute(),
    ).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom("audit_log").where("seq", "=", "1").execute()).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(db)).rejects.toThrow(/append-only/);
  });

  it("names the first altered row when someone with database rights edits one behind the trigger", async () => {
    const db = database().db;
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(db);
    try {
      await db.updateTable("audit_log").set({ outcome: "ok" }).where("seq", "=", "6").execute();
    } finally {
      await sql`alter table audit_log enable trigger audit_log_no_update`.execute(db);
    }
    expect(await verifyAuditChain(db)).toEqual({ ok: false, rows: 5, brokenSeq: "6", reason: "row altered" });
  });

  it("notices a deleted row and a rewritten hash", async () => {
    const db = database().db;
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(db);
    try {
      // Repair row 6 the way a careful attacker would: recompute nothing, just delete row 3.
      await db.deleteFrom("audit_log").where("seq", "=", "3").execute();
    } finally {
      await sql`alter table audit_log enable trigger audit_log_no_update`.execute(db);
    }
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenSeq: "3", reason: "missing row" });
  });
});
