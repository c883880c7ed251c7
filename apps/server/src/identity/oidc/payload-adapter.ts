import type { Adapter, AdapterPayload } from "oidc-provider";
import type { Db } from "../../db/database.js";

/** How often (at most) expired provider rows are swept, per process. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Deletes provider artifacts (sessions, codes, grants...) whose expiry has passed; returns how many. */
export async function sweepExpiredPayloads(db: Db, now = new Date()): Promise<number> {
  const result = await db.deleteFrom("oidc_payloads").where("expires_at", "<=", now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Builds oidc-provider's adapter class over the `oidc_payloads` table: one row per (model kind, id), with the
 * lookup columns (grant, user code, uid) copied out of the payload. Expired rows are invisible and swept
 * every few minutes, so no separate job is needed.
 */
export function createPayloadAdapter(db: Db, clock: () => Date = () => new Date()) {
  let lastSweep = 0;
  const maybeSweep = () => {
    const now = clock();
    if (now.getTime() - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = now.getTime();
    // Best effort: a failed sweep only leaves invisible rows for the next one.
    sweepExpiredPayloads(db, now).catch(() => undefined);
  };

  return class PayloadAdapter implements Adapter {
    constructor(readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn > 0 ? new Date(clock().getTime() + expiresIn * 1000) : null;
      const row = {
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === "string" ? payload.grantId : null,
        user_code: typeof payload.userCode === "string" ? payload.userCode : null,
        uid: typeof payload.uid === "string" ? payload.uid : null,
        expires_at: expiresAt,
      };
      await db
        .insertInto("oidc_payloads")
        .values({ kind: this.kind, id, ...row })
        .onConflict((oc) => oc.columns(["kind", "id"]).doUpdateSet(row))
        .execute();
      maybeSweep();
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return this.findWhere("id", id);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findWhere("user_code", userCode);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findWhere("uid", uid);
    }

    async consume(id: string): Promise<void> {
      await db
        .updateTable("oidc_payloads")
        .set({ consumed_at: clock() })
        .where("kind", "=", this.kind)
        .where("id", "=", id)
        .where("consumed_at", "is", null)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom("oidc_payloads").where("kind", "=", this.kind).where("id", "=", id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // A grant's artifacts live under several kinds (codes, refresh tokens, the grant itself): drop them all.
      await db.deleteFrom("oidc_payloads").where("grant_id", "=", grantId).execute();
    }

    private async findWhere(
      column: "id" | "user_code" | "uid",
      value: string,
    ): Promise<AdapterPayload | undefined> {
      const row = await db
        .selectFrom("oidc_payloads")
        .select(["payload", "consumed_at"])
        .where("kind", "=", this.kind)
        .where(column, "=", value)
        .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", clock())]))
        .executeTakeFirst();
      if (!row) return undefined;
      const payload = row.payload as AdapterPayload;
      return row.consumed_at
        ? { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) }
        : payload;
    }
  };
}
