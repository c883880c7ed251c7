import { type AccountId, accountOf, systemAccount } from "../ledger/accounts.js";

/** Staking as configured (IGNIS_STAKE_PER_GPU, IGNIS_SLASH_BPS, IGNIS_UNBOND_SECONDS). */
export interface StakeSettings {
  /** Micro-units a device must keep bonded per GPU to be hired or earn; 0 turns staking off. */
  perGpu: bigint;
  /** Share of a device's stake a fraud-class proof failure takes, in basis points. */
  slashBps: number;
  /** How long an unbonding stake stays locked (and slashable) before its money returns. */
  unbondSeconds: number;
  /**
   * How long a newly verified device and a newly bonded stake wait before the device is hired or earns
   * (IGNIS_STAKE_PENDING_SECONDS; 0: no wait). It applies with staking off too, to verification alone.
   */
  pendingSeconds: number;
}

/** The default: staking off. */
export const STAKING_OFF: StakeSettings = {
  perGpu: 0n,
  slashBps: 1000,
  unbondSeconds: 7 * 86_400,
  pendingSeconds: 0,
};

/** The stake a device of `gpuCount` GPUs must keep bonded (a CPU-only machine counts as one). */
export function requiredStake(settings: StakeSettings, gpuCount: number): bigint {
  return settings.perGpu * BigInt(Math.max(1, gpuCount));
}

/** The ledger account holding one stake's money. */
export function stakeAccount(stakeId: string): AccountId {
  return accountOf("stake", stakeId);
}

/** The network's account that slashed stake goes to (and that refunds an upheld appeal). */
export function slashedStakesAccount(): AccountId {
  return systemAccount("slashed_stakes");
}

/** A supplier's earnings account: stakes are paid from it and released back into it. */
export function earningsAccount(userId: string): AccountId {
  return accountOf("supplier_earnings", userId);
}
