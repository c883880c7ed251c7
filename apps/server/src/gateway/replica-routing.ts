import type { ServerMessage } from "@ignis/protocol";
import type { Bus, BusSubscription } from "../bus/bus.js";
import { deviceSubject } from "../bus/bus.js";
import type { GatewayLog } from "./session-hub.js";

/** What routing needs from the local gateway. */
export interface LocalSessions {
  /** Sends to the device's local session; false when it has none here. */
  deliver(deviceId: string, message: ServerMessage): boolean;
  /** Closes the local session of a device unless it is `keepSessionId` (a newer session elsewhere won). */
  replace(deviceId: string, keepSessionId: string): void;
  /** Closes the local session of a device for the given reason. */
  disconnect(deviceId: string, reason: string): void;
  /** Device ids with a live session here. */
  deviceIds(): Iterable<string>;
  /** Pings the device's local session: whether it answered in time and its peer address; undefined if none. */
  probe(deviceId: string, timeoutMs: number): Promise<{ alive: boolean; ip: string } | undefined>;
}

/** Messages on a device's subject. */
type DevicePayload =
  | { kind: "send"; message: ServerMessage; replyTo: string; msgId: number }
  | { kind: "replace"; sessionId: string }
  | { kind: "disconnect"; reason: string }
  | { kind: "probe"; timeoutMs: number; replyTo: string; msgId: number };

/** Presence announcements: which replica holds which devices. */
type PresencePayload = { replicaId: string; up?: string[]; down?: string[]; gone?: boolean };

/** Where replicas announce the sessions they hold, and ask each other to announce them all again. */
export const PRESENCE = "ignis.gateway.presence";
export const SYNC = "ignis.gateway.sync";
/** How long a send to another replica waits for its acknowledgement. */
const ACK_TIMEOUT_MS = 1500;
const SYNC_CHUNK = 1000;

/** Routes messages for devices connected to other replicas over the bus, and tracks where devices are. */
export interface ReplicaRouting {
  start(): Promise<void>;
  /** This replica now holds the device's session: subscribe its subject, announce it, end older sessions. */
  bind(deviceId: string, sessionId: string): Promise<void>;
  /** This replica no longer holds the device. */
  unbind(deviceId: string): void;
  /** True when another replica announced a session of the device. */
  isRemote(deviceId: string): boolean;
  /** Delivers through the replica holding the device; false when none acknowledges in time. */
  sendRemote(deviceId: string, message: ServerMessage): Promise<boolean>;
  /**
   * Asks the replica holding the device to ping its session: whether it answered and its peer address, or
   * undefined when no replica holds it (or none replies in time).
   */
  probeRemote(deviceId: string, timeoutMs: number): Promise<{ alive: boolean; ip: string } | undefined>;
  disconnectRemote(deviceId: string, reason: string): Promise<void>;
  close(): Promise<void>;
}

