import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIgnisError, type JobStartMessage } from "@ignis/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/database.js";
import { cancelCluster } from "../market/cancel-cluster.js";
import { createCluster } from "../market/create-cluster.js";
import {
  createCustomer,
  createTestUser,
  FIXTURE_MODEL,
  insertDevices,
  type MarketHarness,
  marketHarness,
  sandboxHardware,
} from "../market/market-fixtures.js";
import { updateDeviceRows } from "../testing/device-rows.js";
import { describeEachDialect } from "../testing/dialects.js";
import { findClusterMesh } from "./cluster-mesh.js";
import { type Lighthouse, openLighthouse } from "./lighthouse.js";
import { createMeshCoordinator } from "./mesh-coordinator.js";
import { clusterNetwork, recordMeshLinks } from "./mesh-links.js";
import { hasNebulaCert, type NebulaCertTool, nebulaCertTool } from "./nebula-cert.js";

const missing = (await hasNebulaCert()) ? null : "nebula-cert is not installed (apt-get install -y nebula)";
// CI installs nebula (.ci/run) and asks for the mesh tests: there, a missing nebula is a failure, not a skip.
if (missing && process.env.IGNIS_TEST_REQUIRE_MESH === "1")
  throw new Error(`nebula is required here: ${missing}`);
if (missing) console.log(`skipping the cluster overlay tests: ${missing}`);

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Nebula's own check that a host certificate was signed by a CA. */
function verifies(caCert: string, hostCert: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), "ignis-verify-"));
  try {
    writeFileSync(join(dir, "ca.crt"), caCert);
    writeFileSync(join(dir, "h.crt"), hostCert);
    execFileSync("nebula-cert", ["verify", "-ca", "ca.crt", "-crt", "h.crt"], { cwd: dir, stdio: "pipe" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A market harness for a suite, whose mesh coordinator opens its lighthouse with `open` (given nebula-cert), and
 * a supplier that owns its devices. The coordinator is stopped after the suite.
 */
function meshHarness(open: (tool: NebulaCertTool) => Promise<Lighthouse>, database: () => OpenDatabase) {
  const suite = {} as { h: MarketHarness; supplier: string };
  beforeAll(async () => {
    const h = marketHarness(database().db);
    suite.h = h;
    suite.supplier = await createTestUser(h.ctx.db, ["supplier"]);
    const tool = nebulaCertTool();
    h.ctx.mesh = createMeshCoordinator({
      db: h.ctx.db,
      tool,
      lighthouse: () => open(tool),
      lighthouseHost: null,
      now: () => h.clock.ms,
    });
  });
  afterAll(async () => {
    await suite.h?.ctx.mesh?.stop();
  });
  return suite;
}

/** Online sandboxed devices of the supplier's, reporting the overlay capability when `mesh`. */
async function meshDevices(h: MarketHarness, supplier: string, count: number, mesh: boolean) {
  const ids = await insertDevices(h.ctx.db, { ownerId: supplier, count, seenAt: h.clock.ms });
  const hardware = {
    ...sandboxHardware("container"),
    ...(mesh ? { mesh: { kind: "nebula", version: "1.6.1" } } : {}),
  };
  await updateDeviceRows(h.ctx.db, ids, { hardware: JSON.stringify(hardware) });
  return ids;
}

if (missing !== null) {
  describe.skip("cluster overlays (needs nebula)", () => {
    it("gives each rank its own certificate", () => undefined);
  });
} else {
  describeEachDialect("cluster overlays", (database) => {
    let lighthouse: Lighthouse | undefined;
    const dataDir = mkdtempSync(join(tmpdir(), "ignis-mesh-"));
    const suite = meshHarness(async (tool) => {
      // Port 0 would be nebula's own pick; the test never dials the lighthouse, it only checks its trust.
      lighthouse = await openLighthouse({ dataDir, port: 0, tool, log: quiet });
      return lighthouse;
    }, database);
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    const rent = async (count: number) => {
      const { h } = suite;
      const customer = await createCustomer(h.ctx.db, 100_000_000n);
      const before = h.sent.length;
      const cluster = await createCluster(h.ctx, customer, {
        gpuModel: FIXTURE_MODEL,
        count,
        hours: 1,
        job: { command: "true", env: { MODEL: "tiny" } },
      });
      const starts = h.sent
        .slice(before)
        .map((s) => s.message)
        .filter((m): m is JobStartMessage => m.type === "job.start")
        .sort((a, b) => a.rank - b.rank);
      return { cluster, starts, customer };
    };

    it("gives each rank its own certificate from the cluster's own CA and names rank 0's overlay address as MASTER_ADDR", async () => {
      const { h, supplier } = suite;
      await meshDevices(h, supplier, 2, true);
      const { cluster, starts } = await rent(2);
      expect(starts).toHaveLength(2);
      const [r0, r1] = starts.map((s) => s.mesh!);
      expect(r0!.caCert).toBe(r1!.caCert);
      expect(r0!.peers).toEqual(r1!.peers);
      expect(r0!.peers).toHaveLength(2);
      expect(r0!.cidr).toBe(`${r0!.peers[0]}/12`);
      expect(r1!.cidr).toBe(`${r0!.peers[1]}/12`);
      expect(r0!.hostKey).not.toBe(r1!.hostKey);
      expect(verifies(r0!.caCert, r0!.hostCert)).toBe(true);
      expect(verifies(r0!.caCert, r1!.hostCert)).toBe(true);
      expect(verifies(r0!.lighthouseCaCert, r1!.hostCert)).toBe(false);
      for (const start of starts) {
        expect(start.env).toMatchObject({
          MODEL: "tiny",
          RANK: String(start.rank),
          WORLD_SIZE: "2",
          LOCAL_RANK: "0",
          MASTER_ADDR: r0!.peers[0],
          MASTER_PORT: start.env.IGNIS_HEAD_PORT,
          IGNIS_MESH_ADDR: r0!.peers[start.rank],
          IGNIS_PEERS: r0!.peers.join(","),
        });
        expect(start.mesh!.probePort).toBe(Number(start.env.IGNIS_HEAD_PORT) + 1);
      }
      // The lighthouse trusts the new cluster's CA before any of its nodes can knock.
      expect(lighthouse).toBeDefined();
      const stored = await findClusterMesh(h.ctx.db, cluster.id);
      expect(stored?.ca_cert).toBe(r0!.caCert);
    });

    it("keeps two open clusters on different subnets under different CAs", async () => {
      const { h, supplier } = suite;
      await meshDevices(h, supplier, 2, true);
      const a = await rent(1);
      const b = await rent(1);
      const ma = a.starts[0]!.mesh!;
      const mb = b.starts[0]!.mesh!;
      expect(ma.peers[0]).not.toBe(mb.peers[0]);
      expect(ma.caFingerprint).not.toBe(mb.caFingerprint);
      expect(verifies(ma.caCert, mb.hostCert)).toBe(false);
    });

    it("starts a cluster with a device that cannot join an overlay on the session addresses alone", async () => {
      const { h, supplier } = suite;
      await meshDevices(h, supplier, 2, false);
      const { starts } = await rent(2);
      expect(starts.every((s) => s.mesh === undefined)).toBe(true);
      expect(starts[1]!.env.MASTER_ADDR).toBe(starts[1]!.env.IGNIS_HEAD_HOST);
      expect(starts[1]!.env.IGNIS_MESH_ADDR).toBeUndefined();
    });

    it("stores a rank's links only from the device running it and shows them to the cluster's customer", async () => {
      const { h, supplier } = suite;
      const devices = await meshDevices(h, supplier, 2, true);
      const { cluster, starts } = await rent(2);
      const r1 = starts[1]!;
      const r1Device = h.sent.find((s) => s.message === r1)!.deviceId;
      const other = devices.find((d) => d !== r1Device)!;
      const links = {
        type: "mesh.links" as const,
        jobId: r1.jobId,
        links: [{ to: 0, rttMs: 1.5, mbps: 800, path: "direct" as const }],
      };
      expect(await recordMeshLinks(h.ctx.db, other, links, h.clock.ms)).toBe(0);
      expect(
        await recordMeshLinks(
          h.ctx.db,
          r1Device,
          { ...links, links: [{ to: 7, rttMs: 1, mbps: 1, path: "relay" }] },
          h.clock.ms,
        ),
      ).toBe(0);
      expect(await recordMeshLinks(h.ctx.db, r1Device, links, h.clock.ms)).toBe(1);
      const network = await clusterNetwork(h.ctx.db, cluster);
      expect(network.peers).toEqual([
        { rank: 0, deviceId: expect.any(String), meshAddr: r1.mesh!.peers[0] },
        { rank: 1, deviceId: r1Device, meshAddr: r1.mesh!.peers[1] },
      ]);
      expect(network.matrix).toEqual([
        { from: 1, to: 0, rttMs: 1.5, mbps: 800, path: "direct", measuredAt: expect.any(String) },
      ]);
    });

    it("forgets an ended cluster's CA and links, and then has no network to show", async () => {
      const { h, supplier } = suite;
      await meshDevices(h, supplier, 1, true);
      const { cluster, starts } = await rent(1);
      expect(starts[0]!.mesh).toBeDefined();
      const ended = await cancelCluster(h.ctx, cluster.id);
      await h.ctx.mesh!.sweep();
      expect(await findClusterMesh(h.ctx.db, cluster.id)).toBeUndefined();
      const refused = await clusterNetwork(h.ctx.db, ended).catch((e: unknown) => e);
      expect(isIgnisError(refused, "cluster_not_running")).toBe(true);
    });
  });

  describeEachDialect("the control plane's lighthouse", (database) => {
    const opened: Lighthouse[] = [];
    const dirs: string[] = [];
    // Each opening has a data folder (so a CA) of its own, and is slow, as under load: a second opening would
    // hand ranks a lighthouse that never runs.
    const suite = meshHarness(async (tool) => {
      const dir = mkdtempSync(join(tmpdir(), "ignis-mesh-"));
      dirs.push(dir);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const lighthouse = await openLighthouse({ dataDir: dir, port: 0, tool, log: quiet });
      opened.push(lighthouse);
      return lighthouse;
    }, database);
    afterAll(async () => {
      for (const l of opened) await l.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it("is opened once when clusters start at the same time, and every rank is sent the one that runs", async () => {
      const { h, supplier } = suite;
      await meshDevices(h, supplier, 2, true);
      const rentOne = async () =>
        createCluster(h.ctx, await createCustomer(h.ctx.db, 100_000_000n), {
          gpuModel: FIXTURE_MODEL,
          count: 1,
          hours: 1,
          job: { command: "true" },
        });
      await Promise.all([rentOne(), rentOne(), h.ctx.mesh!.sweep()]);
      const starts = h.sent.map((s) => s.message).filter((m): m is JobStartMessage => m.type === "job.start");
      expect(starts).toHaveLength(2);
      expect(opened).toHaveLength(1);
      for (const start of starts) expect(start.mesh?.lighthouseCaCert).toBe(opened[0]!.caCert);
    });
  });
}
