import { afterEach, beforeEach, expect, it } from "vitest";
import { createInProcessBus } from "../bus/in-process-bus.js";
import { authenticateApiKey } from "../identity/api-keys.js";
import { findUserById } from "../identity/users.js";
import { describeEachDialect } from "../testing/dialects.js";
import { waitFor } from "../testing/wait-for.js";
import { findAlert, listAlerts } from "./alerts.js";
import { searchAudit } from "./audit-search.js";
import { createRateLimits, type RateLimits } from "./rate-limits.js";
import { signal } from "./rules/signal-fixtures.js";
import { createUserWithKey, insertDevices } from "./security-fixtures.js";
import { createSecurityMonitor, type SecurityMonitor } from "./security-monitor.js";
import { SIGNALS_SUBJECT } from "./signal-exchange.js";

const A100 = { profile: "sim-a100", gpu: { vendor: "nvidia", model: "A100 80GB", count: 1, vramGb: 80 } };

describeEachDialect("security monitor", (database) => {
  let monitor: SecurityMonitor;
  let rateLimits: RateLimits;
  let clock: number;
  let warnings: object[];
  let counted: string[];
  const disconnected: string[] = [];

  const make = (containment = true) =>
    createSecurityMonitor({
      db: database().db,
      rateLimits,
      log: { warn: (o) => warnings.push(o), error: (o) => warnings.push(o) },
      alertsCounter: { inc: ({ rule, severity }) => counted.push(`${rule}/${severity}`) },
      webhook: { url: undefined, secret: undefined, allowPrivate: false },
      containment,
      now: () => clock,
      rules: { writeSurge: { actorFloor: 10 } },
      disconnectDevice: (id) => {
        disconnected.push(id);
      },
    });

  beforeEach(() => {
    rateLimits = createRateLimits({ enabled: false });
    clock = Date.now();
    warnings = [];
    counted = [];
    monitor = make();
  });
  afterEach(() => monitor.close());

  const suspended = async (userId: string) =>
    (await findUserById(database().db, userId))?.suspendedAt != null;

  const surge = (user: { userId: string; keyId: string }, n: number, extra = {}) => {
    for (let i = 0; i < n; i += 1) {
      clock += 20;
      monitor.observeRequest(
        signal({ at: clock, actorId: user.userId, credentialId: user.keyId, objectId: `dev_${i}`, ...extra }),
      );
    }
  };

  it("raises one alert for a write surge, suspends the user, and records it everywhere", async () => {
    const user = await createUserWithKey(database().db, ["supplier"]);
    surge(user, 40);
    await monitor.settled();
    const alerts = (await listAlerts(database().db, { limit: 50 })).filter((a) => a.actorId === user.userId);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: "write_surge",
      severity: "high",
      status: "open",
      credentialId: user.keyId,
      containment: { kind: "suspend_user", userId: user.userId },
      contained: true,
    });
    expect(await suspended(user.userId)).toBe(true);
    const audit = await searchAudit(database().db, { object: alerts[0]!.id, limit: 10 });
    expect(audit[0]).toMatchObject({ action: "security.alert.raise", actorType: "system", outcome: "ok" });
    expect(counted).toContain("write_surge/high");
    expect(warnings.some((w) => JSON.stringify(w).includes(alerts[0]!.id))).toBe(true);
  });

  it("sees a surge split over two replicas' monitors, and stores its alert once though both find it", async () => {
    const bus = createInProcessBus();
    const peer = (replicaId: string) =>
      createSecurityMonitor({
        db: database().db,
        rateLimits,
        log: { warn: (o) => warnings.push(o), error: (o) => warnings.push(o) },
        webhook: { url: undefined, secret: undefined, allowPrivate: false },
        containment: true,
        now: () => clock,
        rules: { writeSurge: { actorFloor: 10 } },
        peers: { bus, replicaId },
      });
    const [a, b] = [peer("replica-a"), peer("replica-b")];
    // Subscribed after both monitors, so the bus hands each batch to both of them before this listener.
    const shared = new Set<string>();
    bus.subscribe(SIGNALS_SUBJECT, (batch) => void shared.add((batch as { replicaId: string }).replicaId));
    const user = await createUserWithKey(database().db, ["supplier"]);
    // 8 writes through each replica: each sees 8 of its own and, in the next batch, the other's 8.
    for (let i = 0; i < 16; i += 1) {
      clock += 20;
      (i % 2 === 0 ? a : b).observeRequest(
        signal({ at: clock, actorId: user.userId, credentialId: user.keyId, objectId: "dev_one" }),
      );
    }
    await waitFor(
      "each replica's batch at the other",
      () => shared.has("replica-a") && shared.has("replica-b"),
    );
    await Promise.all([a.settled(), b.settled()]);
    const alerts = (await listAlerts(database().db, { limit: 50 })).filter((x) => x.actorId === user.userId);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: "write_surge", containment: { kind: "suspend_user" } });
    expect(await suspended(user.userId)).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it("holds the user in this process the moment the rule fires, before the alert is even stored", async () => {
    const user = await createUserWithKey(database().db, ["supplier"]);
    surge(user, 10);
    expect(monitor.heldContainment(user.keyId, user.userId)).toBeNull();
    surge(user, 1);
    // Any credential of the user, not only the one that surged.
    expect(monitor.heldContainment("key_another", user.userId)).toBe("account_suspended");
    await monitor.settled();
    // Stored: from here the database refuses the user, on every replica.
    expect(monitor.heldContainment(user.keyId, user.userId)).toBeNull();
    expect(await suspended(user.userId)).toBe(true);
  });

  it("counts writes of all a user's keys together, so switching keys does not reset the count", async () => {
    const user = await createUserWithKey(database().db, ["supplier"]);
    for (let i = 0; i < 12; i += 1) {
      clock += 20;
      monitor.observeRequest(
        signal({ at: clock, actorId: user.userId, credentialId: `key_k${i}`, objectId: `dev_${i}` }),
      );
    }
    await monitor.settled();
    const alerts = (await listAlerts(database().db, { limit: 50 })).filter((a) => a.actorId === user.userId);
    expect(alerts.map((a) => a.rule)).toContain("write_surge");
    expect(await suspended(user.userId)).toBe(true);
  });

  it("lifts the suspension on release and keeps it on acknowledge", async () => {
    const user = await createUserWithKey(database().db, ["supplier"]);
    surge(user, 40);
    await monitor.settled();
    const [alert] = (await listAlerts(database().db, { limit: 50 })).filter((a) => a.actorId === user.userId);
    const acked = await monitor.acknowledge(alert!.id, "usr_admin");
    expect(acked).toMatchObject({ status: "acknowledged", acknowledgedBy: "usr_admin", contained: true });
    expect(await suspended(user.userId)).toBe(true);
    const released = await monitor.release(alert!.id, "usr_admin", "rotated the key with the owner");
    expect(released).toMatchObject({
      status: "released",
      releasedBy: "usr_admin",
      contained: false,
      lifted: true,
    });
    expect(await suspended(user.userId)).toBe(false);
    await expect(authenticateApiKey(database().db, user.key)).resolves.toMatchObject({ userId: user.userId });
  });

  it("keeps a user suspended while another alert still holds them", async () => {
    const user = await createUserWithKey(database().db, ["supplier"]);
    // 60 distinct objects: the surge rule and the sweep rule both catch it.
    surge(user, 60);
    await monitor.settled();
    const alerts = (await listAlerts(database().db, { limit: 50 })).filter((a) => a.actorId === user.userId);
    expect(alerts.map((a) => a.rule).sort()).toEqual(["object_sweep", "write_surge"]);
    const first = await monitor.release(alerts[0]!.id, "usr_admin");
    expect(first.lifted).toBe(false);
    expect(await suspended(user.userId)).toBe(true);
    const second = await monitor.release(alerts[1]!.id, "usr_admin");
    expect(second.lifted).toBe(true);
    expect(await suspended(user.userId)).toBe(false);
  });

  it("suspends a user signed in with a token the same way", async () => {
    const user = await createUserWithKey(database().db, ["supplier"]);
    surge(user, 40, { credentialType: "token", credentialId: `tok:${user.userId}` });
    await monitor.settled();
    expect(await suspended(user.userId)).toBe(true);
  });

  it("alerts on an admin as critical without locking the operator out", async () => {
    const admin = await createUserWithKey(database().db, ["admin"]);
    surge(admin, 40, { admin: true });
    await monitor.settled();
    const [alert] = (await listAlerts(database().db, { limit: 50 })).filter(
      (a) => a.actorId === admin.userId,
    );
    expect(alert).toMatchObject({ severity: "critical", containment: { kind: "none" }, contained: false });
    expect(await suspended(admin.userId)).toBe(false);
  });

  it("only alerts when containment is switched off", async () => {
    await monitor.close();
    monitor = make(false);
    const user = await createUserWithKey(database().db, ["supplier"]);
    surge(user, 40);
    await monitor.settled();
    const [alert] = (await listAlerts(database().db, { limit: 50 })).filter((a) => a.actorId === user.userId);
    expect(alert).toMatchObject({ rule: "write_surge", containment: { kind: "none" } });
    expect(await suspended(user.userId)).toBe(false);
  });

  it("quarantines a device whose hardware claim changes, disconnects it, and releases it offline", async () => {
    const owner = await createUserWithKey(database().db, ["supplier"]);
    const [deviceId] = await insertDevices(database().db, owner.userId, 1, { status: "online" });
    const eight = { ...A100, gpu: { ...A100.gpu, count: 8 } };
    const alert = await monitor.reportHardwareChange(deviceId!, A100, eight, { ip: "198.51.100.20" });
    expect(alert).toMatchObject({
      rule: "hardware_change",
      objectId: deviceId,
      containment: { kind: "quarantine_device", deviceId, previousStatus: "online" },
    });
    const status = async () =>
      (
        await database()
          .db.selectFrom("devices")
          .select("status")
          .where("id", "=", deviceId!)
          .executeTakeFirst()
      )?.status;
    expect(await status()).toBe("quarantined");
    expect(disconnected).toContain(deviceId);
    await monitor.release(alert!.id, "usr_admin");
    expect(await status()).toBe("offline");
    expect(await monitor.reportHardwareChange(deviceId!, A100, { ...A100, ramGb: 512 })).toBeNull();
  });

  it("blocks an address that handshakes for unknown devices, and unblocks it on release", async () => {
    let raised: Awaited<ReturnType<SecurityMonitor["reportUnknownDeviceHandshake"]>> = [];
    for (let i = 0; i < 5; i += 1) {
      raised = raised.concat(
        await monitor.reportUnknownDeviceHandshake({
          deviceId: `dev_g${i}`,
          ip: "203.0.113.77",
          reason: "unknown_device",
        }),
      );
    }
    expect(raised).toHaveLength(1);
    expect(await rateLimits.blockedFor("ip:203.0.113.77")).toBeGreaterThan(0);
    await monitor.release(raised[0]!.id, "usr_admin");
    expect(await rateLimits.blockedFor("ip:203.0.113.77")).toBe(0);
    expect((await findAlert(database().db, raised[0]!.id))?.status).toBe("released");
  });
});
