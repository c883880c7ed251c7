import { describe, expect, it } from "vitest";
import { createKeyMintingRule } from "./key-minting.js";
import { signal } from "./signal-fixtures.js";

const mint = (at: number, credentialId = "key_a") =>
  signal({ at, method: "POST", route: "/v1/api-keys", status: 201, credentialId, objectType: "api_key" });

describe("key minting", () => {
  it("alerts on the sixth key one user mints within an hour, whichever of their keys mints it", () => {
    const rule = createKeyMintingRule();
    const findings = Array.from({ length: 7 }, (_, i) => rule.observe(mint(i * 60_000, `key_${i}`))).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: "key_minting", contain: false, evidence: { keysMinted: 6 } });
  });

  it("ignores five keys an hour spread over a day, and refused mints", () => {
    const rule = createKeyMintingRule();
    const spread = Array.from({ length: 20 }, (_, i) => rule.observe(mint(i * 15 * 60_000))).flat();
    expect(spread).toEqual([]);
    const refused = Array.from({ length: 10 }, (_, i) => rule.observe({ ...mint(i), status: 403 })).flat();
    expect(refused).toEqual([]);
  });
});
