import pg from "pg";
import { describe } from "vitest";
import { probeTcp } from "./probe.js";

/** Admin URL of the PostgreSQL the replica suites create their scratch databases in. */
export const REPLICA_POSTGRES_URL =
  process.env.IGNIS_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The NATS server the replica suites route device messages through. */
export const REPLICA_NATS_URL = process.env.IGNIS_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: REPLICA_POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL unreachable at ${REPLICA_POSTGRES_URL} (${error instanceof Error ? error.message : error})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Why the multi-replica suites cannot run here, or undefined when PostgreSQL and NATS are both reachable.
 * With IGNIS_TEST_REQUIRE_POSTGRES=1 (CI) a missing service is an error instead of a skip.
 */
export async function replicaServicesProblem(): Promise<string | undefined> {
  const problems = (await Promise.all([probePostgres(), probeTcp(REPLICA_NATS_URL, "NATS")])).filter(
    (p): p is string => p !== undefined,
  );
  if (problems.length === 0) return undefined;
  const reason = problems.join("; ");
  if (process.env.IGNIS_TEST_REQUIRE_POSTGRES === "1") {
    throw new Error(
      `multi-replica suites need PostgreSQL and NATS (IGNIS_TEST_REQUIRE_POSTGRES=1): ${reason}`,
    );
  }
  return reason;
}

const problem = await replicaServicesProblem();
if (problem) console.warn(`[ignis tests] skipping multi-replica and fault suites: ${problem}`);

/** A describe block that runs only when PostgreSQL and NATS are reachable, and prints why it skips otherwise. */
export function describeWithReplicaServices(name: string, suite: () => void): void {
  describe.skipIf(problem !== undefined)(name, suite);
}
