import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { markDevicesOffline, markSilentDevicesOffline } from "../devices/status.js";
import { CloseCode } from "./close-codes.js";
import type { GatewayLog, HubSession } from "./session-hub.js";

/**
 * Liveness of devices: a device is offline after two heartbeat intervals without a heartbeat. Checked on this
 * replica's live and recently closed sessions every half interval; a session silent for three intervals (a
 * minute at least) is closed as a dead peer; a sweep that runs late (the process was stalled) marks nothing.
 * A slower database sweep catches devices whose replica died, and a revocation sweep ends sessions of devices
 * revoked through another replica.
 */
export function startLiveness(options: {
  db: Db;
  log: GatewayLog;
  now: () => number;
  heartbeatSeconds: number;
  flushSeconds: number;
  sessions: Map<string, HubSession>;
  recentlyClosed: Map<string, number>;
  isRemote: (deviceId: string) => boolean;
  closeRevoked: (session: HubSession) => void;
}): () => void {
  const { db, log, now, sessions, recentlyClosed } = options;
  const intervalMs = options.heartbeatSeconds * 1000;
  const offlineAfterMs = 2 * intervalMs;
  // A silent session is closed later than it is marked offline, and never within a minute: a stalled process
  // (a long GC, a busy host) should not cut every session at once.
  const closeAfterMs = Math.max(3 * intervalMs, 60_000);
  const tickMs = Math.max(25, intervalMs / 2);
  const pingEveryMs = Math.max(4 * intervalMs, 10_000);
  // The database only knows last-seen times as of the last flush: allow for two flushes on top.
  const backstopGraceMs = offlineAfterMs + 2 * options.flushSeconds * 1000 + 2000;
  const slowEveryMs = Math.max(5000, 2 * intervalMs);
  let lastSlow = now();
  let lastRevocationCheck = new Date(now());
  let lastPing = now();
  let running = false;
  let lastTick = now();

  /** The devices one sweep found silent, written in one statement (many go silent together after a stall). */
  const markOffline = (deviceIds: string[]) => {
    if (deviceIds.length === 0) return;
    markDevicesOffline(db, deviceIds).catch((error: unknown) =>
      log.warn({ err: error, devices: deviceIds.length }, "could not mark devices offline"),
    );
  };

  const tick = async () => {
    const t = now();
    // This sweep itself ran late: the process was stalled and heartbeats may still wait in socket buffers.
    // Declaring the fleet offline now would add database writes to an overloaded process; check next time.
    const stalled = t - lastTick > 3 * tickMs;
    lastTick = t;
    if (stalled) return;
    const silentDevices: string[] = [];
    for (const s of sessions.values()) {
      const silent = t - s.lastHeartbeatMs;
      if (silent > closeAfterMs) {
        s.close(CloseCode.timeout, new IgnisError("unavailable", "no heartbeat for three intervals"));
      } else if (silent > offlineAfterMs && !s.markedOffline) {
        s.markedOffline = true;
        silentDevices.push(s.info.deviceId);
      } else if (silent <= intervalMs) {
        // Heartbeats resumed; the next uptime flush marks the device online again.
        s.markedOffline = false;
      }
    }
    for (const [deviceId, lastHeartbeat] of recentlyClosed) {
      if (sessions.has(deviceId)) recentlyClosed.delete(deviceId);
      else if (t - lastHeartbeat > offlineAfterMs) {
        recentlyClosed.delete(deviceId);
        if (!options.isRemote(deviceId)) silentDevices.push(deviceId);
      }
    }
    markOffline(silentDevices);
    if (t - lastPing >= pingEveryMs) {
      lastPing = t;
      for (const s of sessions.values()) s.ping();
    }
    if (t - lastSlow >= slowEveryMs) {
      lastSlow = t;
      await slowSweep(t);
    }
  };

  const slowSweep = async (t: number) => {
    const since = lastRevocationCheck;
    lastRevocationCheck = new Date(t - 1000);
    const revoked = await db.selectFrom("devices").select("id").where("revoked_at", ">=", since).execute();
    for (const { id } of revoked) {
      const s = sessions.get(id);
      if (s) options.closeRevoked(s);
    }
    await markSilentDevicesOffline(db, new Date(t - backstopGraceMs));
  };

  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((error: unknown) => log.warn({ err: error }, "liveness sweep failed"))
      .finally(() => {
        running = false;
      });
  }, tickMs);
  timer.unref();
  return () => clearInterval(timer);
}
