import { IgnisError, LabelVisibility, LabelVisibilityBody } from "@ignis/protocol";
import { labelVisibilityOf, setLabelVisibility } from "../../../explorer/label-visibility.js";
import type { App } from "../../app.js";
import { auditedWrite } from "../../audited-write.js";
import type { AppContext } from "../../context.js";
import { DeviceParams, ownedDevice } from "./owned-device.js";

/** `PUT /v1/devices/{deviceId}/label-visibility`: the owner chooses whether the explorer shows the label. */
export function explorerLabelRoutes(app: App, ctx: AppContext): void {
  app.put(
    "/v1/devices/:deviceId/label-visibility",
    {
      config: {
        meta: {
          access: "user",
          action: "device.label-visibility",
          objectType: "device",
          objectParam: "deviceId",
        },
      },
      schema: {
        tags: ["devices"],
        summary: "Show the device's label on the public explorer, or hide it again (hidden by default)",
        params: DeviceParams,
        body: LabelVisibilityBody,
        response: { 200: LabelVisibility },
      },
    },
    async (request, reply) => {
      const { deviceId } = request.params;
      await ownedDevice(ctx, request.actor, deviceId, "device.label-visibility");
      await auditedWrite(ctx, request, reply, async (trx) => {
        const current = await labelVisibilityOf(trx, deviceId);
        if (!current) throw new IgnisError("not_found", "no such object");
        await setLabelVisibility(trx, deviceId, request.body.public);
        request.auditDetails = { before: current.labelPublic, after: request.body.public };
      });
      return { deviceId, labelPublic: request.body.public };
    },
  );
}