/** Creates the routing of one replica. */
export function createReplicaRouting(options: {
  bus: Bus;
  replicaId: string;
  local: LocalSessions;
  log: GatewayLog;
}): ReplicaRouting {
  const { bus, replicaId, local, log } = options;
  const replySubject = `ignis.gateway.reply.${replicaId}`;
  const deviceSubs = new Map<string, BusSubscription>();
  const remote = new Map<string, string>();
  const waiting = new Map<number, (reply: Record<string, unknown> | undefined) => void>();
  const fixed: BusSubscription[] = [];
  let nextMsgId = 1;
  /** Set once `gone` is announced: sessions still closing after it need no `down` of their own. */
  let closed = false;

  const publish = (subject: string, payload: unknown) =>
    bus.publish(subject, payload).catch((error: unknown) => {
      log.warn({ err: error, subject }, "bus publish failed");
      throw error;
    });

  const onDevice = (deviceId: string) => (raw: unknown) => {
    const p = raw as DevicePayload;
    if (p.kind === "send") {
      if (local.deliver(deviceId, p.message))
        void publish(p.replyTo, { msgId: p.msgId }).catch(() => undefined);
    } else if (p.kind === "probe") {
      void local.probe(deviceId, p.timeoutMs).then((answer) => {
        if (answer) void publish(p.replyTo, { msgId: p.msgId, ...answer }).catch(() => undefined);
      });
    } else if (p.kind === "replace") local.replace(deviceId, p.sessionId);
    else if (p.kind === "disconnect") local.disconnect(deviceId, p.reason);
  };

  const announce = (payload: Omit<PresencePayload, "replicaId">) =>
    publish(PRESENCE, { replicaId, ...payload }).catch(() => undefined);

  const announceAll = async () => {
    let chunk: string[] = [];
    for (const id of local.deviceIds()) {
      chunk.push(id);
      if (chunk.length === SYNC_CHUNK) {
        await announce({ up: chunk });
        chunk = [];
      }
    }
    if (chunk.length > 0) await announce({ up: chunk });
  };

  /** Publishes a request on the device's subject and waits for the holder's reply (undefined on timeout). */
  const request = async (
    deviceId: string,
    payload: (msgId: number) => DevicePayload,
    timeoutMs: number,
  ): Promise<Record<string, unknown> | undefined> => {
    const msgId = nextMsgId++;
    const replied = new Promise<Record<string, unknown> | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      waiting.set(msgId, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
    try {
      await publish(deviceSubject(deviceId), payload(msgId));
    } catch {
      waiting.delete(msgId);
      return undefined;
    }
    const reply = await replied;
    waiting.delete(msgId);
    return reply;
  };

  return {
    async start() {
      fixed.push(
        bus.subscribe(replySubject, (raw) => {
          const reply = raw as { msgId: number };
          waiting.get(reply.msgId)?.(reply);
        }),
        bus.subscribe(PRESENCE, (raw) => {
          const p = raw as PresencePayload;
          if (p.replicaId === replicaId) return;
          for (const id of p.up ?? []) remote.set(id, p.replicaId);
          for (const id of p.down ?? []) if (remote.get(id) === p.replicaId) remote.delete(id);
          if (p.gone) for (const [id, r] of remote) if (r === p.replicaId) remote.delete(id);
        }),
        bus.subscribe(SYNC, async (raw) => {
          if ((raw as { replicaId: string }).replicaId === replicaId) return;
          await announceAll();
        }),
      );
      // Presence published during a bus outage was lost (and failed sends forgot devices): after it, announce
      // ours again and ask the others for theirs.
      bus.onReconnect?.(() => {
        void announceAll();
        void publish(SYNC, { replicaId }).catch(() => undefined);
      });
      // A replica that starts late learns where devices already are.
      await publish(SYNC, { replicaId }).catch(() => undefined);
    },
    async bind(deviceId, sessionId) {
      remote.delete(deviceId);
      if (!deviceSubs.has(deviceId))
        deviceSubs.set(deviceId, bus.subscribe(deviceSubject(deviceId), onDevice(deviceId)));
      await publish(deviceSubject(deviceId), { kind: "replace", sessionId }).catch(() => undefined);
      await announce({ up: [deviceId] });
    },
    unbind(deviceId) {
      deviceSubs.get(deviceId)?.unsubscribe();
      deviceSubs.delete(deviceId);
      if (!closed) void announce({ down: [deviceId] });
    },
    isRemote: (deviceId) => remote.has(deviceId),
    async sendRemote(deviceId, message) {
      const holder = remote.get(deviceId);
      if (!holder) return false;
      const ok =
        (await request(
          deviceId,
          (msgId) => ({ kind: "send", message, replyTo: replySubject, msgId }),
          ACK_TIMEOUT_MS,
        )) !== undefined;
      // No acknowledgement: the holder is gone or lost the session; forget the stale presence.
      if (!ok && remote.get(deviceId) === holder) remote.delete(deviceId);
      return ok;
    },
    async probeRemote(deviceId, timeoutMs) {
      if (!remote.has(deviceId)) return undefined;
      const reply = await request(
        deviceId,
        (msgId) => ({ kind: "probe", timeoutMs, replyTo: replySubject, msgId }),
        timeoutMs + ACK_TIMEOUT_MS,
      );
      if (!reply) return undefined;
      return { alive: reply.alive === true, ip: String(reply.ip ?? "") };
    },
    async disconnectRemote(deviceId, reason) {
      await publish(deviceSubject(deviceId), { kind: "disconnect", reason }).catch(() => undefined);
    },
    async close() {
      closed = true;
      await announce({ gone: true });
      for (const sub of [...fixed, ...deviceSubs.values()]) sub.unsubscribe();
      deviceSubs.clear();
      for (const resolve of waiting.values()) resolve(undefined);
      waiting.clear();
    },
  };
}
