import { z } from "zod";
import { Cursor, DeviceId, PageSize, Timestamp } from "./common.js";
import { DeviceStatus, Verification } from "./devices.js";

/** How a challenge ended: `pending` until decided, `cancelled` when the server itself gave it up (restart). */
export const ChallengeOutcome = z.enum(["pending", "pass", "fail", "timeout", "cancelled"]);
/** One challenge outcome. */
export type ChallengeOutcome = z.infer<typeof ChallengeOutcome>;

/** Why a challenge was sent: first connection, random re-check, retry, a new hardware claim, or an admin. */
export const ChallengeTrigger = z.enum(["connect", "schedule", "retry", "hardware", "admin", "group"]);
/** One challenge trigger. */
export type ChallengeTrigger = z.infer<typeof ChallengeTrigger>;

/** A challenge as admins see it: sizes, timings and verdict. Seeds and the verifier's secret are never stored. */
export const ChallengeView = z.object({
  id: z.string(),
  deviceId: DeviceId,
  profile: z.string(),
  gpuCount: z.int(),
  n: z.int(),
  inner: z.int(),
  batch: z.int(),
  revealRows: z.int(),
  expectedMs: z.number(),
  deadlineMs: z.int(),
  rttMs: z.int(),
  trigger: ChallengeTrigger,
  issuedAt: Timestamp,
  commitAt: Timestamp.nullable(),
  revealRequestedAt: Timestamp.nullable(),
  revealAt: Timestamp.nullable(),
  decidedAt: Timestamp.nullable(),
  /** Server-measured time from sending the challenge to receiving the commit. */
  commitLatencyMs: z.int().nullable(),
  outcome: ChallengeOutcome,
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  rowsChecked: z.int().nullable(),
  verifyCpuMs: z.number().nullable(),
});
/** A challenge as admins see it. */
export type ChallengeView = z.infer<typeof ChallengeView>;

/** Query of a device's challenge list, newest first. */
export const ChallengeListQuery = z.strictObject({
  limit: PageSize,
  /** The `id` of the last challenge of the previous page. */
  cursor: Cursor.optional(),
});

/** A page of challenges. */
export const ChallengePage = z.object({ items: z.array(ChallengeView), nextCursor: z.string().nullable() });

/** What an admin trigger did: issued here, or forwarded to the replica holding the device's session. */
export const ChallengeTriggerView = z.object({
  deviceId: DeviceId,
  /** Set when this replica issued the challenge; null when another replica holds the session. */
  challengeId: z.string().nullable(),
  delivery: z.enum(["issued", "forwarded"]),
});

/** An admin's review note when clearing a proof-of-GPU quarantine. */
export const ProofReleaseBody = z.strictObject({ note: z.string().trim().max(500).optional() }).optional();

/** A device's verification after an admin review. */
export const ProofReleaseView = z.object({
  deviceId: DeviceId,
  verification: Verification,
  status: DeviceStatus,
  /** True when the review cleared a failed verification (and lifted the quarantine unless security holds it). */
  cleared: z.boolean(),
});
