import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type OpenDatabase, openDatabase } from "../../apps/server/src/db/database.js";
import { migrateToLatest } from "../../apps/server/src/db/migrate.js";
import { type CloseStage, closeEpoch } from "../../apps/server/src/rewards/epoch-close.js";
import { recomputeEpoch } from "../../apps/server/src/rewards/epoch-recompute.js";
import { seedRewardEpoch, seedRewardNetwork } from "../../apps/server/src/rewards/reward-bench-seed.js";
import { createScratchDatabase } from "../replicas/replica-cluster.js";

const CHILD = fileURLToPath(new URL("./epoch-close-child.ts", import.meta.url));
const EPOCH = 480_000;
const EPOCH_SECONDS = 3600;

/** What an interrupted epoch close left behind, and what its rerun produced. */
export interface InterruptResult {
  devices: number;
  stage: CloseStage;
  /** Rows of the epoch found after the kill (all must be 0: the close is one transaction). */
  leftBehind: { epochRows: number; rewardRows: number; treePages: number; ledgerTransactions: number };
  referenceRoot: string | null;
  rerunRoot: string | null;
  rerunMs: number;
  recomputeMatches: boolean;
}

async function seeded(
  devices: number,
): Promise<{ database: OpenDatabase; url: string; drop(): Promise<void> }> {
  const scratch = await createScratchDatabase();
  const database = await openDatabase({ databaseUrl: scratch.url, poolSize: 4 });
  await migrateToLatest(database.db);
  await seedRewardNetwork(database.db, devices);
  await seedRewardEpoch(database.db, EPOCH, EPOCH_SECONDS);
  return {
    database,
    url: scratch.url,
    async drop() {
      await database.close();
      await scratch.drop();
    },
  };
}

/** Starts the child close, resolves once it froze at `stage`, then kills it with SIGKILL. */
async function killMidClose(url: string, stage: CloseStage, onEvent: (text: string) => void): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CHILD, url, String(EPOCH), String(EPOCH_SECONDS), stage],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise((r) => child.once("exit", r));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === `reached ${stage}`) resolve();
    });
    child.once("exit", (code) => reject(new Error(`close child exited (${code}) before reaching ${stage}`)));
  });
  onEvent(`closing process reached "${stage}" inside its transaction; sending SIGKILL`);
  child.kill("SIGKILL");
  await exited;
}

async function countLeft(url: string): Promise<InterruptResult["leftBehind"]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const count = async (q: string, params: unknown[]) => Number((await client.query(q, params)).rows[0].n);
    return {
      epochRows: await count("select count(*) as n from reward_epochs where epoch = $1", [EPOCH]),
      rewardRows: await count("select count(*) as n from rewards where epoch = $1", [EPOCH]),
      treePages: await count("select count(*) as n from reward_tree_pages where epoch = $1", [EPOCH]),
      ledgerTransactions: await count(
        "select count(*) as n from ledger_transactions where reference like $1",
        [`%epoch:${EPOCH}%`],
      ),
    };
  } finally {
    await client.end();
  }
}

/**
 * Seeds two identical networks; closes the epoch on one without interruption (the reference root); on the other,
 * a separate process closing the epoch is killed with SIGKILL at `stage`, then the close is run again.
 */
export async function runEpochCloseInterruptScenario(options: {
  devices: number;
  stage: CloseStage;
  onEvent?: (atMs: number, text: string) => void;
}): Promise<InterruptResult> {
  const started = Date.now();
  const event = (text: string) => options.onEvent?.(Date.now() - started, text);
  const [reference, interrupted] = await Promise.all([seeded(options.devices), seeded(options.devices)]);
  try {
    event(`two identical networks seeded with ${options.devices} devices`);
    const expected = await closeEpoch(reference.database.db, { epoch: EPOCH, epochSeconds: EPOCH_SECONDS });
    event(`reference close: root ${expected?.root}`);
    await killMidClose(interrupted.url, options.stage, event);
    const leftBehind = await countLeft(interrupted.url);
    event(`after the kill: ${JSON.stringify(leftBehind)}`);
    const rerunStarted = Date.now();
    const rerun = await closeEpoch(interrupted.database.db, { epoch: EPOCH, epochSeconds: EPOCH_SECONDS });
    const rerunMs = Date.now() - rerunStarted;
    event(`rerun close: root ${rerun?.root} in ${rerunMs} ms`);
    const recomputed = await recomputeEpoch(interrupted.database.db, EPOCH, EPOCH_SECONDS);
    return {
      devices: options.devices,
      stage: options.stage,
      leftBehind,
      referenceRoot: expected?.root ?? null,
      rerunRoot: rerun?.root ?? null,
      rerunMs,
      recomputeMatches: recomputed.matches,
    };
  } finally {
    await Promise.all([reference.drop(), interrupted.drop()]);
  }
}
