import { BoundedMap, type Finding, principalOf, type RequestRule, type RequestSignal } from "../signals.js";

/** Tuning of the write-surge rule. */
export interface WriteSurgeOptions {
  /** Length of one baseline bucket; the live rate is a sliding window of the same length. */
  bucketMs: number;
  /** EWMA weight of the newest closed bucket (0.05 ≈ the last 20 buckets). */
  alpha: number;
  /** How many times the baseline the live window must exceed. */
  multiplier: number;
  /** Writes per window one actor may always make, so a quiet account does not alert on its first writes. */
  actorFloor: number;
  /** The same floor for all actors together. */
  globalFloor: number;
  /** After firing, a key stays quiet this long (the monitor also deduplicates open alerts). */
  cooldownMs: number;
}

/** Defaults: 10-second windows; an actor alerts past 30 writes in 10 s, everyone together past 300. */
export const WRITE_SURGE_DEFAULTS: WriteSurgeOptions = {
  bucketMs: 10_000,
  alpha: 0.05,
  multiplier: 5,
  actorFloor: 30,
  globalFloor: 300,
  cooldownMs: 60_000,
};

interface RateState {
  bucketStart: number;
  current: number;
  previous: number;
  baseline: number;
  quietUntil: number;
  routes: Map<string, number>;
}

/**
 * Write rate per route class, per actor and globally, against an EWMA baseline of past windows. The live rate
 * is the sliding-window estimate `current + previous × (unelapsed fraction)`, so a burst straddling two
 * buckets is not halved; the baseline learns only up to the threshold, so an attack cannot teach it.
 */
export function createWriteSurgeRule(options: Partial<WriteSurgeOptions> = {}): RequestRule {
  const o = { ...WRITE_SURGE_DEFAULTS, ...options };
  const states = new BoundedMap<string, RateState>(50_000);

  const threshold = (s: RateState, floor: number) => Math.max(floor, o.multiplier * s.baseline);

  function advance(s: RateState, now: number, floor: number) {
    const elapsed = Math.floor((now - s.bucketStart) / o.bucketMs);
    if (elapsed < 1) return;
    s.baseline = o.alpha * Math.min(s.current, threshold(s, floor)) + (1 - o.alpha) * s.baseline;
    s.baseline *= (1 - o.alpha) ** (elapsed - 1);
    s.previous = elapsed === 1 ? s.current : 0;
    s.current = 0;
    s.bucketStart += elapsed * o.bucketMs;
    s.routes.clear();
  }

  function count(key: string, signal: RequestSignal, floor: number): number | null {
    let s = states.get(key);
    if (!s) {
      s = { bucketStart: signal.at, current: 0, previous: 0, baseline: 0, quietUntil: 0, routes: new Map() };
      states.set(key, s);
    }
    advance(s, signal.at, floor);
    s.current += 1;
    const route = `${signal.method} ${signal.route}`;
    s.routes.set(route, (s.routes.get(route) ?? 0) + 1);
    const live = s.current + s.previous * (1 - (signal.at - s.bucketStart) / o.bucketMs);
    const limit = threshold(s, floor);
    if (live <= limit || signal.at < s.quietUntil) return null;
    s.quietUntil = signal.at + o.cooldownMs;
    return Math.round(live);
  }

  function evidence(key: string, live: number, floor: number, signal: RequestSignal) {
    const s = states.get(key)!;
    return {
      rateClass: signal.rateClass,
      windowSeconds: o.bucketMs / 1000,
      writesInWindow: live,
      baselinePerWindow: Number(s.baseline.toFixed(2)),
      threshold: Math.round(threshold(s, floor)),
      routes: Object.fromEntries(s.routes),
    };
  }

  return {
    name: "write_surge",
    observe(signal) {
      // A write refused before authentication or by a budget never happened: it belongs to other rules.
      if (!signal.write || signal.status === 401 || signal.status === 429) return [];
      const findings: Finding[] = [];
      const subject = principalOf(signal);
      const actorKey = `${signal.rateClass}|${subject.key}`;
      const actorLive = count(actorKey, signal, o.actorFloor);
      if (actorLive !== null) {
        findings.push({
          rule: "write_surge",
          severity: "high",
          subject,
          // Issuing and redeeming single-use enrollment codes changes no existing object: a surge is reported
          // but not contained, so a supplier onboarding a rack is not cut off mid-way.
          contain: signal.rateClass !== "enroll",
          evidence: { scope: "actor", ...evidence(actorKey, actorLive, o.actorFloor, signal) },
        });
      }
      const globalKey = `${signal.rateClass}|global`;
      const globalLive = count(globalKey, signal, o.globalFloor);
      if (globalLive !== null) {
        findings.push({
          rule: "write_surge",
          severity: "high",
          subject: {
            key: `global:${signal.rateClass}`,
            actorType: "system",
            actorId: null,
            credentialId: null,
            credentialType: null,
            ip: null,
          },
          contain: false,
          evidence: { scope: "global", ...evidence(globalKey, globalLive, o.globalFloor, signal) },
        });
      }
      return findings;
    },
    forget(subjectKey) {
      for (const key of states.keys()) if (key.endsWith(`|${subjectKey}`)) states.delete(key);
    },
    prune(now) {
      // A state with a negligible baseline and no recent writes carries nothing worth keeping.
      for (const [key, s] of states) {
        const idleBuckets = Math.floor((now - s.bucketStart) / o.bucketMs);
        if (idleBuckets >= 2 && s.baseline * (1 - o.alpha) ** idleBuckets < 0.05) states.delete(key);
      }
    },
  };
}
