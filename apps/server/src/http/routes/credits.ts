import { CreditBalance, CreditGrant, GrantCreditsBody } from "@ignis/protocol";
import { authorize } from "../../identity/policy.js";
import { creditBalance, grantCredits } from "../../market/credits.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
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
      const grantedBy = request.actor.userId;
      reply.code(201);
      const grant = await auditedWrite(ctx, request, reply, async (trx) => {
        const granted = await grantCredits(trx, { ...request.body, grantedBy });
        request.auditObjectId = granted.userId;
        request.auditDetails = {
          amount: granted.amount.toString(),
          reference: granted.reference,
          account: granted.account,
          created: granted.created,
        };
        return granted;
      });
      return {
        userId: grant.userId,
        account: grant.account,
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
