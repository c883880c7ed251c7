import { expect, it } from "vitest";
import { createUserWithKey, insertDevices } from "../security/security-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import { claimGroupSlot, membersOf } from "./challenge-groups.js";

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
});
