import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type LinkResultMessage, tierOf } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { Gateway, GatewaySession } from "../gateway/gateway.js";
import type { AuditEntry } from "../security/audit-log.js";
import { findLink, type LinkMeasurement, recordLink } from "./link-store.js";

/** A minimal structured logger. */
interface LinkLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * The bounds of link measurement, which keep it from loading the server: one probe is `probeBytes` of random
 * data in chunks of `chunkBytes`, a device is measured at most once per `minIntervalMs`, and this replica runs at
 * most `maxConcurrent` measurements at once.
 */
export interface LinkProbeLimits {
  probeBytes: number;
  chunkBytes: number;
  /** Empty probes timed for the round trip; the fastest counts (the least delayed by other work on either side). */
  rttRounds: number;
  minIntervalMs: number;
  /** Measurements running or waiting for their turn on this replica (they run one at a time). */
  maxConcurrent: number;
  /** How long an echo may take before the device counts as silent. */
  echoTimeoutMs: number;
  /** How long the transfer may take before the device counts as silent. */
  timeoutMs: number;
}

/**
 * The defaults: 4 MiB in 512 KiB chunks, three echoes, once per 10 minutes a device, one running and three
 * waiting, 10 s for an echo and 30 s for the transfer.
 */
export const DEFAULT_LINK_PROBE_LIMITS: LinkProbeLimits = Object.freeze({
  probeBytes: 4 * 1024 * 1024,
  chunkBytes: 512 * 1024,
  rttRounds: 3,
  minIntervalMs: 10 * 60_000,
  maxConcurrent: 4,
  echoTimeoutMs: 10_000,
  timeoutMs: 30_000,
});

/** What one probe's acknowledgement said: when it came, and whether its digest was the right one. */
interface ProbeAck {
  atMs: number;
  honest: boolean;
}

/** A probe waiting for its acknowledgement. */
interface PendingProbe {
  deviceId: string;
  digest: string;
  resolve(ack: ProbeAck | "timeout" | "interrupted"): void;
}

/** The link measurer of one replica. */
export interface LinkMeasurer {
  /** True while the device's measurement runs or waits for its turn (its proof challenges wait meanwhile). */
  measuring(deviceId: string): boolean;
  /** Measures a device's link over its live session here and records it; null when the session went away. */
  measure(deviceId: string): Promise<LinkMeasurement | null>;
  /**
   * Ends the device's measurement at once (a group round's challenge is due and waits for no one): no more probe
   * bytes are sent, nothing is recorded, and the worker is told `busy`, to ask again later.
   */
  interrupt(deviceId: string): void;
  stop(): void;
}

/**
 * Measures devices' links to the control plane over their sessions (protocol: link-probe.ts) and keeps the
 * result (link-store.ts). The server alone times the probes, so a worker cannot report a better link than it
 * has: an acknowledgement needs the digest of every byte sent, an early or forged one makes the measurement a
 * failure (tier 1), and silence counts as the whole timeout. Only a live, authenticated session on this replica
 * can ask (the gateway dispatches nothing else), within the limits above.
 */
