import { expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";
import { createPayloadAdapter, sweepExpiredPayloads } from "./payload-adapter.js";

describeEachDialect("oidc-provider storage adapter", (database) => {
  let now = new Date("2026-11-25T12:00:00Z");
  const clock = () => now;

  it("stores, finds by id, user code and uid, and overwrites on upsert", async () => {
    const Adapter = createPayloadAdapter(database().db, clock);
    const codes = new Adapter("DeviceCode");
    await codes.upsert("dc1", { userCode: "ABCDEFGH", grantId: "g1", clientId: "ignis-cli" }, 600);
    expect(await codes.find("dc1")).toMatchObject({ userCode: "ABCDEFGH", clientId: "ignis-cli" });
    expect(await codes.findByUserCode("ABCDEFGH")).toMatchObject({ grantId: "g1" });
    await codes.upsert("dc1", { userCode: "ABCDEFGH", grantId: "g1", accountId: "usr_1" }, 600);
    expect(await codes.find("dc1")).toEqual({ userCode: "ABCDEFGH", grantId: "g1", accountId: "usr_1" });

    const sessions = new Adapter("Session");
    await sessions.upsert("s1", { uid: "uid-1", accountId: "usr_1" }, 3600);
    expect(await sessions.findByUid("uid-1")).toMatchObject({ accountId: "usr_1" });
    // Kinds are separate namespaces: a device code id is no session.
    expect(await sessions.find("dc1")).toBeUndefined();
  });

  it("marks consumed artifacts, so a code cannot be redeemed twice", async () => {
    const Adapter = createPayloadAdapter(database().db, clock);
    const codes = new Adapter("AuthorizationCode");
    await codes.upsert("ac1", { grantId: "g2" }, 60);
    expect((await codes.find("ac1"))?.consumed).toBeUndefined();
    await codes.consume("ac1");
    expect((await codes.find("ac1"))?.consumed).toBe(Math.floor(now.getTime() / 1000));
  });

  it("hides expired rows, and the sweep deletes them", async () => {
    const db = database().db;
    const Adapter = createPayloadAdapter(db, clock);
    const interactions = new Adapter("Interaction");
    await interactions.upsert("i1", { uid: "i1" }, 60);
    now = new Date(now.getTime() + 61_000);
    expect(await interactions.find("i1")).toBeUndefined();
    expect(await interactions.findByUid("i1")).toBeUndefined();
    expect(await sweepExpiredPayloads(db, now)).toBeGreaterThanOrEqual(1);
    const left = await db.selectFrom("oidc_payloads").select("id").where("id", "=", "i1").execute();
    expect(left).toEqual([]);
  });

  it("revokes everything issued under a grant, and destroys single artifacts", async () => {
    const Adapter = createPayloadAdapter(database().db, clock);
    const refresh = new Adapter("RefreshToken");
    const codes = new Adapter("AuthorizationCode");
    await refresh.upsert("rt1", { grantId: "g3" }, 3600);
    await codes.upsert("ac3", { grantId: "g3" }, 60);
    await refresh.upsert("rt2", { grantId: "other" }, 3600);
    await refresh.revokeByGrantId("g3");
    expect(await refresh.find("rt1")).toBeUndefined();
    expect(await codes.find("ac3")).toBeUndefined();
    expect(await refresh.find("rt2")).toBeDefined();
    await refresh.destroy("rt2");
    expect(await refresh.find("rt2")).toBeUndefined();
  });
});
