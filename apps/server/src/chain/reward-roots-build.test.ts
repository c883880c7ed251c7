import { readFileSync } from "node:fs";
import {
  REWARD_ROOTS_ABI,
  REWARD_ROOTS_BYTECODE,
  REWARD_ROOTS_COMPILER,
  REWARD_ROOTS_DEPLOYED_BYTECODE,
} from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import { ARTIFACT_PATH, artifactSource, compileRewardRoots } from "./compile-reward-roots.js";

describe("the RewardRoots build", () => {
  it("recompiles RewardRoots.sol to exactly the committed ABI and bytecode", { timeout: 120_000 }, () => {
    const build = compileRewardRoots();
    expect(build.compiler).toBe(REWARD_ROOTS_COMPILER);
    expect(build.abi).toEqual(REWARD_ROOTS_ABI);
    expect(build.bytecode).toBe(REWARD_ROOTS_BYTECODE);
    expect(build.deployedBytecode).toBe(REWARD_ROOTS_DEPLOYED_BYTECODE);
    // The generator's text carries the same values (Biome only reformats it).
    expect(artifactSource(build)).toContain(REWARD_ROOTS_BYTECODE);
    expect(readFileSync(ARTIFACT_PATH, "utf8")).toContain(build.deployedBytecode);
  });
});
