import { BoundedMap, type Finding, ipSubject, principalOf, type RequestRule } from "../signals.js";

/** Tuning of the refusal-burst rule. */
export interface RefusalBurstOptions {
  windowMs: number;
  /** Refusals (401, 403, 404) one actor or IP may collect in the window. */
  threshold: number;
  cooldownMs: number;
}

/** Defaults: 20 refusals in one minute. */
export const REFUSAL_BURST_DEFAULTS: RefusalBurstOptions = {
  windowMs: 60_000,
  threshold: 20,
  cooldownMs: 60_000,
};

const REFUSALS = new Set([401, 403, 404]);

interface BurstState {
  /** Times of the most recent refusals, at most `threshold` of them. */
  times: number[];
  statuses: Record<string, number>;
  routes: Map<string, number>;
  quietUntil: number;
}

/**
 * Bursts of 401/403/404 from one actor or one IP: guessing API keys, probing other owners' objects, or
 * enumerating device ids. Counted per credential and, separately, per source IP (a guesser cycling through
 * keys shows up on its address). Memory per key is bounded by the threshold.
 */
export function createRefusalBurstRule(options: Partial<RefusalBurstOptions> = {}): RequestRule {
  const o = { ...REFUSAL_BURST_DEFAULTS, ...options };
  const states = new BoundedMap<string, BurstState>(50_000);

  function record(key: string, at: number, status: number, route: string): BurstState | null {
    let s = states.get(key);
    if (!s) {
      s = { times: [], statuses: {}, routes: new Map(), quietUntil: 0 };
      states.set(key, s);
    }
    s.times.push(at);
    if (s.times.length > o.threshold) s.times.shift();
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
    s.routes.set(route, (s.routes.get(route) ?? 0) + 1);
    const full = s.times.length >= o.threshold && at - s.times[0]! <= o.windowMs;
    if (!full || at < s.quietUntil) return null;
    s.quietUntil = at + o.cooldownMs;
    return s;
  }

  return {
    name: "refusal_burst",
    observe(signal) {
      if (!REFUSALS.has(signal.status)) return [];
      const route = `${signal.method} ${signal.route}`;
      const subjects = [principalOf(signal)];
      if (subjects[0]!.key !== `ip:${signal.ip}`) subjects.push(ipSubject(signal.ip));
      const findings: Finding[] = [];
      for (const subject of subjects) {
        const s = record(subject.key, signal.at, signal.status, route);
        if (!s) continue;
        findings.push({
          rule: "refusal_burst",
          severity: "medium",
          subject,
          contain: true,
          evidence: {
            windowSeconds: o.windowMs / 1000,
            refusals: o.threshold,
            statuses: { ...s.statuses },
            routes: Object.fromEntries(s.routes),
          },
        });
      }
      return findings;
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
