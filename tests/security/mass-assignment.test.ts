import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { auditOf, requestId } from "./support/audit-trail.js";
import { buildWorld, type Pov, type World } from "./support/world.js";

describeEachDialect("mass assignment", (database) => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(database());
  });
  afterAll(() => w.t.stop());

  const snapshot = async () =>
    JSON.stringify(
      await Promise.all([
        w.db.selectFrom("devices").selectAll().orderBy("id").execute(),
        w.db.selectFrom("api_keys").select(["id", "user_id", "scopes", "revoked_at"]).orderBy("id").execute(),
        w.db.selectFrom("users").select(["id", "roles", "writes_frozen_at"]).orderBy("id").execute(),
        w.db.selectFrom("enrollment_codes").select(["code_hash", "owner_id"]).orderBy("code_hash").execute(),
      ]),
    );

  const attempts: [string, Pov, string, string, (w: World) => unknown][] = [
    [
      "take over a device by naming a new owner",
      "owner",
      "PATCH",
      "/v1/devices/{A}",
      (w) => ({ label: "x", ownerId: w.otherSupplier.userId }),
    ],
    [
      "mark a device verified",
      "owner",
      "PATCH",
      "/v1/devices/{A}",
      () => ({ label: "x", verification: "verified" }),
    ],
    ["bring a device online by decree", "owner", "PATCH", "/v1/devices/{A}", () => ({ status: "online" })],
    [
      "rewrite another device's id",
      "owner",
      "PATCH",
      "/v1/devices/{A}",
      (w) => ({ label: "x", id: w.deviceB }),
    ],
    [
      "rewrite the claimed hardware",
      "owner",
      "PATCH",
      "/v1/devices/{A}",
      () => ({ hardware: { gpu: { count: 8 } } }),
    ],
    [
      "smuggle a prototype",
      "owner",
      "PATCH",
      "/v1/devices/{A}",
      () => '{"label":"x","__proto__":{"isAdmin":true}}',
    ],
    [
      "smuggle a constructor prototype",
      "owner",
      "PATCH",
      "/v1/devices/{A}",
      () => '{"label":"x","constructor":{"prototype":{"isAdmin":true}}}',
    ],
    [
      "issue a key for someone else",
      "owner",
      "POST",
      "/v1/api-keys",
      (w) => ({ name: "k", userId: w.otherSupplier.userId }),
    ],
    [
      "issue a key with an id of one's choosing",
      "owner",
      "POST",
      "/v1/api-keys",
      () => ({ name: "k", id: "key_aaaaaaaaaaaaaaaaaaaaaaaaaa" }),
    ],
    [
      "grant oneself roles through a key",
      "customer",
      "POST",
      "/v1/api-keys",
      () => ({ name: "k", roles: ["admin"] }),
    ],
    [
      "create an enrollment code for another owner",
      "owner",
      "POST",
      "/v1/enrollment-codes",
      (w) => ({ ownerId: w.otherSupplier.userId }),
    ],
    [
      "rent a cluster billed to someone else",
      "customer",
      "POST",
      "/v1/clusters",
      (w) => ({
        gpuModel: "NVIDIA A100 (simulated)",
        count: 1,
        hours: 1,
        job: { command: "true" },
        customerId: w.owner.userId,
      }),
    ],
    [
      "set a price with an owner field",
      "owner",
      "PUT",
      "/v1/devices/{A}/price",
      (w) => ({ minPricePerHour: "1", ownerId: w.owner.userId }),
    ],
    [
      "create a user with a chosen id",
      "admin",
      "POST",
      "/v1/admin/users",
      () => ({ email: "mass@example.test", roles: ["customer"], id: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa" }),
    ],
  ];

  it("refuses every unknown or read-only field with 400, changes nothing, and audits each attempt", async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const [name, pov, method, template, body] of attempts) {
      const rid = requestId("mass");
      const path = template.replace("{A}", w.deviceA);
      const res = await w.call(pov, method, path, body(w), { "x-request-id": rid });
      const problem = (await res.json()) as { code?: string };
      const audit = await auditOf(w, rid);
      if (
        res.status !== 400 ||
        !["unknown_field", "bad_request", "validation_failed", "malformed_json"].includes(problem.code ?? "")
      )
        wrong.push(`${name}: ${res.status} ${problem.code}`);
      else if (audit.length !== 1 || !audit[0]!.outcome.startsWith("refused:"))
        wrong.push(`${name}: audit ${JSON.stringify(audit)}`);
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toBe(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
