import type { ServerMessage, WorkerMessage } from "@ignis/protocol";
import { IgnisError } from "@ignis/protocol";
import type { WebSocket } from "ws";
import type { Bus } from "../bus/bus.js";
import type { Db } from "../db/database.js";
import type { KeyMigration } from "../devices/key-migrations.js";
import { recordSessionAddress } from "../devices/session-address.js";
import { setDeviceStatus } from "../devices/status.js";
import type { Metrics } from "../observability/metrics.js";
import { appendAudit } from "../security/audit-log.js";
import type { RateLimits } from "../security/rate-limits.js";
import type { UptimeTracker } from "../uptime/uptime-tracker.js";
import { createKeyMigrationBroadcast } from "./key-migration-broadcast.js";
import { startLiveness } from "./liveness.js";
import { createReplicaRouting } from "./replica-routing.js";
import type { GatewayLog, HardwareChange, RefusedHandshake, SessionHub } from "./session-hub.js";
import { CloseCode, type SessionInfo, WorkerSession } from "./worker-session.js";

/** A live session as other modules see it. */
export type GatewaySession = Readonly<SessionInfo>;

/** The worker gateway: live device sessions on this replica, and delivery to devices on any replica. */
export interface Gateway {
  /** Sends a message to a device's live session; false when the device has no live session anywhere. */
  send(deviceId: string, message: ServerMessage): Promise<boolean>;
  /** Registers a handler for one worker message type (proof.*, job.*), called for authenticated sessions only. */
  onMessage<T extends WorkerMessage["type"]>(
    type: T,
    handler: (session: GatewaySession, message: Extract<WorkerMessage, { type: T }>) => void | Promise<void>,
  ): void;
  /** Called when a device's session is authenticated and bound. */
  onSessionOpened(listener: (session: GatewaySession) => void): void;
  /** Called when a device's current session ends (not when a newer session replaced it). */
  onSessionClosed(listener: (deviceId: string) => void): void;
  /** Called when a device changed its GPU claim over its session here (its verification was reset). */
  onHardwareChanged(listener: (deviceId: string, change: HardwareChange) => void): void;
  /** True when the device has a live session on this replica or one another replica announced. */
  isConnected(deviceId: string): boolean;
  /** Ends the device's session wherever it is. `device_revoked` tells the worker to stop retrying. */
  disconnect(deviceId: string, reason: string): Promise<void>;
  /** Accepts a new worker WebSocket from the HTTP layer. */
  accept(socket: WebSocket, meta: { ip: string }): void;
  /** Asks every connected device whose key predates the migration to rotate; returns how many here were asked. */
  announceKeyMigration(migration: KeyMigration): Promise<number>;
  /** Counters for metrics, benches and tests. */
  stats(): { sessions: number; heartbeats: number; throttled: number; crossDevice: number };
  start(): Promise<void>;
  /** Ends every session (close code 1001, so workers reconnect elsewhere) and stops timers. */
  close(): Promise<void>;
}

/** Settings and collaborators of the gateway. */
export interface GatewayOptions {
  db: Db;
  bus: Bus;
  uptime: UptimeTracker;
  log: GatewayLog;
  metrics?: Metrics | undefined;
  rateLimits?: RateLimits | undefined;
  replicaId: string;
  heartbeatSeconds: number;
  keyOverlapSeconds: number;
  flushSeconds: number;
  /** Called for every refused handshake (the security monitor's unknown-device rule). */
  onRefusedHandshake?: ((attempt: RefusedHandshake) => void) | undefined;
  /** Origins the worker may have signed; the first is the one announced in the challenge. */
  origins: readonly string[];
  now?: () => number;
}