export function startLinkMeasurer(options: {
  db: Db;
  gateway: Gateway;
  log: LinkLog;
  audit?: ((entry: AuditEntry) => void) | undefined;
  /** True while a proof challenge of the device is in flight: probes would make its answers late. */
  challenging?: ((deviceId: string) => boolean) | undefined;
  limits?: Partial<LinkProbeLimits> | undefined;
  now?: () => number;
}): LinkMeasurer {
  const { db, gateway, log } = options;
  const limits = { ...DEFAULT_LINK_PROBE_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const pending = new Map<string, PendingProbe>();
  const running = new Set<string>();
  /** Devices whose measurement was interrupted (a group round); cleared when the measurement ends. */
  const interrupted = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const result = (deviceId: string, message: Omit<LinkResultMessage, "type">) =>
    void gateway.send(deviceId, { type: "link.result", ...message });

  /** Sends one probe (its chunks) and waits for its acknowledgement: elapsed milliseconds, or why not. */
  const probe = async (
    deviceId: string,
    bytes: number,
  ): Promise<number | "gone" | "forged" | "silent" | "interrupted"> => {
    const probeId = randomBytes(32).toString("base64url");
    const hash = createHash("sha256").update(probeId);
    const chunks: string[] = [];
    for (let left = bytes; left > 0; left -= limits.chunkBytes) {
      const data = randomBytes(Math.min(left, limits.chunkBytes)).toString("base64");
      hash.update(data);
      chunks.push(data);
    }
    if (chunks.length === 0) chunks.push("");
    const answered = new Promise<ProbeAck | "timeout" | "interrupted">((resolve) => {
      const timer = setTimeout(
        () => resolve("timeout"),
        bytes === 0 ? limits.echoTimeoutMs : limits.timeoutMs,
      );
      timers.add(timer);
      pending.set(probeId, {
        deviceId,
        digest: hash.digest("hex"),
        resolve: (ack) => {
          clearTimeout(timer);
          timers.delete(timer);
          resolve(ack);
        },
      });
    });
    const startedMs = performance.now();
    try {
      for (const [i, data] of chunks.entries()) {
        if (interrupted.has(deviceId)) return "interrupted";
        const sent = await gateway.send(deviceId, {
          type: "link.probe",
          probeId,
          data,
          last: i === chunks.length - 1,
        });
        if (!sent) return "gone";
      }
      const ack = await answered;
      if (ack === "interrupted") return "interrupted";
      if (ack === "timeout") return "silent";
      if (!ack.honest) return "forged";
      return Math.max(ack.atMs - startedMs, 0.001);
    } finally {
      pending.get(probeId)?.resolve("timeout");
      pending.delete(probeId);
    }
  };

  let lane: Promise<unknown> = Promise.resolve();
  const inLane = <T>(work: () => Promise<T>): Promise<T> => {
    const run = lane.then(work);
    lane = run.catch(() => undefined);
    return run;
  };

  const measure = async (deviceId: string): Promise<LinkMeasurement | null | "interrupted"> => {
    const rtts: number[] = [];
    let forged = false;
    let silent = false;
    for (let i = 0; i < limits.rttRounds && !forged && !silent; i++) {
      const r = await probe(deviceId, 0);
      if (r === "gone") return null;
      if (r === "interrupted") return "interrupted";
      if (r === "forged") forged = true;
      // A device that lets an echo time out is not worth a transfer (and must not hold a slot for minutes).
      else if (r === "silent") silent = true;
      else rtts.push(r);
    }
    let mbps = 0;
    if (!forged && !silent) {
      const r = await probe(deviceId, limits.probeBytes);
      if (r === "gone") return null;
      if (r === "interrupted") return "interrupted";
      if (r === "forged") forged = true;
      else if (r === "silent") silent = true;
      // Base64 text is what crosses the wire: 4 characters for 3 bytes.
      else mbps = (Math.ceil(limits.probeBytes / 3) * 4 * 8) / (r / 1000) / 1e6;
    }
    if (stopped) return null;
    // The fastest echo: waiting behind other work only ever adds to a round trip, and no echo can come back
    // before its probe id went out.
    const rttMs = forged || silent || rtts.length === 0 ? limits.timeoutMs : Math.min(...rtts);
    const m: LinkMeasurement = {
      rttMs,
      mbps: forged ? 0 : mbps,
      tier: forged ? 1 : tierOf(rttMs, mbps),
      measuredAt: new Date(now()),
    };
    await recordLink(db, deviceId, m);
    // An honest measurement is the server's own reading, like an RTT ping; a forged answer is an attack.
    if (forged)
      options.audit?.({
        actorType: "device",
        actorId: deviceId,
        action: "device.link.measure",
        objectType: "device",
        objectId: deviceId,
        outcome: "refused:forged_probe_ack",
        details: {
          rttMs: Math.round(m.rttMs * 1000) / 1000,
          mbps: Math.round(m.mbps * 1000) / 1000,
          tier: m.tier,
        },
      });
    return m;
  };

  const onMeasureRequest = async (session: GatewaySession) => {
    const deviceId = session.deviceId;
    if (stopped) return;
    const challenged = options.challenging?.(deviceId) === true;
    if (challenged || running.has(deviceId) || running.size >= limits.maxConcurrent) {
      // Spread the retries of many devices turned away at once.
      result(deviceId, { outcome: "busy", retryAfterSeconds: 60 + Math.floor(Math.random() * 240) });
      return;
    }
    running.add(deviceId);
    try {
      const last = await findLink(db, deviceId);
      const sinceMs = last ? now() - last.measuredAt.getTime() : Number.POSITIVE_INFINITY;
      if (sinceMs < limits.minIntervalMs) {
        result(deviceId, {
          outcome: "too_soon",
          retryAfterSeconds: Math.ceil((limits.minIntervalMs - sinceMs) / 1000),
        });
        return;
      }
      // One measurement at a time on this replica: concurrent ones would share the server's uplink and event
      // loop, and each would read slower than its link is. A challenge issued while this one waited goes first.
      const m = await inLane<LinkMeasurement | null | "busy" | "interrupted">(async () =>
        options.challenging?.(deviceId) || interrupted.has(deviceId) ? "busy" : measure(deviceId),
      );
      if (m === "busy" || m === "interrupted") {
        result(deviceId, { outcome: "busy", retryAfterSeconds: 60 + Math.floor(Math.random() * 240) });
        return;
      }
      if (!m) return;
      result(deviceId, {
        // A forged acknowledgement or a silent device: no transfer was timed.
        outcome: m.mbps === 0 ? "failed" : "measured",
        tier: m.tier,
        rttMs: Math.round(m.rttMs * 1000) / 1000,
        mbps: Math.round(m.mbps * 1000) / 1000,
      });
      log.info({ deviceId, rttMs: m.rttMs, mbps: m.mbps, tier: m.tier }, "device link measured");
    } catch (error) {
      log.warn({ err: error, deviceId }, "device link measurement failed");
    } finally {
      running.delete(deviceId);
      interrupted.delete(deviceId);
    }
  };

  gateway.onMessage("link.measure", (session) => onMeasureRequest(session));
  gateway.onMessage("link.probe-ack", (session, message) => {
    const waiting = pending.get(message.probeId);
    // An ack for another device's probe, or for none, is ignored: it cannot end anyone's measurement.
    if (!waiting || waiting.deviceId !== session.deviceId) return;
    pending.delete(message.probeId);
    waiting.resolve({ atMs: performance.now(), honest: message.digest === waiting.digest });
  });

  return {
    measuring: (deviceId) => running.has(deviceId),
    async measure(deviceId) {
      const m = await measure(deviceId);
      return m === "interrupted" ? null : m;
    },
    interrupt(deviceId) {
      if (!running.has(deviceId)) return;
      interrupted.add(deviceId);
      for (const waiting of pending.values()) {
        if (waiting.deviceId === deviceId) waiting.resolve("interrupted");
      }
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const p of pending.values()) p.resolve("timeout");
      pending.clear();
    },
  };
}
