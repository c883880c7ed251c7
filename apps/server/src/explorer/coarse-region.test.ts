import { describe, expect, it } from "vitest";
import { coarseRegion } from "./coarse-region.js";

describe("coarse regions", () => {
  it("keeps continent-level regions as they are", () => {
    for (const r of [
      "europe",
      "north-america",
      "asia-pacific",
      "middle-east",
      "africa",
      "oceania",
    ] as const) {
      expect(coarseRegion(r)).toBe(r);
    }
  });

  it("reduces cloud zones, country codes and time zones to a continent", () => {
    expect(coarseRegion("eu-west-1")).toBe("europe");
    expect(coarseRegion("us-east-2")).toBe("north-america");
    expect(coarseRegion("Europe/Berlin")).toBe("europe");
    expect(coarseRegion("ap-southeast-1")).toBe("asia-pacific");
    expect(coarseRegion("DE")).toBe("europe");
    expect(coarseRegion("sa-east-1")).toBe("south-america");
  });

  it("never passes through anything finer or unknown", () => {
    expect(coarseRegion("52.5200,13.4050")).toBe("unknown");
    expect(coarseRegion("Berlin, Kreuzberg")).toBe("unknown");
    expect(coarseRegion("")).toBe("unknown");
    expect(coarseRegion(null)).toBe("unknown");
    expect(coarseRegion("__proto__")).toBe("unknown");
  });
});
