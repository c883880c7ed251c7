import { IgnisError, type PublicRewardEpoch, REWARD_LEAF_ENCODING, type RewardProof } from "@ignis/protocol";
import { sql } from "kysely";
import { type RootOnChain, rootsOnChain } from "../chain/root-outbox.js";
import type { Db } from "../db/database.js";
import { epochEndMs, epochStartMs } from "./epoch-clock.js";
import { type EpochTiming, epochClosableAtMs } from "./epoch-schedule.js";
import { hashPair, hashRewardLeaf, keccak } from "./leaf-hash.js";
import { seasonForEpoch } from "./seasons.js";
import { pagesForProof, proofFromPages } from "./tree-pages.js";

// Public reads of epochs and proofs. Each view is built field by field from the public schema: never a row.

const selectClosed = (db: Db) =>
  db
    .selectFrom("reward_epochs as e")
    .innerJoin("reward_seasons as s", "s.id", "e.season_id")
    .select([
      sql<string>`e.epoch::text`.as("epoch"),
      "e.starts_at",
      "e.ends_at",
      "e.root",
      sql<string>`e.total::text`.as("total"),
      "e.devices",
      "e.closed_at",
      "s.id as season_id",
      "s.name as season_name",
    ]);

type ClosedRow = Awaited<ReturnType<ReturnType<typeof selectClosed>["executeTakeFirstOrThrow"]>>;

function closedView(row: ClosedRow, chain: RootOnChain | undefined): PublicRewardEpoch {
  return {
    epoch: Number(row.epoch),
    startsAt: new Date(row.starts_at).toISOString(),
    endsAt: new Date(row.ends_at).toISOString(),
    season: { id: row.season_id, name: row.season_name },
    status: "closed",
    root: row.root,
    total: row.total,
    devices: row.devices,
    leafEncoding: [...REWARD_LEAF_ENCODING],
    closedAt: new Date(row.closed_at).toISOString(),
    chain: chain ? { contract: chain.contract, txHash: chain.txHash, blockNumber: chain.blockNumber } : null,
  };
}

/** Closed epochs, newest first, below an optional cursor (an epoch number). */
export async function listClosedEpochs(
  db: Db,
  page: { cursor?: string | undefined; limit: number },
): Promise<{ items: PublicRewardEpoch[]; nextCursor: string | null }> {
  let query = selectClosed(db).orderBy("e.epoch", "desc").limit(page.limit);
  if (page.cursor !== undefined) query = query.where("e.epoch", "<", page.cursor);
  const rows = await query.execute();
  const chain = await rootsOnChain(
    db,
    rows.map((r) => Number(r.epoch)),
  );
  const items = rows.map((row) => closedView(row, chain.get(Number(row.epoch))));
  const last = items.at(-1);
  return { items, nextCursor: items.length === page.limit && last ? String(last.epoch) : null };
}

/**
 * One epoch: closed (with root, total and devices), or, for an epoch of a season that has begun, `open` while it
 * runs and `finalizing` while it waits for late up-minutes and grace windows. Other epochs do not exist.
 */
export async function getRewardEpoch(
  db: Db,
  epoch: number,
  timing: EpochTiming,
  nowMs: number,
): Promise<PublicRewardEpoch> {
  const closed = await selectClosed(db).where("e.epoch", "=", String(epoch)).executeTakeFirst();
  if (closed) return closedView(closed, (await rootsOnChain(db, [epoch])).get(epoch));
  const startsAt = epochStartMs(epoch, timing.epochSeconds);
  const season = startsAt <= nowMs ? await seasonForEpoch(db, epoch, timing.epochSeconds) : undefined;
  if (!season) throw new IgnisError("epoch_not_found", `epoch ${epoch} does not exist`);
  const endsAt = epochEndMs(epoch, timing.epochSeconds);
  const open = nowMs < endsAt;
  return {
    epoch,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    season: { id: season.id, name: season.name },
    status: open ? "open" : "finalizing",
    root: null,
    total: null,
    devices: null,
    leafEncoding: [...REWARD_LEAF_ENCODING],
    closedAt: null,
    chain: null,
  };
}

/**
 * A device's inclusion proof in a closed epoch, read from the stored tree pages (no rebuild): one query for the
 * epoch and the device's reward, one for the three or so pages on its path. Every proof is checked against the
 * root before it is served (the same hashing as StandardMerkleTree.verify, which the tests and the CLI use).
 */
export async function getRewardProof(
  db: Db,
  epoch: number,
  deviceId: string,
  timing: EpochTiming,
  nowMs: number,
): Promise<RewardProof> {
  const found = await db
    .selectFrom("reward_epochs as e")
    .leftJoin("rewards as r", (join) =>
      join.onRef("r.epoch", "=", "e.epoch").on("r.device_id", "=", deviceId),
    )
    .select(["e.root", "e.devices", sql<string | null>`r.amount::text`.as("amount"), "r.tree_index"])
    .where("e.epoch", "=", String(epoch))
    .executeTakeFirst();
  if (!found) {
    const view = await getRewardEpoch(db, epoch, timing, nowMs);
    const closableAt = new Date(await epochClosableAtMs(db, epoch, timing)).toISOString();
    throw new IgnisError(
      "epoch_not_closed",
      `epoch ${epoch} is ${view.status}; proofs exist once it closes`,
      {
        details: { closableAt },
      },
    );
  }
  const { root, devices, amount, tree_index: leafIndex } = found;
  if (amount === null || leafIndex === null || !root) {
    throw new IgnisError("proof_not_found", `device ${deviceId} earned nothing in epoch ${epoch}`);
  }
  const nodeCount = 2 * devices - 1;
  const pages = await db
    .selectFrom("reward_tree_pages")
    .select(["page_root", "nodes"])
    .where("epoch", "=", String(epoch))
    .where("page_root", "in", pagesForProof(leafIndex, nodeCount))
    .execute();
  const proof = proofFromPages(leafIndex, nodeCount, new Map(pages.map((p) => [p.page_root, p.nodes])));
  const leaf: [string, string, string] = [String(epoch), deviceId, amount];
  if ((await rootOfProof(leaf, proof)) !== root) {
    throw new IgnisError("internal", "a stored reward proof does not lead to its root", {
      details: { epoch },
    });
  }
  return { leaf, leafEncoding: [...REWARD_LEAF_ENCODING], proof, root, epoch, deviceId, amount };
}

/** The root a leaf and its proof lead to (StandardMerkleTree's processProof, with the fast hasher). */
async function rootOfProof(leaf: [string, string, string], proof: string[]): Promise<string> {
  const h = await keccak();
  let node: Uint8Array = Buffer.alloc(32);
  hashRewardLeaf(h, { epoch: BigInt(leaf[0]), deviceId: leaf[1], amount: BigInt(leaf[2]) }, node, 0);
  for (const sibling of proof) node = hashPair(h, node, Buffer.from(sibling.slice(2), "hex"));
  return `0x${Buffer.from(node).toString("hex")}`;
}
