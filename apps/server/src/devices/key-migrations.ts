import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";

/** A fleet key migration: every key created before `startedAt` must be rotated out by `rotateBy`. */
export interface KeyMigration {
  id: string;
  startedAt: Date;
  rotateBy: Date;
  note: string | null;
}

/** Starts a fleet migration. */
export async function createKeyMigration(
  db: Db,
  input: { rotateBy: Date; createdBy: string; note?: string | undefined },
  now = new Date(),
): Promise<KeyMigration> {
  const id = newId("mig");
  await db
    .insertInto("key_migrations")
    .values({
      id,
      started_at: now,
      rotate_by: input.rotateBy,
      created_by: input.createdBy,
      note: input.note ?? null,
    })
    .execute();
  return { id, startedAt: now, rotateBy: input.rotateBy, note: input.note ?? null };
}

/** Lists migrations, newest first, with how many live devices still hold only pre-migration keys. */
export async function listKeyMigrations(
  db: Db,
  limit = 50,
): Promise<Array<KeyMigration & { devicesPending: number }>> {
  const rows = await db
    .selectFrom("key_migrations")
    .select(["id", "started_at", "rotate_by", "note"])
    .orderBy("started_at", "desc")
    .limit(limit)
    .execute();
  const out: Array<KeyMigration & { devicesPending: number }> = [];
  for (const r of rows) {
    const pending = await db
      .selectFrom("devices")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("status", "!=", "revoked")
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("device_keys")
              .select("device_keys.id")
              .whereRef("device_keys.device_id", "=", "devices.id")
              .where("device_keys.state", "=", "active")
              .where("device_keys.created_at", ">=", r.started_at),
          ),
        ),
      )
      .executeTakeFirstOrThrow();
    out.push({
      id: r.id,
      startedAt: r.started_at,
      rotateBy: r.rotate_by,
      note: r.note,
      devicesPending: Number(pending.n),
    });
  }
  return out;
}
