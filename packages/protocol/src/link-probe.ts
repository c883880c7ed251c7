import { z } from "zod";

/**
 * Measuring a device's link to the control plane over its session (feature `link-probe`). The worker asks
 * (`link.measure`) when it starts and every few hours; the server, which alone measures, sends a few empty
 * probes to time round trips, then one bounded transfer of random data, and times each until the worker's
 * `link.probe-ack` arrives. An ack carries the SHA-256 of the probe id followed by every chunk's `data` text as
 * received, so it cannot be sent before the last byte has arrived: a worker can make its link look slower,
 * never faster. The verdict comes back as `link.result`.
 */

/** A probe's id: 32 random bytes, base64url. */
export const LinkProbeId = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** Largest `data` text of one probe chunk (base64 of at most 512 KiB). */
export const LINK_PROBE_MAX_CHUNK_CHARS = 700_000;

/** Worker → server: please measure my link now. Refused (`busy`, `too_soon`) within the server's limits. */
export const LinkMeasureMessage = z.strictObject({ type: z.literal("link.measure") });
/** A parsed `LinkMeasureMessage`. */
export type LinkMeasureMessage = z.infer<typeof LinkMeasureMessage>;

/** Server → worker: one chunk of a probe; answer the chunk marked `last` with its digest. */
export const LinkProbeMessage = z.object({
  type: z.literal("link.probe"),
  probeId: LinkProbeId,
  data: z.string().max(LINK_PROBE_MAX_CHUNK_CHARS),
  last: z.boolean(),
});
/** A parsed `LinkProbeMessage`. */
export type LinkProbeMessage = z.infer<typeof LinkProbeMessage>;

/** Worker → server: the probe arrived whole; `digest` is SHA-256 (hex) of the probe id then every chunk's data. */
export const LinkProbeAckMessage = z.strictObject({
  type: z.literal("link.probe-ack"),
  probeId: LinkProbeId,
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
/** A parsed `LinkProbeAckMessage`. */
export type LinkProbeAckMessage = z.infer<typeof LinkProbeAckMessage>;

/**
 * Server → worker: what the measurement found (`measured`), or why none ran: another is running or the server
 * is measuring as many links as it allows (`busy`), or this device was measured too recently (`too_soon`).
 */
export const LinkResultMessage = z.object({
  type: z.literal("link.result"),
  outcome: z.enum(["measured", "busy", "too_soon", "failed"]),
  tier: z.int().min(1).max(4).optional(),
  rttMs: z.number().optional(),
  mbps: z.number().optional(),
  /** When to ask again, seconds. */
  retryAfterSeconds: z.int().min(0).optional(),
});
/** A parsed `LinkResultMessage`. */
export type LinkResultMessage = z.infer<typeof LinkResultMessage>;
