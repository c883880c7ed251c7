import type { ServerMessage, WorkerMessage } from "@ignis/protocol";
import { IgnisError } from "@ignis/protocol";
import type { WebSocket } from "ws";
import type { Bus } from "../bus/bus.js";
import type { Db } from "../db/database.js";
import type { KeyMigration } from "../devices/key-migrations.js";
import { markDeviceConflict } from "../devices/session-conflict.js";
import { SessionOpenWrites } from "../devices/session-open-writes.js";
import { inGoodStanding } from "../devices/standing.js";
import {
  type OutdatedWorker,
  outdatedWorkerState,
  WORKER_UPDATE_COMMAND,
  type WorkerVersionPolicy,
} from "../devices/worker-version.js";
import type { Metrics } from "../observability/metrics.js";
import { appendAudit } from "../security/audit-log.js";
import type { RateLimits } from "../security/rate-limits.js";
import type { UptimeTracker } from "../uptime/uptime-tracker.js";
import { CloseCode } from "./close-codes.js";
import { HandshakeReader } from "./handshake.js";
import { HeartbeatAcks } from "./heartbeat-acks.js";
import { createKeyMigrationBroadcast } from "./key-migration-broadcast.js";
import { startLiveness } from "./liveness.js";
import { createReplicaRouting } from "./replica-routing.js";
import type {
  DeviceIncident,
  GatewayLog,
  HardwareChange,
  HubSession,
  RefusedHandshake,
  SessionHub,
  SessionInfo,
} from "./session-hub.js";
import { WorkerSession } from "./worker-session.js";

/** A live session as other modules see it. */
export type GatewaySession = Readonly<SessionInfo>;

/** The worker gateway: live device sessions on this replica, and delivery to devices on any replica. */
export interface Gateway {
  /**
   * Sends a message to a device's live session; false when the device has no live session anywhere, or the
   * message is a job start and the device is not in good standing (devices/standing.ts).
   */
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
  /**
   * The device's live session on this replica (its negotiated protocol version and features), or undefined.
   * To gate a new frame across replicas, list it in FRAME_FEATURES: every session enforces that on send.
   */
  session(deviceId: string): GatewaySession | undefined;
  /** True when the device has a live session on this replica or one another replica announced. */
  isConnected(deviceId: string): boolean;
  /**
   * Pings the device's live session on this replica: true when it answers within `timeoutMs`, false when it is
   * silent or not here (the proof service times a session's answers during a challenge).
   */
  probe(deviceId: string, timeoutMs: number): Promise<boolean>;
  /** Every live session on this replica (staged rollouts offer updates to them). */
  localSessions(): GatewaySession[];
  /** Ends the device's session wherever it is. `device_revoked` tells the worker to stop retrying. */
  disconnect(deviceId: string, reason: string): Promise<void>;
  /** Accepts a new worker WebSocket from the HTTP layer. */
  accept(socket: WebSocket, meta: { ip: string }): void;
  /** Asks the device's live session (on any replica) to rotate its key now; false when it has none. */
  requestKeyRotation(deviceId: string): Promise<boolean>;
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
  /** Keys older than this are asked to rotate when their session opens (0: never). */
  keyMaxAgeSeconds?: number | undefined;
  flushSeconds: number;
  /** Called for every refused handshake (the security monitor's unknown-device rule). */
  onRefusedHandshake?: ((attempt: RefusedHandshake) => void) | undefined;
  /** Called when a session shows its key was copied: a duplicate session or an unsolicited key rotation. */
  onDeviceIncident?: ((incident: DeviceIncident) => void) | undefined;
  /** How long an older session has to answer a ping before a newer one takes over (default 3 s). */
  duplicateProbeMs?: number | undefined;
  /** The minimum worker release and the grace period of older ones (default: no minimum). */
  workerVersions?: WorkerVersionPolicy | undefined;
  /** Origins the worker may have signed; the first is the one announced in the challenge. */
  origins: readonly string[];
  now?: () => number;
}

/** How long a device has to rotate when its owner or the age policy asks (the worker spreads its answer over a quarter). */
const OWNER_ROTATION_SECONDS = 20;

