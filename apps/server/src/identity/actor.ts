import type { ApiKeyScope, Role } from "@ignis/protocol";

/** An authenticated user acting through an OIDC token or one of their API keys. */
export interface UserActor {
  kind: "user";
  userId: string;
  roles: readonly Role[];
  credential:
    | { type: "api_key"; id: string; scopes: readonly ApiKeyScope[]; expiresAt: Date | null }
    | { type: "token"; id: string };
  writesFrozen: boolean;
}

/** A device acting over its own authenticated session (never over HTTP user routes). */
export interface DeviceActor {
  kind: "device";
  deviceId: string;
  keyId: string;
}

/** Nobody authenticated. */
export interface AnonymousActor {
  kind: "anonymous";
}

/** Whoever makes a request. */
export type Actor = UserActor | DeviceActor | AnonymousActor;

/** The one anonymous actor. */
export const ANONYMOUS: AnonymousActor = Object.freeze({ kind: "anonymous" });

/** The id written to the audit log's actor column. */
export function actorId(actor: Actor): string | null {
  return actor.kind === "user" ? actor.userId : actor.kind === "device" ? actor.deviceId : null;
}

/** The credential id written to the audit log. */
export function credentialId(actor: Actor): string | null {
  return actor.kind === "user" ? actor.credential.id : actor.kind === "device" ? actor.keyId : null;
}
