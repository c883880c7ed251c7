import { IgnisError } from "@ignis/protocol";
import { type Migration, type MigrationProvider, Migrator } from "kysely";
import type { Db } from "./database.js";
import { migrations } from "./migrations/index.js";

const provider: MigrationProvider = {
  getMigrations: async () => migrations as Record<string, Migration>,
};

/** Applies every pending numbered migration; safe to call from several replicas at once. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Numbers were assigned per domain up front and land in any order (0006 after 0007-0009 on existing
  // databases); each migration touches only its own tables, so applying a late lower number is safe.
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new IgnisError("internal", "database migration failed", { cause: error });
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
