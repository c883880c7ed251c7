import type { Db } from "../db/database.js";

/** The newest epoch whose reward Merkle root is published. */
export interface PublishedRoot {
  epoch: number;
  root: string;
}

/** The last published root (an epoch where nobody earned has none), or null before the first. */
export async function lastPublishedRoot(db: Db): Promise<PublishedRoot | null> {
  const row = await db
    .selectFrom("reward_epochs")
    .select(["epoch", "root"])
    .where("root", "is not", null)
    .orderBy("epoch", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.root ? { epoch: Number(row.epoch), root: row.root } : null;
}
