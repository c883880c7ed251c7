import { BoundedMap, type Finding, principalOf, type RequestRule } from "../signals.js";

/** Tuning of the object-sweep rule. */
export interface ObjectSweepOptions {
  windowMs: number;
  /** Distinct objects one principal may write to in the window. */
  writeThreshold: number;
  /** Distinct objects one principal may read in the window. */
  readThreshold: number;
  cooldownMs: number;
}

/** Defaults: in one minute, 50 distinct objects written or 120 distinct objects read. */
export const OBJECT_SWEEP_DEFAULTS: ObjectSweepOptions = {
  windowMs: 60_000,
  writeThreshold: 50,
  readThreshold: 120,
  cooldownMs: 60_000,
};

interface SweepState {
  /** Object id → when it was last touched; Map order is insertion order, refreshed on touch. */
  seen: Map<string, number>;
  quietUntil: number;
}

/**
 * One credential (or, for anonymous callers, one IP) touching many distinct objects in a short window: a
 * stolen key rewriting every device it can reach, or a scraper walking the explorer id by id. Write sweeps
 * are contained; read sweeps are contained only for anonymous callers (their IP is blocked), because a
 * signed-in owner reading each of their own devices is unusual but not harmful.
 */
export function createObjectSweepRule(options: Partial<ObjectSweepOptions> = {}): RequestRule {
  const o = { ...OBJECT_SWEEP_DEFAULTS, ...options };
  const states = new BoundedMap<string, SweepState>(50_000);

  function touch(key: string, objectId: string, at: number, threshold: number): SweepState | null {
    let s = states.get(key);
    if (!s) {
      s = { seen: new Map(), quietUntil: 0 };
      states.set(key, s);
    }
    s.seen.delete(objectId);
    s.seen.set(objectId, at);
    for (const [id, when] of s.seen) {
      if (at - when <= o.windowMs) break;
      s.seen.delete(id);
    }
    // Keep the set bounded: past twice the threshold, more ids add no evidence.
    if (s.seen.size > 2 * threshold) s.seen.delete(s.seen.keys().next().value!);
    if (s.seen.size <= threshold || at < s.quietUntil) return null;
    s.quietUntil = at + o.cooldownMs;
    return s;
  }

  return {
    name: "object_sweep",
    observe(signal) {
      // Requests turned away before reaching the object (bad credential, spent budget, blocked address) touch nothing.
      if (!signal.objectId || signal.status === 401 || signal.status === 429) return [];
      // An enrollment names the device it just created: many new objects is onboarding, not a sweep.
      if (signal.rateClass === "enroll") return [];
      const subject = principalOf(signal);
      const kind = signal.write ? "write" : "read";
      const threshold = signal.write ? o.writeThreshold : o.readThreshold;
      const s = touch(`${kind}|${subject.key}`, signal.objectId, signal.at, threshold);
      if (!s) return [];
      const finding: Finding = {
        rule: "object_sweep",
        severity: signal.write ? "high" : "medium",
        subject,
        contain: signal.write || subject.actorType === "anonymous",
        objectType: signal.objectType,
        evidence: {
          kind,
          windowSeconds: o.windowMs / 1000,
          distinctObjects: s.seen.size,
          threshold,
          route: `${signal.method} ${signal.route}`,
          sampleObjects: [...s.seen.keys()].slice(-10),
        },
      };
      return [finding];
    },
    forget(subjectKey) {
      states.delete(`write|${subjectKey}`);
      states.delete(`read|${subjectKey}`);
    },
    prune(now) {
      for (const [key, s] of states) {
        const newest = [...s.seen.values()].at(-1) ?? 0;
        if (now - newest > o.windowMs && now >= s.quietUntil) states.delete(key);
      }
    },
  };
}
