import { IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { setMinPrice } from "../devices/hiring.js";
import { parseMicroUnits } from "./billing.js";
import type { PriceBook } from "./price-book.js";
import { sandboxedEnough } from "./scheduler.js";

/** A device's price as its owner sees it, per GPU-hour in micro-units. */
export interface DevicePriceView {
  deviceId: string;
  minPricePerHour: string | null;
  defaultPricePerHour: string;
  effectivePricePerHour: string;
}

/** The device's own minimum price (or null), its profile's default, and which one applies. */
export async function devicePrice(db: Db, prices: PriceBook, deviceId: string): Promise<DevicePriceView> {
  const d = await db
    .selectFrom("devices")
    .select(["id", "profile", "gpu_model", "min_price_per_hour"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!d) throw new IgnisError("not_found", "no such object");
  const fallback = prices.defaultPricePerGpuHour(d.profile, d.gpu_model);
  const own = d.min_price_per_hour === null ? null : String(d.min_price_per_hour);
  return {
    deviceId: d.id,
    minPricePerHour: own,
    defaultPricePerHour: fallback.toString(),
    effectivePricePerHour: own ?? fallback.toString(),
  };
}

/**
 * Sets the supplier's minimum price per GPU-hour, or clears it (null) to use the profile's default. Rentals
 * already running keep the price they were hired at.
 */
export async function setDevicePrice(db: Db, deviceId: string, price: string | number | null): Promise<void> {
  const value =
    price === null ? null : parseMicroUnits(price, "invalid_price", { allowZero: true }).toString();
  await setMinPrice(db, deviceId, value);
}

/** What the market offers now for one model: free devices and the lowest ask. */
export interface Offer {
  gpuModel: string;
  available: number;
  lowestPricePerHour: string | null;
  defaultPricePerHour: string | null;
}

/** Free (online, verified, sandboxed) devices per model with the lowest effective price per GPU-hour. */
export async function marketOffers(db: Db, prices: PriceBook): Promise<Offer[]> {
  const rows = await db
    .selectFrom("devices")
    .select([
      "gpu_model",
      "profile",
      sql<string | null>`min(min_price_per_hour)::text`.as("lowest_set"),
      sql<string>`count(*)::text`.as("n"),
      sql<string>`count(*) filter (where min_price_per_hour is null)::text`.as("unset"),
    ])
    .where("status", "=", "online")
    .where("verification", "=", "verified")
    // Only what a rental can get: devices whose jobs run in a sandbox (see the scheduler).
    .where(sandboxedEnough(false))
    .groupBy(["gpu_model", "profile"])
    .execute();
  const byModel = new Map<string, { available: number; lowest: bigint | null }>();
  for (const r of rows) {
    const entry = byModel.get(r.gpu_model) ?? { available: 0, lowest: null };
    entry.available += Number(r.n);
    const asks = [
      ...(r.lowest_set === null ? [] : [BigInt(r.lowest_set)]),
      ...(Number(r.unset) > 0 ? [prices.defaultPricePerGpuHour(r.profile, r.gpu_model)] : []),
    ];
    for (const a of asks) if (entry.lowest === null || a < entry.lowest) entry.lowest = a;
    byModel.set(r.gpu_model, entry);
  }
  return [...byModel.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([gpuModel, e]) => ({
      gpuModel,
      available: e.available,
      lowestPricePerHour: e.lowest?.toString() ?? null,
      defaultPricePerHour: prices.modelDefault(gpuModel)?.toString() ?? null,
    }));
}
