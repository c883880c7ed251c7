import { MarketOffers } from "@ignis/protocol";
import { marketOffers } from "../../market/device-price.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/** The public view of what the market offers (a device's own price is in devices/price.ts). */
export function marketRoutes(app: App, ctx: AppContext): void {
  const prices = ctx.market.context.prices;
  app.get(
    "/v1/market/offers",
    {
      config: { meta: { access: "public", rateClass: "explorer" } },
      schema: {
        tags: ["market"],
        summary:
          "Free devices per GPU model and the lowest price per GPU-hour, for customers choosing a model",
        response: { 200: MarketOffers },
      },
    },
    async () => ({ items: await marketOffers(ctx.db, prices) }),
  );
}
