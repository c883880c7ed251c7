import { enrollmentSigningText, sessionSigningText } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signText } from "../../apps/cli/src/worker/device-key.js";
import { readDeviceKey } from "../../apps/cli/src/worker/worker-state.js";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { createUserWithKey, type FixtureUser } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { openRawWorkerSocket } from "../../apps/server/src/testing/raw-worker-socket.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  cleanupStateDirs,
  enrollmentCode,
  enrollSimulated,
} from "../../apps/server/src/testing/worker-fixture.js";

const HARDWARE = {
  profile: "sim-a100",
  gpu: { vendor: "nvidia", model: "NVIDIA A100 (simulated)", count: 1, vramGb: 80, driver: null },
  cpu: { model: "test cpu", cores: 8 },
  ramGb: 64,
  diskGb: 100,
  os: { platform: "linux", release: "6", arch: "x64", appleSilicon: false },
  region: "europe",
};

describeEachDialect("replayed handshakes", (database) => {
  let t: TestServer;
  let supplier: FixtureUser;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    supplier = await createUserWithKey(database().db, ["supplier"]);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const audit = (objectId: string, action: string) =>
    database()
      .db.selectFrom("audit_log")
      .select(["outcome", "ip"])
      .where("object_id", "=", objectId)
      .where("action", "=", action)
      .execute();

  it("refuses a replayed enrollment and a reused code: one device, clear 4xx, every attempt audited", async () => {
    const { generateKeyPairSync, sign } = await import("node:crypto");
    const code = await enrollmentCode(t, supplier.key);
    const enrollment = () => {
      const { publicKey, privateKey } = generateKeyPairSync("ed25519");
      const raw = publicKey.export({ format: "jwk" }).x!;
      const signature = sign(null, Buffer.from(enrollmentSigningText(code, raw, HARDWARE)), privateKey);
      return {
        raw,
        body: JSON.stringify({
          code,
          publicKey: raw,
          hardware: HARDWARE,
          signature: signature.toString("base64url"),
        }),
      };
    };
    const post = (body: string) =>
      fetch(`${t.url}/v1/enrollments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const original = enrollment();
    const first = await post(original.body);
    expect(first.status).toBe(201);
    const { deviceId } = (await first.json()) as { deviceId: string };
    // The captured request, byte for byte: its key is already registered.
    const replay = await post(original.body);
    expect(replay.status).toBe(409);
    // The captured code with a key of the attacker's own: the code is single-use.
    const reuse = await post(enrollment().body);
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { code: string }).code).toBe("enrollment_code_used");
    const devices = await database()
      .db.selectFrom("devices")
      .select("id")
      .where("owner_id", "=", supplier.userId)
      .execute();
    expect(devices.map((d) => d.id)).toContain(deviceId);
    expect(devices).toHaveLength(1);
    const rows = await database()
      .db.selectFrom("audit_log")
      .select("outcome")
      .where("action", "=", "device.enroll")
      .orderBy("seq", "desc")
      .limit(3)
      .execute();
    expect(rows.map((r) => r.outcome)).toEqual(["refused:enrollment_code_used", "refused:conflict", "ok"]);
  });

  it("refuses a session handshake replayed on a new connection, and audits the refusal", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    const first = await openRawWorkerSocket(t.url);
    const challenge = await first.nextOf("session.challenge");
    const auth = {
      type: "session.auth" as const,
      deviceId,
      publicKey: key.publicKey,
      signature: signText(key, sessionSigningText(challenge.nonce, deviceId, t.url)),
    };
    first.send(auth);
    expect((await first.next()).type).toBe("session.hello");
    first.ws.close();
    const replay = await openRawWorkerSocket(t.url);
    await replay.nextOf("session.challenge");
    replay.send(auth);
    expect(await replay.nextOf("session.error")).toMatchObject({ fatal: true });
    await replay.closed;
    // The gateway appends its audit records in the background: wait for the refusal's.
    await waitFor("the audited refusal of the replayed handshake", async () =>
      (await audit(deviceId, "device.session.open")).some((r) => r.outcome.startsWith("refused:")),
    );
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
