import type { Db } from "../db/database.js";

/**
 * Round coverage. A device that missed a group round is cleared only by passing a round (verification-state.ts),
 * but a round challenges the group's *online* devices: one GPU posing as A and B could let B miss a round, take A
 * offline for B's retry round, pass it with the GPU alone, and bring A back, so both look verified while one GPU
 * serves them. So a round clears a miss only when it also challenged every device of the missed rounds that still
 * counts. A device stops counting when it cannot be challenged for reasons the owner cannot time around a retry:
 * revoked, quarantined, or hired by a customer (a rental is the network's business, and a job holds the GPU); or
 * when it has been offline or in a key conflict for at least `absenceMs`. That bound keeps an honest device whose
 * sibling was unplugged for good from waiting forever, and it costs a cheater what the dodge would gain: with it
 * at the mean re-check interval, the device kept away loses as much uptime as its sibling gains. (An owner who
 * removed a GPU revokes its device and the siblings' next round clears them at once.)
 */

/**
 * The reason kept for a round member that no replica held when its challenge was due (proof-service.ts): a
 * timeout that counts as a failure, like a challenge walked away from. Such a record is no challenge: it does not
 * cover its device in the round.
 */
export const ROUND_ABSENT = "round_absent";

/** Device statuses that still count towards a round's coverage; offline and conflict only within the absence. */
const COUNTING = ["online", "offline", "conflict"] as const;

/** A device of the missed rounds that the given round did not challenge and that still counts. */
export interface LeftOutMember {
  deviceId: string;
  /** `online` (left out of the round, e.g. in a stall back-off), or `offline` / `conflict` within the absence. */
  status: (typeof COUNTING)[number];
}

/**
 * The devices of `missedRounds` (other than `deviceId`) that still count and that `round` did not challenge
 * (`round` null: none was challenged yet, as when a retry round is about to be called).
 */
export async function leftOutOfRound(
  db: Db,
  input: {
    deviceId: string;
    missedRounds: readonly string[];
    round: string | null;
    nowMs: number;
    absenceMs: number;
  },
): Promise<LeftOutMember[]> {
  if (input.missedRounds.length === 0) return [];
  const absentSince = new Date(input.nowMs - input.absenceMs);
  const round = input.round;
  const rows = await db
    .selectFrom("devices as d")
    .select(["d.id", "d.status"])
    .where("d.id", "!=", input.deviceId)
    .where("d.id", "in", (eb) =>
      eb
        .selectFrom("proof_challenges as m")
        .select("m.device_id")
        .where("m.group_round", "in", [...input.missedRounds]),
    )
    .$if(round !== null, (qb) =>
      qb.where("d.id", "not in", (eb) =>
        eb
          .selectFrom("proof_challenges as p")
          .select("p.device_id")
          .where("p.group_round", "=", round)
          .where((w) => w.or([w("p.reason", "is", null), w("p.reason", "!=", ROUND_ABSENT)])),
      ),
    )
    .where("d.status", "in", [...COUNTING])
    .where("d.verification", "!=", "failed")
    .where((eb) =>
      eb.or([
        eb("d.status", "=", "online"),
        eb.and([eb("d.last_seen_at", "is not", null), eb("d.last_seen_at", ">=", absentSince)]),
      ]),
    )
    .orderBy("d.id")
    .execute();
  return rows.map((r) => ({ deviceId: r.id, status: r.status as LeftOutMember["status"] }));
}
