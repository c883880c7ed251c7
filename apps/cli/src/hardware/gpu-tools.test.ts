import { describe, expect, it } from "vitest";
import { parseNvidiaSmi, parseRocmSmi, parseSystemProfiler, probeGpus } from "./gpu-tools.js";
import { parseNvidiaLoad } from "./load-sampler.js";
import { profileForGpu } from "./profile-match.js";
import { regionFromTimeZone } from "./region.js";

describe("vendor tool output", () => {
  it("reads model, count, memory and driver from nvidia-smi", () => {
    const out = "NVIDIA H100 80GB HBM3, 81559, 550.54.15\nNVIDIA H100 80GB HBM3, 81559, 550.54.15\n";
    expect(parseNvidiaSmi(out)).toEqual({
      vendor: "nvidia",
      model: "NVIDIA H100 80GB HBM3",
      count: 2,
      vramGb: 80,
      driver: "550.54.15",
    });
    expect(parseNvidiaSmi("")).toBeUndefined();
  });

  it("reads AMD cards from rocm-smi's JSON", () => {
    const out = JSON.stringify({
      card0: { "Card Series": "AMD Instinct MI300X", "VRAM Total Memory (B)": String(192 * 1024 ** 3) },
      card1: { "Card Series": "AMD Instinct MI300X", "VRAM Total Memory (B)": String(192 * 1024 ** 3) },
      system: { "Driver version": "6.7.0" },
    });
    expect(parseRocmSmi(out)).toEqual({
      vendor: "amd",
      model: "AMD Instinct MI300X",
      count: 2,
      vramGb: 192,
      driver: "6.7.0",
    });
  });

  it("reads Apple silicon from system_profiler, with unified memory as VRAM", () => {
    const out = JSON.stringify({ SPDisplaysDataType: [{ sppci_model: "Apple M3 Max", sppci_cores: "40" }] });
    expect(parseSystemProfiler(out, 128)).toMatchObject({
      vendor: "apple",
      model: "Apple M3 Max (40-core GPU)",
      vramGb: 128,
    });
  });

  it("asks nvidia-smi first and rocm-smi when there is no NVIDIA GPU", async () => {
    const asked: string[] = [];
    const rocm = JSON.stringify({
      card0: { "Card Series": "AMD Instinct MI300X", "VRAM Total Memory (B)": "0" },
    });
    const run = async (command: string) => {
      asked.push(command);
      return command === "rocm-smi" ? rocm : undefined;
    };
    expect((await probeGpus(run, "linux", 64))?.vendor).toBe("amd");
    expect(asked).toEqual(["nvidia-smi", "rocm-smi"]);
    expect(await probeGpus(async () => undefined, "linux", 64)).toBeUndefined();
  });

  it("reads GPU load from nvidia-smi", () => {
    expect(parseNvidiaLoad("97, 61234, 71\n")).toEqual([
      { utilPercent: 97, memUsedGb: 59.8, temperatureC: 71 },
    ]);
  });
});

describe("matching detected GPUs to the profile table", () => {
  it("finds the profile whose part number the detected name carries", () => {
    expect(profileForGpu("nvidia", "NVIDIA H100 80GB HBM3")?.id).toBe("nvidia-h100-sxm");
    expect(profileForGpu("nvidia", "NVIDIA A100-SXM4-80GB")?.id).toBe("nvidia-a100-80gb");
    expect(profileForGpu("nvidia", "NVIDIA GeForce RTX 4090")?.id).toBe("nvidia-rtx-4090");
    expect(profileForGpu("amd", "AMD Instinct MI300X")?.id).toBe("amd-mi300x");
    expect(profileForGpu("apple", "Apple M3 Max (40-core GPU)")?.id).toBe("apple-m3-max");
  });

  it("matches nothing for a part the table does not know, nor across vendors", () => {
    expect(profileForGpu("nvidia", "NVIDIA GeForce GTX 1080")).toBeUndefined();
    expect(profileForGpu("amd", "NVIDIA H100 80GB HBM3")).toBeUndefined();
  });
});

describe("coarse region", () => {
  it("maps time zones to continents only", () => {
    expect(regionFromTimeZone("Europe/Berlin")).toBe("europe");
    expect(regionFromTimeZone("America/New_York")).toBe("north-america");
    expect(regionFromTimeZone("America/Sao_Paulo")).toBe("south-america");
    expect(regionFromTimeZone("Asia/Tokyo")).toBe("asia-pacific");
    expect(regionFromTimeZone("Asia/Dubai")).toBe("middle-east");
    expect(regionFromTimeZone("Australia/Sydney")).toBe("oceania");
    expect(regionFromTimeZone("Africa/Lagos")).toBe("africa");
    expect(regionFromTimeZone("UTC")).toBe("unknown");
  });
});
