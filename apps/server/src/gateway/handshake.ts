import { IgnisError, isIgnisError, sessionSigningText } from "@ignis/protocol";
import { CoalescedReads } from "../db/coalesced-reads.js";
import type { Db } from "../db/database.js";
import { usableKey } from "../devices/device-keys.js";
import { verifyEd25519 } from "../devices/ed25519.js";
import type { AuthenticatedDevice, RefusedHandshake, SessionHub } from "./session-hub.js";

/** What a worker's `session.auth` claims. */
export interface SessionAuth {
  deviceId: string;
  publicKey: string;
  signature: string;
}

/** The one answer every refused opener gets: unknown, revoked and wrong-key devices are told the same thing. */
export function handshakeRefusal(reason: string, details: Record<string, unknown> = {}): IgnisError {
  return new IgnisError("handshake_failed", "the device could not be authenticated", {
    details: { reason, ...details },
  });
}

/** The key a session opener names, with its device. */
interface HandshakeRequest {
  deviceId: string;
  publicKey: string;
}

/**
 * What the handshake needs from the database for a batch of openers, in one statement: each device, the key its
 * opener names (if it is the device's), and the earliest-due fleet migration started after that key was made.
 * Public keys are unique across devices, so a row's key is the one its opener named or none at all.
 */
async function handshakeRecords(db: Db, requests: HandshakeRequest[]) {
  const rows = await db
    .selectFrom("devices as d")
    .leftJoin("device_keys as k", (join) =>
      join.onRef("k.device_id", "=", "d.id").on(
        "k.public_key",
        "in",
        requests.map((r) => r.publicKey),
      ),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("key_migrations as m")
          .select(["m.id", "m.started_at", "m.rotate_by", "m.note"])
          .whereRef("m.started_at", ">", "k.created_at")
          .orderBy("m.rotate_by")
          .limit(1)
          .as("m"),
      (join) => join.onTrue(),
    )
    .select([
      "d.id",
      "d.status",
      "d.rotation_requested_at",
      "d.outdated_since",
      "k.id as key_id",
      "k.public_key as key_public_key",
      "k.state as key_state",
      "k.created_at as key_created_at",
      "k.retire_at as key_retire_at",
      "m.id as migration_id",
      "m.started_at as migration_started_at",
      "m.rotate_by as migration_rotate_by",
      "m.note as migration_note",
    ])
    .where(
      "d.id",
      "in",
      requests.map((r) => r.deviceId),
    )
    .execute();
  type Row = (typeof rows)[number];
  const answers = new Map<string, Row>();
  for (const request of requests) {
    const mine = rows.filter((r) => r.id === request.deviceId);
    const withKey = mine.find((r) => r.key_public_key === request.publicKey);
    // The device without a key: another opener's key of the same device, or no key at all, is not this one.
    const device = withKey ?? (mine[0] && withoutKey(mine[0]));
    if (device) answers.set(handshakeKey(request), device);
  }
  return answers;
}

type HandshakeRecord = Awaited<ReturnType<typeof handshakeRecords>> extends Map<string, infer V> ? V : never;

const withoutKey = (row: HandshakeRecord): HandshakeRecord => ({
  ...row,
  key_id: null,
  key_public_key: null,
  key_state: null,
  key_created_at: null,
  key_retire_at: null,
  migration_id: null,
  migration_started_at: null,
  migration_rotate_by: null,
  migration_note: null,
});

const handshakeKey = (request: HandshakeRequest) => `${request.deviceId}\n${request.publicKey}`;

/**
 * The handshake's database reads of one replica, coalesced (db/coalesced-reads.ts): the openers that arrive while
 * a read is in flight are read together in the next statement, so a reconnect storm costs one round trip per
 * batch. Nothing is cached, so a revocation or a rotation is seen by the very next opener.
 */
export class HandshakeReader {
  private readonly reads: CoalescedReads<HandshakeRequest, HandshakeRecord>;

  constructor(readonly db: Db) {
    this.reads = new CoalescedReads((requests) => handshakeRecords(db, requests), handshakeKey);
  }

  read(request: HandshakeRequest): Promise<HandshakeRecord | undefined> {
    return this.reads.read(request);
  }
}

