import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPLICA_NATS_URL } from "../tests/replicas/services.js";
import { type HarnessServer, startHarnessServer } from "./_heartbeat-load.js";

/** Two replicas of one network, and how to remove the data dir they share once both have stopped. */
export interface ReplicaPair {
  a: HarnessServer;
  b: HarnessServer;
  removeDataDir(): void;
}

/**
 * Starts replicas A and B (bench/_heartbeat-server.ts) over one PostgreSQL database and NATS (127.0.0.1:4222,
 * IGNIS_TEST_NATS_URL), each with its own replica id and `env` on top.
 */
export async function startReplicaPair(
  databaseUrl: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<ReplicaPair> {
  const dataDir = mkdtempSync(join(tmpdir(), "ignis-bench-replicas-"));
  const replicaEnv = (id: string) => ({
    DATABASE_URL: databaseUrl,
    IGNIS_NATS_URL: REPLICA_NATS_URL,
    IGNIS_REPLICA_ID: id,
    // One data dir, so B finds the bootstrap admin key file A wrote; every other shared state is in PostgreSQL.
    IGNIS_DATA_DIR: dataDir,
    IGNIS_SECURITY_CONTAINMENT: "off",
    ...env,
  });
  // One after the other: the first runs the migrations and writes the admin key.
  const a = await startHarnessServer(replicaEnv("replica-a"), execArgv);
  const b = await startHarnessServer(replicaEnv("replica-b"), execArgv);
  return { a, b, removeDataDir: () => rmSync(dataDir, { recursive: true, force: true }) };
}
