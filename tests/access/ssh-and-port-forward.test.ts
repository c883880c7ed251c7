import { execFile, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import type { ClusterView, StreamWorkerMessage } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openAccessSocket } from "../../apps/cli/src/access/access-socket.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { freePort, startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  PROOF_AT_REST,
  startTestWorker,
  type TestWorker,
  userWithKey,
  vouchForDevice,
} from "../../apps/server/src/testing/worker-fixture.js";

const IGNIS = fileURLToPath(new URL("../../apps/cli/bin/ignis.js", import.meta.url));

/** Runs the real CLI; resolves with its exit code and output. */
function ignis(
  args: string[],
  env: Record<string, string>,
  stdin = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [IGNIS, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

// Getting into a rented job through the control plane, with simulated devices (their jobs are subprocesses, so the
// job's port is a port of this machine): the CLI's ssh and port-forward against a real server and real workers,
// and every refusal — another customer, the supplier, an admin, a bad rank, a bad port, an ended cluster.
describeEachDialect("getting into a rented job", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  let customer: { userId: string; key: string };
  let stranger: { userId: string; key: string };
  const workers: TestWorker[] = [];
  let cluster: ClusterView;
  let jobPort = 0;

  const until = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false) =>
    waitFor(what, probe, { timeoutMs: 30_000, everyMs: 100 });
  const audits = (action: string) =>
    t.server.ctx.db
      .selectFrom("audit_log")
      .select(["outcome", "actor_id", "object_id", "details"])
      .where("action", "=", action)
      .orderBy("seq", "asc")
      .execute();

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
    supplier = await userWithKey(t, ["supplier"]);
    customer = await userWithKey(t, ["customer"]);
    stranger = await userWithKey(t, ["customer"]);
    await call(t, "POST", "/v1/admin/credits", t.adminKey, { userId: customer.userId, amount: "100000000" });
    for (let i = 0; i < 2; i++) {
      const w = await startTestWorker(t, supplier.key);
      workers.push(w);
      await vouchForDevice(t, w.deviceId);
    }
    jobPort = await freePort();
    // Rank 1 serves one line on JOB_PORT; both ranks stay up until the cluster is cancelled.
    const script =
      "if (process.env.IGNIS_RANK === '1') require('net').createServer((s) => s.end('served by rank 1\\n')).listen(Number(process.env.JOB_PORT), '127.0.0.1'); setInterval(() => {}, 1000);";
    const created = await until("the cluster to be created", async () => {
      const res = await call<ClusterView>(t, "POST", "/v1/clusters", customer.key, {
        gpuModel: "sim-a100",
        count: 2,
        hours: 1,
        job: { command: "node", args: ["-e", script], env: { JOB_PORT: String(jobPort) } },
      });
      return res.status === 201 ? res.body : undefined;
    });
    cluster = await until("both ranks to run", async () => {
      const c = await call<ClusterView>(t, "GET", `/v1/clusters/${created.id}`, customer.key);
      return c.body.status === "running" && c.body.devices.every((d) => d.state === "running")
        ? c.body
        : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await w.handle.stop();
    await t?.stop();
    cleanupStateDirs();
  });

  const env = (key: string) => ({ IGNIS_SERVER: t.url, IGNIS_API_KEY: key });

  it("runs a command on rank 1 with the customer's stdin, and exits with the command's code", async () => {
    const run = await ignis(
      [
        "clusters",
        "ssh",
        cluster.id,
        "--rank",
        "1",
        "--",
        "sh",
        "-c",
        'echo hi; read x; echo "got $x rank $IGNIS_RANK" >&2; exit 3',
      ],
      env(customer.key),
      "abc\n",
    );
    expect(run).toMatchObject({ code: 3, stdout: "hi\n", stderr: "got abc rank 1\n" });
    const closed = await until("the session's closing audit record", async () => {
      const rows = await audits("cluster.access.close");
      return rows.length > 0 ? rows : undefined;
    });
    expect(closed[0]).toMatchObject({ outcome: "ok", actor_id: customer.userId, object_id: cluster.id });
    expect(closed[0]!.details).toMatchObject({ rank: 1, kind: "exec", exitCode: 3, bytesIn: 4 });
    const opened = await audits("cluster.access.open");
    expect(opened[0]).toMatchObject({ outcome: "ok", actor_id: customer.userId });
    expect(opened[0]!.details).toMatchObject({ rank: 1, kind: "exec", argv0: "sh" });
  });

  it("forwards a local port to the port rank 1 listens on", async () => {
    const forward = spawn(
      process.execPath,
      [IGNIS, "clusters", "port-forward", cluster.id, "--rank", "1", `0:${jobPort}`],
      {
        env: { ...process.env, ...env(customer.key) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      let out = "";
      forward.stdout.on("data", (b: Buffer) => (out += b.toString()));
      const localPort = await until("the forward to listen", async () => {
        const m = /^(\d+)$/m.exec(out);
        return m ? Number(m[1]) : undefined;
      });
      const answer = await new Promise<string>((resolve, reject) => {
        let text = "";
        const socket = createConnection({ host: "127.0.0.1", port: localPort });
        socket.on("data", (b) => (text += b.toString()));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
      expect(answer).toBe("served by rank 1\n");
    } finally {
      forward.kill("SIGTERM");
    }
  });

  it("refuses anyone but the cluster's customer before anything opens, and audits it", async () => {
    const path = `/v1/clusters/${cluster.id}/ranks/0/exec`;
    for (const [who, key] of [
      ["another customer", stranger.key],
      ["the supplier", supplier.key],
      ["an admin", t.adminKey],
    ] as const) {
      const res = await call<{ code: string }>(t, "GET", path, key);
      expect([who, res.status, res.body.code]).toEqual([who, 404, "not_found"]);
    }
    expect((await call(t, "GET", path)).status).toBe(401);
    // Through the CLI and a real WebSocket upgrade: refused with the code, no session opened.
    const before = (await audits("cluster.access.open")).length;
    const run = await ignis(["clusters", "ssh", cluster.id, "--", "true"], env(stranger.key));
    expect(run.code).toBe(255);
    expect(run.stderr).toContain("not_found");
    expect(await audits("cluster.access.open")).toHaveLength(before);
    const refused = await until("the refusals' audit records", async () => {
      const rows = (await audits("cluster.access")).filter((r) => r.outcome === "refused:not_found");
      return rows.length >= 4 ? rows : undefined;
    });
    expect(refused.map((r) => r.actor_id)).toEqual(
      expect.arrayContaining([stranger.userId, supplier.userId]),
    );
  });

  it("answers a bad rank and a bad port with their codes", async () => {
    const base = `/v1/clusters/${cluster.id}/ranks`;
    const cases: Array<[string, number, string]> = [
      [`${base}/2/exec`, 400, "rank_out_of_range"],
      [`${base}/-1/exec`, 400, "rank_out_of_range"],
      [`${base}/1/forward?port=0`, 400, "invalid_port"],
      [`${base}/1/forward?port=65536`, 400, "invalid_port"],
      [`${base}/1/forward?port=http`, 400, "invalid_port"],
      [`${base}/1/forward?port=8888`, 426, "upgrade_required"],
    ];
    for (const [path, status, code] of cases) {
      const res = await call<{ code: string }>(t, "GET", path, customer.key);
      expect([path, res.status, res.body.code]).toEqual([path, status, code]);
    }
    const run = await ignis(
      ["clusters", "port-forward", cluster.id, "--rank", "1", "0:70000"],
      env(customer.key),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("invalid_port");
    expect((await audits("cluster.access")).map((r) => r.outcome)).toEqual(
      expect.arrayContaining(["refused:rank_out_of_range", "refused:invalid_port"]),
    );
  });

  it("ignores a device that speaks on another device's stream, and a worker refuses a job it did not start", async () => {
    const rank1 = cluster.devices.find((d) => d.rank === 1)!;
    const other = workers.find((w) => w.deviceId !== rank1.deviceId)!;
    const socket = openAccessSocket(t.url, `v1/clusters/${cluster.id}/ranks/1/exec?argv=cat`, customer.key);
    let out = "";
    socket.onData((_fd, b) => (out += b.toString()));
    expect(await socket.opened).toBe(true);
    const streamId = await until("the session to open", async () => {
      const rows = await audits("cluster.access.open");
      const last = rows.at(-1)?.details as { streamId?: string; argv0?: string } | undefined;
      return last?.argv0 === "cat" ? last.streamId : undefined;
    });
    await socket.write(Buffer.from("mine\n"));
    await until("cat's echo", () => out === "mine\n");
    // The other device forges output and an exit on the customer's stream: nothing of it arrives.
    const forged: StreamWorkerMessage[] = [
      { type: "stream.data", streamId, data: Buffer.from("forged\n").toString("base64") },
      { type: "stream.close", streamId, exitCode: 0 },
    ];
    for (const m of forged) expect(other.handle.send(m)).toBe(true);
    socket.eof();
    expect(await socket.ended).toEqual({ exitCode: 0 });
    expect(out).toBe("mine\n");

    // The server names a job of another cluster: the worker opens nothing and says why.
    const refusals: string[] = [];
    t.server.ctx.gateway.onMessage("stream.close", (_s, m) => void (m.code && refusals.push(m.code)));
    await t.server.ctx.gateway.send(rank1.deviceId, {
      type: "stream.open",
      streamId: "A".repeat(22),
      clusterId: `cls_${"z".repeat(26)}`,
      jobId: rank1.jobId,
      kind: "exec",
      argv: ["true"],
    });
    await until("the worker's refusal", () => refusals.includes("job_not_running"));
  });

  it("refuses a session into a cluster that is no longer running", async () => {
    const cancelled = await call(t, "POST", `/v1/clusters/${cluster.id}/cancel`, customer.key);
    expect(cancelled.status).toBe(200);
    const res = await call<{ code: string }>(
      t,
      "GET",
      `/v1/clusters/${cluster.id}/ranks/0/exec`,
      customer.key,
    );
    expect([res.status, res.body.code]).toEqual([409, "cluster_not_running"]);
    const run = await ignis(["clusters", "ssh", cluster.id, "--", "true"], env(customer.key));
    expect(run.code).toBe(255);
    expect(run.stderr).toContain("cluster_not_running");
  });
});
