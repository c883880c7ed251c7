import {
  ApiKeyId,
  ApiKeyView,
  type ApiKeyView as ApiKeyViewType,
  CreateApiKeyBody,
  CreatedApiKey,
  IgnisError,
  WhoAmI,
} from "@ignis/protocol";
import { z } from "zod";
import { issueApiKey, listApiKeys, revokeApiKey } from "../../identity/api-keys.js";
import { boundMintedKey } from "../../identity/key-minting.js";
import { authorize } from "../../identity/policy.js";
import { findUserById } from "../../identity/users.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

/** `GET /v1/me` and the caller's own API keys. */
export function apiKeyRoutes(app: App, ctx: AppContext): void {
  app.get(
    "/v1/me",
    {
      config: { meta: { access: "user" } },
      schema: {
        summary: "Who the credential belongs to: user id, e-mail and roles",
        tags: ["identity"],
        response: { 200: WhoAmI },
      },
    },
    async (request) => {
      const actor = request.actor;
      authorize(actor, "me.read");
      const user = await findUserById(ctx.db, actor.userId);
      return {
        id: actor.userId,
        email: user?.email ?? null,
        roles: [...actor.roles],
        credential: actor.credential.type,
      };
    },
  );

  app.post(
    "/v1/api-keys",
    {
      config: { meta: { access: "user", action: "api-key.create", objectType: "api_key" } },
      schema: {
        summary: "Mint an API key for yourself (shown once)",
        tags: ["identity"],
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey },
      },
    },
    async (request, reply) => {
      const actor = request.actor;
      authorize(actor, "api-key.create");
      const grant = boundMintedKey(actor, request.body);
      reply.code(201);
      const issued = await auditedWrite(ctx, request, reply, async (trx) => {
        const key = await issueApiKey(trx, { userId: actor.userId, name: request.body.name, ...grant });
        request.auditObjectId = key.id;
        request.auditDetails = { scopes: key.scopes, expiresAt: key.expiresAt?.toISOString() ?? null };
        return key;
      });
      return { ...issued, expiresAt: issued.expiresAt?.toISOString() ?? null };
    },
  );

  app.get(
    "/v1/api-keys",
    {
      config: { meta: { access: "user" } },
      schema: {
        summary: "Your API keys, without their secrets",
        tags: ["identity"],
        response: { 200: z.object({ items: z.array(ApiKeyView) }) },
      },
    },
    async (request) => {
      const actor = request.actor;
      authorize(actor, "api-key.read");
      const rows = await listApiKeys(ctx.db, actor.userId);
      return {
        items: rows.map((r) => ({
          id: r.id,
          name: r.name,
          scopes: r.scopes as ApiKeyViewType["scopes"],
          createdAt: r.created_at.toISOString(),
          expiresAt: r.expires_at?.toISOString() ?? null,
          lastUsedAt: r.last_used_at?.toISOString() ?? null,
          revokedAt: r.revoked_at?.toISOString() ?? null,
          suspendedAt: r.suspended_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.delete(
    "/v1/api-keys/:keyId",
    {
      config: {
        meta: { access: "user", action: "api-key.revoke", objectType: "api_key", objectParam: "keyId" },
      },
      schema: {
        summary: "Revoke one of your API keys",
        tags: ["identity"],
        params: z.object({ keyId: ApiKeyId }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const actor = request.actor;
      authorize(actor, "api-key.revoke");
      reply.code(204);
      await auditedWrite(ctx, request, reply, async (trx) => {
        if (!(await revokeApiKey(trx, actor.userId, request.params.keyId))) {
          throw new IgnisError("not_found", "no such API key");
        }
      });
      return reply.send(null);
    },
  );
}
