import { createHash, createPublicKey, verify } from "node:crypto";
import { releaseSigningText } from "@ignis/protocol";

/** Why an update was refused before anything was installed. */
export class UpdateRefused extends Error {
  override readonly name = "UpdateRefused";
  constructor(
    readonly code:
      | "bad_signature"
      | "bad_checksum"
      | "bad_package"
      | "not_newer"
      | "fetch_failed"
      | "no_release_key",
    message: string,
  ) {
    super(message);
  }
}

/** The lowercase hex SHA-256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Checks a downloaded package: its SHA-256 (when the offer named one) and the release key's detached signature
 * over the version and that SHA-256. Throws UpdateRefused; returns the SHA-256 when the package may be installed.
 */
export function verifyReleasePackage(
  bytes: Uint8Array,
  release: { version: string; signature: string; sha256?: string | undefined },
  releaseKey: string,
): string {
  const sha256 = sha256Hex(bytes);
  if (release.sha256 !== undefined && release.sha256 !== sha256) {
    throw new UpdateRefused(
      "bad_checksum",
      `the package's SHA-256 is ${sha256}, the offer said ${release.sha256}`,
    );
  }
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: releaseKey }, format: "jwk" });
  let valid = false;
  try {
    valid = verify(
      null,
      Buffer.from(releaseSigningText(release.version, sha256), "utf8"),
      key,
      Buffer.from(release.signature.trim(), "base64url"),
    );
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new UpdateRefused(
      "bad_signature",
      `the signature of release ${release.version} does not verify against the trusted release key ${releaseKey}`,
    );
  }
  return sha256;
}
