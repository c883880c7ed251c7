import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";

/** Inserts a supplier and returns its id (for tests of the ledger, rewards and anything else that needs one). */
export async function insertSupplier(db: Db): Promise<string> {
  const id = newId("usr");
  await db
    .insertInto("users")
    .values({ id, issuer: "test", subject: id, email: null, roles: JSON.stringify(["supplier"]) })
    .execute();
  return id;
}
