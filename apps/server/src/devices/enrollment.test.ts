import { statSync } from "node:fs";
import { join } from "node:path";
import { enrollmentSigningText } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { simulatedClaim } from "../../../cli/src/hardware/detect.js";
import { generateDeviceKey, signText } from "../../../cli/src/worker/device-key.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import {
  call,
  cleanupStateDirs,
  enrollmentCode,
  enrollSimulated,
  userWithKey,
} from "../testing/worker-fixture.js";
import { createEnrollmentCode, hashEnrollmentCode } from "./enrollment-code.js";

describeEachDialect("enrollment", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const enrollBody = (code: string) => {
    const key = generateDeviceKey();
    const hardware = simulatedClaim("sim-cpu");
    return {
      code,
      publicKey: key.publicKey,
      hardware,
      signature: signText(key, enrollmentSigningText(code, key.publicKey, hardware)),
    };
  };

  it("gives a supplier a single-use code valid for at most 15 minutes, stored only as a hash", async () => {
    const before = Date.now();
    const res = await call<{ code: string; expiresAt: string }>(
      t,
      "POST",
      "/v1/enrollment-codes",
      supplier.key,
    );
    expect(res.status).toBe(201);
    expect(res.body.code).toMatch(/^IGN-[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    expect(Date.parse(res.body.expiresAt) - before).toBeLessThanOrEqual(15 * 60_000 + 1000);
    const rows = await t.server.ctx.db.selectFrom("enrollment_codes").select("code_hash").execute();
    expect(rows.map((r) => r.code_hash)).toContain(hashEnrollmentCode(res.body.code));
    expect(JSON.stringify(rows)).not.toContain(res.body.code);
  });

  it("refuses enrollment codes to users without the supplier role", async () => {
    const customer = await userWithKey(t, ["customer"]);
    const res = await call(t, "POST", "/v1/enrollment-codes", customer.key);
    expect([res.status, res.body.code]).toEqual([403, "forbidden"]);
  });

  it("enrolls a device owned by the code's user, with the key file readable by its owner only", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key, "sim-a100");
    expect(deviceId).toMatch(/^dev_[a-z2-7]{26}$/);
    expect(statSync(join(stateDir, "device-key.pem")).mode & 0o777).toBe(0o600);
    const row = await t.server.ctx.db
      .selectFrom("devices")
      .selectAll()
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      owner_id: supplier.userId,
      status: "pending",
      profile: "sim-a100",
      gpu_vendor: "nvidia",
    });
  });

  it("refuses a used code with 401 enrollment_code_used", async () => {
    const code = await enrollmentCode(t, supplier.key);
    expect((await call(t, "POST", "/v1/enrollments", undefined, enrollBody(code))).status).toBe(201);
    const again = await call(t, "POST", "/v1/enrollments", undefined, enrollBody(code));
    expect([again.status, again.body.code]).toEqual([401, "enrollment_code_used"]);
  });

  it("refuses an expired code with 401 enrollment_code_expired and an unknown one with invalid_enrollment_code", async () => {
    const { code } = await createEnrollmentCode(
      t.server.ctx.db,
      supplier.userId,
      new Date(Date.now() - 16 * 60_000),
    );
    const expired = await call(t, "POST", "/v1/enrollments", undefined, enrollBody(code));
    expect([expired.status, expired.body.code]).toEqual([401, "enrollment_code_expired"]);
    const unknown = await call(
      t,
      "POST",
      "/v1/enrollments",
      undefined,
      enrollBody("IGN-AAAA-BBBB-CCCC-DDDD"),
    );
    expect([unknown.status, unknown.body.code]).toEqual([401, "invalid_enrollment_code"]);
  });

  it("refuses a signature that does not match the key, without burning the code", async () => {
    const code = await enrollmentCode(t, supplier.key);
    const forged = { ...enrollBody(code), publicKey: generateDeviceKey().publicKey };
    const res = await call(t, "POST", "/v1/enrollments", undefined, forged);
    expect([res.status, res.body.code]).toEqual([401, "invalid_signature"]);
    expect((await call(t, "POST", "/v1/enrollments", undefined, enrollBody(code))).status).toBe(201);
  });

  it("refuses a claim with fields outside the schema", async () => {
    const code = await enrollmentCode(t, supplier.key);
    const body = enrollBody(code);
    const res = await call(t, "POST", "/v1/enrollments", undefined, { ...body, ownerId: "usr_x" });
    expect([res.status, res.body.code]).toEqual([400, "unknown_field"]);
  });

  it("audits refused enrollments", async () => {
    const rows = await t.server.ctx.db
      .selectFrom("audit_log")
      .select("outcome")
      .where("action", "=", "device.enroll")
      .execute();
    const outcomes = rows.map((r) => r.outcome);
    expect(outcomes).toContain("refused:enrollment_code_used");
    expect(outcomes).toContain("refused:invalid_signature");
  });
});
