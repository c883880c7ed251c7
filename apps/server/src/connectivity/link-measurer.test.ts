import { createHash, randomUUID } from "node:crypto";
import { type DeviceView, type LinkProbeMessage, type PublicDevice, tierOf } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import { GROUP_SUBJECT } from "../proof/challenge-groups.js";
import { describeEachDialect } from "../testing/dialects.js";
import { openDeviceSession, type RawWorkerSocket } from "../testing/raw-worker-socket.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";
import { findLink, recordLink } from "./link-store.js";

/** How the device behind a raw session answers the server's probes. */
type Answer = "honest" | "early-forged" | "silent-but-reports";

describeEachDialect("measuring a device's link to the control plane", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };

  beforeAll(async () => {
    // A device's first challenge comes at connect; the raw sessions leave it unanswered, and its retry (which
    // would hold off link probes again) comes only after the suite.
    t = await startTestServer({ database: database(), env: { IGNIS_CHALLENGE_RETRY_SECONDS: "3600" } });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  /**
   * Enrolls a device and opens a v2 session that announces the link-probe feature and answers probes as told;
   * returns once its connect challenge is over (unless asked not to wait), as probes wait for challenges.
   */
  const device = async (answer: Answer, options: { afterChallenge?: boolean } = {}) => {
    const enrolled = await enrollSimulated(t, supplier.key);
    const { raw, answer: hello } = await openDeviceSession(
      t.url,
      enrolled.deviceId,
      readDeviceKey(enrolled.stateDir),
      { auth: { protocol: { min: 1, max: 2 }, features: ["link-probe"] } },
    );
    expect(hello).toMatchObject({ type: "session.hello", features: expect.arrayContaining(["link-probe"]) });
    answerProbes(raw, answer);
    await raw.nextOf("proof.challenge");
    if (options.afterChallenge !== false) await challengeOver(enrolled.deviceId);
    return { deviceId: enrolled.deviceId, raw };
  };

  it("measures an honest worker itself, keeps the tier its numbers earn, and shows the public the tier alone", async () => {
    const { deviceId, raw } = await device("honest");
    raw.send({ type: "link.measure" });
    const result = await raw.nextOf("link.result");
    expect(result.outcome).toBe("measured");
    const stored = await findLink(t.server.ctx.db, deviceId);
    expect(stored).not.toBeNull();
    expect(stored!.mbps).toBeGreaterThan(0);
    expect(stored!.tier).toBe(tierOf(stored!.rttMs, stored!.mbps));
    expect(result).toMatchObject({ tier: stored!.tier });

    const owner = await call<DeviceView>(t, "GET", `/v1/devices/${deviceId}`, supplier.key);
    expect(owner.body.link).toMatchObject({ tier: stored!.tier, rttMs: stored!.rttMs, mbps: stored!.mbps });
    const shown = await call<PublicDevice>(t, "GET", `/v1/explorer/devices/${deviceId}`);
    expect(shown.body.connectivity).toEqual({ tier: stored!.tier, name: expect.any(String) });
    expect(JSON.stringify(shown.body)).not.toMatch(/rttMs|mbps/);
    raw.ws.close();
  });

  const challengeOver = (deviceId: string) =>
    waitFor("the device's challenge to end", () => !t.server.ctx.proof.challenging(deviceId), {
      timeoutMs: 60_000,
    });

  it("holds off while the device's proof challenge is in flight, so probe bytes never make an answer late", async () => {
    const { deviceId, raw } = await device("honest", { afterChallenge: false });
    expect(t.server.ctx.proof.challenging(deviceId)).toBe(true);
    raw.send({ type: "link.measure" });
    const result = await raw.nextOf("link.result");
    expect(result.outcome).toBe("busy");
    expect(result.retryAfterSeconds).toBeGreaterThan(0);
    expect(await findLink(t.server.ctx.db, deviceId)).toBeNull();
    raw.ws.close();
  });

  it("answers the real worker's probes whole", async () => {
    // Its own first request comes while its connect challenges run and is put off for minutes: ask again each
    // time the challenges leave it alone, until one is measured.
    const worker = await startTestWorker(t, supplier.key, { linkCheck: { startDelayMs: 0 } });
    const results = () => worker.received.filter((m) => m.type === "link.result");
    const measured = () => results().find((m) => m.type === "link.result" && m.outcome === "measured");
    while (!measured()) {
      await challengeOver(worker.deviceId);
      const seen = results().length;
      worker.handle.send({ type: "link.measure" });
      await waitFor("the worker's link result", () => results()[seen]);
    }
    expect(results().map((m) => m.type === "link.result" && m.outcome)).not.toContain("failed");
    const stored = await findLink(t.server.ctx.db, worker.deviceId);
    expect(stored?.tier).toBe(tierOf(stored!.rttMs, stored!.mbps));
    await worker.handle.stop();
    // The simulated device computes its connect challenge at CPU speed first: slow on a busy machine.
  }, 120_000);

  it("measures one device at a time, keeps three waiting, and tells the next one it is busy", async () => {
    const silent = await device("silent-but-reports");
    const waiting = [await device("honest"), await device("honest"), await device("honest")];
    const turnedAway = await device("honest");
    // The silent device holds the turn until its echo times out.
    silent.raw.send({ type: "link.measure" });
    await silent.raw.nextOf("link.probe");
    for (const d of waiting) d.raw.send({ type: "link.measure" });
    turnedAway.raw.send({ type: "link.measure" });
    const refused = await turnedAway.raw.nextOf("link.result");
    expect(refused.outcome).toBe("busy");
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(60);
    expect(await findLink(t.server.ctx.db, turnedAway.deviceId)).toBeNull();
    // Once the silent one is recorded as failed, the three waiting ones are measured in turn.
    for (const d of waiting) expect((await d.raw.nextOf("link.result")).outcome).toBe("measured");
    expect(await findLink(t.server.ctx.db, silent.deviceId)).toMatchObject({ tier: 1, mbps: 0 });
    for (const d of [silent, ...waiting, turnedAway]) d.raw.ws.close();
  }, 120_000);

  it("turns away a second request within the interval, measuring nothing", async () => {
    const { deviceId, raw } = await device("honest");
    raw.send({ type: "link.measure" });
    await raw.nextOf("link.result");
    const first = await findLink(t.server.ctx.db, deviceId);
    raw.send({ type: "link.measure" });
    const again = await raw.nextOf("link.result");
    expect(again.outcome).toBe("too_soon");
    expect(again.retryAfterSeconds).toBeGreaterThan(0);
    expect(await findLink(t.server.ctx.db, deviceId)).toEqual(first);
    raw.ws.close();
  });

  it("gives tier 1 to a worker that acknowledges probes before they arrive, replacing the better tier it had", async () => {
    const { deviceId, raw } = await device("early-forged");
    // Measured as ultra an hour ago, beyond the interval: this measurement replaces it.
    await recordLink(t.server.ctx.db, deviceId, {
      rttMs: 2,
      mbps: 5000,
      tier: 4,
      measuredAt: new Date(Date.now() - 3_600_000),
    });
    raw.send({ type: "link.measure" });
    const result = await raw.nextOf("link.result");
    expect(result).toMatchObject({ outcome: "failed", tier: 1 });
    expect(await findLink(t.server.ctx.db, deviceId)).toMatchObject({ tier: 1, mbps: 0 });
    const shown = await call<PublicDevice>(t, "GET", `/v1/explorer/devices/${deviceId}`);
    expect(shown.body.connectivity.tier).toBe(1);
    raw.ws.close();
  });

  it("gives way to a group round, which waits for no one: the measurement ends unrecorded and the challenge goes out", async () => {
    // A device that could hold off its round challenge by asking for a measurement (and leaving its echoes
    // unanswered) would let one GPU answer its sibling's round challenge first and its own after.
    const { deviceId, raw } = await device("silent-but-reports");
    raw.send({ type: "link.measure" });
    // Measuring, or waiting for its turn behind another device's measurement: either way a challenge would wait.
    await waitFor("the measurement to start", () => t.server.ctx.links.measuring(deviceId));
    // Both answers are watched from here, in whichever order they come.
    const frames: { type: string; challengeId?: string; outcome?: string }[] = [];
    raw.ws.on("message", (data) => frames.push(JSON.parse(data.toString())));
    const round = randomUUID();
    await t.server.ctx.bus.publish(GROUP_SUBJECT, {
      ownerId: supplier.userId,
      address: null,
      except: "nobody",
      round,
    });
    const [challenge, result] = await waitFor("the round's challenge and the measurement's end", () => {
      const c = frames.find((f) => f.type === "proof.challenge");
      const r = frames.find((f) => f.type === "link.result");
      return c && r ? [c, r] : undefined;
    });
    // Interrupted, not timed out: a silent device's measurement would have ended `failed` and been kept (tier 1).
    expect(result).toMatchObject({ outcome: "busy" });
    expect(await findLink(t.server.ctx.db, deviceId)).toBeNull();
    const row = await waitFor("the round challenge's row", () =>
      t.server.ctx.db
        .selectFrom("proof_challenges")
        .select(["group_round", "trigger"])
        .where("id", "=", challenge!.challengeId!)
        .executeTakeFirst(),
    );
    expect(row).toEqual({ group_round: round, trigger: "group" });
    raw.ws.close();
  });

  it("ignores numbers a worker reports about its own link, and acks for probes it was never sent", async () => {
    const { deviceId, raw } = await device("silent-but-reports");
    // A fabricated measurement is not a message the server accepts.
    raw.send({ type: "link.measure", rttMs: 1, mbps: 100_000, tier: 4 });
    const refused = await raw.nextOf("session.error");
    expect(refused).toMatchObject({ code: "unknown_field", fatal: false });
    raw.send({ type: "link.result", outcome: "measured", tier: 4, rttMs: 1, mbps: 100_000 });
    raw.send({
      type: "link.probe-ack",
      probeId: "A".repeat(43),
      digest: createHash("sha256").update("made up").digest("hex"),
    });
    // The session is still answered (a heartbeat ack proves the frames above were read), and nothing was kept.
    raw.send({
      type: "heartbeat",
      seq: 0,
      ack: true,
      load: { cpuPercent: 1, memUsedGb: 1, gpus: [], busy: false },
    });
    await raw.nextOf("heartbeat.ack");
    expect(await findLink(t.server.ctx.db, deviceId)).toBeNull();
    const shown = await call<PublicDevice>(t, "GET", `/v1/explorer/devices/${deviceId}`);
    expect(shown.body.connectivity).toEqual({ tier: 1, name: "basic" });
    raw.ws.close();
  });
});

/** Answers each probe: honestly (the digest of everything received, after its last chunk) or as a cheat would. */
function answerProbes(raw: RawWorkerSocket, answer: Answer): void {
  if (answer === "silent-but-reports") return;
  const hashes = new Map<string, ReturnType<typeof createHash>>();
  raw.ws.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as LinkProbeMessage;
    if (frame.type !== "link.probe") return;
    if (answer === "early-forged") {
      // Acknowledge at the first chunk, before the data has come: the digest cannot be the right one.
      if (hashes.has(frame.probeId)) return;
      hashes.set(frame.probeId, createHash("sha256"));
      const digest = createHash("sha256").update(frame.probeId).digest("hex");
      raw.send({ type: "link.probe-ack", probeId: frame.probeId, digest });
      return;
    }
    const hash = hashes.get(frame.probeId) ?? createHash("sha256").update(frame.probeId);
    hashes.set(frame.probeId, hash.update(frame.data));
    if (frame.last) {
      hashes.delete(frame.probeId);
      raw.send({ type: "link.probe-ack", probeId: frame.probeId, digest: hash.digest("hex") });
    }
  });
}
