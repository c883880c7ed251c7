import type { Finding } from "../signals.js";

/** A sign that a device's key is held by someone else, as the gateway reports it. */
export type DeviceIncidentReport =
  | { kind: "duplicate_session"; deviceId: string; keyId: string; peers: readonly string[] }
  | { kind: "unsolicited_rotation"; deviceId: string; keyId: string; ip: string };

/**
 * Turns a device incident into a finding: `device.duplicate_session` (two machines answered with one key, both
 * peer addresses in the evidence) or `device.unsolicited_rotation` (a session tried to rotate its key unasked).
 * Nothing is contained here: the gateway already refused the sessions, and the device waits in `conflict` for
 * its owner; quarantine would hide that state.
 */
export function assessDeviceIncident(incident: DeviceIncidentReport): Finding {
  const duplicate = incident.kind === "duplicate_session";
  return {
    rule: duplicate ? "device.duplicate_session" : "device.unsolicited_rotation",
    severity: "high",
    subject: {
      key: `dev:${incident.deviceId}`,
      actorType: "device",
      actorId: incident.deviceId,
      credentialId: incident.keyId,
      credentialType: "device",
      ip: duplicate ? (incident.peers.at(-1) ?? null) : incident.ip,
    },
    contain: false,
    objectType: "device",
    objectId: incident.deviceId,
    evidence: duplicate ? { peers: [...incident.peers] } : { ip: incident.ip },
  };
}
