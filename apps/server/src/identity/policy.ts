import { type ApiKeyScope, IgnisError, type Role } from "@ignis/protocol";
import type { Actor, UserActor } from "./actor.js";

/**
 * Actions taken without a signed-in user: their routes check a credential of their own (a password, an invite
 * token, an enrollment code, a device key, the embedded IdP), so `authorize` never decides them.
 */
export type PublicAction =
  | "device.enroll"
  | "link.upload-test"
  | "oidc.request"
  | "user.set-password"
  | "user.sign-in"
  | "worker.socket.open";

/** Every action the policy decides on for a signed-in user; a route's audit action is one of these. */
export type UserAction =
  | "me.read"
  | "api-key.create"
  | "api-key.read"
  | "api-key.revoke"
  | "user.create"
  | "user.read"
  | "user.update"
  | "admin.api-key.create"
  | "admin.oidc-client.create"
  | "admin.oidc-client.rotate"
  | "admin.oidc-client.delete"
  | "admin.audit.search"
  | "admin.audit.verify"
  | "admin.alerts.read"
  | "admin.alerts.acknowledge"
  | "admin.alerts.release"
  | "admin.maintenance-window.create"
  | "admin.maintenance.read"
  | "admin.rewards.season.create"
  | "admin.rewards.season.end"
  | "admin.earnings.read"
  | "admin.key-migration.create"
  | "admin.worker-release.create"
  | "admin.worker-rollout.write"
  | "admin.credits.grant"
  | "admin.devices.read"
  | "admin.proof.read"
  | "admin.proof.challenge"
  | "admin.proof.release"
  | "enrollment-code.create"
  | "device.list"
  | "device.read"
  | "device.update"
  | "device.price.update"
  | "device.label-visibility"
  | "device.revoke"
  | "device.rotate-key"
  | "device.resolve-conflict"
  | "earnings.read"
  | "cluster.create"
  | "cluster.list"
  | "cluster.read"
  | "cluster.cancel"
  | "cluster.access"
  | "balance.read"
  | "stake.create"
  | "stake.list"
  | "stake.unbond"
  | "slash.appeal";

/** Every action name: what `RouteMeta.action` and so the route's audit records carry. */
export type Action = UserAction | PublicAction;

interface Rule {
  /** Roles any one of which allows the action; empty means any signed-in user. */
  roles: Role[];
  /** Owner-scoped actions also pass for the object's owner; admins pass when `adminOverride`. */
  owned?: boolean;
  adminOverride?: boolean;
  /** The API-key scope the action needs when the caller uses a scoped key. */
  scope: ApiKeyScope | null;
  write: boolean;
}