/** Creates the gateway of one replica. */
export function createGateway(options: GatewayOptions): Gateway {
  const { db, log } = options;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, HubSession>();
  const handlers = new Map<string, Array<(s: GatewaySession, m: never) => void | Promise<void>>>();
  const opened: Array<(s: GatewaySession) => void> = [];
  const closed: Array<(deviceId: string) => void> = [];
  const hardwareChanged: Array<(deviceId: string, change: HardwareChange) => void> = [];
  const recentlyClosed = new Map<string, number>();
  const counters = { heartbeats: 0, throttled: 0, crossDevice: 0 };
  let stopLiveness: (() => void) | undefined;
  const openWrites = new SessionOpenWrites(db, log);

  const safely = (what: string, fn: () => void | Promise<void>) => {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((error: unknown) => log.warn({ err: error }, `${what} failed`));
    } catch (error) {
      log.warn({ err: error }, `${what} failed`);
    }
  };

  const closeLocal = (session: HubSession, reason: string) => {
    if (reason === "device_revoked") {
      session.close(CloseCode.revoked, new IgnisError("device_revoked", "this device has been revoked"));
    } else if (reason === "device_conflict") {
      session.close(
        CloseCode.conflict,
        new IgnisError(
          "device_conflict",
          "another machine answered with this device's key; both are refused until the owner resolves it",
        ),
      );
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
      async probe(deviceId, timeoutMs) {
        const s = sessions.get(deviceId);
        return s ? { alive: await s.probe(timeoutMs), ip: s.ip } : undefined;
      },
    },
  });

  const probeMs = options.duplicateProbeMs ?? 3000;

  /** The device's current session, here or on another replica, if one exists: does it still answer? */
  const olderSession = async (deviceId: string, newer: HubSession) => {
    const previous = sessions.get(deviceId);
    if (previous && previous !== newer) {
      return {
        alive: await previous.probe(probeMs),
        ip: previous.ip,
        close: (reason: string) => closeLocal(previous, reason),
      };
    }
    if (!previous && routing.isRemote(deviceId)) {
      const answer = await routing.probeRemote(deviceId, probeMs);
      if (answer) {
        return {
          alive: answer.alive,
          ip: answer.ip,
          close: (reason: string) => void routing.disconnectRemote(deviceId, reason),
        };
      }
    }
    return undefined;
  };

  /** Both sessions answered with the same key: the device goes to `conflict`, both are closed, alerts go out. */
  const refuseDuplicate = async (session: HubSession, older: { ip: string; close(reason: string): void }) => {
    const deviceId = session.info.deviceId;
    const peers: [string, string] = [older.ip, session.ip];
    try {
      await markDeviceConflict(db, deviceId, peers);
    } catch (error) {
      log.error({ err: error, deviceId }, "could not mark the device in conflict");
    }
    closeLocal(session, "device_conflict");
    older.close("device_conflict");
    hub.audit({
      actorType: "device",
      actorId: deviceId,
      credentialId: session.keyId,
      action: "device.duplicate_session",
      objectType: "device",
      objectId: deviceId,
      outcome: "refused:device_conflict",
      ip: session.ip,
      details: { sessionId: session.id, peers },
    });
    hub.incident({ kind: "duplicate_session", deviceId, keyId: session.keyId, peers });
  };

  const migrations = createKeyMigrationBroadcast({
    bus: options.bus,
    replicaId: options.replicaId,
    log,
    sessions,
  });

  const hub: SessionHub = {
    db,
    handshakes: new HandshakeReader(db),
    log,
    metrics: options.metrics,
    uptime: options.uptime,
    heartbeatSeconds: options.heartbeatSeconds,
    keyOverlapSeconds: options.keyOverlapSeconds,
    origins: options.origins,
    counters,
    acks: new HeartbeatAcks(now),
    now,
    async register(session, device) {
      const deviceId = device.deviceId;
      session.info.deviceId = deviceId;
      // A second session with a key whose session still answers is a copy of the key, not a reconnect.
      const older = await olderSession(deviceId, session);
      if (session.phase !== "verifying") return;
      if (older?.alive) return refuseDuplicate(session, older);
      session.activate();
      const previous = sessions.get(deviceId);
      sessions.set(deviceId, session);
      recentlyClosed.delete(deviceId);
      if (previous && previous !== session) closeLocal(previous, "session_replaced");
      options.metrics?.wsSessions.set(sessions.size);
      await routing.bind(deviceId, session.id);
      // Written in batches with the other sessions opening now (session-open-writes.ts).
      const outdated = outdatedWorkerState(
        session.info.workerVersion,
        workerVersions,
        device.outdatedSince,
        new Date(now()),
      );
      await openWrites.write({
        deviceId,
        ip: session.ip,
        workerVersion: session.info.workerVersion,
        outdated,
      });
      if (outdated) session.earningUntilMs = outdated.earningUntil.getTime();
      if (sessions.get(deviceId) !== session) return;
      session.send({
        type: "session.hello",
        deviceId,
        sessionId: session.id,
        heartbeatSeconds: options.heartbeatSeconds,
        serverTime: now(),
        // A v1 hello stays exactly as v1 workers know it.
        ...(session.info.protocolVersion >= 2
          ? { protocol: session.info.protocolVersion, features: [...session.info.features] }
          : {}),
      });
      if (device.rotateFor) {
        const m = device.rotateFor;
        session.send({ type: "key.rotate-request", migrationId: m.id, rotateBy: m.rotateBy.toISOString() });
      } else if (device.rotationRequestedAt) {
        session.send(rotationRequest("owner"));
      } else if (keyMaxAgeMs > 0 && now() - device.keyCreatedAt.getTime() > keyMaxAgeMs) {
        session.send(rotationRequest("policy"));
      }
      if (outdated) noticeOutdated(session, outdated);
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
    incident(incident) {
      if (options.onDeviceIncident)
        safely("device-incident listener", () => options.onDeviceIncident!(incident));
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

  const workerVersions = options.workerVersions ?? { minVersion: undefined, graceSeconds: 0 };
  /** Tells an outdated worker (and the log) what to run and until when it earns; v1 workers learn it in the API. */
  const noticeOutdated = (session: HubSession, outdated: OutdatedWorker) => {
    const earning = outdated.earningUntil.getTime() > now();
    const until = outdated.earningUntil.toISOString();
    log.info(
      { deviceId: session.info.deviceId, workerVersion: session.info.workerVersion, earningUntil: until },
      "outdated worker connected",
    );
    session.send({
      type: "worker.notice",
      code: "worker_outdated",
      message: earning
        ? `this worker (${session.info.workerVersion ?? "v1"}) is older than the minimum release ${workerVersions.minVersion}; it keeps earning until ${until}, then stays connected without earning`
        : `this worker (${session.info.workerVersion ?? "v1"}) is older than the minimum release ${workerVersions.minVersion}; its grace period ended at ${until} and it no longer earns`,
      updateCommand: WORKER_UPDATE_COMMAND,
      earningUntil: earning ? until : null,
    });
  };
  const keyMaxAgeMs = (options.keyMaxAgeSeconds ?? 0) * 1000;
  /** A rotation asked by the owner (or owed after a conflict) or by the key-age policy, due within seconds. */
  const rotationRequest = (id: "owner" | "policy"): ServerMessage => ({
    type: "key.rotate-request",
    migrationId: id,
    rotateBy: new Date(now() + OWNER_ROTATION_SECONDS * 1000).toISOString(),
  });

  return {
    async send(deviceId, message) {
      if (message.type === "job.start" && !(await inGoodStanding(db, deviceId))) {
        // A customer's command and variables go only to a device in good standing (not in conflict, proof current).
        log.warn(
          { deviceId, jobId: message.jobId },
          "job start withheld: the device is not in good standing",
        );
        return false;
      }
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
    session: (deviceId) => sessions.get(deviceId)?.info,
    isConnected: (deviceId) => sessions.has(deviceId) || routing.isRemote(deviceId),
    probe: (deviceId, timeoutMs) => sessions.get(deviceId)?.probe(timeoutMs) ?? Promise.resolve(false),
    localSessions: () => [...sessions.values()].map((s) => s.info),
    async disconnect(deviceId, reason) {
      const local = sessions.get(deviceId);
      if (local) closeLocal(local, reason);
      else await routing.disconnectRemote(deviceId, reason);
    },
    accept(socket, meta) {
      new WorkerSession(hub, socket, meta.ip);
    },
    async requestKeyRotation(deviceId) {
      const local = sessions.get(deviceId);
      if (local) return local.send(rotationRequest("owner"));
      return routing.sendRemote(deviceId, rotationRequest("owner"));
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
      await openWrites.flush();
      await routing.close();
    },
  };
}
