/**
 * `npm run demo`: the whole network on one machine in a minute. Starts ignis-server on the embedded defaults
 * (PGlite in a temporary data dir, embedded sign-in) with one-minute epochs, half-second heartbeats and frequent
 * proof-of-GPU challenges, then five simulated workers: four honest GPUs and one counterfeit that claims to be
 * an H100 but computes fifty times slower. Prints the explorer URL and what happens: devices coming online,
 * being verified, the counterfeit failing its challenges and being quarantined, epochs closing with a root.
 *
 *   npm run demo                      # until Ctrl-C
 *   npm run demo -- --duration 60     # stop after 60 s; exit 1 unless the counterfeit was caught
 *   IGNIS_PORT=9090 npm run demo      # another port (a free one is picked when 8080 is taken)
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { creditsOf, type DeviceView, type PublicRewardEpoch } from "@ignis/protocol";
import { apiRequest } from "../apps/cli/src/api-client.js";
import { enrollSimDevice, runSimDevice, type SimDevice } from "../apps/cli/src/sim/sim-device.js";
import { resolveSimSupplier } from "../apps/cli/src/sim/supplier-key.js";
import { loadConfig } from "../apps/server/src/config.js";
import { createServer, type IgnisServer } from "../apps/server/src/server.js";
import { freePort } from "../apps/server/src/testing/test-server.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs the demo in a plain `node --import tsx` child and waits for it. The tsx CLI (which `npm run demo`
 * uses) SIGKILLs a child that takes over 30 ms to acknowledge Ctrl-C, which a busy server can; this idle
 * launcher always answers in time, and the child, which gets Ctrl-C from the terminal too, shuts down cleanly.
 */
async function runInChild(): Promise<never> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: { ...process.env, IGNIS_DEMO_CHILD: "1" },
    },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));
  return new Promise<never>(() => {
    child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
  });
}
if (process.env.IGNIS_DEMO_CHILD !== "1") await runInChild();

/** One simulated worker of the demo. */
interface DemoDevice {
  name: string;
  profile: string;
  counterfeit: boolean;
}
const FLEET: DemoDevice[] = [
  { name: "honest H100", profile: "sim-h100", counterfeit: false },
  { name: "honest A100", profile: "sim-a100", counterfeit: false },
  { name: "honest RTX 4090", profile: "sim-rtx4090", counterfeit: false },
  { name: "honest RTX 3060", profile: "sim-rtx3060", counterfeit: false },
  { name: "COUNTERFEIT claiming H100", profile: "sim-h100", counterfeit: true },
];

