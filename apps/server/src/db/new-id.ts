import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** Lower-case base32 of random bytes (RFC 4648 alphabet, no padding). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** A new random identifier: prefix, underscore, 26 base32 characters (128 random bits); never sequential. */
export function newId(
  prefix:
    | "usr"
    | "key"
    | "dev"
    | "dk"
    | "chl"
    | "cls"
    | "job"
    | "alr"
    | "win"
    | "mig"
    | "ssn"
    | "ltx"
    | "rol"
    | "stk"
    | "slh",
): string {
  return `${prefix}_${base32(randomBytes(16))}`;
}
