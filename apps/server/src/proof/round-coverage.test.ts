import { beforeAll, expect, it } from "vitest";
import { hardwareProfiles } from "../../../../packages/protocol/src/hardware-profiles.js";
import type { Db } from "../db/database.js";
import { createUserWithKey, insertDevices } from "../security/security-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertChallenge } from "./challenge-store.js";
import { seededRandom } from "./random-source.js";
import { leftOutOfRound } from "./round-coverage.js";
import { issueChallenge } from "./simulated-slack.js";
import { createVerifierKeyring } from "./verifier-key.js";

const profile = hardwareProfiles.find((p) => p.id === "sim-a100")!;
const keyring = createVerifierKeyring({ random: seededRandom("coverage keys") });
const NOW = Date.parse("2026-12-07T10:00:00Z");
const ABSENCE_MS = 60_000;

describeEachDialect("round coverage", (database) => {
  let db: Db;
  const d: Record<string, string> = {};
  let n = 0;

  /** Stores a challenge of `deviceId` in `round`, decided or not (coverage looks only at who was challenged). */
  const challenged = async (deviceId: string, round: string) => {
    const challenge = issueChallenge({
      profile,
      gpuCount: 1,
      rttMs: 5,
      keyring,
      nowMs: NOW - 30_000,
      random: seededRandom(`coverage ${n++}`),
    });
    await insertChallenge(db, {
      challenge,
      deviceId,
      rttMs: 5,
      trigger: "group",
      replica: "r1",
      groupRound: round,
    });
  };
  const set = (id: string, values: { status?: string; verification?: string; lastSeenMsAgo?: number }) =>
    db
      .updateTable("devices")
      .set({
        ...(values.status ? { status: values.status as "online" } : {}),
        ...(values.verification ? { verification: values.verification as "verified" } : {}),
        ...(values.lastSeenMsAgo !== undefined ? { last_seen_at: new Date(NOW - values.lastSeenMsAgo) } : {}),
      })
      .where("id", "=", id)
      .execute();
  const left = (round: string | null, missedRounds = ["missed"]) =>
    leftOutOfRound(db, { deviceId: d.self!, missedRounds, round, nowMs: NOW, absenceMs: ABSENCE_MS });

  beforeAll(async () => {
    db = database().db;
    const owner = await createUserWithKey(db, ["supplier"]);
    const names = [
      "self",
      "inBoth",
      "onlineLeftOut",
      "awayBriefly",
      "awayLong",
      "hired",
      "revoked",
      "quarantined",
    ];
    const ids = await insertDevices(db, owner.userId, names.length, { status: "online" });
    names.forEach((name, i) => {
      d[name] = ids[i]!;
    });
    for (const id of ids) await challenged(id, "missed");
    // A device challenged only in some other round is no member of the missed one.
    const [stranger] = await insertDevices(db, owner.userId, 1, { status: "online" });
    await challenged(stranger!, "other");
    await challenged(d.self!, "passing");
    await challenged(d.inBoth!, "passing");
    await set(d.awayBriefly!, { status: "offline", lastSeenMsAgo: ABSENCE_MS - 5_000 });
    await set(d.awayLong!, { status: "offline", lastSeenMsAgo: ABSENCE_MS + 5_000 });
    await set(d.hired!, { status: "hired" });
    await set(d.revoked!, { status: "revoked" });
    await set(d.quarantined!, { status: "quarantined", verification: "failed" });
  });

  it("names the members of the missed round that the passing round left out and that still count", async () => {
    expect(await left("passing")).toEqual(
      [
        { deviceId: d.onlineLeftOut, status: "online" },
        { deviceId: d.awayBriefly, status: "offline" },
      ].sort((a, b) => a.deviceId!.localeCompare(b.deviceId!)),
    );
  });

  it("before a round is called, names every member that still counts, online or briefly away", async () => {
    const names = (await left(null)).map((m) => m.deviceId);
    expect(names.sort()).toEqual([d.inBoth, d.onlineLeftOut, d.awayBriefly].sort());
  });

  it("counts a device in a key conflict like an offline one, within the absence", async () => {
    await set(d.awayLong!, { status: "conflict", lastSeenMsAgo: 1_000 });
    try {
      expect((await left("passing")).map((m) => m.deviceId)).toContain(d.awayLong);
    } finally {
      await set(d.awayLong!, { status: "offline", lastSeenMsAgo: ABSENCE_MS + 5_000 });
    }
  });

  it("asks nothing of a streak without missed rounds, or of rounds nobody else was in", async () => {
    expect(await left("passing", [])).toEqual([]);
    expect(await left("passing", ["nobody"])).toEqual([]);
  });
});
