import { BoundedMap, type Finding, principalOf, type RequestRule } from "../signals.js";

/** Tuning of the sustained-writes rule. */
export interface SustainedWritesOptions {
  /** Length of one window; the live rate is a sliding window of the same length. */
  windowMs: number;
  /** EWMA weight of each closed window (0.02 of 10-minute windows ≈ the last 8 hours). */
  alpha: number;
  /** How many times the user's own baseline the live window must exceed. */
  multiplier: number;
  /** Writes per window any user may always make. */
  floor: number;
}

/** Defaults: past 300 writes in 10 minutes (30 a minute, sustained) and 10× the user's own baseline. */
export const SUSTAINED_WRITES_DEFAULTS: SustainedWritesOptions = {
  windowMs: 600_000,
  alpha: 0.02,
  multiplier: 10,
  floor: 300,
};

interface State {
  start: number;
  current: number;
  previous: number;
  baseline: number;
  alerted: boolean;
}

/**
 * A slow write attack stays under the write-surge rule's 10-second floor (120 writes a minute is 20 per 10 s)
 * but over minutes is far above what the user normally does. This rule compares each user's writes over a
 * 10-minute sliding window with their own long baseline, which learns only up to the threshold so an attack
 * cannot teach it. Alert only, once per episode: a heavy honest automation gets a review, not a lock-out.
 */
export function createSustainedWritesRule(options: Partial<SustainedWritesOptions> = {}): RequestRule {
  const o = { ...SUSTAINED_WRITES_DEFAULTS, ...options };
  const states = new BoundedMap<string, State>(50_000);
  const threshold = (s: State) => Math.max(o.floor, o.multiplier * s.baseline);

  function advance(s: State, now: number) {
    const elapsed = Math.floor((now - s.start) / o.windowMs);
    if (elapsed < 1) return;
    s.baseline = o.alpha * Math.min(s.current, threshold(s)) + (1 - o.alpha) * s.baseline;
    s.baseline *= (1 - o.alpha) ** (elapsed - 1);
    s.previous = elapsed === 1 ? s.current : 0;
    s.current = 0;
    s.start += elapsed * o.windowMs;
  }

  return {
    name: "sustained_writes",
    observe(signal) {
      if (!signal.write || signal.actorType !== "user" || signal.status === 401 || signal.status === 429)
        return [];
      const subject = principalOf(signal);
      let s = states.get(subject.key);
      if (!s) {
        s = { start: signal.at, current: 0, previous: 0, baseline: 0, alerted: false };
        states.set(subject.key, s);
      }
      advance(s, signal.at);
      s.current += 1;
      const live = s.current + s.previous * (1 - (signal.at - s.start) / o.windowMs);
      if (live <= threshold(s)) {
        if (s.current + s.previous < threshold(s) / 2) s.alerted = false;
        return [];
      }
      if (s.alerted) return [];
      s.alerted = true;
      const finding: Finding = {
        rule: "sustained_writes",
        severity: "medium",
        subject,
        contain: false,
        evidence: {
          windowSeconds: o.windowMs / 1000,
          writesInWindow: Math.round(live),
          baselinePerWindow: Number(s.baseline.toFixed(2)),
          threshold: Math.round(threshold(s)),
        },
      };
      return [finding];
    },
    forget(subjectKey) {
      states.delete(subjectKey);
    },
    prune(now) {
      for (const [key, s] of states) {
        const idle = Math.floor((now - s.start) / o.windowMs);
        if (idle >= 2 && s.baseline * (1 - o.alpha) ** idle < 0.5) states.delete(key);
      }
    },
  };
}
