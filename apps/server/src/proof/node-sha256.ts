import { createHash } from "node:crypto";
import type { Sha256 } from "@ignis/protocol/proof";

/** SHA-256 through node:crypto: the verifier hashes every opened row, ~17× faster than the portable hash. */
export const nodeSha256: Sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return h.digest();
};
