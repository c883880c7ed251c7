/**
 * Money for people is in credits, with up to six decimals; the API carries integer micro-units
 * (1 credit = 1,000,000). These two functions are the only conversions, exact and float-free, so the CLI, the
 * demo and the web app show one unit everywhere.
 */

/** Micro-units in one credit. */
export const MICRO_UNITS_PER_CREDIT = 1_000_000n;

/** Integer micro-units (a decimal string or a bigint) as credits: `1250000` → `"1.25"`, `-5` → `"-0.000005"`. */
export function creditsOf(micro: string | bigint): string {
  const value = typeof micro === "bigint" ? micro : BigInt(micro);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const whole = abs / MICRO_UNITS_PER_CREDIT;
  const fraction = (abs % MICRO_UNITS_PER_CREDIT).toString().padStart(6, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

/**
 * A non-negative amount of credits typed by a person (`50`, `1.25`, `0.000001`) as integer micro-units, or
 * undefined when it is not one (a sign, an exponent, more than six decimals, or more digits than a ledger holds).
 */
export function microUnitsOfCredits(text: string): bigint | undefined {
  const match = /^(\d{1,24})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!match) return undefined;
  return BigInt(match[1]!) * MICRO_UNITS_PER_CREDIT + BigInt((match[2] ?? "").padEnd(6, "0"));
}