/**
 * Checks a session opener against the registered keys: the device exists and is not revoked, the key is one
 * of its usable keys, the signature covers this session's fresh nonce and one of the server's own origins, and
 * no expired fleet migration has retired the key. Every failure is the same `handshake_failed` with the same
 * message (the reason goes to the audit log only), so answers say nothing about which devices exist or were
 * revoked. A device in `conflict` is refused with `device_conflict`, but only once the signature proves the
 * caller holds its key. One database read (shared with the other openers of the moment: HandshakeReader), and a
 * write only to retire a lapsed key.
 */
export async function authenticateSession(
  reader: HandshakeReader,
  auth: SessionAuth,
  context: { nonce: string; origins: readonly string[]; now?: Date },
): Promise<AuthenticatedDevice> {
  const now = context.now ?? new Date();
  const device = await reader.read({ deviceId: auth.deviceId, publicKey: auth.publicKey });
  const key = device?.key_id
    ? await usableKey(reader.db, {
        id: device.key_id,
        state: device.key_state!,
        createdAt: device.key_created_at!,
        retireAt: device.key_retire_at,
        now,
      })
    : undefined;
  // Verified whatever the outcome, so an unknown device costs the same time as a known one.
  const signed = context.origins.some((origin) =>
    verifyEd25519(auth.publicKey, sessionSigningText(context.nonce, auth.deviceId, origin), auth.signature),
  );
  if (!device) throw handshakeRefusal("unknown_device");
  if (device.status === "revoked") throw handshakeRefusal("revoked_device");
  if (!key) throw handshakeRefusal("unknown_key");
  if (!signed) throw handshakeRefusal("bad_signature");
  const migration = device.migration_id
    ? {
        id: device.migration_id,
        startedAt: device.migration_started_at!,
        rotateBy: device.migration_rotate_by!,
        note: device.migration_note ?? null,
      }
    : undefined;
  if (migration && migration.rotateBy <= now) {
    throw handshakeRefusal("migration_expired", { migrationId: migration.id });
  }
  if (device.status === "conflict") {
    throw new IgnisError(
      "device_conflict",
      "another machine is using this device's key; the owner must resolve the conflict (keep one machine, or revoke and re-enroll)",
    );
  }
  return {
    deviceId: device.id,
    status: device.status,
    keyId: key.id,
    keyCreatedAt: key.createdAt,
    publicKey: auth.publicKey,
    rotateFor: migration,
    rotationRequestedAt:
      device.rotation_requested_at && device.rotation_requested_at > key.createdAt
        ? device.rotation_requested_at
        : null,
    outdatedSince: device.outdated_since,
  };
}

/** The monitor's name for each refusal reason; other reasons (a conflict, a retired key) are not guesses. */
const MONITORED_REASONS: Record<string, RefusedHandshake["reason"]> = {
  unknown_device: "unknown_device",
  unknown_key: "unknown_device",
  revoked_device: "revoked_device",
  bad_signature: "bad_signature",
};

/**
 * Reports a refused session opener: to the security monitor always, and to the audit log while the address is
 * within its failed-authentication budget (so a flood of guesses cannot flood the log). Returns the refusal to
 * send the worker; an unexpected error becomes a plain `handshake_failed` and is logged.
 */
export async function reportRefusedHandshake(
  hub: SessionHub,
  session: { id: string; ip: string },
  deviceId: string,
  error: unknown,
): Promise<IgnisError> {
  const refusal = isIgnisError(error) ? error : handshakeRefusal("internal");
  if (!isIgnisError(error)) hub.log.error({ err: error }, "worker handshake failed unexpectedly");
  const monitored = MONITORED_REASONS[String(refusal.details?.reason)];
  if (monitored) hub.refusedHandshake({ deviceId, ip: session.ip, reason: monitored });
  if (await hub.noteFailedHandshake(session.ip)) {
    hub.audit({
      actorType: "anonymous",
      action: "device.session.open",
      objectType: "device",
      objectId: deviceId,
      outcome: `refused:${refusal.code}`,
      ip: session.ip,
      details: { sessionId: session.id, ...(refusal.details ?? {}) },
    });
  }
  return refusal;
}
