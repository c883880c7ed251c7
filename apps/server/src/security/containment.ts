import type { Containment } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { quarantineDevice, releaseQuarantine } from "../devices/quarantine.js";
import { setApiKeySuspended } from "../identity/api-keys.js";
import { setUserSuspended, setWritesFrozen } from "../identity/users.js";
import type { RateLimits } from "./rate-limits.js";
import type { Finding } from "./signals.js";

/** Closes a device's live session; the gateway provides it (absent when no gateway runs). */
export type DeviceDisconnector = (deviceId: string, reason: string) => Promise<void> | void;

/** What containment acts on. */
export interface ContainmentDeps {
  db: Db;
  rateLimits: RateLimits;
  disconnectDevice?: DeviceDisconnector | undefined;
}

/** How long an anonymous address stays blocked unless an admin releases it earlier. */
export const DEFAULT_BLOCK_SECONDS = 900;

/**
 * The containment a finding calls for: a device is quarantined; a user is suspended whole, every key and
 * session of theirs, so a thief cannot switch to another key or mint one; an anonymous address is blocked for a
 * while. (`suspend_api_key` and `freeze_user_writes` are kept for alerts raised before containment by
 * principal; they are still lifted on release.)
 */
export function containmentFor(finding: Finding, blockSeconds = DEFAULT_BLOCK_SECONDS): Containment {
  const s = finding.subject;
  if (!finding.contain) return { kind: "none" };
  if (s.actorType === "device" && s.actorId)
    return { kind: "quarantine_device", deviceId: s.actorId, previousStatus: "unknown" };
  if (s.actorType === "user" && s.actorId) return { kind: "suspend_user", userId: s.actorId };
  if (s.actorType === "anonymous" && s.ip) return { kind: "block_ip", ip: s.ip, seconds: blockSeconds };
  return { kind: "none" };
}

/** The thing a containment holds, so two alerts holding the same thing can be told apart from others. */
export function containmentTarget(c: Containment): string | null {
  switch (c.kind) {
    case "suspend_api_key":
      return `key:${c.keyId}`;
    case "freeze_user_writes":
    case "suspend_user":
      return `user:${c.userId}`;
    case "quarantine_device":
      return `dev:${c.deviceId}`;
    case "block_ip":
      return `ip:${c.ip}`;
    default:
      return null;
  }
}

/** Applies a containment; returns it as applied (a quarantine remembers the device's previous status). */
export async function applyContainment(deps: ContainmentDeps, c: Containment, alertId: string) {
  switch (c.kind) {
    case "suspend_api_key":
      await setApiKeySuspended(deps.db, c.keyId, `security alert ${alertId}`);
      return c;
    case "freeze_user_writes":
      await setWritesFrozen(deps.db, c.userId, true);
      return c;
    case "suspend_user":
      await setUserSuspended(deps.db, c.userId, `security alert ${alertId}`);
      return c;
    case "block_ip":
      await deps.rateLimits.block(`ip:${c.ip}`, c.seconds);
      return c;
    case "quarantine_device": {
      const status = await quarantineDevice(deps.db, c.deviceId);
      if (!status) return { kind: "none" } as const;
      const previousStatus = status === "quarantined" ? c.previousStatus : status;
      await deps.disconnectDevice?.(c.deviceId, "quarantined pending a security review");
      return { ...c, previousStatus };
    }
    default:
      return c;
  }
}

/** Lifts a containment. A released device comes back offline (it reconnects on its own), never as online. */
export async function liftContainment(deps: ContainmentDeps, c: Containment): Promise<void> {
  switch (c.kind) {
    case "suspend_api_key":
      await setApiKeySuspended(deps.db, c.keyId, null);
      return;
    case "freeze_user_writes":
      await setWritesFrozen(deps.db, c.userId, false);
      return;
    case "suspend_user":
      await setUserSuspended(deps.db, c.userId, null);
      return;
    case "block_ip":
      await deps.rateLimits.unblock(`ip:${c.ip}`);
      return;
    case "quarantine_device": {
      await releaseQuarantine(deps.db, c.deviceId, c.previousStatus === "pending" ? "pending" : "offline");
      return;
    }
    default:
      return;
  }
}