const RULES: Record<UserAction, Rule> = {
  "me.read": { roles: [], scope: null, write: false },
  "api-key.create": { roles: [], scope: "keys:write", write: true },
  "api-key.read": { roles: [], scope: null, write: false },
  "api-key.revoke": { roles: [], scope: "keys:write", write: true },
  "user.create": { roles: ["admin"], scope: "admin", write: true },
  "user.read": { roles: ["admin"], scope: "admin", write: false },
  "user.update": { roles: ["admin"], scope: "admin", write: true },
  "admin.api-key.create": { roles: ["admin"], scope: "admin", write: true },
  "admin.oidc-client.create": { roles: ["admin"], scope: "admin", write: true },
  "admin.oidc-client.rotate": { roles: ["admin"], scope: "admin", write: true },
  "admin.oidc-client.delete": { roles: ["admin"], scope: "admin", write: true },
  "admin.audit.search": { roles: ["admin"], scope: "admin", write: false },
  "admin.audit.verify": { roles: ["admin"], scope: "admin", write: false },
  "admin.alerts.read": { roles: ["admin"], scope: "admin", write: false },
  "admin.alerts.acknowledge": { roles: ["admin"], scope: "admin", write: true },
  "admin.alerts.release": { roles: ["admin"], scope: "admin", write: true },
  "admin.maintenance-window.create": { roles: ["admin"], scope: "admin", write: true },
  "admin.maintenance.read": { roles: ["admin"], scope: "admin", write: false },
  "admin.rewards.season.create": { roles: ["admin"], scope: "admin", write: true },
  "admin.rewards.season.end": { roles: ["admin"], scope: "admin", write: true },
  "admin.earnings.read": { roles: ["admin"], scope: "admin", write: false },
  "admin.key-migration.create": { roles: ["admin"], scope: "admin", write: true },
  "admin.worker-release.create": { roles: ["admin"], scope: "admin", write: true },
  "admin.worker-rollout.write": { roles: ["admin"], scope: "admin", write: true },
  "admin.credits.grant": { roles: ["admin"], scope: "admin", write: true },
  "admin.devices.read": { roles: ["admin"], scope: "admin", write: false },
  "admin.proof.read": { roles: ["admin"], scope: "admin", write: false },
  "admin.proof.challenge": { roles: ["admin"], scope: "admin", write: true },
  "admin.proof.release": { roles: ["admin"], scope: "admin", write: true },
  "enrollment-code.create": { roles: ["supplier"], scope: "devices:write", write: true },
  "device.list": { roles: ["supplier", "admin"], scope: "devices:read", write: false },
  "device.read": { roles: [], owned: true, adminOverride: true, scope: "devices:read", write: false },
  "device.update": { roles: [], owned: true, scope: "devices:write", write: true },
  "device.price.update": { roles: [], owned: true, scope: "devices:write", write: true },
  "device.label-visibility": { roles: [], owned: true, scope: "devices:write", write: true },
  "device.revoke": { roles: [], owned: true, adminOverride: true, scope: "devices:write", write: true },
  "device.rotate-key": { roles: [], owned: true, adminOverride: true, scope: "devices:write", write: true },
  "device.resolve-conflict": { roles: [], owned: true, scope: "devices:write", write: true },
  "earnings.read": { roles: ["supplier", "admin"], scope: "rewards:read", write: false },
  "cluster.create": { roles: ["customer"], scope: "clusters:write", write: true },
  "cluster.list": { roles: ["customer", "admin"], scope: "clusters:read", write: false },
  "cluster.read": { roles: [], owned: true, adminOverride: true, scope: "clusters:read", write: false },
  "cluster.cancel": { roles: [], owned: true, adminOverride: true, scope: "clusters:write", write: true },
  // Getting into a job's container: its customer only. No admin override: an admin who could open a shell in a
  // customer's job would hold a key to every customer's code and data.
  "cluster.access": { roles: [], owned: true, scope: "clusters:write", write: true },
  "balance.read": { roles: ["customer", "admin"], scope: "clusters:read", write: false },
  // Stakes move a supplier's earnings: only the device's owner, never an admin on their behalf.
  "stake.create": { roles: [], owned: true, scope: "devices:write", write: true },
  "stake.list": { roles: ["supplier", "admin"], scope: "devices:read", write: false },
  "stake.unbond": { roles: [], owned: true, scope: "devices:write", write: true },
  "slash.appeal": { roles: [], owned: true, scope: "devices:write", write: true },
};

/** The object an owner-scoped action targets: its owner, or undefined when it does not exist. */
export interface OwnedObject {
  ownerId: string;
}

/**
 * Answers "may this actor do this action on this object", throwing when not. A missing object and another
 * owner's object both give `not_found`, so ids cannot be probed.
 */
export function authorize(
  actor: Actor,
  action: UserAction,
  object?: OwnedObject | null,
): asserts actor is UserActor {
  const rule = RULES[action];
  if (actor.kind !== "user") throw new IgnisError("unauthenticated", "sign in or present an API key");
  const isAdmin = actor.roles.includes("admin");
  if (rule.owned) {
    if (object === undefined) throw new Error(`policy: ${action} needs the object to decide`);
    const allowed =
      object !== null && (object.ownerId === actor.userId || (rule.adminOverride === true && isAdmin));
    if (!allowed) throw new IgnisError("not_found", "no such object");
  } else if (rule.roles.length > 0 && !rule.roles.some((r) => actor.roles.includes(r))) {
    throw new IgnisError("forbidden", `this action needs the role ${rule.roles.join(" or ")}`);
  }
  if (actor.credential.type === "api_key" && rule.scope) {
    const scopes = actor.credential.scopes;
    if (scopes.length > 0 && !scopes.includes(rule.scope) && !scopes.includes("admin")) {
      throw new IgnisError("insufficient_scope", `this API key lacks the scope ${rule.scope}`);
    }
  }
  if (rule.write && actor.writesFrozen) {
    throw new IgnisError("writes_frozen", "writes by this account are frozen pending a security review");
  }
}

/** True when the action changes state (used by the audit and rate-limit layers). */
export function isWriteAction(action: UserAction): boolean {
  return RULES[action].write;
}
