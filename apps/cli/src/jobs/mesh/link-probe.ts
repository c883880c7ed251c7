import { type ChildProcess, spawn } from "node:child_process";

/**
 * Link measurements between ranks, made inside the job's network namespace (where the overlay is) by small
 * Node programs the worker starts there with nsenter: an echo server on the rank's overlay address, and a client
 * that times round trips and a bulk transfer to each peer's. They are plain JavaScript given to `node -e`, so
 * nothing of the job's image is used and no file is needed.
 */

/** Bytes one throughput measurement sends (and gets echoed back). */
export const PROBE_BYTES = 4 * 1024 * 1024;
/** Round trips one measurement times (the median is reported). */
const PROBE_PINGS = 7;

/** The echo server: listens on ADDR:PORT, says `ready`, and exits when the worker (its stdin) goes away. */
const SERVER = `
const net = require("node:net");
const [addr, port] = process.argv.slice(1);
const server = net.createServer((s) => { s.on("error", () => s.destroy()); s.pipe(s); });
server.on("error", (e) => { process.stderr.write(String(e.message)); process.exit(2); });
server.listen({ host: addr, port: Number(port) }, () => process.stdout.write("ready\\n"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

/** The client: for each host, PINGS one-byte round trips, then BYTES echoed; prints one JSON array. */
const CLIENT = `
const net = require("node:net");
const hosts = JSON.parse(process.argv[1]);
const port = Number(process.argv[2]);
const bytes = Number(process.argv[3]);
const pings = Number(process.argv[4]);
const timeoutMs = Number(process.argv[5]);
function measure(host) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); resolve(null); }, timeoutMs);
    const rtts = [];
    let phase = "ping";
    let t0 = 0;
    let got = 0;
    const ping = () => { t0 = performance.now(); s.write("p"); };
    s.on("error", () => { clearTimeout(timer); resolve(null); });
    s.on("connect", () => { s.setNoDelay(true); ping(); });
    s.on("data", (b) => {
      if (phase === "ping") {
        rtts.push(performance.now() - t0);
        if (rtts.length < pings) return ping();
        phase = "bulk";
        t0 = performance.now();
        const chunk = Buffer.alloc(65536, 120);
        for (let sent = 0; sent < bytes; sent += chunk.length) s.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
        return;
      }
      got += b.length;
      if (got < bytes) return;
      const seconds = (performance.now() - t0) / 1000;
      clearTimeout(timer);
      s.destroy();
      rtts.sort((x, y) => x - y);
      resolve({ rttMs: rtts[Math.floor(rtts.length / 2)], mbps: (bytes * 8) / seconds / 1e6 });
    });
  });
}
(async () => {
  const out = [];
  for (const host of hosts) out.push(await measure(host));
  process.stdout.write(JSON.stringify(out));
})();
`;

/** Runs `argv` inside a network namespace; stdin stays open so a helper notices when the worker is gone. */
function inNetns(netns: string, code: string, args: string[]): ChildProcess {
  return spawn("nsenter", [`--net=${netns}`, process.execPath, "-e", code, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** A running echo server of one rank. */
export interface ProbeServer {
  stop(): void;
}

/** Starts the echo server on `addr:port` in the job's namespace and waits until it listens. */
export function startProbeServer(netns: string, addr: string, port: number): Promise<ProbeServer> {
  const child = inNetns(netns, SERVER, [addr, String(port)]);
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.stdout!.once("data", () => resolve({ stop }));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`link probe server exited (${code}): ${err.trim()}`)));
  });
}

/** What one measurement found for a host: null when it could not be reached in time. */
export type ProbeResult = { rttMs: number; mbps: number } | null;

/** Measures each host's echo server from inside the job's namespace, one after the other. */
export function probeHosts(
  netns: string,
  hosts: string[],
  port: number,
  options: { bytes?: number; timeoutMs?: number } = {},
): Promise<ProbeResult[]> {
  const timeoutMs = options.timeoutMs ?? 4000;
  const child = inNetns(netns, CLIENT, [
    JSON.stringify(hosts),
    String(port),
    String(options.bytes ?? PROBE_BYTES),
    String(PROBE_PINGS),
    String(timeoutMs),
  ]);
  child.stdin!.end();
  return new Promise((resolve) => {
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    child.once("error", () => resolve(hosts.map(() => null)));
    const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs * hosts.length + 5000);
    child.once("close", () => {
      clearTimeout(kill);
      try {
        const parsed = JSON.parse(out) as ProbeResult[];
        resolve(hosts.map((_, i) => parsed[i] ?? null));
      } catch {
        resolve(hosts.map(() => null));
      }
    });
  });
}
