import type { Bus, BusSubscription } from "../bus/bus.js";
import type { KeyMigration } from "../devices/key-migrations.js";
import type { GatewayLog, HubSession } from "./session-hub.js";

const MIGRATION_SUBJECT = "ignis.gateway.key-migration";

/** A fleet key migration as it travels between replicas. */
interface MigrationPayload {
  replicaId: string;
  id: string;
  startedAt: string;
  rotateBy: string;
}

/**
 * Fleet key migrations reach every connected device: the replica that starts one asks its own sessions and
 * announces it on the bus, and every other replica asks its sessions in turn. A device asked is one whose key
 * predates the migration; the others already hold a key made after it.
 */
export function createKeyMigrationBroadcast(options: {
  bus: Bus;
  replicaId: string;
  log: GatewayLog;
  sessions: ReadonlyMap<string, HubSession>;
}) {
  const { bus, replicaId, log, sessions } = options;
  let subscription: BusSubscription | undefined;

  const askToRotate = (migration: Pick<KeyMigration, "id" | "startedAt" | "rotateBy">): number => {
    let asked = 0;
    const startedMs = migration.startedAt.getTime();
    const rotateBy = migration.rotateBy.toISOString();
    for (const s of sessions.values()) {
      if (s.keyCreatedMs >= startedMs) continue;
      if (s.send({ type: "key.rotate-request", migrationId: migration.id, rotateBy })) asked++;
    }
    return asked;
  };

  return {
    /** Asks this replica's devices and announces the migration to the others; returns how many were asked here. */
    async announce(migration: KeyMigration): Promise<number> {
      const payload: MigrationPayload = {
        replicaId,
        id: migration.id,
        startedAt: migration.startedAt.toISOString(),
        rotateBy: migration.rotateBy.toISOString(),
      };
      await bus
        .publish(MIGRATION_SUBJECT, payload)
        .catch((error: unknown) =>
          log.warn({ err: error }, "could not announce the key migration to other replicas"),
        );
      return askToRotate(migration);
    },
    start(): void {
      subscription = bus.subscribe(MIGRATION_SUBJECT, (raw) => {
        const m = raw as MigrationPayload;
        if (m.replicaId === replicaId) return;
        askToRotate({ id: m.id, startedAt: new Date(m.startedAt), rotateBy: new Date(m.rotateBy) });
      });
    },
    stop(): void {
      subscription?.unsubscribe();
    },
  };
}
