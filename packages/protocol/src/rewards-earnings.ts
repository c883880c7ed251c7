import { z } from "zod";
import { DeviceId, MicroUnits, PageSize, Timestamp, UserId } from "./common.js";

/** Query of `GET /v1/rewards/earnings`: the caller's earnings; admins may name another user. */
export const EarningsQuery = z.object({
  deviceId: DeviceId.optional(),
  userId: UserId.optional(),
  /** Epoch number to page below (exclusive), newest first. */
  cursor: z
    .string()
    .regex(/^\d{1,15}:dev_[a-z0-9]{26}$/)
    .optional(),
  limit: PageSize,
});

/** One device's reward in one epoch, as its owner sees it. */
export const EarningsItem = z.object({
  epoch: z.number().int().nonnegative(),
  epochStartsAt: Timestamp,
  deviceId: DeviceId,
  amount: MicroUnits,
  upMinutes: z.number().int(),
  weight: z.number().int(),
});

/** One device's total rewards. */
export const DeviceEarnings = z.object({
  deviceId: DeviceId,
  total: MicroUnits,
  epochs: z.number().int().nonnegative(),
});

/** A supplier's earnings: ledger balance, per-device totals and a page of per-epoch rewards. */
export const EarningsView = z.object({
  /** Balance of the supplier-earnings ledger account, in micro-units. */
  balance: MicroUnits,
  /** Sum of rewards listed in `devices` (the selected device only, when filtered). */
  total: MicroUnits,
  devices: z.array(DeviceEarnings),
  items: z.array(EarningsItem),
  nextCursor: z.string().nullable(),
});
/** A supplier's earnings. */
export type EarningsView = z.infer<typeof EarningsView>;
