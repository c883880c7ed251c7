import type { Db } from "../db/database.js";
import type { TableProbe } from "./optional-tables.js";

/** The newest epoch whose reward Merkle root is published. */
export interface PublishedRoot {
  epoch: number;
  root: string;
}

/** The rewards module's closed epochs (migration 0007), as the explorer reads them. */
type RewardEpochsTable = {
  reward_epochs: { epoch: string; root: string | null };
};

/** Reads the last published root, or null while the rewards tables do not exist or no epoch has a root yet. */
export async function lastPublishedRoot(db: Db, probe: TableProbe): Promise<PublishedRoot | null> {
  if (!(await probe.has("reward_epochs"))) return null;
  const row = await db
    .withTables<RewardEpochsTable>()
    .selectFrom("reward_epochs")
    .select(["epoch", "root"])
    .where("root", "is not", null)
    .orderBy("epoch", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.root ? { epoch: Number(row.epoch), root: row.root } : null;
}
