import type { JobServerMessage } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { MeshCoordinator } from "../mesh/mesh-coordinator.js";
import { lastSeenReference } from "../uptime/uptime-tracker.js";
import type { ClusterRow } from "./cluster-view.js";
import type { PriceBook } from "./price-book.js";
import type { ProofCounts } from "./reliability.js";

/** The market's settings, derived once from the server's configuration. */
export interface MarketSettings {
  billingMinuteMs: number;
  feeBps: number;
  maxDevices: number;
  maxHours: number;
  archiveMaxBytes: number;
  logMaxBytesPerJob: number;
  epochSeconds: number;
  /** A job that has not reported running this long after its start was sent counts as lost. */
  startTimeoutMs: number;
  /**
   * A hired device whose last heartbeat is older than this counts as dropped, and only devices seen within it are
   * hired (both measured by `seenSince`).
   */
  lostAfterMs: number;
  /** How often last-seen times are written (the uptime flush interval). */
  flushMs: number;
  /**
   * How long a lost rank that found no free device waits for one before its unused time is refunded (0: refund
   * at once). The one device that could replace it may be between two heartbeats, or back in the pool soon.
   */
  replaceWithinMs: number;
  /** Micro-units of bonded stake per GPU a device needs to be hired (0: staking off). */
  stakePerGpu: bigint;
  /** Seconds a newly verified device or newly bonded stake waits before the device is hired (0: none). */
  stakePendingSeconds: number;
}

/** How the market reaches workers: the gateway, seen through the little the market needs of it. */
export interface JobChannel {
  /** Sends a job message to a device wherever its session is (at most once; the market re-sends starts). */
  send(deviceId: string, message: JobServerMessage): void;
  /** True when this replica holds a live, heartbeating session of the device. */
  isLive(deviceId: string): boolean;
}

/** A minimal structured logger. */
export interface MarketLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything the market's use cases need. */
export interface MarketContext {
  db: Db;
  settings: MarketSettings;
  prices: PriceBook;
  proofCounts?: ProofCounts | undefined;
  channel: JobChannel;
  now(): number;
  log: MarketLog;
  /** The clusters' private overlays; absent when the server offers none (IGNIS_MESH=off or no nebula). */
  mesh?: MeshCoordinator | undefined;
  /** Up to when this replica's last-seen times are written (uptime-tracker.ts); absent: always up to now. */
  storedThrough?: (() => number) | undefined;
}

/**
 * A device last seen before this time is gone (`lostAfterMs`): measured from now, or from earlier when this
 * replica's uptime flushes have fallen behind (a loaded database or process), so that the server's own lateness
 * in writing heartbeats never makes a healthy device look gone: neither unhireable nor lost mid-job (the
 * likeliest cause of nat-mesh's rental of two online devices refused `no_capacity` under load).
 */
export function seenSince(ctx: MarketContext): Date {
  const now = ctx.now();
  const from = ctx.storedThrough ? lastSeenReference(now, ctx.storedThrough(), ctx.settings.flushMs) : now;
  return new Date(from - ctx.settings.lostAfterMs);
}

/** What a use case wants done once its transaction has committed: messages to workers. */
export interface Effects {
  /** Jobs whose start message must be sent. */
  starts: string[];
  stops: { deviceId: string; jobId: string; reason: "cancelled" | "rental_ended" | "reassigned" }[];
}

/** An empty list of effects. */
export function noEffects(): Effects {
  return { starts: [], stops: [] };
}

/**
 * Opens the transaction a market write runs in and returns what the work returned. A route passes one that
 * also commits its audit record in the same transaction (http/audited-write.ts); the default is a plain one.
 */
export type ClusterTransaction = (work: (trx: Db) => Promise<ClusterRow>) => Promise<ClusterRow>;
