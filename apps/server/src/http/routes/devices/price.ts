import { DevicePrice, SetDevicePriceBody } from "@ignis/protocol";
import { devicePrice, setDevicePrice } from "../../../market/device-price.js";
import type { App } from "../../app.js";
import { auditedWrite } from "../../audited-write.js";
import type { AppContext } from "../../context.js";
import { DeviceParams, ownedDevice } from "./owned-device.js";

/** `GET`/`PUT /v1/devices/{deviceId}/price`: the owner's minimum price per GPU-hour for the device. */
export function devicePriceRoutes(app: App, ctx: AppContext): void {
  const prices = ctx.market.context.prices;

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
      await ownedDevice(ctx, request.actor, request.params.deviceId, "device.read");
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
    async (request, reply) => {
      const { deviceId } = request.params;
      await ownedDevice(ctx, request.actor, deviceId, "device.price.update");
      return auditedWrite(ctx, request, reply, async (trx) => {
        const before = await devicePrice(trx, prices, deviceId);
        await setDevicePrice(trx, deviceId, request.body.minPricePerHour);
        const after = await devicePrice(trx, prices, deviceId);
        request.auditDetails = { before: before.minPricePerHour, after: after.minPricePerHour };
        return after;
      });
    },
  );
}
