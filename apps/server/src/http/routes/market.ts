import { DevicePrice, MarketOffers, SetDevicePriceBody } from "@ignis/protocol";
import { z } from "zod";
import { authorize } from "../../identity/policy.js";
import { devicePrice, marketOffers, setDevicePrice } from "../../market/device-price.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

const DeviceParams = z.object({ deviceId: z.string().max(200) });

/** Supplier pricing of their devices, and the public view of what the market offers. */
export function marketRoutes(app: App, ctx: AppContext): void {
  const prices = ctx.market.context.prices;
  const ownerOf = async (deviceId: string) => {
    const d = await ctx.db
      .selectFrom("devices")
      .select("owner_id")
      .where("id", "=", deviceId)
      .executeTakeFirst();
    return d ? { ownerId: d.owner_id } : null;
  };

  app.get(
    "/v1/devices/:deviceId/price",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["devices", "market"],
        summary: "The device's minimum price per GPU-hour, its profile's default and the one that applies",
        params: DeviceParams,
        response: { 200: DevicePrice },
      },
    },
    async (request) => {
      authorize(request.actor, "device.read", await ownerOf(request.params.deviceId));
      return devicePrice(ctx.db, prices, request.params.deviceId);
    },
  );

  app.put(
    "/v1/devices/:deviceId/price",
    {
      config: {
        meta: {
          access: "user",
          action: "device.price.update",
          objectType: "device",
          objectParam: "deviceId",
        },
      },
      schema: {
        tags: ["devices", "market"],
        summary:
          "Sets the owner's minimum price per GPU-hour (micro-units), or null for the profile's default",
        params: DeviceParams,
        body: SetDevicePriceBody,
        response: { 200: DevicePrice },
      },
    },
    async (request) => {
      authorize(request.actor, "device.price.update", await ownerOf(request.params.deviceId));
      const before = await devicePrice(ctx.db, prices, request.params.deviceId);
      await setDevicePrice(ctx.db, request.params.deviceId, request.body.minPricePerHour);
      const after = await devicePrice(ctx.db, prices, request.params.deviceId);
      request.auditDetails = { before: before.minPricePerHour, after: after.minPricePerHour };
      return after;
    },
  );

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
