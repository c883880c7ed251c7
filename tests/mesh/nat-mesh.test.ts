import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ClusterView, findHardwareProfile } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { runCommand } from "../../apps/cli/src/jobs/sandbox/exec.js";
import { buildJobImage } from "../../apps/cli/src/jobs/sandbox/job-image.js";
import { podmanMissing } from "../../apps/cli/src/jobs/sandbox/podman-fixture.js";
import { enrollDevice } from "../../apps/cli/src/worker/enroll.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { freePort, startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  call,
  enrollmentCode,
  PROOF_AT_REST,
  userWithKey,
  vouchForDevice,
} from "../../apps/server/src/testing/worker-fixture.js";
import { runBin } from "../cli/run-bin.js";
import { type NatLab, type NatSite, natLabMissing, openNatLab } from "./nat-lab.js";

const IGNIS = fileURLToPath(new URL("../../apps/cli/bin/ignis.js", import.meta.url));
const PROFILE = "sim-cpu";
const MODEL = findHardwareProfile(PROFILE)!.model;

// Opening the database shares two cores with podman, nebula and three workers here: give the hooks room, and
// each test more than its longest wait (`until`, 90 s), so that a wait that fails says why (the workers' logs)
// instead of being cut off by the test's own timeout.
vi.setConfig({ hookTimeout: 180_000, testTimeout: 120_000 });

const missing = (await natLabMissing()) ?? (await podmanMissing());
if (missing && process.env.IGNIS_TEST_REQUIRE_MESH === "1")
  throw new Error(`the NAT mesh test is required (IGNIS_TEST_REQUIRE_MESH=1): ${missing}`);
if (missing) console.warn(`skipping the NAT mesh test: ${missing}`);

/**
 * Both ranks print their rendezvous variables; rank 0 answers every dial at MASTER_PORT, rank 1 dials
 * MASTER_ADDR:MASTER_PORT until it has rank 0's greeting. Then both stay up for the checks that follow.
 */
const SCRIPT = `
echo "env rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK master=$MASTER_ADDR:$MASTER_PORT mesh=$IGNIS_MESH_ADDR peers=$IGNIS_PEERS"
if [ "$RANK" = 0 ]; then
  while true; do
    echo hello-from-rank0 | nc -l -p "$MASTER_PORT" > /work/in
    echo "rank0 got: $(cat /work/in)"
  done
else
  until echo hello-from-rank1 | nc -w 3 "$MASTER_ADDR" "$MASTER_PORT" > /work/in && [ -s /work/in ]; do sleep 1; done
  echo "rank1 got: $(cat /work/in)"
  sleep 600
fi
`;

/** A job on a device outside the cluster, on an overlay of its own, dialling the cluster's head. */
const OUTSIDER = `
if echo from-outsider | nc -w 3 "$TARGET_ADDR" "$TARGET_PORT" > /work/in && [ -s /work/in ]; then
  echo "outsider reached: $(cat /work/in)"
else
  echo "outsider blocked (on $IGNIS_MESH_ADDR)"
fi
sleep 600
`;

/** Nebula processes whose config lies under one of these state folders (the workers' overlay nodes). */
function nebulaUnder(stateDirs: string[]): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (argv[0]?.endsWith("nebula") && stateDirs.some((d) => argv.some((a) => a.startsWith(d))))
        pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

