import { IgnisError, UserId } from "@ignis/protocol";
import { z } from "zod";
import { registerMachineClient } from "../../identity/oidc/machine-clients.js";
import { authorize } from "../../identity/policy.js";
import { findUserById } from "../../identity/users.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";

const Body = z.strictObject({ name: z.string().trim().min(1).max(80) });
const Created = z.object({
  clientId: z.string(),
  clientSecret: z.string(),
  name: z.string(),
  userId: UserId,
  tokenEndpoint: z.string(),
  introspectionEndpoint: z.string(),
});

/**
 * `POST /v1/admin/users/{userId}/oidc-clients`: a machine client of the embedded provider acting as the user
 * (client-credentials grant; also a resource server allowed to introspect tokens). The secret is shown once.
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
}
