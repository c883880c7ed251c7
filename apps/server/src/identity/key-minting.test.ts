import type { ApiKeyScope } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import type { UserActor } from "./actor.js";
import { boundMintedKey } from "./key-minting.js";

const NOW = new Date("2026-12-06T00:00:00Z");
const inDays = (d: number) => new Date(NOW.getTime() + d * 86_400_000);

function keyActor(scopes: ApiKeyScope[], expiresAt: Date | null = null): UserActor {
  return {
    kind: "user",
    userId: "usr_a",
    roles: ["supplier"],
    credential: { type: "api_key", id: "key_a", scopes, expiresAt },
    writesFrozen: false,
  };
}

const session: UserActor = {
  kind: "user",
  userId: "usr_a",
  roles: ["supplier"],
  credential: { type: "token", id: "tok:a" },
  writesFrozen: false,
};

describe("bounding a new key by the credential that mints it", () => {
  it("lets the user's own session mint any scopes and any expiry", () => {
    expect(boundMintedKey(session, { scopes: ["admin"] }, NOW)).toEqual({
      scopes: ["admin"],
      expiresAt: null,
    });
  });

  it("refuses a scope the minting key does not hold", () => {
    expect(() =>
      boundMintedKey(keyActor(["rewards:read", "keys:write"]), { scopes: ["admin"] }, NOW),
    ).toThrow(expect.objectContaining({ code: "insufficient_scope" }));
  });

  it("gives a key minted without scopes the minter's scopes, never every scope", () => {
    const grant = boundMintedKey(keyActor(["rewards:read", "keys:write"]), {}, NOW);
    expect(grant.scopes).toEqual(["rewards:read", "keys:write"]);
  });

  it("lets an unscoped or admin key grant any scope", () => {
    expect(boundMintedKey(keyActor([]), { scopes: ["admin"] }, NOW).scopes).toEqual(["admin"]);
    expect(boundMintedKey(keyActor(["admin"]), { scopes: ["keys:write"] }, NOW).scopes).toEqual([
      "keys:write",
    ]);
  });

  it("caps the expiry at the minter's, and refuses a longer one", () => {
    const minter = keyActor(["keys:write"], inDays(7));
    expect(boundMintedKey(minter, {}, NOW).expiresAt).toEqual(inDays(7));
    expect(boundMintedKey(minter, { expiresInDays: 3 }, NOW).expiresAt).toEqual(inDays(3));
    expect(() => boundMintedKey(minter, { expiresInDays: 30 }, NOW)).toThrow(
      expect.objectContaining({ code: "insufficient_scope" }),
    );
  });
});
