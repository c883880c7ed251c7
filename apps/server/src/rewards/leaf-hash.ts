import { createKeccak, type IHasher } from "hash-wasm";

/**
 * Keccak-256 in WebAssembly. Loaded once per process; every function that hashes takes the loaded hasher, so
 * the hot loops stay synchronous.
 */
export type Keccak = IHasher;

let loading: Promise<Keccak> | undefined;

/** The process's Keccak-256 hasher (created on first use). */
export function keccak(): Promise<Keccak> {
  loading ??= createKeccak(256);
  return loading;
}

const WORD = 32;

function writeUint256(out: Uint8Array, offset: number, value: bigint): void {
  let v = value;
  for (let i = offset + WORD - 1; i >= offset && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * The ABI encoding of `(uint256 epoch, string deviceId, uint256 amount)`, byte for byte what
 * `@metamask/abi-utils` (and so OpenZeppelin's StandardMerkleTree) produces for REWARD_LEAF_ENCODING.
 */
export function encodeRewardLeaf(epoch: bigint, deviceId: string, amount: bigint): Uint8Array {
  if (epoch < 0n || amount < 0n || amount >= 1n << 256n) throw new RangeError("uint256 out of range");
  const text = Buffer.from(deviceId, "utf8");
  const padded = Math.ceil(text.length / WORD) * WORD;
  const out = new Uint8Array(4 * WORD + padded);
  writeUint256(out, 0, epoch);
  writeUint256(out, WORD, BigInt(3 * WORD)); // offset of the string's tail: after the three head words
  writeUint256(out, 2 * WORD, amount);
  writeUint256(out, 3 * WORD, BigInt(text.length));
  out.set(text, 4 * WORD);
  return out;
}

/** StandardMerkleTree's leaf hash: keccak256(keccak256(abi.encode(leaf))), written into `out` at `offset`. */
export function hashRewardLeaf(
  h: Keccak,
  leaf: { epoch: bigint; deviceId: string; amount: bigint },
  out: Uint8Array,
  offset: number,
): void {
  const inner = h
    .init()
    .update(encodeRewardLeaf(leaf.epoch, leaf.deviceId, leaf.amount))
    .digest("binary");
  out.set(h.init().update(inner).digest("binary"), offset);
}

/** StandardMerkleTree's node hash: keccak256 of the two children in ascending byte order. */
export function hashPair(h: Keccak, a: Uint8Array, b: Uint8Array): Uint8Array {
  const ordered = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
  return h.init().update(ordered[0]!).update(ordered[1]!).digest("binary");
}
