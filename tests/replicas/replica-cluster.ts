import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { REPLICA_NATS_URL, REPLICA_POSTGRES_URL } from "./services.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER_BIN = join(REPO_ROOT, "apps/server/bin/ignis-server.js");

/** One ignis-server child process of a cluster. */
export interface Replica {
  id: string;
  url: string;
  port: number;
  readonly pid: number;
  readonly running: boolean;
  /** The last lines the process wrote, for failure messages. */
  output(): string;
  /** Sends a signal (SIGKILL for a crash, SIGTERM for a drain) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again on the same port with the same environment. */
  restart(): Promise<void>;
}

/** Several replicas over one scratch PostgreSQL database and one NATS. */
export interface ReplicaCluster {
  databaseUrl: string;
  dataDir: string;
  adminKey: string;
  replicas: Replica[];
  /** Kills every replica still running and drops the scratch database. */
  stop(): Promise<void>;
}

/** Options of a cluster: how many replicas, extra env for all of them, and service URLs to go through. */
export interface ClusterOptions {
  replicas?: number;
  env?: Record<string, string>;
  /** PostgreSQL URL the replicas use (e.g. through a fault proxy); defaults to the scratch database. */
  databaseUrlFor?: (scratchUrl: string) => string;
  natsUrl?: string;
  /** Sees every line a replica writes (its JSON log), e.g. to count "reward epoch closed" per replica. */
  onLine?: (replicaId: string, line: string) => void;
}

/** Creates an empty scratch database and returns its URL and a function that drops it. */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ignis_r_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: REPLICA_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(REPLICA_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: REPLICA_POSTGRES_URL });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

async function waitHealthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  let exited = "";
  await waitFor(
    `the replica at ${url} to answer /healthz`,
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        exited = `replica exited during start (${child.exitCode ?? child.signalCode}):\n${output()}`;
        return true;
      }
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      return response.ok;
    },
    { timeoutMs: 60_000, everyMs: 150 },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}:\n${output()}`);
  });
  if (exited) throw new Error(exited);
}

/** Spawns `node apps/server/bin/ignis-server.js` with the given environment and waits for /healthz. */
export async function spawnReplica(
  id: string,
  env: Record<string, string>,
  onLine?: (replicaId: string, line: string) => void,
): Promise<Replica> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fullEnv = {
    ...process.env,
    IGNIS_HOST: "127.0.0.1",
    IGNIS_PORT: String(port),
    IGNIS_PUBLIC_URL: url,
    IGNIS_REPLICA_ID: id,
    IGNIS_LOG_LEVEL: "warn",
    ...env,
  };
  let lines: string[] = [];
  let child: ChildProcess;
  const start = async () => {
    child = spawn(process.execPath, [SERVER_BIN], { cwd: REPO_ROOT, env: fullEnv, stdio: "pipe" });
    const keep = (line: string) => {
      if (!line) return;
      onLine?.(id, line);
      lines.push(line);
      if (lines.length > 200) lines = lines.slice(-100);
    };
    // Line by line: a JSON log line split across two chunks must still reach onLine whole.
    createInterface({ input: child.stdout! }).on("line", keep);
    createInterface({ input: child.stderr! }).on("line", keep);
    await waitHealthy(url, child, () => lines.join("\n"));
  };
  await start();
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  return {
    id,
    url,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    get running() {
      return isRunning();
    },
    output: () => lines.slice(-40).join("\n"),
    async kill(signal = "SIGKILL") {
      if (!isRunning()) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
    restart: start,
  };
}

/** Starts a cluster of real replica processes sharing one scratch database, one data dir and NATS. */
export async function startReplicaCluster(options: ClusterOptions = {}): Promise<ReplicaCluster> {
  const scratch = await createScratchDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "ignis-replicas-"));
  const databaseUrl = options.databaseUrlFor?.(scratch.url) ?? scratch.url;
  const env = {
    DATABASE_URL: databaseUrl,
    IGNIS_NATS_URL: options.natsUrl ?? REPLICA_NATS_URL,
    IGNIS_DATA_DIR: dataDir,
    IGNIS_RATE_LIMITS: "off",
    // A simulated fleet enrolls dozens of devices a second from one address with one key: exactly the write
    // surge that containment (rightly) suspends. Alerts are still raised; nothing is blocked.
    IGNIS_SECURITY_CONTAINMENT: "off",
    ...options.env,
  };
  const replicas: Replica[] = [];
  const stop = async () => {
    await Promise.all(replicas.map((r) => r.kill("SIGKILL")));
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // One after the other: the first creates the admin key and signing keys the others then share.
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      replicas.push(await spawnReplica(`replica-${String.fromCharCode(97 + i)}`, env, options.onLine));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    databaseUrl: scratch.url,
    dataDir,
    adminKey: readFileSync(join(dataDir, "admin-api-key"), "utf8").trim(),
    replicas,
    stop,
  };
}
