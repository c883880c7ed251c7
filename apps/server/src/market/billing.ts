import { IgnisError } from "@ignis/protocol";

/** Billing minutes in one rental hour: prices are per hour, metering is per minute. */
export const MINUTES_PER_HOUR = 60n;

const BPS = 10_000n;
/** The largest single amount accepted from a client (10^15 micro-units, a billion units). */
export const MAX_AMOUNT = 10n ** 15n;

/** Parses micro-units sent as a decimal string or a safe integer; refuses anything else with `code`. */
export function parseMicroUnits(
  value: string | number,
  code: "invalid_amount" | "invalid_price",
  options: { allowZero?: boolean } = {},
): bigint {
  const text = typeof value === "number" ? (Number.isSafeInteger(value) ? String(value) : "") : value;
  if (!/^\d{1,20}$/.test(text)) {
    throw new IgnisError(code, "amounts are integer micro-units, as a decimal string or a safe integer");
  }
  const amount = BigInt(text);
  if (amount > MAX_AMOUNT || (amount === 0n && !options.allowZero)) {
    throw new IgnisError(code, `the amount must be from ${options.allowZero ? 0 : 1} to ${MAX_AMOUNT}`, {
      details: { max: MAX_AMOUNT.toString() },
    });
  }
  return amount;
}

/** A device's hourly rate: its per-GPU-hour ask times its GPU count (at least one, for CPU-only machines). */
export function deviceRatePerHour(pricePerGpuHour: bigint, gpuCount: number): bigint {
  return pricePerGpuHour * BigInt(Math.max(1, gpuCount));
}

/** What a rental holds in escrow: the hold rate for each device for every hour of the rental. */
export function escrowFor(holdRatePerHour: bigint, count: number, hours: number): bigint {
  return holdRatePerHour * BigInt(count) * BigInt(hours);
}

/**
 * The charge for a number of metered minutes at an hourly rate, rounded down (in the customer's favour).
 * Charges are always computed from the running total, so settling in several steps sums to the same amount.
 */
export function chargeFor(ratePerHour: bigint, minutes: number): bigint {
  return (ratePerHour * BigInt(minutes)) / MINUTES_PER_HOUR;
}

/** The network's fee on a charge, rounded down: the supplier gets the rest. */
export function feeOn(charge: bigint, feeBps: number): bigint {
  return (charge * BigInt(feeBps)) / BPS;
}

/** One settlement step of a job: from what was settled to what the total now owes. */
export interface SettlementStep {
  minutes: number;
  charge: bigint;
  fee: bigint;
  supplierShare: bigint;
}

/**
 * The amounts to move now, given the minutes already settled and the minutes metered so far. Both the charge and
 * the fee are differences of totals, so the sum of all steps equals a single settlement of the final total.
 */
export function settlementStep(
  ratePerHour: bigint,
  feeBps: number,
  settledMinutes: number,
  meteredMinutes: number,
): SettlementStep {
  const before = chargeFor(ratePerHour, settledMinutes);
  const after = chargeFor(ratePerHour, meteredMinutes);
  const charge = after - before;
  const fee = feeOn(after, feeBps) - feeOn(before, feeBps);
  return { minutes: meteredMinutes - settledMinutes, charge, fee, supplierShare: charge - fee };
}
