import type { ToolRunner } from "./tool-runner.js";

/** GPUs as a vendor tool reports them. */
export interface DetectedGpus {
  vendor: "nvidia" | "amd" | "apple";
  model: string;
  count: number;
  /** Per GPU, whole GB. */
  vramGb: number;
  driver: string | null;
}

/** Parses `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): DetectedGpus | undefined {
  const rows = csv
    .split("\n")
    .map((l) => l.split(",").map((c) => c.trim()))
    .filter((r) => r.length >= 3 && r[0]);
  if (rows.length === 0) return undefined;
  const [name, memMiB, driver] = rows[0]!;
  return {
    vendor: "nvidia",
    model: name!,
    count: rows.length,
    vramGb: Math.round(Number(memMiB) / 1024) || 0,
    driver: driver || null,
  };
}

/** Parses `rocm-smi --showproductname --showmeminfo vram --showdriverversion --json`. */
export function parseRocmSmi(json: string): DetectedGpus | undefined {
  let data: Record<string, Record<string, string>>;
  try {
    data = JSON.parse(json) as Record<string, Record<string, string>>;
  } catch {
    return undefined;
  }
  const cards = Object.entries(data).filter(([k]) => k.startsWith("card"));
  if (cards.length === 0) return undefined;
  const card = cards[0]![1];
  const model =
    card["Card Series"] ?? card["Card series"] ?? card["Card Model"] ?? card["Card model"] ?? "AMD GPU";
  const bytes = Number(card["VRAM Total Memory (B)"] ?? 0);
  const driver = (data.system as Record<string, string> | undefined)?.["Driver version"] ?? null;
  return { vendor: "amd", model, count: cards.length, vramGb: Math.round(bytes / 1024 ** 3), driver };
}

/** Parses `system_profiler SPDisplaysDataType -json` on Apple silicon (memory is unified: pass total RAM). */
export function parseSystemProfiler(json: string, unifiedMemoryGb: number): DetectedGpus | undefined {
  let data: { SPDisplaysDataType?: Array<Record<string, string>> };
  try {
    data = JSON.parse(json) as typeof data;
  } catch {
    return undefined;
  }
  const gpu = data.SPDisplaysDataType?.find((d) => (d.sppci_model ?? "").startsWith("Apple"));
  if (!gpu) return undefined;
  const cores = gpu.sppci_cores ? ` (${gpu.sppci_cores}-core GPU)` : "";
  return {
    vendor: "apple",
    model: `${gpu.sppci_model}${cores}`,
    count: 1,
    vramGb: unifiedMemoryGb,
    driver: null,
  };
}

/** Asks the vendor tools present on this machine, NVIDIA first; undefined on a machine without a known GPU. */
export async function probeGpus(
  run: ToolRunner,
  platform: NodeJS.Platform,
  totalRamGb: number,
): Promise<DetectedGpus | undefined> {
  if (platform === "darwin") {
    const out = await run("system_profiler", ["SPDisplaysDataType", "-json"]);
    return out ? parseSystemProfiler(out, totalRamGb) : undefined;
  }
  const nvidia = await run("nvidia-smi", [
    "--query-gpu=name,memory.total,driver_version",
    "--format=csv,noheader,nounits",
  ]);
  if (nvidia) {
    const parsed = parseNvidiaSmi(nvidia);
    if (parsed) return parsed;
  }
  const rocm = await run("rocm-smi", [
    "--showproductname",
    "--showmeminfo",
    "vram",
    "--showdriverversion",
    "--json",
  ]);
  return rocm ? parseRocmSmi(rocm) : undefined;
}
