import type { Finding } from "../signals.js";

/** A device's claimed hardware as the worker reports it (protocol `HardwareClaim`, or any superset). */
export type ClaimedHardware = Record<string, unknown>;

/**
 * Fields whose change alters what the device is paid and hired for (dotted paths into the protocol's
 * `HardwareClaim`); a new driver, OS release or RAM size is informational and raises nothing.
 */
export const MATERIAL_HARDWARE_FIELDS = [
  "profile",
  "gpu.vendor",
  "gpu.model",
  "gpu.count",
  "gpu.vramGb",
] as const;

function at(claim: ClaimedHardware, path: string): unknown {
  let value: unknown = claim;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * A device whose claimed hardware changes without re-verification: the counterfeit-GPU pattern (verify as an
 * A100, then claim eight). Returns a finding, or null when no material field changed. With `contain: false`
 * (a claim a worker session reported: the gateway has already reset verification and scheduled a fresh proof)
 * it only alerts, since a claim alone, perhaps sent by a copy of the key, must not quarantine the device; failed
 * proofs do that.
 */
export function assessHardwareChange(
  deviceId: string,
  before: ClaimedHardware,
  after: ClaimedHardware,
  context: { ip?: string | null; keyId?: string | null; contain?: boolean } = {},
): Finding | null {
  const changed = MATERIAL_HARDWARE_FIELDS.filter((field) => !same(at(before, field), at(after, field)));
  if (changed.length === 0) return null;
  return {
    rule: "hardware_change",
    severity: context.contain === false ? "medium" : "high",
    subject: {
      key: `dev:${deviceId}`,
      actorType: "device",
      actorId: deviceId,
      credentialId: context.keyId ?? null,
      credentialType: "device",
      ip: context.ip ?? null,
    },
    contain: context.contain !== false,
    objectType: "device",
    objectId: deviceId,
    evidence: {
      changedFields: changed,
      before: Object.fromEntries(changed.map((f) => [f, at(before, f) ?? null])),
      after: Object.fromEntries(changed.map((f) => [f, at(after, f) ?? null])),
    },
  };
}
