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

const U64 = 1n << 64n;

function writeUint256(out: Uint8Array, offset: number, value: bigint): void {
  if (value < U64) {
    // The common case (epochs, amounts, lengths): only the last eight bytes are non-zero.
    new DataView(out.buffer, out.byteOffset).setBigUint64(offset + WORD - 8, value);
    return;
  }
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

// One scratch buffer for the common leaf (ASCII id of at most 32 bytes, values below 2^64): no allocation per leaf.
const scratch = Buffer.alloc(5 * WORD);
scratch.writeUInt8(3 * WORD, 2 * WORD - 1); // the string's offset never changes

/** StandardMerkleTree's leaf hash: keccak256(keccak256(abi.encode(leaf))), written into `out` at `offset`. */
export function hashRewardLeaf(
  h: Keccak,
  leaf: { epoch: bigint; deviceId: string; amount: bigint },
  out: Uint8Array,
  offset: number,
): void {
  let encoded: Uint8Array;
  const { epoch, deviceId, amount } = leaf;
  if (
    epoch >= 0n &&
    epoch < U64 &&
    amount >= 0n &&
    amount < U64 &&
    deviceId.length <= WORD &&
    isAscii(deviceId)
  ) {
    scratch.fill(0, 0, WORD - 8);
    scratch.writeBigUInt64BE(epoch, WORD - 8);
    scratch.fill(0, 2 * WORD, 3 * WORD - 8);
    scratch.writeBigUInt64BE(amount, 3 * WORD - 8);
    scratch.fill(0, 3 * WORD);
    scratch.writeUInt8(deviceId.length, 4 * WORD - 1);
    scratch.write(deviceId, 4 * WORD, "latin1");
    encoded = deviceId.length === 0 ? scratch.subarray(0, 4 * WORD) : scratch;
  } else {
    encoded = encodeRewardLeaf(epoch, deviceId, amount);
  }
  const inner = h.init().update(encoded).digest("binary");
  out.set(h.init().update(inner).digest("binary"), offset);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** StandardMerkleTree's node hash: keccak256 of the two children in ascending byte order. */
export function hashPair(h: Keccak, a: Uint8Array, b: Uint8Array): Uint8Array {
  const ordered = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
  return h.init().update(ordered[0]!).update(ordered[1]!).digest("binary");
}
