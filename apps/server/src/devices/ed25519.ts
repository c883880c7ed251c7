import { createPublicKey, type KeyObject, verify } from "node:crypto";

/** Imports a raw 32-byte Ed25519 public key given as base64url; undefined when it is not one. */
export function importPublicKey(rawBase64url: string): KeyObject | undefined {
  try {
    if (Buffer.from(rawBase64url, "base64url").length !== 32) return undefined;
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: rawBase64url }, format: "jwk" });
  } catch {
    return undefined;
  }
}

/** True when `signature` (base64url) is a valid Ed25519 signature of the UTF-8 `text` by `publicKey`. */
export function verifyEd25519(publicKey: string | KeyObject, text: string, signature: string): boolean {
  const key = typeof publicKey === "string" ? importPublicKey(publicKey) : publicKey;
  if (!key) return false;
  const sig = Buffer.from(signature, "base64url");
  if (sig.length !== 64) return false;
  try {
    return verify(null, Buffer.from(text, "utf8"), key, sig);
  } catch {
    return false;
  }
}
