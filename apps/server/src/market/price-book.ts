/** A hardware profile's market facts: its GPU model and its default price per GPU-hour in micro-units. */
export interface ProfilePrice {
  profile: string;
  gpuModel: string;
  defaultPricePerGpuHour: bigint;
}

/** Default prices and the GPU models the market knows; a supplier's own minimum price overrides the default. */
export interface PriceBook {
  /** The default price per GPU-hour of a device with this profile (or, for native hardware, this model). */
  defaultPricePerGpuHour(profile: string, gpuModel: string): bigint;
  /** The default price of a model, or undefined when the market does not know it. */
  modelDefault(gpuModel: string): bigint | undefined;
  /** The model's spelling in the profiles (asked in any case, or by profile id), or undefined when unknown. */
  canonicalModel(gpuModel: string): string | undefined;
}

/**
 * Builds the price book from the hardware profiles. A device with an unknown profile but a known model takes
 * the model's price; anything else takes `fallback`, so that no device is ever free by accident.
 */
export function createPriceBook(profiles: readonly ProfilePrice[], fallback: bigint): PriceBook {
  const byProfile = new Map(profiles.map((p) => [p.profile, p.defaultPricePerGpuHour]));
  const byModel = new Map<string, bigint>();
  const spelling = new Map<string, string>();
  for (const p of profiles) {
    const key = p.gpuModel.toLowerCase();
    if (!spelling.has(key)) spelling.set(key, p.gpuModel);
    const seen = byModel.get(key);
    // Several profiles may share a model (simulated and native); the model's default is the lowest.
    if (seen === undefined || p.defaultPricePerGpuHour < seen) byModel.set(key, p.defaultPricePerGpuHour);
  }
  // A customer may also name a model by its profile id (`sim-a100`, `nvidia-h100-sxm`).
  for (const p of profiles)
    if (!spelling.has(p.profile.toLowerCase())) spelling.set(p.profile.toLowerCase(), p.gpuModel);
  const modelDefault = (gpuModel: string) => byModel.get(gpuModel.toLowerCase());
  return {
    defaultPricePerGpuHour: (profile, gpuModel) =>
      byProfile.get(profile) ?? modelDefault(gpuModel) ?? fallback,
    modelDefault,
    canonicalModel: (gpuModel) => spelling.get(gpuModel.toLowerCase()),
  };
}
