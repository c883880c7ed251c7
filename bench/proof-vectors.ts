/**
 * Regenerates packages/protocol/src/proof/test-vectors.json, the fixture every prover (TypeScript, CUDA,
 * future Metal/HIP) must reproduce bit for bit. Run: npx tsx bench/proof-vectors.ts
 * The fixture is computed with the slow reference product, independent of any prover's fast path.
 */
import { writeFileSync } from "node:fs";
import {
  B_MATRIX_INDEX,
  entryAt,
  leafHash,
  merkleLevels,
  merkleProof,
  merkleRoot,
  referenceProductRow,
  rowKey,
  seedState,
  toHex,
} from "@ignis/protocol/proof";
import { sha256 } from "@noble/hashes/sha2.js";

interface CaseSpec {
  name: string;
  seed: Uint8Array;
  bSeed: Uint8Array;
  n: number;
  inner: number;
  batch: number;
}

const counting = (start: number) => Uint8Array.from({ length: 32 }, (_, i) => (start + i) & 0xff);
const derived = (label: string) =>
  sha256(new TextEncoder().encode(`ignis proof-of-gpu v1 test vector: ${label}`));

const specs: CaseSpec[] = [
  { name: "n16-inner16-batch1", seed: counting(0), bSeed: counting(32), n: 16, inner: 16, batch: 1 },
  { name: "n32-inner48-batch3", seed: derived("seed 2"), bSeed: derived("b 2"), n: 32, inner: 48, batch: 3 },
  { name: "n48-inner64-batch5", seed: derived("seed 3"), bSeed: derived("b 3"), n: 48, inner: 64, batch: 5 },
];

function buildCase(spec: CaseSpec) {
  const seed = seedState(spec.seed);
  const bSeed = seedState(spec.bSeed);
  const rows: Int32Array[] = [];
  for (let m = 0; m < spec.batch; m++) {
    for (let i = 0; i < spec.n; i++) rows.push(referenceProductRow(seed, bSeed, spec, m, i));
  }
  const levels = merkleLevels(rows.map((r) => leafHash(r)));
  const last = rows.length - 1;
  const openings = [0, 5, Math.floor(last / 2), last].map((index) => ({
    matrix: Math.floor(index / spec.n),
    row: index % spec.n,
    values: Array.from(rows[index]),
    proof: merkleProof(levels, index).map(toHex),
  }));
  const sample = (state: ReturnType<typeof seedState>, matrix: number, row: number, col: number) => ({
    matrix,
    row,
    col,
    value: entryAt(rowKey(state, matrix, row), col),
  });
  return {
    name: spec.name,
    seed: toHex(spec.seed),
    bSeed: toHex(spec.bSeed),
    n: spec.n,
    inner: spec.inner,
    batch: spec.batch,
    aEntries: [
      sample(seed, 0, 0, 0),
      sample(seed, 0, 0, 1),
      sample(seed, spec.batch - 1, spec.n - 1, spec.inner - 1),
    ],
    bEntries: [
      sample(bSeed, B_MATRIX_INDEX, 0, 0),
      sample(bSeed, B_MATRIX_INDEX, spec.inner - 1, spec.n - 1),
    ],
    aRow0: Array.from({ length: spec.inner }, (_, col) => entryAt(rowKey(seed, 0, 0), col)),
    leafCount: rows.length,
    root: toHex(merkleRoot(levels)),
    rows: openings,
  };
}

const fixture = {
  version: "ignis-pogpu-v1",
  description:
    "Proof-of-GPU test vectors; regenerate with `npx tsx bench/proof-vectors.ts`; spec in docs/proof-of-gpu.md",
  cases: specs.map(buildCase),
};
const out = new URL("../packages/protocol/src/proof/test-vectors.json", import.meta.url);
writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
console.log(`wrote ${out.pathname}: ${fixture.cases.map((c) => `${c.name} root ${c.root}`).join("; ")}`);
