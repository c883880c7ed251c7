import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { ClusterView } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tarOf } from "../../apps/cli/src/jobs/tar-pack.js";
import { enrollDevice } from "../../apps/cli/src/worker/enroll.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import { balanceOf, ledgerImbalance } from "../../apps/server/src/ledger/balances.js";
import { chargeFor, feeOn } from "../../apps/server/src/market/billing.js";
import { marketAccounts } from "../../apps/server/src/market/escrow.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { PROOF_AT_REST, vouchForDevice } from "../../apps/server/src/testing/worker-fixture.js";
import { RENDEZVOUS_SCRIPT } from "./rendezvous-job.js";

const PRICE = 1_200_000n; // per GPU-hour: 20,000 per one-second billing minute
const CREDIT = 50_000_000n;
const STEP_MS = 90_000;

// The whole path with simulated workers: enrollment, sessions, job dispatch, subprocess jobs, logs, metering,
// settlement, a device killed mid-job, and cancellation. One billing minute is one second here
// (IGNIS_EPOCH_SECONDS=60), so a rental runs in seconds.
describeEachDialect("renting a cluster of simulated devices", (database) => {
  let t: TestServer;
  const dirs: string[] = [];
  const workers = new Map<string, WorkerHandle>();
  let customerKey = "";
  let customerId = "";
  let supplierId = "";

  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const user = async (email: string, roles: string[]) => {
    const created = await call("POST", "/v1/admin/users", t.adminKey, { email, roles });
    const id = created.body.id as string;
    const key = (await call("POST", `/v1/admin/users/${id}/api-keys`, t.adminKey, { name: "e2e" })).body
      .key as string;
    return { id, key };
  };
  const cluster = async (id: string) =>
    (await call("GET", `/v1/clusters/${id}`, customerKey)).body as unknown as ClusterView;
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    waitFor(what, probe, { timeoutMs: 60_000, everyMs: 200 });
  const logsOf = async (id: string) => {
    const page = (await call("GET", `/v1/clusters/${id}/logs?limit=1000`, customerKey)).body as {
      items: { rank: number; jobId: string; data: string }[];
    };
    return page.items;
  };

  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: {
        IGNIS_HEARTBEAT_SECONDS: "0.5",
        IGNIS_EPOCH_SECONDS: "60",
        IGNIS_UPTIME_FLUSH_SECONDS: "0.5",
        ...PROOF_AT_REST,
      },
    });
    const supplier = await user("supplier@example.com", ["supplier"]);
    const customer = await user("customer@example.com", ["customer"]);
    supplierId = supplier.id;
    customerId = customer.id;
    customerKey = customer.key;
    for (let i = 0; i < 4; i++) {
      const { code } = (await call("POST", "/v1/enrollment-codes", supplier.key, {})).body as {
        code: string;
      };
      const stateDir = mkdtempSync(join(tmpdir(), "ignis-e2e-worker-"));
      dirs.push(stateDir);
      const { deviceId } = await enrollDevice({ server: t.url, code, stateDir, profile: "sim-a100" });
      const worker = startWorker({ stateDir });
      await worker.connected;
      workers.set(deviceId, worker);
      // The proof-of-GPU module verifies devices; this suite is about renting them, so it starts verified.
      await vouchForDevice(t, deviceId);
      // Simulated profiles default to price 0: the supplier sets a price, as a real one would.
      const price = await call("PUT", `/v1/devices/${deviceId}/price`, supplier.key, {
        minPricePerHour: PRICE.toString(),
      });
      expect(price.body.effectivePricePerHour).toBe(PRICE.toString());
    }
    const grant = await call("POST", "/v1/admin/credits", t.adminKey, {
      userId: customerId,
      amount: CREDIT.toString(),
    });
    expect(grant).toMatchObject({ status: 201, body: { balance: CREDIT.toString() } });
  }, STEP_MS);

  afterAll(async () => {
    await Promise.all([...workers.values()].map((w) => w.stop()));
    await t.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(
    "runs a three-rank job that meets at the head, shows its logs, and settles exactly what was metered",
    async () => {
      const archive = gzipSync(tarOf([{ path: "rendezvous.js", data: RENDEZVOUS_SCRIPT }])).toString(
        "base64",
      );
      const created = await call("POST", "/v1/clusters", customerKey, {
        gpuModel: "sim-a100",
        count: 3,
        hours: 1,
        job: { command: "node", args: ["rendezvous.js"], env: { GREETING: "hello" }, archive },
      });
      expect(created).toMatchObject({
        status: 201,
        body: { status: "pending", count: 3, escrow: { held: (PRICE * 3n).toString() } },
      });
      const id = created.body.id as string;
      const done = await until("the cluster to complete", async () => {
        const c = await cluster(id);
        return c.status === "completed" || c.status === "failed" ? c : undefined;
      });
      expect(done.status).toBe("completed");
      expect(done.devices.map((d) => [d.rank, d.state, d.exitCode])).toEqual([
        [0, "exited", 0],
        [1, "exited", 0],
        [2, "exited", 0],
      ]);
      const text = (await logsOf(id)).map((l) => `[${l.rank}] ${l.data}`).join("");
      for (const rank of [0, 1, 2]) expect(text).toContain(`[${rank}] rank ${rank} of 3 in ${id}`);
      expect(text).toContain("head saw ranks 0,1,2");

      // Each rank is charged floor(price × minutes / 60); the supplier gets the charge less the 10% fee.
      const charges = done.devices.map((d) => chargeFor(PRICE, d.meteredMinutes));
      expect(done.devices.every((d) => d.meteredMinutes >= 1)).toBe(true);
      expect(done.devices.map((d) => d.charged)).toEqual(charges.map(String));
      const charged = charges.reduce((a, b) => a + b, 0n);
      const fees = charges.reduce((a, c) => a + feeOn(c, 1000), 0n);
      expect(done.escrow).toEqual({
        held: "3600000",
        charged: charged.toString(),
        refunded: (3_600_000n - charged).toString(),
        remaining: "0",
      });
      const db = t.server.ctx.db;
      expect(await balanceOf(db, marketAccounts.customer(customerId))).toBe(CREDIT - charged);
      expect(await balanceOf(db, marketAccounts.supplier(supplierId))).toBe(charged - fees);
      expect(await balanceOf(db, marketAccounts.escrow(id))).toBe(0n);
      expect(await ledgerImbalance(db)).toBe(0n);
    },
    STEP_MS,
  );

  it(
    "replaces a device killed mid-job with the free one, then cancels and refunds the unused time",
    async () => {
      const before = await balanceOf(t.server.ctx.db, marketAccounts.customer(customerId));
      const created = await call("POST", "/v1/clusters", customerKey, {
        gpuModel: "NVIDIA A100 (simulated)",
        count: 3,
        hours: 1,
        job: {
          command: "node",
          args: ["-e", "console.log('rank', process.env.IGNIS_RANK, 'up'); setInterval(() => {}, 1000)"],
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const running = await until("every rank to run", async () => {
        const c = await cluster(id);
        return c.status === "running" ? c : undefined;
      });
      const victim = running.devices.find((d) => d.rank === 1)!;
      await workers.get(victim.deviceId)!.stop();
      workers.delete(victim.deviceId);
      // A timeout shows the ranks as last seen (state, error), so a missing replacement says why.
      const ranks = async () => {
        const c = await cluster(id);
        return {
          status: c.status,
          ranks: c.devices.map(({ rank, state, replaces, error }) => ({ rank, state, replaces, error })),
        };
      };
      await waitFor("rank 1 to be replaced", ranks, {
        timeoutMs: 60_000,
        everyMs: 200,
        until: (seen) => seen.ranks.some((d) => d.replaces === victim.jobId && d.state === "running"),
      });
      const replaced = await cluster(id);
      const lost = replaced.devices.find((d) => d.jobId === victim.jobId)!;
      expect(lost).toMatchObject({ rank: 1, state: "lost" });
      const fresh = replaced.devices.find((d) => d.replaces === victim.jobId)!;
      expect(fresh.rank).toBe(1);
      expect(fresh.deviceId).not.toBe(victim.deviceId);
      await until("the replacement's output", async () =>
        (await logsOf(id)).some((l) => l.jobId === fresh.jobId && l.data.includes("rank 1 up"))
          ? true
          : undefined,
      );

      const cancelled = await call("POST", `/v1/clusters/${id}/cancel`, customerKey);
      expect(cancelled).toMatchObject({ status: 200, body: { status: "cancelled" } });
      const view = cancelled.body as unknown as ClusterView;
      expect(
        view.devices
          .filter((d) => d.state === "stopped")
          .map((d) => d.rank)
          .sort(),
      ).toEqual([0, 1, 2]);
      const charged = BigInt(view.escrow.charged);
      expect(charged).toBe(view.devices.reduce((a, d) => a + BigInt(d.charged), 0n));
      expect(BigInt(view.escrow.refunded)).toBe(3_600_000n - charged);
      expect(await balanceOf(t.server.ctx.db, marketAccounts.customer(customerId))).toBe(before - charged);
      expect(await balanceOf(t.server.ctx.db, marketAccounts.escrow(id))).toBe(0n);
      // The devices still connected return to the pool.
      await until("the devices to be free again", async () => {
        const rows = await t.server.ctx.db
          .selectFrom("devices")
          .select("status")
          .where("id", "in", [...workers.keys()])
          .execute();
        return rows.every((r) => r.status === "online") ? true : undefined;
      });
    },
    STEP_MS,
  );

  it(
    "works from the CLI: admin credits, create with progress until the ranks run, follow the logs, list",
    async () => {
      const ignis = (...args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            ["apps/cli/bin/ignis.js", ...args],
            { env: { ...process.env, IGNIS_SERVER: t.url }, timeout: 60_000 },
            (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
          );
        });
      const granted = await ignis(
        "admin",
        "credits",
        "grant",
        "--api-key",
        t.adminKey,
        "--user",
        customerId,
        "--amount",
        "1",
      );
      expect(granted.stdout).toContain(`granted 1 credits to ${customerId}; balance `);
      const created = await ignis(
        "clusters",
        "create",
        "--api-key",
        customerKey,
        "--model",
        "sim-a100",
        "--count",
        "2",
        "--hours",
        "1",
        "--env",
        "WHO=cli",
        "--",
        "node",
        "-e",
        "console.log('rank', process.env.IGNIS_RANK, process.env.WHO)",
      );
      expect(created.code).toBe(0);
      const id = created.stdout.trim().split("\n").at(-1)!;
      expect(id).toMatch(/^cls_[a-z0-9]{26}$/);
      expect(created.stderr).toContain(`${id} `);
      const logs = await ignis("clusters", "logs", id, "--follow", "--api-key", customerKey);
      expect(logs.stdout).toContain("[0] rank 0 cli");
      expect(logs.stdout).toContain("[1] rank 1 cli");
      const listed = await ignis("clusters", "ls", "--json", "--api-key", customerKey);
      const page = JSON.parse(listed.stdout) as { items: { id: string; status: string }[] };
      expect(page.items.find((c) => c.id === id)?.status).toBe("completed");

      // A rental whose rank cannot even start fails, and so does the command that asked for it.
      await ignis(
        "admin",
        "credits",
        "grant",
        "--api-key",
        t.adminKey,
        "--user",
        customerId,
        "--amount",
        "1",
      );
      const failed = await ignis(
        "clusters",
        "create",
        "--api-key",
        customerKey,
        "--model",
        "sim-a100",
        "--hours",
        "1",
        "--",
        "/nonexistent/ignis-test-command",
      );
      expect(failed.code, failed.stderr).toBe(1);
      const failedId = failed.stdout.trim().split("\n").at(-1)!;
      expect(failed.stderr).toContain(
        `cluster ${failedId} failed; see why with: ignis clusters show ${failedId}`,
      );
    },
    STEP_MS,
  );
});
