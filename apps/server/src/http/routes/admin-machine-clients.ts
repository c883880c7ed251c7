import { IgnisError, UserId } from "@ignis/protocol";
import { z } from "zod";
import {
  deleteMachineClient,
  listMachineClients,
  registerMachineClient,
  rotateMachineClientSecret,
} from "../../identity/oidc/machine-clients.js";
import { authorize } from "../../identity/policy.js";
import { findUserById } from "../../identity/users.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

const Body = z.strictObject({ name: z.string().trim().min(1).max(80) });
const ClientParams = z.object({ userId: UserId, clientId: z.string().min(1).max(64) });
const Listed = z.object({ clientId: z.string(), name: z.string(), userId: UserId });
const Created = z.object({
  clientId: z.string(),
  clientSecret: z.string(),
  name: z.string(),
  userId: UserId,
  tokenEndpoint: z.string(),
  introspectionEndpoint: z.string(),
});

/**
 * `/v1/admin/users/{userId}/oidc-clients`: machine clients of the embedded provider acting as the user
 * (client-credentials grant; also resource servers allowed to introspect tokens). A secret is shown once, when
 * the client is made or its secret rotated; only its digest is stored. A client id under another user is 404.
 */
export function adminMachineClientRoutes(app: App, ctx: AppContext): void {
  if (!ctx.oidc) return;
  const issuer = ctx.oidc.issuer;
  app.post(
    "/v1/admin/users/:userId/oidc-clients",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.oidc-client.create",
          objectType: "user",
          objectParam: "userId",
        },
      },
      schema: {
        summary: "Register a machine client (client credentials) for a user; the secret is shown once",
        tags: ["admin"],
        params: z.object({ userId: UserId }),
        body: Body,
        response: { 201: Created },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.oidc-client.create");
      const user = await findUserById(ctx.db, request.params.userId);
      if (!user) throw new IgnisError("not_found", "no such user");
      reply.code(201);
      const client = await auditedWrite(ctx, request, reply, async (trx) => {
        const made = await registerMachineClient(trx, { name: request.body.name, userId: user.id });
        request.auditDetails = { clientId: made.clientId };
        return made;
      });
      return {
        ...client,
        tokenEndpoint: `${issuer}/token`,
        introspectionEndpoint: `${issuer}/token/introspection`,
      };
    },
  );

  app.get(
    "/v1/admin/users/:userId/oidc-clients",
    {
      config: { meta: { access: "user" } },
      schema: {
        summary: "A user's machine clients, without secrets",
        tags: ["admin"],
        params: z.object({ userId: UserId }),
        response: { 200: z.object({ items: z.array(Listed) }) },
      },
    },
    async (request) => {
      authorize(request.actor, "user.read");
      return { items: await listMachineClients(ctx.db, request.params.userId) };
    },
  );

  app.post(
    "/v1/admin/users/:userId/oidc-clients/:clientId/rotate-secret",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.oidc-client.rotate",
          objectType: "oidc_client",
          objectParam: "clientId",
        },
      },
      schema: {
        summary: "Rotate a machine client's secret (the new one is shown once)",
        tags: ["admin"],
        params: ClientParams,
        response: { 200: Created },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.oidc-client.rotate");
      const { userId, clientId } = request.params;
      const client = await auditedWrite(ctx, request, reply, async (trx) => {
        const rotated = await rotateMachineClientSecret(trx, userId, clientId);
        request.auditDetails = { userId };
        return rotated;
      });
      return {
        ...client,
        tokenEndpoint: `${issuer}/token`,
        introspectionEndpoint: `${issuer}/token/introspection`,
      };
    },
  );

  app.delete(
    "/v1/admin/users/:userId/oidc-clients/:clientId",
    {
      config: {
        meta: {
          access: "user",
          action: "admin.oidc-client.delete",
          objectType: "oidc_client",
          objectParam: "clientId",
        },
      },
      schema: { summary: "Delete a machine client", tags: ["admin"], params: ClientParams },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.oidc-client.delete");
      const { userId, clientId } = request.params;
      reply.code(204);
      await auditedWrite(ctx, request, reply, async (trx) => {
        await deleteMachineClient(trx, userId, clientId);
        request.auditDetails = { userId };
      });
      return reply.send(null);
    },
  );
}
