/**
 * The exact bytes a device signs with its Ed25519 key. Each message starts with a distinct context line, so a
 * signature made for one purpose can never be replayed as another.
 */

/** JSON with object keys sorted at every level, so two parties serialize one value to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** What a worker signs to enroll: the code, its new public key and its hardware claim. */
export function enrollmentSigningText(code: string, publicKey: string, hardware: unknown): string {
  return `ignis-enroll-v1\n${code}\n${publicKey}\n${canonicalJson(hardware)}`;
}

/**
 * What a worker signs to open a session: the server's fresh nonce, the device id and the origin the worker
 * itself connected to. A server relaying the nonce of another server gets a signature over its own origin,
 * which the real server refuses.
 */
export function sessionSigningText(nonce: string, deviceId: string, origin: string): string {
  return `ignis-session-v1\n${nonce}\n${deviceId}\n${origin}`;
}

/** What both the old and the new key sign to rotate, bound to the session's nonce so it cannot be replayed. */
export function rotationSigningText(
  nonce: string,
  deviceId: string,
  oldPublicKey: string,
  newPublicKey: string,
): string {
  return `ignis-rotate-v1\n${nonce}\n${deviceId}\n${oldPublicKey}\n${newPublicKey}`;
}

/** The origin (scheme://host[:port]) of a URL, as both sides put it in the session signature. */
export function originOf(url: string): string {
  return new URL(url).origin;
}
