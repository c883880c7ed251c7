import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NebulaCertTool } from "./nebula-cert.js";
import { LIGHTHOUSE_ADDR, OVERLAY_PREFIX } from "./overlay-addresses.js";

/** A minimal structured logger. */
interface LighthouseLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The control plane's lighthouse and relay: one nebula process without a tun device. */
export interface Lighthouse {
  /** The lighthouse CA's certificate, which every node trusts besides its cluster's CA. */
  readonly caCert: string;
  /** The UDP port it listens on. */
  readonly port: number;
  /** Trusts exactly these cluster CAs (plus its own) from now on; starts the process on first use. */
  trust(clusterCas: string[]): Promise<void>;
  /** Ends the process. */
  stop(): Promise<void>;
}

const TEN_YEARS_S = 10 * 365 * 86_400;

/**
 * Loads (or makes, on first start) the lighthouse's CA and certificate in `<dataDir>/mesh/` (keys 0600), and
 * returns a lighthouse that starts its nebula process when it first has a cluster to serve. It relays for nodes
 * that cannot punch through their NATs and has no tun device, so nothing reaches the server's host through it.
 */
export async function openLighthouse(options: {
  dataDir: string;
  port: number;
  tool: NebulaCertTool;
  log: LighthouseLog;
  binary?: string;
}): Promise<Lighthouse> {
  const dir = join(options.dataDir, "mesh");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const caPath = join(dir, "lighthouse-ca.crt");
  if (!existsSync(caPath)) {
    const ca = await options.tool.createCa("ignis lighthouse", TEN_YEARS_S);
    const host = await options.tool.signHost(ca, "ignis-lighthouse", `${LIGHTHOUSE_ADDR}/${OVERLAY_PREFIX}`);
    await writeFile(join(dir, "lighthouse.key"), host.key, { mode: 0o600 });
    await writeFile(join(dir, "lighthouse.crt"), host.cert, { mode: 0o600 });
    // The CA key is not kept: the lighthouse's own certificate is the only one it ever signs.
    await writeFile(caPath, ca.cert, { mode: 0o600 });
  }
  const caCert = await readFile(caPath, "utf8");
  const cert = await readFile(join(dir, "lighthouse.crt"), "utf8");
  const key = await readFile(join(dir, "lighthouse.key"), "utf8");
  const configPath = join(dir, "lighthouse.json");
  let child: ChildProcess | undefined;
  let stopping = false;
  let trusted = "";
  let restartTimer: NodeJS.Timeout | undefined;

  const writeConfig = (bundle: string) =>
    writeFile(
      configPath,
      JSON.stringify({
        // Inline, so a reload sees the bundle change (nebula reloads the CAs only when the value changed).
        pki: { ca: bundle, cert, key },
        static_host_map: {},
        lighthouse: { am_lighthouse: true, interval: 10 },
        listen: { host: "0.0.0.0", port: options.port },
        punchy: { punch: true, respond: true },
        relay: { am_relay: true, use_relays: false },
        tun: { disabled: true },
        logging: { level: "info", format: "json" },
        firewall: { outbound: [], inbound: [] },
      }),
      { mode: 0o600 },
    );

  const launch = () => {
    const proc = spawn(options.binary ?? "nebula", ["-config", configPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child = proc;
    proc.stderr?.on("data", () => undefined);
    proc.on("error", (error) => options.log.warn({ err: error }, "mesh lighthouse could not start"));
    proc.on("exit", (code, signal) => {
      if (child === proc) child = undefined;
      if (stopping) return;
      options.log.warn({ code, signal }, "mesh lighthouse exited; restarting in 2 s");
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        launch();
      }, 2000);
      restartTimer.unref();
    });
    options.log.info({ port: options.port }, "mesh lighthouse started");
  };

  return {
    caCert,
    port: options.port,
    async trust(clusterCas) {
      const bundle = [caCert, ...clusterCas].map((c) => c.trim()).join("\n");
      if (bundle === trusted && child) return;
      trusted = bundle;
      await writeConfig(bundle);
      if (stopping) return;
      if (child) child.kill("SIGHUP");
      else if (!restartTimer) launch();
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const proc = child;
      if (!proc || proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
        setTimeout(() => proc.kill("SIGKILL"), 3000).unref();
      });
    },
  };
}
