import { randomBytes } from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createTestUser, insertDevices } from "./market-fixtures.js";
import { proofCountsSince } from "./proof-pass-rate.js";
import { reliabilityOf } from "./reliability.js";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const EPOCH_SECONDS = 3600;

describeEachDialect("device reliability", (database) => {
  let db: Db;
  let owner: string;
  beforeAll(async () => {
    db = database().db;
    owner = await createTestUser(db, ["supplier"]);
  });

  const challenge = (deviceId: string, outcome: "pass" | "fail" | "timeout" | "pending", ageDays = 1) =>
    db
      .insertInto("proof_challenges")
      .values({
        id: randomBytes(16).toString("hex"),
        device_id: deviceId,
        profile: "test-gpu",
        gpu_count: 1,
        n: 64,
        inner_dim: 128,
        batch: 1,
        reveal_rows: 4,
        expected_ms: 40,
        deadline_ms: 400,
        rtt_ms: 1,
        trigger: "random",
        replica: "test",
        issued_at: new Date(NOW - ageDays * 86_400_000),
        outcome,
      } as never)
      .execute();

  it("weighs 7-day uptime, recent proof results and past jobs into one score", async () => {
    const [steady, shaky] = await insertDevices(db, { ownerId: owner, count: 2, seenAt: NOW });
    // Created long ago: the week is the window. Steady was up every slot of every epoch, shaky half of them.
    await db
      .updateTable("devices")
      .set({ created_at: new Date(NOW - 30 * 86_400_000) } as never)
      .where("id", "in", [steady!, shaky!])
      .execute();
    const current = Math.floor(NOW / 1000 / EPOCH_SECONDS);
    for (let e = current - 167; e <= current; e++) {
      await db
        .insertInto("uptime")
        .values([
          { device_id: steady!, epoch: e, minute_mask: "0", up_minutes: 60 },
          { device_id: shaky!, epoch: e, minute_mask: "0", up_minutes: 30 },
        ])
        .execute();
    }
    for (let i = 0; i < 3; i++) await challenge(steady!, "pass");
    await challenge(shaky!, "pass");
    await challenge(shaky!, "fail");
    await challenge(shaky!, "timeout");
    await challenge(shaky!, "pending");
    await challenge(shaky!, "pass", 45); // outside the 30-day window
    const scores = await reliabilityOf(db, [steady!, shaky!], {
      nowMs: NOW,
      epochSeconds: EPOCH_SECONDS,
      proofCounts: proofCountsSince(() => NOW),
    });
    expect(scores.get(steady!)).toEqual({
      uptime7d: 1,
      proofPassRate: 4 / 5,
      jobSuccessRate: 0.5,
      score: 0.5 + 0.3 * 0.8 + 0.2 * 0.5,
    });
    expect(scores.get(shaky!)).toMatchObject({ uptime7d: 0.5, proofPassRate: 2 / 5, jobSuccessRate: 0.5 });
    expect(scores.get(steady)!.score).toBeGreaterThan(scores.get(shaky)!.score);
  });
});
