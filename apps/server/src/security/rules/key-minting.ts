import { BoundedMap, type Finding, principalOf, type RequestRule } from "../signals.js";

/** Tuning of the key-minting rule. */
export interface KeyMintingOptions {
  /** Keys one user may mint within the window before it is worth an alert. */
  maxKeys: number;
  windowMs: number;
}

/** Defaults: more than 5 keys minted by one user within an hour raises an alert. */
export const KEY_MINTING_DEFAULTS: KeyMintingOptions = { maxKeys: 5, windowMs: 3_600_000 };

/** Routes that mint an API key. */
const MINT_ROUTES = new Set(["POST /v1/api-keys", "POST /v1/admin/users/:userId/api-keys"]);

/**
 * Counts keys minted per principal over a sliding window. A thief who holds one credential mints others to
 * outlast a revocation; honest users mint a handful a year. Alert only: minting is already bounded by the
 * minter's own scopes and expiry, and the write-surge rule contains a burst.
 */
export function createKeyMintingRule(options: Partial<KeyMintingOptions> = {}): RequestRule {
  const o = { ...KEY_MINTING_DEFAULTS, ...options };
  const minted = new BoundedMap<string, number[]>(50_000);
  return {
    name: "key_minting",
    observe(signal) {
      if (signal.status !== 201 || !MINT_ROUTES.has(`${signal.method} ${signal.route}`)) return [];
      const subject = principalOf(signal);
      const times = (minted.get(subject.key) ?? []).filter((t) => t > signal.at - o.windowMs);
      times.push(signal.at);
      minted.set(subject.key, times);
      if (times.length !== o.maxKeys + 1) return [];
      const finding: Finding = {
        rule: "key_minting",
        severity: "medium",
        subject,
        contain: false,
        evidence: { keysMinted: times.length, windowSeconds: o.windowMs / 1000, maxKeys: o.maxKeys },
      };
      return [finding];
    },
    forget(subjectKey) {
      minted.delete(subjectKey);
    },
    prune(now) {
      for (const [key, times] of minted) if ((times.at(-1) ?? 0) <= now - o.windowMs) minted.delete(key);
    },
  };
}
