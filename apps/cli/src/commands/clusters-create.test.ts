import { describe, expect, it } from "vitest";
import { createBody } from "./clusters-create.js";

describe("ignis clusters create's request", () => {
  it("sends country filters from repeated or comma-separated flags, and none when not given", () => {
    const body = createBody({ model: "sim-a100", country: ["DE,fr", " JP "], "exclude-country": ["US"] }, [
      "python",
      "train.py",
    ]);
    expect(body).toMatchObject({ countries: ["DE", "fr", "JP"], excludeCountries: ["US"] });
    const plain = createBody({ model: "sim-a100" }, ["true"]);
    expect(plain).not.toHaveProperty("countries");
    expect(plain).not.toHaveProperty("excludeCountries");
    expect(createBody({ model: "m", country: [","] }, ["true"])).not.toHaveProperty("countries");
  });

  it("sends a least connectivity tier by number or name, and refuses one that is not a tier", () => {
    expect(createBody({ model: "m", "min-tier": "3" }, ["true"])).toMatchObject({ minTier: 3 });
    expect(createBody({ model: "m", "min-tier": "ultra" }, ["true"])).toMatchObject({ minTier: 4 });
    expect(createBody({ model: "m" }, ["true"])).not.toHaveProperty("minTier");
    expect(() => createBody({ model: "m", "min-tier": "9" }, ["true"])).toThrow(/--min-tier/);
  });
});
