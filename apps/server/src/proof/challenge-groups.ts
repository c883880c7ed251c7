import { randomUUID } from "node:crypto";
import type { Bus } from "../bus/bus.js";
import type { Db } from "../db/database.js";

/** The bus subject on which a group challenge reaches every replica. */
export const GROUP_SUBJECT = "ignis.proof.group";
/** Most devices one group challenge reaches (those beyond it wait for the next group). */
export const MAX_GROUP = 256;
/**
 * Each member of a group is challenged at its own random moment within this spread, not all at one instant, so
 * nothing observable (a public time, a device page flipping) lines an owner's devices up. The spread stays below
 * the shortest challenge deadline, so the challenges still overlap and one GPU cannot answer several in turn.
 */
export const GROUP_SPREAD_MS = 1_000;

/** A group challenge as it travels between replicas: whose devices, and which one already has its challenge. */
export interface GroupCall {
  ownerId: string;
  address: string | null;
  except: string;
  /** The round's id, stored with each of its challenges (the caller's too): a round's pass clears a round's miss. */
  round: string;
  /**
   * The devices the round challenges, read when it was called, before any of its challenges went out: a device
   * that sees its sibling's challenge arrive cannot leave the list by going offline (the proof service records
   * a member that left before its challenge as having missed the round). Absent in calls from older replicas,
   * which each replica then reads itself.
   */
  members?: string[];
  /**
   * Each member's moment in the spread (ms after the call, aligned with `members`), drawn by the caller so that
   * every replica agrees when a member is due: the one holding its session challenges it then, and the caller
   * records it as having missed the round if no replica holds it then.
   */
  offsetsMs?: number[];
}

/**
 * Group challenges answer one GPU posing as several devices. Independent re-checks come at random times, so
 * one real GPU behind eight enrolled "H100"s answers each in turn and passes them all. Now and then a device's
 * scheduled re-check becomes a group: every online device of the same owner, or behind the same session
 * address, is challenged within the next second too, each at its own random moment. Each real GPU answers its
 * own in time; a shared one answers one and misses the other deadlines. A device that missed a round (late, or
 * excused by a stall it may have faked) is retried in a round again and is cleared only by passing one
 * (verification-state.ts), so its individual retries, which a shared GPU passes, never clear it.
 *
 * Claims the right to call a group for `key` (`owner:<id>` or `address:<ip>`) now: true for one caller at most
 * once per `intervalMs`, across replicas (one conditional upsert), so an owner with a thousand devices is grouped
 * about once per re-check interval, not once per device.
 */
