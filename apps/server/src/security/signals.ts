import type { AlertRule, AlertSeverity } from "@ignis/protocol";
import type { RateClass } from "./rate-limits.js";

/** How the caller proved who it is, as far as the monitor cares. */
export const CREDENTIAL_TYPES = ["api_key", "token", "device"] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number] | null;
/** Who made a request, as the monitor tells them apart. */
export const ACTOR_TYPES = ["user", "device", "anonymous"] as const;

/** One finished HTTP request (or worker message), as the security monitor sees it. */
export interface RequestSignal {
  /** Epoch milliseconds when the response was sent. */
  at: number;
  actorType: (typeof ACTOR_TYPES)[number];
  actorId: string | null;
  credentialId: string | null;
  credentialType: CredentialType;
  /** The actor holds the admin role: alerted on, never contained automatically (operators stay in). */
  admin: boolean;
  ip: string;
  method: string;
  /** The route pattern (`/v1/devices/:deviceId`), or `unmatched`. */
  route: string;
  rateClass: RateClass;
  write: boolean;
  objectType: string | null;
  objectId: string | null;
  status: number;
}

/** Who a finding is about; `key` identifies it for deduplication and containment. */
export interface AlertSubject {
  /** `user:<id>`, `dev:<id>`, `ip:<addr>` or `global:<class>`. */
  key: string;
  actorType: "user" | "device" | "anonymous" | "system";
  actorId: string | null;
  credentialId: string | null;
  credentialType: CredentialType;
  ip: string | null;
  admin?: boolean;
}

/** What a rule concluded: enough evidence for an alert, and whether to contain the subject. */
export interface Finding {
  rule: AlertRule;
  severity: AlertSeverity;
  subject: AlertSubject;
  /** Contain the subject automatically (suspend the key, freeze writes, quarantine, block the IP). */
  contain: boolean;
  objectType?: string | null;
  objectId?: string | null;
  evidence: Record<string, unknown>;
}

/** A rule fed with every request: returns findings at once, so an alert is raised within the same tick. */
export interface RequestRule {
  readonly name: AlertRule;
  observe(signal: RequestSignal): Finding[];
  /** Drops what the rule remembers about a subject (after an admin released its alert). */
  forget(subjectKey: string): void;
  /** Drops state older than the rule's windows; called about once a second. */
  prune(now: number): void;
}

/**
 * The principal a request speaks for: the user behind whichever of their keys or sessions made it (so
 * switching keys does not reset what the rules count), the device, or else the source IP.
 */
export function principalOf(signal: RequestSignal): AlertSubject {
  if (signal.credentialId) {
    return {
      key: signal.actorType === "device" ? `dev:${signal.actorId}` : `user:${signal.actorId}`,
      actorType: signal.actorType,
      actorId: signal.actorId,
      credentialId: signal.credentialId,
      credentialType: signal.credentialType,
      ip: signal.ip,
      admin: signal.admin,
    };
  }
  return ipSubject(signal.ip);
}

/** The subject of an anonymous source address. */
export function ipSubject(ip: string): AlertSubject {
  return {
    key: `ip:${ip}`,
    actorType: "anonymous",
    actorId: null,
    credentialId: null,
    credentialType: null,
    ip,
  };
}

/** A map that forgets its oldest keys beyond a cap, so spoofed or rotating addresses cannot exhaust memory. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly cap: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.cap) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
