import { z } from "zod";
import { DeviceId, MicroUnits, Timestamp } from "./common.js";
import { canonicalJson } from "./devices-signatures.js";
import { MicroUnitsInput } from "./market.js";

/** Body of `POST /v1/stakes`: micro-units from the supplier's earnings, bonded for one of their devices. */
export const CreateStakeBody = z.strictObject({ deviceId: z.string().max(200), amount: MicroUnitsInput });

/** Path parameters of `/v1/stakes/{stakeId}/*`. */
export const StakeParams = z.object({ stakeId: z.string().max(200) });

/** A stake as its owner sees it. `bonded` is what is left after slashes; it counts only while `bonded`. */
export const StakeView = z.object({
  id: z.string(),
  deviceId: DeviceId,
  amount: MicroUnits,
  bonded: MicroUnits,
  status: z.enum(["bonded", "unbonding", "released"]),
  createdAt: Timestamp,
  unbondRequestedAt: Timestamp.nullable(),
  /** When an unbonding stake's money returns to the earnings account. */
  releaseAt: Timestamp.nullable(),
  releasedAt: Timestamp.nullable(),
  unit: z.literal("micro"),
});
/** A stake as its owner sees it. */
export type StakeView = z.infer<typeof StakeView>;

/** `GET /v1/stakes`: the caller's stakes, newest first, the earnings balance they are paid from, and the rule. */
export const StakeList = z.object({
  items: z.array(StakeView),
  earningsBalance: MicroUnits,
  perGpu: MicroUnits,
  slashBps: z.number().int(),
  unbondSeconds: z.number(),
  /** Seconds a newly verified device, or a newly bonded stake, waits before the device is hired or earns. */
  pendingSeconds: z.number().optional(),
  unit: z.literal("micro"),
});
/** The caller's stakes and the rule. */
export type StakeList = z.infer<typeof StakeList>;

/**
 * What a slash's transcript hash covers: the fields of the failed challenge as recorded when it was decided
 * (not the session's round-trip time, which would hint at where the device is).
 * Anyone can recompute `transcriptHash` = SHA-256 (hex) of {@link slashTranscriptText}(transcript).
 */
export const SlashTranscript = z.object({
  challengeId: z.string(),
  deviceId: DeviceId,
  profile: z.string(),
  gpuCount: z.number().int(),
  n: z.number().int(),
  innerDim: z.number().int(),
  batch: z.number().int(),
  revealRows: z.number().int(),
  expectedMs: z.number(),
  deadlineMs: z.number(),
  trigger: z.string(),
  issuedAt: Timestamp,
  commitAt: Timestamp.nullable(),
  revealRequestedAt: Timestamp.nullable(),
  revealAt: Timestamp.nullable(),
  decidedAt: Timestamp.nullable(),
  outcome: z.string(),
  reason: z.string().nullable(),
  commitLatencyMs: z.number().nullable(),
  rowsChecked: z.number().nullable(),
});
/** The recorded fields of a failed challenge. */
export type SlashTranscript = z.infer<typeof SlashTranscript>;

/** The exact text whose SHA-256 is a slash's transcript hash: a version line, then the canonical JSON. */
export function slashTranscriptText(transcript: SlashTranscript): string {
  return `ignis-slash-transcript-v1\n${canonicalJson(transcript)}`;
}

/** A slash as anyone sees it: no owner identity; the evidence lets anyone recheck the hash. */
export const SlashView = z.object({
  id: z.string(),
  deviceId: DeviceId,
  amount: MicroUnits,
  reason: z.string(),
  evidence: z.object({ challengeId: z.string(), transcriptHash: z.string(), transcript: SlashTranscript }),
  at: Timestamp,
  appeal: z
    .object({
      status: z.enum(["pending", "refunded", "rejected"]),
      at: Timestamp,
      resolvedAt: Timestamp.nullable(),
    })
    .nullable(),
  unit: z.literal("micro"),
});
/** A slash as anyone sees it. */
export type SlashView = z.infer<typeof SlashView>;

/** `GET /v1/slashes?deviceId=&cursor=`: newest first. */
export const SlashList = z.object({ items: z.array(SlashView), nextCursor: z.string().nullable() });
/** A page of slashes. */
export type SlashList = z.infer<typeof SlashList>;

/** Query of `GET /v1/slashes`. */
export const SlashQuery = z.strictObject({
  deviceId: z.string().max(200).optional(),
  cursor: z.string().max(200).optional(),
});

/** Path parameters of `/v1/slashes/{slashId}/*`. */
export const SlashParams = z.object({ slashId: z.string().max(200) });

/** Body of `POST /v1/slashes/{slashId}/appeal`: why the owner believes the device is honest. */
export const AppealSlashBody = z.strictObject({ reason: z.string().min(1).max(500) });

/** Why a device may not be hired or may not earn now (owner view of a device). */
export const Eligibility = z.object({
  hireable: z.boolean(),
  earning: z.boolean(),
  /** Stable codes such as `not_verified`, `quarantined`, `stake_missing`. */
  reasons: z.array(z.string()),
});
/** A device's eligibility. */
export type Eligibility = z.infer<typeof Eligibility>;
