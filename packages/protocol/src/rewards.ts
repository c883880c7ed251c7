import { z } from "zod";
import { Cursor, DeviceId, MicroUnits, PageSize, Timestamp } from "./common.js";

// Public views of reward epochs and proofs. None has an owner field: a leaf names an epoch, a device and an
// amount, so anyone can check a payout without learning who receives it.

/**
 * The ABI types of a reward leaf `[epoch, deviceId, amount]`, as OpenZeppelin's StandardMerkleTree takes them.
 * Values travel as strings of decimal integers, as StandardMerkleTree dumps them.
 */
export const REWARD_LEAF_ENCODING = ["uint256", "string", "uint256"] as const;

/** An epoch number in a path or query: floor(unix seconds / epoch seconds), a non-negative integer. */
export const EpochNumber = z.coerce
  .string()
  .regex(/^\d{1,15}$/, "an epoch number: a non-negative integer")
  .transform((s) => Number(s));

/** An epoch's lifecycle: accruing up-minutes, waiting for late writes and grace windows, or closed. */
export const EpochStatus = z.enum(["open", "finalizing", "closed"]);
/** An epoch's lifecycle state. */
export type EpochStatus = z.infer<typeof EpochStatus>;

/** The season an epoch belongs to, as the public sees it. */
export const EpochSeasonRef = z.object({ id: z.string(), name: z.string() });

/** One reward epoch as anyone may see it. `root` is null until closed, and stays null when nobody earned. */
/** Where an epoch's root was published on chain: the RewardRoots contract and the transaction that set it. */
export const EpochRootOnChain = z.object({
  contract: z.string().regex(/^0x[0-9a-f]{40}$/),
  txHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  blockNumber: z.number().int().nonnegative(),
});
/** An epoch's root on chain. */
export type EpochRootOnChain = z.infer<typeof EpochRootOnChain>;

export const PublicRewardEpoch = z.object({
  epoch: z.number().int().nonnegative(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  season: EpochSeasonRef.nullable(),
  status: EpochStatus,
  root: z.string().nullable(),
  /** Micro-units paid out in the epoch (the season's pool, or 0 when no device qualified). */
  total: MicroUnits.nullable(),
  /** Devices with a leaf in the epoch's tree. */
  devices: z.number().int().nonnegative().nullable(),
  leafEncoding: z.array(z.string()),
  closedAt: Timestamp.nullable(),
  /** The root's publication on chain; null until it is published (or when no chain is configured). */
  chain: EpochRootOnChain.nullable(),
});
/** One reward epoch as anyone may see it. */
export type PublicRewardEpoch = z.infer<typeof PublicRewardEpoch>;

/** Query of `GET /v1/rewards/epochs`: newest first, paged by epoch number. */
export const RewardEpochListQuery = z.object({
  cursor: Cursor.regex(/^\d{1,15}$/).optional(),
  limit: PageSize,
});

/** A page of closed epochs, newest first. */
export const RewardEpochList = z.object({
  items: z.array(PublicRewardEpoch),
  nextCursor: z.string().nullable(),
});

/** A reward leaf as StandardMerkleTree takes it: `[epoch, deviceId, amount]`, all strings. */
export const RewardLeaf = z.tuple([z.string().regex(/^\d+$/), z.string(), z.string().regex(/^\d+$/)]);
/** A reward leaf `[epoch, deviceId, amount]`. */
export type RewardLeaf = z.infer<typeof RewardLeaf>;

/** A device's inclusion proof: `StandardMerkleTree.verify(root, leafEncoding, leaf, proof)` accepts it. */
export const RewardProof = z.object({
  leaf: RewardLeaf,
  leafEncoding: z.array(z.string()),
  proof: z.array(z.string().regex(/^0x[0-9a-f]{64}$/)),
  root: z.string().regex(/^0x[0-9a-f]{64}$/),
  epoch: z.number().int().nonnegative(),
  deviceId: DeviceId,
  amount: MicroUnits,
});
/** A device's inclusion proof for one epoch. */
export type RewardProof = z.infer<typeof RewardProof>;

/** Path parameters of the proof route. */
export const RewardProofParams = z.object({ epoch: EpochNumber, deviceId: DeviceId });
