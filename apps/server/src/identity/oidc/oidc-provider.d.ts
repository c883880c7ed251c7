// oidc-provider ships no type declarations; these cover exactly the surface Ignis uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** The Koa context oidc-provider hands to configuration callbacks (only what Ignis reads). */
  export interface KoaContextWithOIDC {
    body: unknown;
    status: number;
    type: string;
    host: string;
    oidc: {
      client?: ClientInstance;
      params?: Record<string, unknown>;
      session?: { accountId?: string };
      route: string;
    };
  }

  /** A registered client. */
  export interface ClientInstance {
    clientId: string;
    clientName?: string;
    clientSecret?: string;
    redirectUriAllowed(value: string): boolean;
    /** Whether a presented client secret matches the stored one (awaited by the provider's client auth). */
    compareClientSecret(presented: string): boolean | Promise<boolean>;
  }

  /** A stored artifact, as the adapter sees it. */
  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: unknown;
  };

  /** The persistence interface oidc-provider drives (one instance per model name). */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** An account as findAccount returns it. */
  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown> & { sub: string }>;
  }

  /** A pending interaction (login or consent prompt). */
  export interface Interaction {
    uid: string;
    jti: string;
    returnTo: string;
    params: Record<string, unknown> & { client_id: string; login_hint?: string };
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    session?: { accountId?: string };
    grantId?: string;
  }

  /** A grant of scopes and claims to a client for an account. */
  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  /** Provider configuration (loosely typed: the options object is large and validated at runtime). */
  export type Configuration = Record<string, unknown>;

  /** The OpenID provider (a Koa application). */
  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    proxy: boolean;
    readonly issuer: string;
    Grant: {
      new (properties: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
    Client: { prototype: ClientInstance };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  /** oidc-provider's OAuth error classes. */
  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    SessionNotFound: new (description?: string) => Error;
  };
}
