import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from "@noble/hashes/utils.js";

/** Lower-case hex of `bytes`, the wire form of seeds, roots and proof nodes. */
export function toHex(bytes: Uint8Array): string {
  return nobleBytesToHex(bytes);
}

/** Bytes of a hex string; throws RangeError on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  try {
    return nobleHexToBytes(hex);
  } catch (cause) {
    throw new RangeError("invalid hex string", { cause });
  }
}
