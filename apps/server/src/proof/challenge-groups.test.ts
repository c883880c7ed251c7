import { expect, it } from "vitest";
import { createInProcessBus } from "../bus/in-process-bus.js";
import { createUserWithKey, insertDevices } from "../security/security-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import { waitFor } from "../testing/wait-for.js";
import {
  claimGroupSlot,
  GROUP_SUBJECT,
  type GroupCall,
  membersOf,
  pruneGroupSlots,
  startGroupChallenges,
} from "./challenge-groups.js";

describeEachDialect("group challenge slots and members", (database) => {
  it("grants an owner's slot once per interval, to one of many replicas claiming it at once", async () => {
    const db = database().db;
    const t0 = Date.now();
    const first = await Promise.all(
      Array.from({ length: 6 }, () => claimGroupSlot(db, "owner:a", t0, 60_000)),
    );
    expect(first.filter(Boolean)).toHaveLength(1);
    expect(await claimGroupSlot(db, "owner:a", t0 + 59_000, 60_000)).toBe(false);
    expect(await claimGroupSlot(db, "owner:b", t0 + 59_000, 60_000)).toBe(true);
    expect(await claimGroupSlot(db, "owner:a", t0 + 61_000, 60_000)).toBe(true);
    // Ten idle intervals later the slots are forgotten; a recent one stays.
    expect(await claimGroupSlot(db, "owner:c", t0 + 700_000, 60_000)).toBe(true);
    expect(await pruneGroupSlots(db, t0 + 700_000, 60_000)).toBe(2);
    const left = await db
      .selectFrom("proof_group_slots")
      .select("key")
      .where("key", "like", "owner:%")
      .execute();
    expect(left.map((r) => r.key)).toEqual(["owner:c"]);
  });

  it("gathers the online devices of the owner or behind the address, never hired ones or the caller", async () => {
    const db = database().db;
    const owner = await createUserWithKey(db, ["supplier"]);
    const other = await createUserWithKey(db, ["supplier"]);
    const [caller, sibling, hired, offline] = await insertDevices(db, owner.userId, 4, { status: "online" });
    const [sameAddress, elsewhere] = await insertDevices(db, other.userId, 2, { status: "online" });
    await db.updateTable("devices").set({ status: "hired" }).where("id", "=", hired!).execute();
    await db.updateTable("devices").set({ status: "offline" }).where("id", "=", offline!).execute();
    await db
      .updateTable("devices")
      .set({ session_address: "203.0.113.5" })
      .where("id", "in", [caller!, sameAddress!])
      .execute();
    await db
      .updateTable("devices")
      .set({ session_address: "198.51.100.9" })
      .where("id", "=", elsewhere!)
      .execute();
    const members = await membersOf(db, { ownerId: owner.userId, address: "203.0.113.5", except: caller! });
    expect(members.sort()).toEqual([sibling!, sameAddress!].sort());
    // Without an address (never had a session), the owner alone defines the group.
    expect(await membersOf(db, { ownerId: owner.userId, address: null, except: caller! })).toEqual([
      sibling!,
    ]);
  });

  it("groups an address once per interval however many owners sit behind it", async () => {
    const db = database().db;
    const bus = createInProcessBus();
    const calls: GroupCall[] = [];
    bus.subscribe(GROUP_SUBJECT, (payload) => void calls.push(payload as GroupCall));
    const t0 = Date.now() + 3_600_000;
    const groups = startGroupChallenges({
      db,
      bus,
      log: { info: () => undefined, warn: () => undefined },
      intervalMs: 60_000,
      now: () => t0,
      challenge: () => false,
    });
    const [first, second] = [
      await createUserWithKey(db, ["supplier"]),
      await createUserWithKey(db, ["supplier"]),
    ];
    const [a] = await insertDevices(db, first.userId, 1, { status: "online" });
    const [b] = await insertDevices(db, second.userId, 1, { status: "online" });
    await db
      .updateTable("devices")
      .set({ session_address: "192.0.2.44" })
      .where("id", "in", [a!, b!])
      .execute();
    // As the proof service calls it, with the row it read to issue the scheduled re-check.
    const callFor = (ownerId: string, except: string) => ({ ownerId, address: "192.0.2.44", except });
    await groups.scheduled(callFor(first.userId, a!));
    await groups.scheduled(callFor(second.userId, b!));
    await groups.scheduled(callFor(first.userId, a!));
    // The in-process bus delivers in publish order: once a marker published last arrives, every call has.
    const marker = new Promise((resolve) => bus.subscribe("test.marker", resolve));
    await bus.publish("test.marker", true);
    await marker;
    // Each owner once; the shared address only with the first.
    expect(calls).toEqual([
      {
        ownerId: first.userId,
        address: "192.0.2.44",
        except: a,
        round: expect.any(String),
        // Read when the round was called, before any challenge went out, with each member's moment in the spread.
        members: [b],
        offsetsMs: [expect.any(Number)],
      },
      {
        ownerId: second.userId,
        address: null,
        except: b,
        round: expect.any(String),
        members: [],
        offsetsMs: [],
      },
    ]);
    expect(calls[0]!.round).not.toBe(calls[1]!.round);
    groups.stop();
  });

  it("challenges each member of a group at its own random moment within the spread", async () => {
    const db = database().db;
    const bus = createInProcessBus();
    const owner = await createUserWithKey(db, ["supplier"]);
    const [caller, ...members] = await insertDevices(db, owner.userId, 4, { status: "online" });
    const draws = [0.9, 0.1, 0.5];
    const scheduled: { ms: number; run: () => void }[] = [];
    const challenged: string[] = [];
    const rounds = new Set<string>();
    const groups = startGroupChallenges({
      db,
      bus,
      log: { info: () => undefined, warn: () => undefined },
      intervalMs: 60_000,
      now: () => Date.now() + 7_200_000,
      spreadMs: 300,
      random: () => draws.shift() ?? 0,
      wait: (ms, run) => {
        scheduled.push({ ms, run });
        return () => undefined;
      },
      challenge: (id, round) => {
        challenged.push(id);
        rounds.add(round);
        return true;
      },
    });
    const call = await groups.scheduled({ ownerId: owner.userId, address: null, except: caller! });
    await waitFor("a delay for every member", () => scheduled.length >= members.length);
    // One delay per member, from its own draw (0.9, 0.1, 0.5 of 300 ms), and nobody challenged before it.
    expect(scheduled.map((s) => s.ms).sort((a, b) => a - b)).toEqual([30, 150, 270]);
    expect(challenged).toEqual([]);
    for (const s of scheduled) s.run();
    expect([...challenged].sort()).toEqual([...members].sort());
    // Every member's challenge belongs to the caller's round.
    expect([...rounds]).toEqual([call!.round]);
    groups.stop();
  });
});