const { values } = parseArgs({ options: { duration: { type: "string" } }, strict: true });
const durationSeconds = values.duration ? Number(values.duration) : undefined;
const started = Date.now();
const say = (text: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}`);

/** Says what a slow step is doing, then every five seconds that it still is, so the demo is never silent. */
async function narrated<T>(what: string, step: () => Promise<T>): Promise<T> {
  say(`${what}...`);
  const begun = Date.now();
  const ticker = setInterval(
    () =>
      say(
        `  ...still ${what.replace(/^\w/, (c) => c.toLowerCase())} (${((Date.now() - begun) / 1000).toFixed(0)} s)`,
      ),
    5000,
  );
  try {
    return await step();
  } finally {
    clearInterval(ticker);
  }
}

if (!existsSync(join(REPO_ROOT, "apps/web/dist/index.html"))) {
  say("building the web UI once (vite build)...");
  spawnSync("npm", ["run", "build:web", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
}

/** IGNIS_PORT, else 8080 when it is free, else any free port. */
async function demoPort(): Promise<number> {
  if (process.env.IGNIS_PORT) return Number(process.env.IGNIS_PORT);
  const probe = await fetch("http://127.0.0.1:8080/healthz", { signal: AbortSignal.timeout(500) }).catch(
    () => null,
  );
  return probe ? freePort() : 8080;
}

/** A line about a device whose state changed since the last poll, or nothing. */
function describeChange(device: DeviceView, spec: DemoDevice | undefined, before: string | undefined) {
  const now = `${device.status}/${device.verification}`;
  if (now === before) return undefined;
  const who = `${(spec?.name ?? device.id).padEnd(26)}`;
  if (spec?.counterfeit && device.verification === "failed") {
    return `${who} CAUGHT: failed its proof-of-GPU challenges (too slow for an H100) → ${device.status}`;
  }
  if (device.verification === "verified" && !before?.endsWith("/verified")) {
    return `${who} verified: its proof-of-GPU answer was correct and on time`;
  }
  return `${who} ${device.status}, ${device.verification}`;
}

const announcedEpochs = new Set<number>();
/** Prints each reward epoch once, when it closes. */
async function printEpochs(url: string, say: (text: string) => void): Promise<void> {
  const { items } = await apiRequest<{ items: PublicRewardEpoch[] }>(url, "/v1/rewards/epochs?limit=5");
  for (const epoch of items.reverse()) {
    if (epoch.status !== "closed" || announcedEpochs.has(epoch.epoch)) continue;
    announcedEpochs.add(epoch.epoch);
    say(
      epoch.root
        ? `epoch ${epoch.epoch} closed: ${epoch.devices} device(s) paid ${creditsOf(epoch.total ?? "0")} credits, root ${epoch.root.slice(0, 18)}…`
        : `epoch ${epoch.epoch} closed: nobody up for 45 of its 60 slots yet (devices joined mid-epoch)`,
    );
  }
}

const port = await demoPort();
const url = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), "ignis-demo-"));
let server: IgnisServer | undefined;
const running: Array<{ device: SimDevice; spec: DemoDevice }> = [];
let counterfeitCaught = false;
let stopping = false;
let watch: NodeJS.Timeout | undefined;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  clearInterval(watch);
  say("stopping the workers and the server...");
  await Promise.all(running.map((r) => r.device.stop()));
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  say(counterfeitCaught ? "done: the counterfeit was caught." : "done.");
  process.exit(code);
};
// Ctrl-C works from here on, even while the server starts or the workers enroll.
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const config = loadConfig({
  IGNIS_PORT: String(port),
  IGNIS_HOST: "127.0.0.1",
  IGNIS_PUBLIC_URL: url,
  IGNIS_DATA_DIR: dataDir,
  IGNIS_EPOCH_SECONDS: "60",
  // Two heartbeats per one-second uptime slot, a re-check every ~30 s, a failed challenge retried after 5 s.
  IGNIS_HEARTBEAT_SECONDS: "0.5",
  IGNIS_CHALLENGE_MEAN_SECONDS: "30",
  IGNIS_CHALLENGE_RETRY_SECONDS: "5",
  IGNIS_LOG_LEVEL: "warn",
  IGNIS_WEB_DIR: join(REPO_ROOT, "apps/web/dist"),
});
server = await narrated(
  // PGlite's WebAssembly start holds the event loop (seconds; half a minute on a saturated machine), so the
  // ticker cannot speak during it: the first line says so.
  "Starting ignis-server: PostgreSQL compiled to WebAssembly (PGlite) loads, which takes seconds and stops the clock, then migrations and the OIDC provider's keys",
  () => createServer(config),
);
if (stopping) await new Promise(() => undefined);
await server.listen();
say(`ignis-server on ${url} (PGlite in ${dataDir})`);

const adminKey = readFileSync(join(dataDir, "admin-api-key"), "utf8").trim();
say(
  "the bootstrap admin creates a supplier; each simulated worker makes its Ed25519 key and enrolls with a code",
);
const supplier = await resolveSimSupplier(url, adminKey);
for (const [i, spec] of FLEET.entries()) {
  if (stopping) break;
  const stateDir = join(dataDir, "workers", `device-${i}`);
  const deviceId = await enrollSimDevice({
    server: url,
    supplierKey: supplier.apiKey,
    stateDir,
    profile: spec.profile,
  });
  await apiRequest(url, `/v1/devices/${deviceId}`, {
    method: "PATCH",
    token: supplier.apiKey,
    body: { label: spec.name },
  });
  running.push({
    spec,
    device: runSimDevice({
      stateDir,
      deviceId,
      server: url,
      profile: spec.profile,
      counterfeit: spec.counterfeit,
    }),
  });
  say(`enrolled ${spec.name.padEnd(26)} ${deviceId}`);
}
// Stopped while enrolling: stop() exits the process once everything is closed.
if (stopping) await new Promise(() => undefined);
console.log(`
  Explorer:   ${url}/              (network stats, uptime, verification; refreshes itself)
  Devices:    ${url}/devices
  Epochs:     ${url}/epochs        (a reward epoch closes every minute, with its Merkle root)
  API docs:   ${url}/docs
  Admin key:  ${join(dataDir, "admin-api-key")}
  Ctrl-C stops everything.
`);
say(
  "each device is challenged when it connects: an exact matrix product sized for ~2 s on the GPU it claims; " +
    "an honest device answers on time, the counterfeit cannot",
);

const last = new Map<string, string>();
let announcedEpochWait = false;
watch = setInterval(async () => {
  try {
    const { items } = await apiRequest<{ items: DeviceView[] }>(url, "/v1/devices?limit=100", {
      token: supplier.apiKey,
    });
    for (const device of items) {
      const spec = running.find((r) => r.device.deviceId === device.id)?.spec;
      const line = describeChange(device, spec, last.get(device.id));
      last.set(device.id, `${device.status}/${device.verification}`);
      if (line) say(line);
      if (spec?.counterfeit && device.verification === "failed") counterfeitCaught = true;
    }
    if (
      !announcedEpochWait &&
      items.length === FLEET.length &&
      items.every((d) => d.verification !== "unverified")
    ) {
      announcedEpochWait = true;
      const next = 60 - (Math.floor(Date.now() / 1000) % 60);
      say(
        `all devices decided; verified ones earn for every up-minute. The next reward epoch closes in about ${next} s, then every minute`,
      );
    }
    await printEpochs(url, say);
  } catch (error) {
    if (!stopping) say(`(status poll failed: ${(error as Error).message})`);
  }
}, 1000);

if (durationSeconds) setTimeout(() => void stop(counterfeitCaught ? 0 : 1), durationSeconds * 1000);
