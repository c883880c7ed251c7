import { z } from "zod";

/**
 * Connectivity tiers: how well a device reaches the control plane, from the round trip and the download
 * throughput the server itself measured over the device's session (docs/clusters.md, "Networking"). Tier 4 is
 * the best; a device never measured, or measured too long ago, is tier 1. A cluster request may ask for a
 * minimum tier.
 */

/** The tiers, worst first. */
export const CONNECTIVITY_TIERS = [1, 2, 3, 4] as const;
/** One connectivity tier (1 basic ... 4 ultra). */
export type ConnectivityTier = (typeof CONNECTIVITY_TIERS)[number];
/** The tier of a device with no valid measurement. */
export const LOWEST_TIER: ConnectivityTier = 1;
/** A tier as it appears in views and requests. */
export const ConnectivityTierSchema = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);

/** The name of each tier, shown beside its number. */
export const TIER_NAMES: Readonly<Record<ConnectivityTier, string>> = Object.freeze({
  1: "basic",
  2: "standard",
  3: "high",
  4: "ultra",
});

/** What a tier needs: a round trip at most `maxRttMs` and a download of at least `minMbps` (tier 1 needs nothing). */
export const TIER_THRESHOLDS: ReadonlyArray<{ tier: ConnectivityTier; maxRttMs: number; minMbps: number }> =
  Object.freeze([
    { tier: 4, maxRttMs: 25, minMbps: 500 },
    { tier: 3, maxRttMs: 60, minMbps: 100 },
    { tier: 2, maxRttMs: 150, minMbps: 20 },
  ]);

/** A measurement older than this no longer counts: the device is tier 1 until it measures again. */
export const TIER_VALID_MS = 2 * 24 * 3600 * 1000;

/** The tier a measured round trip and download throughput earn: the best tier whose thresholds both meet. */
export function tierOf(rttMs: number, mbps: number): ConnectivityTier {
  if (!Number.isFinite(rttMs) || !Number.isFinite(mbps) || rttMs < 0 || mbps < 0) return LOWEST_TIER;
  for (const t of TIER_THRESHOLDS) if (rttMs <= t.maxRttMs && mbps >= t.minMbps) return t.tier;
  return LOWEST_TIER;
}

/** The tier that counts now: the measured one while it is fresh, else tier 1. */
export function effectiveTier(
  measured: { tier: number; measuredAt: Date } | null,
  nowMs: number,
): ConnectivityTier {
  if (!measured || nowMs - measured.measuredAt.getTime() > TIER_VALID_MS) return LOWEST_TIER;
  return (CONNECTIVITY_TIERS as readonly number[]).includes(measured.tier)
    ? (measured.tier as ConnectivityTier)
    : LOWEST_TIER;
}

/** A tier as a request names it: its number (1-4, also as text) or its name; undefined when it is neither. */
export function parseTier(raw: unknown): ConnectivityTier | undefined {
  if (typeof raw === "number") {
    return (CONNECTIVITY_TIERS as readonly number[]).includes(raw) ? (raw as ConnectivityTier) : undefined;
  }
  if (typeof raw !== "string") return undefined;
  const text = raw.trim().toLowerCase();
  if (/^[1-4]$/.test(text)) return Number(text) as ConnectivityTier;
  return CONNECTIVITY_TIERS.find((t) => TIER_NAMES[t] === text);
}

/** A device's link to the control plane as its owner sees it: what the server measured and when. */
export const DeviceLinkView = z.object({
  tier: ConnectivityTierSchema,
  /** Fastest round trip of the probe's echoes, milliseconds. */
  rttMs: z.number(),
  /** Download throughput of the probe's transfer (one round trip included), megabits per second. */
  mbps: z.number(),
  measuredAt: z.string(),
});
/** A device's measured link. */
export type DeviceLinkView = z.infer<typeof DeviceLinkView>;