export async function claimGroupSlot(
  db: Db,
  key: string,
  nowMs: number,
  intervalMs: number,
): Promise<boolean> {
  const at = new Date(nowMs);
  const result = await db
    .insertInto("proof_group_slots")
    .values({ key, last_at: at })
    .onConflict((oc) =>
      oc
        .column("key")
        .doUpdateSet({ last_at: at })
        .where("proof_group_slots.last_at", "<", new Date(nowMs - intervalMs)),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Slots idle this many intervals are forgotten: owners leave and addresses change. */
const SLOT_RETENTION_INTERVALS = 10;

/** Deletes the slots of owners and addresses not grouped for a long time; returns how many. */
export async function pruneGroupSlots(db: Db, nowMs: number, intervalMs: number): Promise<number> {
  const result = await db
    .deleteFrom("proof_group_slots")
    .where("last_at", "<", new Date(nowMs - SLOT_RETENTION_INTERVALS * intervalMs))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Online devices of the group, other than the one that called it (hired devices run customers' jobs). */
export async function membersOf(db: Db, call: Omit<GroupCall, "round" | "members">): Promise<string[]> {
  const rows = await db
    .selectFrom("devices")
    .select("id")
    .where((eb) =>
      eb.or([
        eb("owner_id", "=", call.ownerId),
        ...(call.address ? [eb("session_address", "=", call.address)] : []),
      ]),
    )
    .where("status", "=", "online")
    .where("id", "!=", call.except)
    .limit(MAX_GROUP)
    .execute();
  return rows.map((r) => r.id);
}

/** Calls group challenges from this replica's scheduled re-checks and answers those of every replica. */
export function startGroupChallenges(options: {
  db: Db;
  bus: Bus;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** At most one group per owner this often: the mean re-check interval. */
  intervalMs: number;
  now: () => number;
  /**
   * Challenges one device now, as part of `round`, if this replica holds its session; true when it does.
   * `calledHere`: this replica called the round (it alone answers for a member no replica holds).
   */
  challenge(deviceId: string, round: string, calledHere: boolean): boolean;
  /** Members are challenged at independent uniform offsets in [0, spreadMs) (default {@link GROUP_SPREAD_MS}). */
  spreadMs?: number;
  /** A uniform draw in [0, 1) (tests pass a fixed sequence). */
  random?: () => number;
  /** Runs `run` after `ms` and returns a cancel function (a timer; tests record the delays instead). */
  wait?: (ms: number, run: () => void) => () => void;
}) {
  const { db, bus, log } = options;
  const spreadMs = options.spreadMs ?? GROUP_SPREAD_MS;
  const random = options.random ?? Math.random;
  const wait =
    options.wait ??
    ((ms: number, run: () => void) => {
      const timer = setTimeout(run, ms);
      timer.unref();
      return () => clearTimeout(timer);
    });
  const pending = new Set<() => void>();
  let prunedAt = 0;
  /** Rounds this replica called, and when (forgotten a minute after their spread). */
  const calledHere = new Map<string, number>();
  const offset = () => Math.floor(random() * spreadMs);
  const challengeLater = (deviceId: string, round: string, atMs: number) => {
    const cancel = wait(atMs, () => {
      pending.delete(cancel);
      options.challenge(deviceId, round, calledHere.has(round));
    });
    pending.add(cancel);
  };
  const subscription = bus.subscribe(GROUP_SUBJECT, async (raw) => {
    const call = raw as GroupCall;
    try {
      const members = call.members ?? (await membersOf(db, call));
      for (const [i, id] of members.entries())
        challengeLater(id, call.round, call.offsetsMs?.[i] ?? offset());
      if (members.length > 0)
        log.info({ ownerId: call.ownerId, members: members.length }, "proof of GPU: group challenge");
    } catch (error) {
      log.warn({ err: error }, "proof of GPU: group challenge failed");
    }
  });
  const withMembers = async (call: Omit<GroupCall, "members">): Promise<GroupCall> => {
    const members = await membersOf(db, call);
    return { ...call, members, offsetsMs: members.map(offset) };
  };
  const announce = (call: GroupCall) => {
    const now = options.now();
    for (const [round, at] of calledHere) if (now - at > spreadMs + 60_000) calledHere.delete(round);
    calledHere.set(call.round, now);
    return bus
      .publish(GROUP_SUBJECT, call)
      .catch((error: unknown) => log.warn({ err: error }, "proof of GPU: group challenge not announced"));
  };
  return {
    /**
     * A device's scheduled re-check is about to be issued (`found`: its owner and session address, itself
     * excepted): claims a group round when the owner's slot is free, and returns it (null when not); the caller's
     * challenge joins the round, then {@link call} challenges the members.
     */
    async claim(found: Omit<GroupCall, "round" | "members">, round: string): Promise<GroupCall | null> {
      const now = options.now();
      if (!(await claimGroupSlot(db, `owner:${found.ownerId}`, now, options.intervalMs))) return null;
      // The address is grouped at most once per interval too, however many owners sit behind it (a datacenter's
      // NAT): so a device is group-challenged at most twice per interval, for its owner and for its address.
      const withAddress =
        found.address !== null &&
        (await claimGroupSlot(db, `address:${found.address}`, now, options.intervalMs));
      // Forget long-idle slots now and then (once per interval per replica), so the table tracks live owners.
      if (now - prunedAt >= options.intervalMs) {
        prunedAt = now;
        await pruneGroupSlots(db, now, options.intervalMs);
      }
      return withMembers({ ...found, address: withAddress ? found.address : null, round });
    },
    /** A bound retry's round (no slot): its members read now, before its caller's challenge goes out. */
    retryRound: (found: Omit<GroupCall, "round" | "members">, round: string) =>
      withMembers({ ...found, round }),
    /**
     * Challenges the round's members, on whichever replica holds each session. A device that missed a round calls
     * its retry this way, without a slot: its retry is a round again (verification-state.ts, currentStreak).
     */
    call: announce,
    /** {@link claim} and {@link call} in one: a scheduled re-check's round, when the slot is free (tests). */
    async scheduled(found: Omit<GroupCall, "round" | "members">): Promise<GroupCall | null> {
      const call = await this.claim(found, randomUUID());
      if (call) await announce(call);
      return call;
    },
    stop(): void {
      subscription.unsubscribe();
      for (const cancel of pending) cancel();
      pending.clear();
    },
  };
}