// The end-to-end check of cluster networking: two sites, each behind its own NAT with no inbound port,
// each running a real `ignis worker run` whose jobs are podman containers. A 2-rank cluster gets a Nebula
// overlay from the control plane; its ranks meet at MASTER_ADDR:MASTER_PORT across both NATs over a punched
// (direct) path; `ignis clusters ssh` reaches rank 1; a device outside the cluster cannot reach it; and the
// overlay is gone when the cluster ends.
describeEachDialect("a cluster's private overlay across two NATs", (database) => {
  let lab: NatLab;
  let t: TestServer;
  let customerKey = "";
  let supplierKey = "";
  const image = `localhost/ignis-mesh-test:${process.pid}`;
  const sites: { site: NatSite; stateDir: string; deviceId: string; worker: ChildProcess; log: string[] }[] =
    [];
  let cluster: ClusterView;
  let masterPort = 0;

  /**
   * Every change of a device's status or verification, and every gap of over 2 s between its last-seen times, as
   * sampled every 100 ms: a refused rental prints it, since a device can leave `online` and come back between
   * the ranking and the diagnostic read.
   */
  const timeline: string[] = [];
  let sampling: NodeJS.Timeout | undefined;
  let sampled = true;
  const sample = async () => {
    const last = new Map<string, { status: string; verification: string; seen: number }>();
    const started = Date.now();
    const tick = async () => {
      const rows = await t.server.ctx.db
        .selectFrom("devices")
        .select(["id", "status", "verification", "last_seen_at"])
        .execute()
        .catch(() => []);
      const at = ((Date.now() - started) / 1000).toFixed(1);
      for (const r of rows) {
        const seen = r.last_seen_at ? new Date(r.last_seen_at).getTime() : 0;
        const was = last.get(r.id);
        if (!was || was.status !== r.status || was.verification !== r.verification)
          timeline.push(`${at}s ${r.id} ${r.status}/${r.verification}`);
        else if (seen - was.seen > 2000) timeline.push(`${at}s ${r.id} seen after ${seen - was.seen} ms`);
        last.set(r.id, { status: r.status, verification: r.verification, seen });
      }
      if (sampled) sampling = setTimeout(() => void tick(), 100);
    };
    await tick();
  };

  /** Everything the workers said, for a failure's message. */
  const workerLogs = (tail = 6000) =>
    sites.map((s, i) => `--- worker ${i} (${s.deviceId})\n${s.log.join("").slice(-tail)}`).join("\n");
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000) => {
    try {
      return await waitFor(what, probe, { timeoutMs, everyMs: 250 });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${workerLogs()}`);
    }
  };
  const logsOf = async (id: string) =>
    (
      await call<{ items: { rank: number; data: string }[] }>(
        t,
        "GET",
        `/v1/clusters/${id}/logs?limit=1000`,
        customerKey,
      )
    ).body.items;
  const outputOf = async (id: string, rank: number) =>
    (await logsOf(id))
      .filter((l) => l.rank === rank)
      .map((l) => l.data)
      .join("");

  /** Enrolls a device in a new site and starts `ignis worker run` in the site's LAN namespace. */
  const addWorker = async () => {
    const site = await lab.addSite();
    const stateDir = mkdtempSync(join(tmpdir(), "ignis-mesh-worker-"));
    const { deviceId } = await enrollDevice({
      server: `http://${lab.serverIp}:${new URL(t.url).port}`,
      code: await enrollmentCode(t, supplierKey),
      stateDir,
      profile: PROFILE,
    });
    // nsenter, not `ip netns exec`: the latter remounts /sys, and podman then finds no cgroups.
    const worker = spawn(
      "nsenter",
      [
        `--net=/run/netns/${site.netns}`,
        "--",
        process.execPath,
        IGNIS,
        "worker",
        "run",
        "--state",
        stateDir,
        "--job-image",
        image,
        "--runtime",
        "runc",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const log: string[] = [];
    worker.stdout!.on("data", (b: Buffer) => log.push(b.toString()));
    worker.stderr!.on("data", (b: Buffer) => log.push(b.toString()));
    sites.push({ site, stateDir, deviceId, worker, log });
    return sites.at(-1)!;
  };

  /** Waits until the device reported it can join overlays, then vouches for it (this suite is not about proofs). */
  const ready = async (deviceId: string) => {
    await until(`device ${deviceId} to report the overlay capability`, async () => {
      const row = await t.server.ctx.db
        .selectFrom("devices")
        .select(["hardware", "status"])
        .where("id", "=", deviceId)
        .executeTakeFirst();
      const mesh = (row?.hardware as { mesh?: { kind: string } } | undefined)?.mesh;
      return row?.status === "online" && mesh?.kind === "nebula" ? true : undefined;
    });
    await vouchForDevice(t, deviceId);
  };

  const rent = async (count: number, script: string, env: Record<string, string> = {}) => {
    const res = await call<ClusterView>(t, "POST", "/v1/clusters", customerKey, {
      gpuModel: MODEL,
      count,
      hours: 1,
      job: { command: "sh", args: ["-c", script], env },
    });
    if (res.status !== 201) {
      // What the market saw of every device, for the run that went wrong.
      const rows = await t.server.ctx.db
        .selectFrom("devices")
        .select(["id", "status", "verification", "last_seen_at", "gpu_model", "hardware"])
        .execute();
      const seen = rows.map((r) => ({
        id: r.id,
        status: r.status,
        verification: r.verification,
        seenMsAgo: r.last_seen_at ? Date.now() - new Date(r.last_seen_at).getTime() : null,
        sandbox: (r.hardware as { sandbox?: unknown } | null)?.sandbox ?? null,
      }));
      expect.fail(
        `${JSON.stringify(res.body)}\ndevices: ${JSON.stringify(seen)}\ntimeline:\n${timeline.join("\n")}\n${workerLogs()}`,
      );
    }
    return until(`cluster ${res.body.id} to run`, async () => {
      const c = await call<ClusterView>(t, "GET", `/v1/clusters/${res.body.id}`, customerKey);
      return c.body.devices.length === count && c.body.devices.every((d) => d.state === "running")
        ? c.body
        : undefined;
    });
  };

  beforeAll(async () => {
    if (missing) return;
    lab = await openNatLab();
    const port = await freePort();
    const started = await startTestServer({
      database: database(),
      env: {
        IGNIS_HOST: "0.0.0.0",
        IGNIS_PORT: String(port),
        // What the workers dial; the lighthouse is found at this URL's host on default settings.
        IGNIS_PUBLIC_URL: `http://${lab.serverIp}:${port}`,
        IGNIS_MESH: "on",
        IGNIS_MESH_PORT: "0",
        IGNIS_HEARTBEAT_SECONDS: "1",
        IGNIS_UPTIME_FLUSH_SECONDS: "1",
        // No second challenge during the test: a retry of a late one could quarantine a device mid-cluster.
        ...PROOF_AT_REST,
        ...(process.env.IGNIS_TEST_MESH_LOG_LEVEL
          ? { IGNIS_LOG_LEVEL: process.env.IGNIS_TEST_MESH_LOG_LEVEL }
          : {}),
      },
    });
    // The server listens on every address at the chosen port; the test itself talks to it over loopback.
    t = { ...started, url: `http://127.0.0.1:${port}` };
    supplierKey = (await userWithKey(t, ["supplier"])).key;
    const customer = await userWithKey(t, ["customer"]);
    customerKey = customer.key;
    await call(t, "POST", "/v1/admin/credits", t.adminKey, { userId: customer.userId, amount: "100000000" });
    await sample();
    await buildJobImage({ engine: { bin: "podman" }, tag: image });
    const [a, b] = [await addWorker(), await addWorker()];
    await ready(a.deviceId);
    await ready(b.deviceId);
    cluster = await rent(2, SCRIPT);
  }, 300_000);

  afterAll(async () => {
    if (missing) return;
    // IGNIS_TEST_MESH_LOGS=FILE keeps what the workers said, for debugging a run that went wrong.
    if (process.env.IGNIS_TEST_MESH_LOGS)
      writeFileSync(process.env.IGNIS_TEST_MESH_LOGS, workerLogs(Infinity));
    sampled = false;
    clearTimeout(sampling);
    for (const s of sites) s.worker.kill("SIGTERM");
    await Promise.all(
      sites.map(
        (s) =>
          s.worker.exitCode !== null ||
          new Promise((resolve) => {
            s.worker.once("exit", resolve);
            setTimeout(() => s.worker.kill("SIGKILL"), 20_000).unref();
          }),
      ),
    );
    await t?.stop();
    await lab?.close();
    await runCommand("podman", ["rmi", "--force", image]);
    for (const s of sites) rmSync(s.stateDir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(missing !== null)("gives every rank the rendezvous variables of the overlay", async () => {
    const network = await call<{ peers: { rank: number; meshAddr: string }[] }>(
      t,
      "GET",
      `/v1/clusters/${cluster.id}/network`,
      customerKey,
    );
    const [head, other] = network.body.peers.map((p) => p.meshAddr);
    for (const rank of [0, 1]) {
      const out = await until(`rank ${rank}'s variables`, async () => {
        const text = await outputOf(cluster.id, rank);
        return text.includes("env rank=") ? text : undefined;
      });
      const line = /env rank=.*/.exec(out)![0];
      masterPort = Number(/master=[^:]*:(\d+)/.exec(line)?.[1]);
      expect(masterPort).toBeGreaterThan(0);
      expect(line).toBe(
        `env rank=${rank} world=2 local=0 master=${head}:${masterPort} mesh=${rank === 0 ? head : other} peers=${head},${other}`,
      );
    }
  });

  it.skipIf(missing !== null)(
    "publishes no port of rank 0 on its device: the ranks meet on the overlay",
    async () => {
      const head = cluster.devices.find((d) => d.rank === 0)!;
      const ports = await runCommand("podman", [
        "inspect",
        "--format",
        "{{json .HostConfig.PortBindings}}",
        `ignis-${head.jobId}`,
      ]);
      expect(ports.code, ports.stderr).toBe(0);
      expect(ports.stdout.trim()).toMatch(/^(\{\}|null)$/);
    },
  );

  it.skipIf(missing !== null)("lets rank 1 reach MASTER_ADDR:MASTER_PORT across both NATs", async () => {
    await until("the ranks to exchange greetings", async () => {
      const [zero, one] = [await outputOf(cluster.id, 0), await outputOf(cluster.id, 1)];
      return zero.includes("rank0 got: hello-from-rank1") && one.includes("rank1 got: hello-from-rank0")
        ? true
        : undefined;
    });
  });

  it.skipIf(missing !== null)("reports both directions as direct paths", async () => {
    const matrix = await until("the measured links", async () => {
      const res = await call<{ matrix: { from: number; to: number; path: string; rttMs: number }[] }>(
        t,
        "GET",
        `/v1/clusters/${cluster.id}/network`,
        customerKey,
      );
      const m = res.body.matrix;
      return m.some((l) => l.from === 0 && l.to === 1) && m.some((l) => l.from === 1 && l.to === 0)
        ? m
        : undefined;
    });
    expect(matrix.filter((l) => l.from !== l.to).map((l) => [l.from, l.to, l.path])).toEqual(
      expect.arrayContaining([
        [0, 1, "direct"],
        [1, 0, "direct"],
      ]),
    );
  });

  it.skipIf(missing !== null)("runs a command on rank 1 through `ignis clusters ssh`", async () => {
    const run = await runBin(
      "apps/cli/bin/ignis.js",
      ["clusters", "ssh", cluster.id, "--rank", "1", "--", "sh", "-c", 'echo "on $IGNIS_MESH_ADDR"; exit 4'],
      { env: { IGNIS_SERVER: t.url, IGNIS_API_KEY: customerKey }, stdin: "" },
    );
    const network = await call<{ peers: { meshAddr: string }[] }>(
      t,
      "GET",
      `/v1/clusters/${cluster.id}/network`,
      customerKey,
    );
    expect(run).toMatchObject({ code: 4, stdout: `on ${network.body.peers[1]!.meshAddr}\n` });
  });

  it.skipIf(missing !== null)(
    "keeps a device outside the cluster off the overlay",
    async () => {
      const network = await call<{ peers: { meshAddr: string }[] }>(
        t,
        "GET",
        `/v1/clusters/${cluster.id}/network`,
        customerKey,
      );
      const outsider = await addWorker();
      await ready(outsider.deviceId);
      const other = await rent(1, OUTSIDER, {
        TARGET_ADDR: network.body.peers[0]!.meshAddr,
        TARGET_PORT: String(masterPort),
      });
      const said = await until("the outsider's verdict", async () => {
        const text = await outputOf(other.id, 0);
        return /outsider (reached|blocked)/.test(text) ? text : undefined;
      });
      expect(said).toContain("outsider blocked (on 10.");
      // Nor does the host of a rank reach the overlay outside its job: rank 1's link probe listens on its overlay
      // address, and rank 0's device (the site's namespace, where nebula runs) has no way to it.
      const fromHost = await sites[0]!.site.exec(
        ["busybox", "nc", "-w", "3", network.body.peers[1]!.meshAddr, String(masterPort + 1)],
        20_000,
      );
      expect(fromHost.code).not.toBe(0);
      expect(await outputOf(cluster.id, 0)).not.toContain("from-outsider");
      await call(t, "POST", `/v1/clusters/${other.id}/cancel`, customerKey);
    },
    240_000,
  );

  it.skipIf(missing !== null)("takes the overlay down when the cluster ends", async () => {
    const dirs = sites.slice(0, 2).map((s) => s.stateDir);
    expect(nebulaUnder(dirs).length).toBeGreaterThan(0);
    const cancelled = await call(t, "POST", `/v1/clusters/${cluster.id}/cancel`, customerKey);
    expect(cancelled.status).toBe(200);
    await until("the overlay nodes to stop", async () => (nebulaUnder(dirs).length === 0 ? true : undefined));
    for (const { site } of sites.slice(0, 2)) {
      const links = await site.exec(["ip", "-o", "link"]);
      expect(links.stdout).not.toMatch(/ignm[0-9a-f]{10}/);
    }
  });
});
