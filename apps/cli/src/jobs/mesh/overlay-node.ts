import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { JobMesh } from "@ignis/protocol";
import { type CommandRunner, mustRun } from "../sandbox/exec.js";
import { type ProbeServer, startProbeServer } from "./link-probe.js";
import { nebulaNodeConfig, OVERLAY_MTU, overlayDevice } from "./nebula-config.js";
import { TunnelPaths } from "./tunnel-paths.js";

/** A job's place on its cluster's overlay: a nebula process on the host whose tun lives in the job's netns. */
export interface OverlayNode {
  /** The tun device inside the job's network namespace. */
  readonly dev: string;
  /** This rank's overlay address. */
  readonly addr: string;
  /** The job's network namespace (a path nsenter takes). */
  readonly netns: string;
  /** How each tunnel goes (direct or relayed), from nebula's log. */
  readonly paths: TunnelPaths;
  /** Whether the node may use the relay (it starts without, so punched paths win). */
  relays(): boolean;
  /** Restarts nebula allowing the relay, for peers no direct path reached; the tun comes back in the job. */
  enableRelays(): Promise<void>;
  /** Ends nebula and the probe server; the tun goes with nebula. Idempotent. */
  stop(): Promise<void>;
}

/** What joining an overlay needs. */
export interface JoinOverlayOptions {
  jobId: string;
  mesh: JobMesh;
  /** The lighthouse's underlay IPv4 address. */
  lighthouseIp: string;
  /** The job's network namespace (a path nsenter takes) and a process in it (`ip link set netns` takes a pid). */
  netns: string;
  pid: number;
  /** A 0700 folder for this job's config (it holds the host key); removed on stop. */
  dir: string;
  run: CommandRunner;
  log: (line: string) => void;
  binary?: string;
  /** How long nebula may take to bring its interface up. */
  startTimeoutMs?: number;
}

/**
 * Joins a job to its cluster's overlay. Nebula runs in the worker's (host) network namespace, so its UDP goes
 * out through the site's NAT like any other traffic; its tun device is moved into the job's network namespace
 * and addressed there, so only the job's processes can use the overlay: the host has no route to it and other
 * jobs live in namespaces of their own. The link probe's echo server then listens on the rank's address.
 */
export async function joinOverlay(options: JoinOverlayOptions): Promise<OverlayNode> {
  const { mesh, run } = options;
  const dev = overlayDevice(options.jobId);
  const addr = mesh.cidr.split("/")[0]!;
  const configPath = join(options.dir, "nebula.json");
  const paths = new TunnelPaths();
  let useRelays = false;
  let child: ChildProcess | undefined;
  let probe: ProbeServer | undefined;
  let stopped = false;
  await mkdir(options.dir, { recursive: true, mode: 0o700 });

  const stopNebula = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
      setTimeout(() => proc.kill("SIGKILL"), 3000).unref();
    });
  };

  /** Starts nebula and resolves once its tun is up (nebula logs it), rejecting if it exits first. */
  const startNebula = async () => {
    await writeFile(
      configPath,
      JSON.stringify(nebulaNodeConfig({ mesh, lighthouseIp: options.lighthouseIp, dev, useRelays })),
      { mode: 0o600 },
    );
    const proc = spawn(options.binary ?? "nebula", ["-config", configPath], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    let tail = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nebula did not bring ${dev} up: ${tail.trim().slice(-300)}`)),
        options.startTimeoutMs ?? 15_000,
      );
      const onLine = (line: string) => {
        paths.read(line);
        tail = `${tail}\n${line}`.slice(-600);
        if (line.includes('"Nebula interface is active"')) {
          clearTimeout(timer);
          resolve();
        }
        if (/"level":"(error|fatal)"/.test(line))
          options.log(`overlay ${options.jobId}: ${line.slice(0, 300)}`);
      };
      for (const stream of [proc.stdout!, proc.stderr!])
        createInterface({ input: stream }).on("line", onLine);
      proc.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`nebula could not start: ${error.message}`));
      });
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nebula exited (${code ?? signal}): ${tail.trim().slice(-300)}`));
      });
    });
    // Nebula addressed the tun in the host's namespace; moving it takes the address away, so it is set again
    // inside the job's namespace (the overlay's route comes with the address's prefix).
    await mustRun(run, "ip", ["link", "set", "dev", dev, "netns", String(options.pid)]);
    const inJob = (args: string[]) => mustRun(run, "nsenter", [`--net=${options.netns}`, "ip", ...args]);
    await inJob(["addr", "add", mesh.cidr, "dev", dev]);
    await inJob(["link", "set", "dev", dev, "mtu", String(OVERLAY_MTU), "up"]);
    probe?.stop();
    probe = await startProbeServer(options.netns, addr, mesh.probePort);
  };

  const node: OverlayNode = {
    dev,
    addr,
    netns: options.netns,
    paths,
    relays: () => useRelays,
    async enableRelays() {
      if (useRelays || stopped) return;
      useRelays = true;
      options.log(`overlay ${options.jobId}: no direct path to every peer; allowing the relay`);
      await stopNebula();
      await startNebula();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      probe?.stop();
      await stopNebula();
      await rm(options.dir, { recursive: true, force: true });
    },
  };
  try {
    await startNebula();
  } catch (error) {
    await node.stop();
    throw error;
  }
  return node;
}
