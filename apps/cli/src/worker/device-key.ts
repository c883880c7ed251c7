import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/** A device's Ed25519 key pair: the private key stays in the state folder, the public key is its identity. */
export interface DeviceKey {
  privateKey: KeyObject;
  /** Raw 32-byte public key, base64url (what the server stores). */
  publicKey: string;
}

/** Makes a fresh key pair on this machine with node:crypto. */
export function generateDeviceKey(): DeviceKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** The raw public key of an Ed25519 key object, base64url. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" }) as { x?: string };
  if (!jwk.x) throw new Error("not an Ed25519 key");
  return jwk.x;
}

/** Reads a key pair from its PKCS#8 PEM. */
export function keyFromPem(pem: string): DeviceKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error("the device key file does not hold an Ed25519 key");
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/** The PKCS#8 PEM of a private key, for the 0600 key file. */
export function keyToPem(key: DeviceKey): string {
  return key.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

/** Signs UTF-8 text; the signature is base64url. */
export function signText(key: DeviceKey, text: string): string {
  return sign(null, Buffer.from(text, "utf8"), key.privateKey).toString("base64url");
}
