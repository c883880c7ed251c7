import { CreditBalance, CreditGrant, GrantCreditsBody } from "@ignis/protocol";
import { authorize } from "../../identity/policy.js";
import { creditBalance, grantCredits } from "../../market/credits.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/** Prepaid credit: admins grant it, customers read their balance and what their rentals hold in escrow. */
export function creditRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/admin/credits",
    {
      config: { meta: { access: "user", action: "admin.credits.grant", objectType: "user" } },
      schema: {
        tags: ["admin", "credits"],
        summary: "Grants prepaid credit (integer micro-units); answers with the customer's new balance",
        body: GrantCreditsBody,
        response: { 201: CreditGrant },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.credits.grant");
      const grant = await grantCredits(ctx.db, { ...request.body, grantedBy: request.actor.userId });
      request.auditObjectId = grant.userId;
      request.auditDetails = {
        amount: grant.amount.toString(),
        reference: grant.reference,
        created: grant.created,
      };
      reply.code(201);
      return {
        userId: grant.userId,
        balance: grant.balance.toString(),
        amount: grant.amount.toString(),
        reference: grant.reference,
        unit: "micro" as const,
      };
    },
  );

  app.get(
    "/v1/credits",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["credits"],
        summary: "The caller's spendable credit and what sits in escrow for their open clusters",
        response: { 200: CreditBalance },
      },
    },
    async (request) => {
      authorize(request.actor, "balance.read");
      const { balance, held } = await creditBalance(ctx.db, request.actor.userId);
      return {
        userId: request.actor.userId,
        balance: balance.toString(),
        held: held.toString(),
        unit: "micro" as const,
      };
    },
  );
}
