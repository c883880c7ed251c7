import { afterAll, beforeAll, expect, it } from "vitest";
import { insertDevice } from "../../apps/server/src/rewards/reward-fixtures.js";
import { earn, stakedAndSlashed } from "../../apps/server/src/stakes/stake-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { userWithKey } from "../../apps/server/src/testing/worker-fixture.js";
import { runBin } from "./run-bin.js";

const IGNIS = "apps/cli/bin/ignis.js";
const PER_GPU = 1_000_000n;
const SETTINGS = { perGpu: PER_GPU, slashBps: 1000, unbondSeconds: 7200, pendingSeconds: 0 };
/**
 * Each test runs the CLI four to six times, each a fresh Node process compiling the sources through tsx: 1–2 s
 * on a quiet machine, up to ~15 s with both cores busy (test:stress), so the default 30 s bound is too short.
 */
const CLI_STEPS_MS = 180_000;

/**
 * `ignis stakes` and `ignis slashes` against a real server: a supplier stakes from its earnings in credits (the
 * unit people see), unbonds, reads its slashes with their evidence and appeals one; bad input is a usage error
 * (exit 2) and a refusal names the server's problem code (exit 1).
 */
describeEachDialect("ignis stakes and ignis slashes", (database) => {
  let t: TestServer;
  let alice: { userId: string; key: string };
  let mallory: { userId: string; key: string };
  let device: string;
  let slashed: { deviceId: string; slashId: string; challengeId: string };

  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_STAKE_PER_GPU: String(PER_GPU), IGNIS_UNBOND_SECONDS: String(SETTINGS.unbondSeconds) },
    });
    alice = await userWithKey(t, ["supplier"]);
    mallory = await userWithKey(t, ["supplier"]);
    const db = t.server.ctx.db;
    device = await insertDevice(db, alice.userId, { profile: "sim-a100" });
    await earn(db, alice.userId, 5n * PER_GPU);
    const other = await insertDevice(db, alice.userId, { profile: "sim-a100" });
    slashed = {
      deviceId: other,
      ...(await stakedAndSlashed(db, SETTINGS, { ownerId: alice.userId, deviceId: other, amount: PER_GPU })),
    };
  });
  afterAll(() => t?.stop());

  const ignis = (args: string[], key = alice.key) =>
    runBin(IGNIS, args, { env: { IGNIS_SERVER: t.url, IGNIS_API_KEY: key } });

  it(
    "stakes in credits from the earnings balance, lists it and unbonds it",
    async () => {
      const added = await ignis(["stakes", "add", "--device", device, "--amount", "1.5"]);
      expect(added.code, added.stderr).toBe(0);
      const stakeId = added.stdout.trim().split("\n").at(-1)!;
      expect(added.stdout).toContain(`${device}  1.5 credits  bonded`);

      const listed = await ignis(["stakes", "list"]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain("earnings balance (stakes are paid from it): 3.5 credits");
      expect(listed.stdout).toContain("rule: 1 credits per GPU; a fraud-class failure slashes 10%");
      expect(listed.stdout).toContain(`${stakeId}  ${device}  1.5 credits  bonded`);

      const json = await ignis(["stakes", "list", "--json"]);
      const list = JSON.parse(json.stdout) as { items: { id: string; amount: string }[]; unit: string };
      expect(list.items.find((s) => s.id === stakeId)).toMatchObject({ amount: "1500000" });
      expect(list.unit).toBe("micro");

      const unbonded = await ignis(["stakes", "unbond", stakeId]);
      expect(unbonded.code, unbonded.stderr).toBe(0);
      expect(unbonded.stdout).toMatch(new RegExp(`^${stakeId} .* unbonding  returns \\d{4}-`));
      // Another supplier cannot unbond it: not found, as if it did not exist.
      const stolen = await ignis(["stakes", "unbond", stakeId], mallory.key);
      expect(stolen.code).toBe(1);
      expect(stolen.stderr).toContain("not_found");
    },
    CLI_STEPS_MS,
  );

  it(
    "refuses bad input as usage errors and a stake beyond the earnings with the server's code",
    async () => {
      for (const args of [
        ["stakes", "add", "--device", device, "--amount", "lots"],
        ["stakes", "add", "--device", device, "--amount", "0"],
        ["stakes", "add", "--amount", "1"],
        ["stakes", "unbond"],
        ["slashes", "appeal", slashed.slashId],
      ]) {
        const run = await ignis(args);
        expect(run.code, args.join(" ")).toBe(2);
      }
      const broke = await ignis(["stakes", "add", "--device", device, "--amount", "1000"]);
      expect(broke.code).toBe(1);
      expect(broke.stderr).toContain("insufficient_earnings");
    },
    CLI_STEPS_MS,
  );

  it(
    "lists a device's slashes with the evidence anyone can recheck, and appeals one",
    async () => {
      const listed = await ignis(["slashes", "list", "--device", slashed.deviceId]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain(`${slashed.slashId}  ${slashed.deviceId}  0.1 credits  wrong_row`);
      expect(listed.stdout).toContain(`evidence: challenge ${slashed.challengeId}, transcript sha256 `);

      const appealed = await ignis(["slashes", "appeal", slashed.slashId, "--reason", "the card was fine"]);
      expect(appealed.code, appealed.stderr).toBe(0);
      expect(appealed.stdout).toContain("appeal pending");
      const json = JSON.parse(
        (await ignis(["slashes", "list", "--device", slashed.deviceId, "--json"])).stdout,
      ) as {
        items: { id: string; appeal: { status: string } | null }[];
      };
      expect(json.items.find((s) => s.id === slashed.slashId)?.appeal?.status).toBe("pending");
      // Only the device's owner may appeal.
      const other = await ignis(["slashes", "appeal", slashed.slashId, "--reason", "mine"], mallory.key);
      expect(other.code).toBe(1);
    },
    CLI_STEPS_MS,
  );
});
