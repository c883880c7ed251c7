import { type HardwareProfile, hardwareProfiles } from "@ignis/protocol";

const tokens = (s: string) =>
  s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
/** A token that names a part (H100, 4090, MI300X, M3), as opposed to a brand or a memory size. */
const isPartToken = (t: string) => /\d/.test(t) && !/^\d+gb$/.test(t);

/**
 * The profile of a detected GPU: the real profile of the same vendor sharing the most name tokens, at least one
 * of them a part number, so "NVIDIA A100-SXM4-80GB" is `nvidia-a100-80gb` and "NVIDIA H100 80GB HBM3" is
 * `nvidia-h100-sxm`. Undefined when no profile names this part.
 */
export function profileForGpu(vendor: string, model: string): HardwareProfile | undefined {
  const have = new Set(tokens(model));
  let best: { profile: HardwareProfile; score: number } | undefined;
  for (const profile of hardwareProfiles) {
    if (profile.simulated || profile.vendor !== vendor) continue;
    const shared = tokens(profile.model).filter((t) => have.has(t));
    if (!shared.some(isPartToken)) continue;
    if (!best || shared.length > best.score) best = { profile, score: shared.length };
  }
  return best?.profile;
}
