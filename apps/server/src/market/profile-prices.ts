import { hardwareProfiles } from "@ignis/protocol";
import { createPriceBook, type PriceBook } from "./price-book.js";

/** The price of a device whose profile and model are both unknown: the generic CPU profile's price. */
export const UNKNOWN_HARDWARE_PRICE = 20_000n;

/** The market's price book, from the hardware profiles' default hourly prices (per GPU). */
export function profilePriceBook(): PriceBook {
  return createPriceBook(
    hardwareProfiles.map((p) => ({
      profile: p.id,
      gpuModel: p.model,
      defaultPricePerGpuHour: BigInt(p.hourlyPriceMicros),
    })),
    UNKNOWN_HARDWARE_PRICE,
  );
}
