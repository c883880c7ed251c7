import { z } from "zod";
import { Timestamp } from "./common.js";

/**
 * How proof-of-GPU checks are shown to a device's owner. The public explorer has its own event type
 * (explorer.ts VerificationEvent) with the outcome and the stable code only: `detail` exists in this owner type
 * alone, so no public response can carry it.
 */

/** How a decided check ended (cancelled checks are never shown: the server gave them up, not the device). */
export const VerificationOutcome = z.enum(["pass", "fail", "timeout"]);
/** How a decided check ended. */
export type VerificationOutcome = z.infer<typeof VerificationOutcome>;

/** Why a check did not pass: a stable code and, for the owner, what was measured against what and what to do. */
export const VerificationReason = z.object({
  /** A stable code such as `commit_late`, `wrong_row` or `vram_short` (docs/proof-of-gpu.md lists them). */
  code: z.string(),
  /** Plain words: what was measured, what the claimed hardware should have done, and what the owner can do. */
  detail: z.string(),
});
/** Why a check did not pass. */
export type VerificationReason = z.infer<typeof VerificationReason>;

/** One decided check of the owner's device. */
export const OwnerVerificationEvent = z.object({
  at: Timestamp,
  outcome: VerificationOutcome,
  /** Null on a pass. */
  reason: VerificationReason.nullable(),
});
/** One decided check of the owner's device. */
export type OwnerVerificationEvent = z.infer<typeof OwnerVerificationEvent>;
