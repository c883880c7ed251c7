import {
  CreateApiKeyBody,
  CreatedApiKey,
  CreateUserBody,
  IgnisError,
  UpdateUserBody,
  UserId,
  UserView,
} from "@ignis/protocol";
import { z } from "zod";
import { issueApiKey } from "../../identity/api-keys.js";
import { boundMintedKey } from "../../identity/key-minting.js";
import { authorize } from "../../identity/policy.js";
import { createUser } from "../../identity/user-admin.js";
import { findUserById, listUsers, setWritesFrozen, toUserView } from "../../identity/users.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

const UserParams = z.object({ userId: UserId });

/** Admin user management and API keys issued on a user's behalf. */
export function adminUserRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/admin/users",
    {
      config: { meta: { access: "user", action: "user.create", objectType: "user" } },
      schema: {
        summary: "Create a user with roles; with the embedded provider, an invitation link",
        tags: ["admin"],
        body: CreateUserBody,
        response: { 201: UserView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "user.create");
      reply.code(201);
      const { user, inviteUrl } = await auditedWrite(ctx, request, reply, async (trx) => {
        const created = await createUser(
          trx,
          { embedded: ctx.config.oidc.embedded, issuer: ctx.verifier.issuer, publicUrl: ctx.publicUrl },
          request.body,
        );
        request.auditObjectId = created.user.id;
        request.auditDetails = { roles: created.user.roles };
        return created;
      });
      return toUserView(user, inviteUrl);
    },
  );

  app.get(
    "/v1/admin/users",
    {
      config: { meta: { access: "user" } },
      schema: {
        summary: "List users",
        tags: ["admin"],
        querystring: z.object({
          cursor: UserId.optional(),
          limit: z.coerce.number().int().min(1).max(100).default(50),
        }),
        response: { 200: z.object({ items: z.array(UserView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      authorize(request.actor, "user.read");
      const users = await listUsers(ctx.db, request.query.limit, request.query.cursor);
      const last = users.at(-1);
      return {
        items: users.map((u) => toUserView(u)),
        nextCursor: users.length === request.query.limit && last ? last.id : null,
      };
    },
  );

  app.patch(
    "/v1/admin/users/:userId",
    {
      config: { meta: { access: "user", action: "user.update", objectType: "user", objectParam: "userId" } },
      schema: {
        summary: "Change a user's roles or freeze their writes",
        tags: ["admin"],
        params: UserParams,
        body: UpdateUserBody,
        response: { 200: UserView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "user.update");
      const { roles, writesFrozen } = request.body;
      const updated = await auditedWrite(ctx, request, reply, async (trx) => {
        const user = await findUserById(trx, request.params.userId);
        if (!user) throw new IgnisError("not_found", "no such user");
        if (roles) {
          await trx
            .updateTable("users")
            .set({ roles: JSON.stringify([...new Set(roles)]) })
            .where("id", "=", user.id)
            .execute();
        }
        if (writesFrozen !== undefined) await setWritesFrozen(trx, user.id, writesFrozen);
        request.auditDetails = {
          before: { roles: user.roles, writesFrozen: user.writesFrozenAt !== null },
          after: request.body,
        };
        return (await findUserById(trx, user.id))!;
      });
      return toUserView(updated);
    },
  );

  app.post(
    "/v1/admin/users/:userId/api-keys",
    {
      config: {
        meta: { access: "user", action: "admin.api-key.create", objectType: "user", objectParam: "userId" },
      },
      schema: {
        summary: "Mint an API key on a user's behalf (shown once)",
        tags: ["admin"],
        params: UserParams,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.api-key.create");
      const user = await findUserById(ctx.db, request.params.userId);
      if (!user) throw new IgnisError("not_found", "no such user");
      const grant = boundMintedKey(request.actor, request.body);
      reply.code(201);
      const issued = await auditedWrite(ctx, request, reply, async (trx) => {
        const key = await issueApiKey(trx, { userId: user.id, name: request.body.name, ...grant });
        request.auditDetails = { keyId: key.id, scopes: key.scopes };
        return key;
      });
      return { ...issued, expiresAt: issued.expiresAt?.toISOString() ?? null };
    },
  );
}
