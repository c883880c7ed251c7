import { describe, expect, it } from "vitest";
import { CoalescedReads } from "./coalesced-reads.js";

describe("coalesced reads", () => {
  const counting = () => {
    const batches: string[][] = [];
    const reads = new CoalescedReads(
      async (keys: string[]) => {
        batches.push(keys);
        if (keys.includes("boom")) throw new Error("the database is gone");
        return new Map(keys.filter((k) => k !== "missing").map((k) => [k, `row of ${k}`]));
      },
      (k) => k,
      3,
    );
    return { batches, reads };
  };

  it("sends the first read alone and the reads asked meanwhile together, each answered with its own row", async () => {
    const { batches, reads } = counting();
    const answers = await Promise.all(["a", "b", "c", "b", "missing", "d"].map((k) => reads.read(k)));
    expect(answers).toEqual(["row of a", "row of b", "row of c", "row of b", undefined, "row of d"]);
    // At most three keys a statement; a key asked twice is read once.
    expect(batches).toEqual([["a"], ["b", "c", "missing"], ["d"]]);
  });

  it("caches nothing: a read after its batch is answered goes to the database again", async () => {
    const { batches, reads } = counting();
    expect(await reads.read("a")).toBe("row of a");
    expect(await reads.read("a")).toBe("row of a");
    expect(batches).toEqual([["a"], ["a"]]);
  });

  it("fails the reads of a failed batch only, and keeps serving after it", async () => {
    const { batches, reads } = counting();
    const first = reads.read("a");
    const failed = [reads.read("boom"), reads.read("b")];
    await expect(first).resolves.toBe("row of a");
    for (const f of failed) await expect(f).rejects.toThrow("the database is gone");
    expect(await reads.read("c")).toBe("row of c");
    expect(batches).toEqual([["a"], ["boom", "b"], ["c"]]);
  });
});