/** Creates the gateway of one replica. */
export function createGateway(options: GatewayOptions): Gateway {
  const { db, log } = options;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, WorkerSession>();
  const handlers = new Map<string, Array<(s: GatewaySession, m: never) => void | Promise<void>>>();
  const opened: Array<(s: GatewaySession) => void> = [];
  const closed: Array<(deviceId: string) => void> = [];
  const hardwareChanged: Array<(deviceId: string, change: HardwareChange) => void> = [];
  const recentlyClosed = new Map<string, number>();
  const counters = { heartbeats: 0, throttled: 0, crossDevice: 0 };
  let stopLiveness: (() => void) | undefined;

  const safely = (what: string, fn: () => void | Promise<void>) => {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((error: unknown) => log.warn({ err: error }, `${what} failed`));
    } catch (error) {
      log.warn({ err: error }, `${what} failed`);
    }
  };

  const closeLocal = (session: WorkerSession, reason: string) => {
    if (reason === "device_revoked") {
      session.close(CloseCode.revoked, new IgnisError("device_revoked", "this device has been revoked"));
    } else if (reason === "session_replaced") {
      session.close(
        CloseCode.replaced,
        new IgnisError("session_replaced", "a newer session of this device took over"),
      );
    } else {
      session.close(CloseCode.normal, new IgnisError("unavailable", reason));
    }
  };

  const routing = createReplicaRouting({
    bus: options.bus,
    replicaId: options.replicaId,
    log,
    local: {
      deliver: (deviceId, message) => sessions.get(deviceId)?.send(message) ?? false,
      replace(deviceId, keepSessionId) {
        const s = sessions.get(deviceId);
        if (s && s.id !== keepSessionId) closeLocal(s, "session_replaced");
      },
      disconnect(deviceId, reason) {
        const s = sessions.get(deviceId);
        if (s) closeLocal(s, reason);
      },
      deviceIds: () => sessions.keys(),
    },
  });

  const migrations = createKeyMigrationBroadcast({
    bus: options.bus,
    replicaId: options.replicaId,
    log,
    sessions,
  });

  const hub: SessionHub = {
    db,
    log,
    metrics: options.metrics,
    uptime: options.uptime,
    heartbeatSeconds: options.heartbeatSeconds,
    keyOverlapSeconds: options.keyOverlapSeconds,
    origins: options.origins,
    counters,
    now,
    async register(session, device) {
      const deviceId = device.deviceId;
      const previous = sessions.get(deviceId);
      sessions.set(deviceId, session);
      recentlyClosed.delete(deviceId);
      if (previous && previous !== session) closeLocal(previous, "session_replaced");
      options.metrics?.wsSessions.set(sessions.size);
      await routing.bind(deviceId, session.id);
      try {
        await setDeviceStatus(db, deviceId, "online", { from: ["pending", "offline"] });
      } catch (error) {
        // The uptime flush marks a heartbeating device online again once the database answers.
        log.warn({ err: error, deviceId }, "could not mark the device online");
      }
      await recordSessionAddress(db, deviceId, session.ip).catch((error: unknown) =>
        log.warn({ err: error, deviceId }, "could not record the session's address"),
      );
      if (sessions.get(deviceId) !== session) return;
      session.send({
        type: "session.hello",
        deviceId,
        sessionId: session.id,
        heartbeatSeconds: options.heartbeatSeconds,
        serverTime: now(),
      });
      if (device.rotateFor) {
        const m = device.rotateFor;
        session.send({ type: "key.rotate-request", migrationId: m.id, rotateBy: m.rotateBy.toISOString() });
      }
      for (const l of opened) safely("session-opened listener", () => l(session.info));
    },
    unregister(session) {
      const deviceId = session.info.deviceId;
      if (sessions.get(deviceId) !== session) return;
      sessions.delete(deviceId);
      options.metrics?.wsSessions.set(sessions.size);
      routing.unbind(deviceId);
      recentlyClosed.set(deviceId, session.lastHeartbeatMs);
      for (const l of closed) safely("session-closed listener", () => l(deviceId));
    },
    hardwareChanged(deviceId, change) {
      for (const l of hardwareChanged) safely("hardware-changed listener", () => l(deviceId, change));
    },
    dispatch(session, message) {
      const list = handlers.get(message.type);
      if (!list) return;
      for (const h of list) safely(`${message.type} handler`, () => h(session.info, message as never));
    },
    audit(entry) {
      appendAudit(db, entry).catch((error: unknown) =>
        log.warn({ err: error, action: entry.action }, "audit append failed"),
      );
    },
    refusedHandshake(attempt) {
      if (options.onRefusedHandshake)
        safely("refused-handshake listener", () => options.onRefusedHandshake!(attempt));
    },
    async noteFailedHandshake(ip) {
      if (!options.rateLimits) return true;
      try {
        await options.rateLimits.consume("auth", `ws:${ip}`);
        return true;
      } catch {
        return false;
      }
    },
  };

  return {
    async send(deviceId, message) {
      const local = sessions.get(deviceId);
      if (local) return local.send(message);
      return routing.sendRemote(deviceId, message);
    },
    onMessage(type, handler) {
      const list = handlers.get(type) ?? [];
      list.push(handler as (s: GatewaySession, m: never) => void | Promise<void>);
      handlers.set(type, list);
    },
    onSessionOpened: (listener) => void opened.push(listener),
    onSessionClosed: (listener) => void closed.push(listener),
    onHardwareChanged: (listener) => void hardwareChanged.push(listener),
    isConnected: (deviceId) => sessions.has(deviceId) || routing.isRemote(deviceId),
    async disconnect(deviceId, reason) {
      const local = sessions.get(deviceId);
      if (local) closeLocal(local, reason);
      else await routing.disconnectRemote(deviceId, reason);
    },
    accept(socket, meta) {
      new WorkerSession(hub, socket, meta.ip);
    },
    announceKeyMigration: (migration) => migrations.announce(migration),
    stats: () => ({ sessions: sessions.size, ...counters }),
    async start() {
      await routing.start();
      migrations.start();
      stopLiveness = startLiveness({
        db,
        log,
        now,
        heartbeatSeconds: options.heartbeatSeconds,
        flushSeconds: options.flushSeconds,
        sessions,
        recentlyClosed,
        isRemote: routing.isRemote,
        closeRevoked: (s) => closeLocal(s, "device_revoked"),
      });
    },
    async close() {
      stopLiveness?.();
      migrations.stop();
      for (const s of sessions.values()) {
        s.close(1001, new IgnisError("unavailable", "the server is restarting; reconnect"));
      }
      await routing.close();
    },
  };
}
