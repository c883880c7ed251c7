import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../apps/server/src/config.js";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { createRateLimits } from "../../apps/server/src/security/rate-limits.js";
import { createUserWithKey, insertDevices } from "../../apps/server/src/security/security-fixtures.js";
import { createSecurityMonitor } from "../../apps/server/src/security/security-monitor.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";

const SECRET = "webhook-secret-webhook-secret";
const A100 = { profile: "sim-a100", gpu: { vendor: "nvidia", model: "A100", count: 1, vramGb: 80 } };

describeEachDialect("SSRF through the alert webhook URL", (database) => {
  let listener: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    // Stands in for an internal service: any connection reaching it is a successful SSRF.
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  const targets = (): [
    string,
    string,
    ((h: string) => Promise<{ address: string; family: number }[]>) | undefined,
  ][] => [
    ["loopback by address", `https://127.0.0.1:${port}/hook`, undefined],
    ["loopback by name", `https://localhost:${port}/hook`, async () => [{ address: "127.0.0.1", family: 4 }]],
    ["loopback as a decimal integer", `https://2130706433:${port}/hook`, undefined],
    ["loopback in IPv6", `https://[::1]:${port}/hook`, undefined],
    ["IPv4-mapped loopback", `https://[::ffff:127.0.0.1]:${port}/hook`, undefined],
    ["cloud metadata", "https://169.254.169.254/latest/meta-data/iam", undefined],
    [
      "a private network name",
      "https://build.corp.internal/hook",
      async () => [{ address: "10.20.30.40", family: 4 }],
    ],
    [
      "DNS rebinding: one public and one private answer",
      "https://hooks.example.com/x",
      async () => [
        { address: "93.184.216.34", family: 4 },
        { address: "127.0.0.1", family: 4 },
      ],
    ],
    [
      "plain http",
      `http://hooks.example.com:${port}/hook`,
      async () => [{ address: "93.184.216.34", family: 4 }],
    ],
  ];

  it("refuses every internal target at send time, connects to none, and audits each refusal", async () => {
    const owner = await createUserWithKey(database().db, ["supplier"]);
    const wrong: string[] = [];
    for (const [name, url, lookup] of targets()) {
      const monitor = createSecurityMonitor({
        db: database().db,
        rateLimits: createRateLimits({ enabled: false }),
        log: { warn: () => {}, error: () => {} },
        webhook: { url, secret: SECRET, allowPrivate: false },
        ...(lookup ? { webhookTransport: { lookup, timeoutMs: 2000 } } : {}),
        containment: true,
      });
      const [deviceId] = await insertDevices(database().db, owner.userId, 1);
      const alert = await monitor.reportHardwareChange(deviceId!, A100, {
        ...A100,
        gpu: { ...A100.gpu, count: 8 },
      });
      await monitor.close();
      const audit = await database()
        .db.selectFrom("audit_log")
        .select(["action", "outcome", "details"])
        .where("object_id", "=", alert!.id)
        .where("action", "=", "security.webhook.deliver")
        .execute();
      if (audit.length !== 1 || audit[0]!.outcome !== "refused:webhook")
        wrong.push(`${name}: ${JSON.stringify(audit)}`);
    }
    expect(wrong).toEqual([]);
    expect(connections).toBe(0);
  });

  it("refuses a non-https webhook URL at startup", () => {
    expect(() =>
      loadConfig({ IGNIS_ALERT_WEBHOOK_URL: "http://169.254.169.254/", IGNIS_ALERT_WEBHOOK_SECRET: SECRET }),
    ).toThrow(ConfigError);
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
