import { BoundedMap, type Finding, ipSubject } from "../signals.js";

/** Why a handshake or heartbeat was refused. */
export const HANDSHAKE_REFUSALS = ["unknown_device", "revoked_device", "bad_signature"] as const;
export type HandshakeRefusal = (typeof HANDSHAKE_REFUSALS)[number];

/** One refused handshake or heartbeat, reported by the gateway. */
export interface HandshakeAttempt {
  at: number;
  deviceId: string | null;
  ip: string;
  reason: HandshakeRefusal;
}

/** Tuning of the unknown-device rule. */
export interface HandshakeRuleOptions {
  windowMs: number;
  /** Refused attempts from one IP for unknown devices or with bad signatures. */
  ipThreshold: number;
  /** Attempts by one revoked device (its key leaked, or a worker nobody stopped). */
  revokedThreshold: number;
  cooldownMs: number;
}

/** Defaults: 5 refused attempts per IP, or 3 by one revoked device, within a minute. */
export const HANDSHAKE_RULE_DEFAULTS: HandshakeRuleOptions = {
  windowMs: 60_000,
  ipThreshold: 5,
  revokedThreshold: 3,
  cooldownMs: 300_000,
};

/** The rule's memory and its one operation. */
export interface HandshakeRule {
  observe(attempt: HandshakeAttempt): Finding[];
  forget(subjectKey: string): void;
  prune(now: number): void;
}

/**
 * Heartbeats or handshakes for unknown or revoked devices. Guessing device ids or replaying old signatures
 * from one address blocks the address; a revoked device that keeps calling raises an alert (it is already
 * shut out, so there is nothing more to contain).
 */
export function createHandshakeRule(options: Partial<HandshakeRuleOptions> = {}): HandshakeRule {
  const o = { ...HANDSHAKE_RULE_DEFAULTS, ...options };
  const states = new BoundedMap<string, { times: number[]; devices: Set<string>; quietUntil: number }>(
    50_000,
  );

  function record(key: string, attempt: HandshakeAttempt, threshold: number) {
    let s = states.get(key);
    if (!s) {
      s = { times: [], devices: new Set(), quietUntil: 0 };
      states.set(key, s);
    }
    s.times.push(attempt.at);
    if (s.times.length > threshold) s.times.shift();
    if (attempt.deviceId && s.devices.size < 20) s.devices.add(attempt.deviceId);
    const full = s.times.length >= threshold && attempt.at - s.times[0]! <= o.windowMs;
    if (!full || attempt.at < s.quietUntil) return null;
    s.quietUntil = attempt.at + o.cooldownMs;
    return s;
  }

  return {
    observe(attempt) {
      if (attempt.reason === "revoked_device" && attempt.deviceId) {
        const s = record(`dev:${attempt.deviceId}`, attempt, o.revokedThreshold);
        if (!s) return [];
        return [
          {
            rule: "unknown_device_handshake",
            severity: "medium",
            subject: {
              key: `dev:${attempt.deviceId}`,
              actorType: "device",
              actorId: attempt.deviceId,
              credentialId: null,
              credentialType: "device",
              ip: attempt.ip,
            },
            contain: false,
            objectType: "device",
            objectId: attempt.deviceId,
            evidence: { reason: attempt.reason, attempts: s.times.length, windowSeconds: o.windowMs / 1000 },
          },
        ];
      }
      const subject = ipSubject(attempt.ip);
      const s = record(subject.key, attempt, o.ipThreshold);
      if (!s) return [];
      return [
        {
          rule: "unknown_device_handshake",
          severity: "medium",
          subject,
          contain: true,
          evidence: {
            reason: attempt.reason,
            attempts: s.times.length,
            windowSeconds: o.windowMs / 1000,
            deviceIds: [...s.devices],
          },
        },
      ];
    },
    forget(subjectKey) {
      states.delete(subjectKey);
    },
    prune(now) {
      for (const [key, s] of states) {
        if (now - (s.times.at(-1) ?? 0) > o.windowMs && now >= s.quietUntil) states.delete(key);
      }
    },
  };
}
