import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { REWARD_LEAF_ENCODING } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { afterAll, beforeAll, expect, it } from "vitest";
import { epochAt, epochStartMs } from "../../rewards/epoch-clock.js";
import { insertDevice, recordUptime, slots } from "../../rewards/reward-fixtures.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";
import { waitFor } from "../../testing/wait-for.js";

const EPOCH_SECONDS = 60;
const CLI = fileURLToPath(new URL("../../../../cli/bin/ignis.js", import.meta.url));
const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 30_000 });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "" };
  }
}

describeEachDialect("reward routes and ignis rewards verify", (database) => {
  let t: TestServer;
  let first: number;
  const users: Record<string, { id: string; key: string }> = {};
  const dev: Record<string, string> = {};

  const call = async <T>(path: string, key?: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${t.url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as T & { code?: string }, text: "" };
  };

  async function supplier(name: string) {
    const { body: user } = await call<{ id: string }>("/v1/admin/users", t.adminKey, {
      method: "POST",
      body: { email: `${name}@example.com`, roles: ["supplier"] },
    });
    const { body } = await call<{ key: string }>(`/v1/admin/users/${user.id}/api-keys`, t.adminKey, {
      method: "POST",
      body: { name: "test" },
    });
    users[name] = { id: user.id, key: body.key };
  }

  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: {
        IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS),
        // A heartbeat within one slot (1 s here): the server refuses timings under which no device can earn.
        IGNIS_HEARTBEAT_SECONDS: "1",
      },
    });
    const db = t.server.ctx.db;
    first = epochAt(Date.now(), EPOCH_SECONDS) - 40;
    await supplier("alice");
    await supplier("bob");
    dev.a = await insertDevice(db, users.alice!.id, { profile: "sim-h100" });
    dev.b = await insertDevice(db, users.alice!.id, { profile: "sim-a100" });
    dev.c = await insertDevice(db, users.bob!.id, { profile: "sim-a100" });
    for (let epoch = first; epoch < first + 3; epoch++) {
      await recordUptime(db, dev.a, epoch, slots(0, 60));
      await recordUptime(db, dev.b, epoch, slots(5, 55));
      await recordUptime(db, dev.c, epoch, slots(0, 30));
    }
    const weights = Object.fromEntries(t.server.ctx.rewards.knownProfiles.map((p) => [p, 1]));
    const created = await call("/v1/admin/rewards/seasons", t.adminKey, {
      method: "POST",
      body: {
        name: "past",
        startsAt: new Date(epochStartMs(first, EPOCH_SECONDS)).toISOString(),
        endsAt: new Date(epochStartMs(first + 3, EPOCH_SECONDS)).toISOString(),
        poolPerEpoch: "6000000",
        weights: { ...weights, "sim-h100": 3, "sim-a100": 2 },
        minUpMinutes: 40,
      },
    });
    expect(created.status).toBe(201);
    // The server's own scheduler may get there first; either way the three epochs end up closed.
    await waitFor("the three epochs of the season to close", async () => {
      await t.server.ctx.rewards.closeDueNow();
      const { body } = await call<{ items: unknown[] }>("/v1/rewards/epochs");
      return body.items.length === 3;
    });
  });
  afterAll(() => t.stop());

  it("lists the closed epochs newest first with root, total, devices and status, naming no owner", async () => {
    const { status, body } = await call<{ items: Record<string, unknown>[] }>("/v1/rewards/epochs");
    expect(status).toBe(200);
    expect(body.items.map((e) => e.epoch)).toEqual([first + 2, first + 1, first]);
    for (const epoch of body.items) {
      expect(epoch).toMatchObject({
        status: "closed",
        total: "6000000",
        devices: 2,
        season: { name: "past" },
      });
      expect(epoch.root).toMatch(/^0x[0-9a-f]{64}$/);
    }
    expect(JSON.stringify(body)).not.toContain(users.alice!.id);
  });

  it("times each close in the ignis_epoch_close_seconds histogram", async () => {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    const count = /ignis_epoch_close_seconds_count\{[^}]*\} (\d+)/.exec(await res.text());
    expect(Number(count?.[1])).toBe(3);
  });

  it("serves proofs that StandardMerkleTree.verify accepts, with the formula's amounts", async () => {
    // units: a = 3 × 60 = 180, b = 2 × 50 = 100 (c has 30 < 40 minutes); 6,000,000 × 180 / 280 = 3,857,142.86.
    const expected = { [dev.a!]: "3857143", [dev.b!]: "2142857" };
    const { body: epoch } = await call<{ root: string }>(`/v1/rewards/epochs/${first}`);
    for (const [deviceId, amount] of Object.entries(expected)) {
      const { status, body } = await call<{
        leaf: string[];
        leafEncoding: string[];
        proof: string[];
        root: string;
      }>(`/v1/rewards/epochs/${first}/proofs/${deviceId}`);
      expect(status).toBe(200);
      expect(body.leaf).toEqual([String(first), deviceId, amount]);
      expect(body.leafEncoding).toEqual([...REWARD_LEAF_ENCODING]);
      expect(body.root).toBe(epoch.root);
      expect(StandardMerkleTree.verify(body.root, body.leafEncoding, body.leaf, body.proof)).toBe(true);
      expect(JSON.stringify(body)).not.toContain(users.alice!.id);
    }
  });

  it("answers bad epochs and devices with problem codes, never a 500", async () => {
    const cases: [string, number, string][] = [
      ["/v1/rewards/epochs/abc", 400, "validation_failed"],
      ["/v1/rewards/epochs/-1", 400, "validation_failed"],
      ["/v1/rewards/epochs/1.5", 400, "validation_failed"],
      ["/v1/rewards/epochs/99999999999", 404, "epoch_not_found"],
      [`/v1/rewards/epochs/${first - 1}`, 404, "epoch_not_found"],
      [`/v1/rewards/epochs/${first}/proofs/dev_zzzzzzzzzzzzzzzzzzzzzzzzzz`, 404, "proof_not_found"],
      [`/v1/rewards/epochs/${first}/proofs/${dev.c}`, 404, "proof_not_found"],
      [`/v1/rewards/epochs/${first}/proofs/not-a-device`, 400, "validation_failed"],
      [`/v1/rewards/epochs/99999999999/proofs/${dev.a}`, 404, "epoch_not_found"],
    ];
    for (const [path, status, code] of cases) {
      const res = await call(path);
      expect([path, res.status, res.body.code]).toEqual([path, status, code]);
    }
  });

  it("shows the running epoch as open, and has no proof for it yet", async () => {
    const current = epochAt(Date.now(), EPOCH_SECONDS);
    const { body } = await call<{ status: string; root: null }>(`/v1/rewards/epochs/${current}`);
    expect(body).toMatchObject({ status: "open", root: null, season: { name: "genesis" } });
    const proof = await call(`/v1/rewards/epochs/${current}/proofs/${dev.a}`);
    expect([proof.status, proof.body.code]).toEqual([404, "epoch_not_closed"]);
  });

  it("shows a supplier their own earnings and balance, and nobody else's", async () => {
    const { status, body } = await call<{
      balance: string;
      devices: { deviceId: string; total: string }[];
      items: unknown[];
    }>("/v1/rewards/earnings", users.alice!.key);
    expect(status).toBe(200);
    expect(body.balance).toBe(String(3 * 6_000_000));
    expect(body.devices).toEqual([
      { deviceId: [dev.a!, dev.b!].sort()[0], total: expect.any(String), epochs: 3 },
      { deviceId: [dev.a!, dev.b!].sort()[1], total: expect.any(String), epochs: 3 },
    ]);
    expect(body.items).toHaveLength(6);
    const bob = await call<{ balance: string; items: unknown[] }>("/v1/rewards/earnings", users.bob!.key);
    expect(bob.body).toMatchObject({ balance: "0", items: [] });
    const other = await call(`/v1/rewards/earnings?deviceId=${dev.a}`, users.bob!.key);
    expect([other.status, other.body.code]).toEqual([404, "not_found"]);
    const asAdmin = await call<{ balance: string }>(
      `/v1/rewards/earnings?userId=${users.alice!.id}`,
      t.adminKey,
    );
    expect(asAdmin.body.balance).toBe("18000000");
    expect((await call(`/v1/rewards/earnings?userId=${users.alice!.id}`, users.bob!.key)).status).toBe(403);
    expect((await call("/v1/rewards/earnings")).status).toBe(401);
  });

  it("ignis rewards verify exits 0 for an honest proof and non-zero for a tampered amount; ignis rewards lists earnings", async () => {
    // Each run starts a CLI process (tsx), which takes seconds on a busy 2-core machine.
    const ok = await cli(
      "rewards",
      "verify",
      "--server",
      t.url,
      "--epoch",
      String(first),
      "--device",
      dev.a!,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("valid: device");
    const tampered = await cli(
      "rewards",
      "verify",
      "--server",
      t.url,
      "--epoch",
      String(first),
      "--device",
      dev.a!,
      "--amount",
      "3.857144",
    );
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain("INVALID");
    const absent = await cli(
      "rewards",
      "verify",
      "--server",
      t.url,
      "--epoch",
      String(first),
      "--device",
      dev.c!,
    );
    expect(absent.code).not.toBe(0);
    const earnings = await cli("rewards", "--server", t.url, "--api-key", users.alice!.key, "--json");
    expect(earnings.code).toBe(0);
    expect(JSON.parse(earnings.stdout)).toMatchObject({ balance: "18000000", total: "18000000" });
  }, 120_000);
});
