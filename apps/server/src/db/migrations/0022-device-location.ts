import type { Kysely } from "kysely";

/**
 * Device locations: the country the latest session's public address locates the device in (GeoIP; null when it
 * does not locate: private, loopback or unlisted addresses), and the country its owner declares. Only a country
 * is kept, never the address's finer location. Clusters keep the countries their customer included or excluded.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("devices")
    .addColumn("geo_country", "text")
    .addColumn("declared_country", "text")
    .execute();
  // A cluster's country filters, kept so a replacement rank is hired under the same ones (comma-separated codes).
  await db.schema
    .alterTable("clusters")
    .addColumn("countries", "text")
    .addColumn("exclude_countries", "text")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("clusters").dropColumn("countries").dropColumn("exclude_countries").execute();
  await db.schema.alterTable("devices").dropColumn("geo_country").dropColumn("declared_country").execute();
}
