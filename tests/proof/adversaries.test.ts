import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findHardwareProfile } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  gpuCountOverclaimer,
  halfRowsProver,
  randomRootProver,
  replayProver,
} from "../../apps/cli/src/prover/adversary-provers.js";
import { systemClock } from "../../apps/cli/src/prover/prover-clock.js";
import { startFleet } from "../../apps/cli/src/sim/fleet.js";
import { readServerView } from "../../apps/cli/src/sim/fleet-status.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import { caught, claimOf, type ProofWorld, startProofWorld, verified } from "./proof-fixture.js";

/**
 * Each way of faking a proof, run as a simulated worker over a real WebSocket against the real server: every
 * one is failed on its first challenge (or, for the replay, on the first challenge it replays) and on the
 * retry, and ends quarantined with verification `failed`, for the reason the issue names.
 */
describeEachDialect("adversarial devices", (database) => {
  let w: ProofWorld;
  const reasonsOf = async (deviceId: string) =>
    (await w.challenges(deviceId)).map((c) => [c.trigger, c.outcome, c.reason]);

  beforeAll(async () => {
    w = await startProofWorld(database());
  });
  afterAll(() => w.stop());

  it("catches a device that commits a random root: its openings do not reach the root", async () => {
    const d = await w.device({ profile: "sim-h100", prover: randomRootProver((n) => randomBytes(n)) });
    await w.until(d.deviceId, caught);
    expect(await reasonsOf(d.deviceId)).toEqual([
      ["retry", "fail", "bad_proof"],
      ["connect", "fail", "bad_proof"],
    ]);
  });

  it("catches a device that computes only half the rows: an opened junk row is not A·B", async () => {
    const d = await w.device({ profile: "sim-a100", prover: halfRowsProver() });
    await w.until(d.deviceId, caught);
    expect(await reasonsOf(d.deviceId)).toEqual([
      ["retry", "fail", "wrong_row"],
      ["connect", "fail", "wrong_row"],
    ]);
  });

  it("catches a device that replays an earlier answer, from the first challenge it replays", async () => {
    const d = await w.device({ profile: "sim-rtx4090", prover: replayProver() });
    await w.until(d.deviceId, verified);
    const trigger = await call(w.t, "POST", `/v1/admin/devices/${d.deviceId}/challenges`, w.t.adminKey);
    expect(trigger).toMatchObject({ status: 202, body: { deviceId: d.deviceId, delivery: "issued" } });
    await w.until(d.deviceId, caught);
    expect(await reasonsOf(d.deviceId)).toEqual([
      ["retry", "fail", "wrong_row"],
      ["admin", "fail", "wrong_row"],
      ["connect", "pass", null],
    ]);
  });

  it("catches a device that claims 32 GPUs and has one: it cannot do 32 GPUs' work in time", async () => {
    const d = await w.device({
      profile: "sim-rtx3060",
      hardware: claimOf("sim-rtx3060", 32),
      prover: gpuCountOverclaimer({
        profile: findHardwareProfile("sim-rtx3060")!,
        trueGpuCount: 1,
        clock: systemClock,
      }),
    });
    await w.until(d.deviceId, caught);
    const [retry, first, ...rest] = (await w.challenges(d.deviceId)).filter((c) => c.reason !== "host_stall");
    expect(rest).toEqual([]);
    expect([first!.gpuCount, first!.outcome, first!.reason]).toEqual([32, "timeout", "commit_late"]);
    // One GPU needs 32 times the time: when its late commit arrives within the late window (one more
    // deadline) and repeats the first, it is speed fraud; on a machine too loaded for that, it never arrived.
    expect([
      [32, "fail", "speed_short"],
      [32, "timeout", "commit_late"],
    ]).toContainEqual([retry!.gpuCount, retry!.outcome, retry!.reason]);

    // Operators count verdicts as judged: a speed_short is a fail in /metrics, as stored, never the timeout the
    // exchange ended with. Every decided challenge of this server so far is counted once under its own labels.
    const stored = async () => {
      const rows = await w.t.server.ctx.db
        .selectFrom("proof_challenges")
        .select(["trigger", "outcome"])
        .where("outcome", "is not", null)
        .execute();
      const counts: Record<string, number> = {};
      for (const r of rows)
        counts[`${r.trigger}/${r.outcome}`] = (counts[`${r.trigger}/${r.outcome}`] ?? 0) + 1;
      return counts;
    };
    const counted = async () => {
      const res = await fetch(`${w.t.url}/metrics`, { headers: { authorization: `Bearer ${w.t.adminKey}` } });
      const counts: Record<string, number> = {};
      for (const m of (await res.text()).matchAll(/^ignis_proof_verdicts_total\{([^}]*)\} (\d+)/gm)) {
        const trigger = /trigger="([^"]+)"/.exec(m[1]!)?.[1];
        const outcome = /outcome="([^"]+)"/.exec(m[1]!)?.[1];
        counts[`${trigger}/${outcome}`] = (counts[`${trigger}/${outcome}`] ?? 0) + Number(m[2]);
      }
      return counts;
    };
    const both = await waitFor(
      "the verdicts in /metrics to match those stored",
      async () => {
        const [db, metrics] = [await stored(), await counted()];
        return JSON.stringify(db) ===
          JSON.stringify(Object.fromEntries(Object.entries(db).map(([k]) => [k, metrics[k]])))
          ? { db, metrics }
          : undefined;
      },
      { timeoutMs: 20_000, everyMs: 100 },
    );
    if (retry!.reason === "speed_short") expect(both.metrics["retry/fail"]).toBeGreaterThanOrEqual(1);
  });

  it("catches the counterfeits `ignis sim --counterfeit` runs and verifies its honest devices", async () => {
    const stateRoot = mkdtempSync(join(tmpdir(), "ignis-proof-sim-"));
    const fleet = startFleet({
      servers: [w.t.url],
      supplierKey: w.supplierKey,
      profile: "sim-a100",
      heartbeatSeconds: undefined,
      churnPerMinute: 0,
      stateRoot,
      enrollConcurrency: 2,
      devices: [0, 1, 2].map((index) => ({ index, counterfeit: index === 1 })),
    });
    try {
      await fleet.ready;
      const ids = fleet.devices().map((d) => d.deviceId);
      const counterfeits = new Set(
        fleet
          .devices()
          .filter((d) => d.counterfeit)
          .map((d) => d.deviceId),
      );
      const view = await waitFor(
        "the server's view of the three devices",
        async () => {
          const v = await readServerView(w.t.url, w.supplierKey, ids, counterfeits);
          return v.verified === 2 && v.quarantined === 1 && v.counterfeitCaught === 1 ? v : undefined;
        },
        { timeoutMs: 15_000 },
      );
      expect(view).toMatchObject({ checked: 3, verified: 2, failed: 1, quarantined: 1 });
    } finally {
      await fleet.stop();
      rmSync(stateRoot, { recursive: true, force: true });
    }
  });
});
