import { sha256 } from "@noble/hashes/sha2.js";

/** SHA-256 over the concatenation of `parts`; a seam so Node callers can use node:crypto for speed. */
export type Sha256 = (...parts: Uint8Array[]) => Uint8Array;

/** Portable SHA-256 (@noble/hashes), the default everywhere in the protocol package. */
export const nobleSha256: Sha256 = (...parts) => {
  const h = sha256.create();
  for (const part of parts) h.update(part);
  return h.digest();
};
