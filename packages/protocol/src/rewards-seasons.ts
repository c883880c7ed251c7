import { z } from "zod";
import { Timestamp } from "./common.js";

/** A non-negative amount of micro-units as a decimal string. */
const NonNegativeMicroUnits = z
  .string()
  .regex(/^\d{1,19}$/, "a non-negative integer amount of micro-units, as a decimal string");

/** A reward weight of one hardware profile: a non-negative integer (0 means the profile earns nothing). */
export const RewardWeight = z.number().int().min(0).max(1_000_000);

/** Body of `POST /v1/admin/rewards/seasons`. Weights must name every known hardware profile. */
export const CreateSeasonBody = z.strictObject({
  name: z.string().trim().min(1).max(80),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  /** Micro-units shared among qualifying devices in each epoch of the season. */
  poolPerEpoch: NonNegativeMicroUnits,
  /** Integer reward weight per hardware profile id. */
  weights: z.record(z.string().min(1).max(64), RewardWeight),
  /** Up-minutes (minute slots) a device needs in an epoch to earn in it; an epoch has 60 slots. */
  minUpMinutes: z.number().int().min(0).max(60),
});
/** Body of the season creation route. */
export type CreateSeasonBody = z.infer<typeof CreateSeasonBody>;

/** A reward season as anyone may see it: seasons are public configuration. */
export const SeasonView = z.object({
  id: z.string(),
  name: z.string(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  poolPerEpoch: z.string(),
  weights: z.record(z.string(), z.number().int()),
  minUpMinutes: z.number().int(),
  createdAt: Timestamp,
});
/** A reward season. */
export type SeasonView = z.infer<typeof SeasonView>;

/** The list of seasons, oldest first. */
export const SeasonList = z.object({ items: z.array(SeasonView) });

/** Body of `POST /v1/admin/maintenance-windows`: an announced outage whose minutes returning devices keep. */
export const CreateMaintenanceWindowBody = z.strictObject({
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }),
  /** Minutes after `end` within which a device must reconnect to be credited. */
  graceMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60),
  reason: z.string().trim().min(1).max(500),
  /** A device must have sent a heartbeat within this many minutes before `start` (default 10). */
  leadMinutes: z.number().int().min(1).max(1440).optional(),
});
/** Body of the maintenance-window route. */
export type CreateMaintenanceWindowBody = z.infer<typeof CreateMaintenanceWindowBody>;

/** A declared maintenance window. */
export const MaintenanceWindowView = z.object({
  id: z.string(),
  start: Timestamp,
  end: Timestamp,
  graceMinutes: z.number().int(),
  leadMinutes: z.number().int(),
  reason: z.string(),
  createdAt: Timestamp,
});
/** A declared maintenance window. */
export type MaintenanceWindowView = z.infer<typeof MaintenanceWindowView>;

/** The list of maintenance windows, newest first. */
export const MaintenanceWindowList = z.object({ items: z.array(MaintenanceWindowView) });
