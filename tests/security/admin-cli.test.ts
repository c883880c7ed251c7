import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserWithKey, insertDevices } from "../../apps/server/src/security/security-fixtures.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");

describe("ignis admin alerts and audit search (the CLI over HTTP)", () => {
  let t: TestServer;
  let alertId: string;
  let deviceId: string;
  const ignis = async (...args: string[]) => {
    try {
      const { stdout } = await run(
        process.execPath,
        [join(ROOT, "apps/cli/bin/ignis.js"), ...args, "--server", t.url, "--api-key", t.adminKey],
        { cwd: ROOT },
      );
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout + e.stderr };
    }
  };

  beforeAll(async () => {
    t = await startTestServer({
      database: await createTestDatabase("pglite"),
      env: { IGNIS_SECURITY_CONTAINMENT: "on" },
    });
    const owner = await createUserWithKey(t.server.ctx.db, ["supplier"]);
    [deviceId] = (await insertDevices(t.server.ctx.db, owner.userId, 1, { status: "online" })) as [string];
    const hardware = { profile: "sim-a100", gpu: { vendor: "nvidia", model: "A100", count: 1, vramGb: 80 } };
    const alert = await t.server.ctx.security.reportHardwareChange(deviceId, hardware, {
      ...hardware,
      gpu: { ...hardware.gpu, count: 8 },
    });
    alertId = alert!.id;
  });
  afterAll(() => t.stop());

  it("lists open alerts newest first, acknowledges and releases one, lifting the quarantine", async () => {
    const list = await ignis("admin", "alerts", "--status", "open");
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(alertId);
    expect(list.stdout).toContain("hardware_change");
    expect(list.stdout).toContain("contained:quarantine_device");
    expect((await ignis("admin", "alerts", "acknowledge", alertId, "--note", "looking")).stdout).toContain(
      "acknowledged",
    );
    const released = await ignis(
      "admin",
      "alerts",
      "release",
      alertId,
      "--note",
      "owner swapped the card; re-verify",
    );
    expect(released.stdout).toContain("containment lifted");
    const device = await t.server.ctx.db
      .selectFrom("devices")
      .select("status")
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();
    expect(device.status).toBe("offline");
  }, 60_000);

  it("finds the admin's review actions in the audit log", async () => {
    const search = await ignis("admin", "audit", "search", "--object", alertId, "--json");
    const { items } = JSON.parse(search.stdout) as { items: { action: string }[] };
    expect(items.map((i) => i.action)).toEqual(
      expect.arrayContaining(["admin.alerts.release", "admin.alerts.acknowledge", "security.alert.raise"]),
    );
  }, 60_000);

  it("refuses a bad sub-command with a usage error", async () => {
    const bad = await ignis("admin", "alerts", "delete", alertId);
    expect(bad.code).toBe(2);
  }, 60_000);
});
