import type { Kysely } from "kysely";

/**
 * The private overlay of each open cluster: its subnet slot (unique, so no two open clusters share addresses),
 * its own Nebula CA (the key is deleted with the row when the cluster ends), and the links its ranks measured
 * over the overlay, one row per ordered pair of ranks.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("cluster_meshes")
    .addColumn("cluster_id", "text", (c) => c.primaryKey().references("clusters.id").onDelete("cascade"))
    .addColumn("slot", "integer", (c) => c.notNull().unique())
    .addColumn("ca_cert", "text", (c) => c.notNull())
    .addColumn("ca_key", "text", (c) => c.notNull())
    .addColumn("ca_fingerprint", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("cluster_mesh_links")
    .addColumn("cluster_id", "text", (c) =>
      c.notNull().references("cluster_meshes.cluster_id").onDelete("cascade"),
    )
    .addColumn("from_rank", "integer", (c) => c.notNull())
    .addColumn("to_rank", "integer", (c) => c.notNull())
    .addColumn("rtt_ms", "double precision", (c) => c.notNull())
    .addColumn("mbps", "double precision", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("measured_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("cluster_mesh_links_pk", ["cluster_id", "from_rank", "to_rank"])
    .execute();
}

/** Drops the tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("cluster_mesh_links").execute();
  await db.schema.dropTable("cluster_meshes").execute();
}
