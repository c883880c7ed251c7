import { DeviceId, IgnisError, LabelVisibility, LabelVisibilityBody } from "@ignis/protocol";
import { z } from "zod";
import { labelVisibilityOf, setLabelVisibility } from "../../explorer/label-visibility.js";
import { authorize } from "../../identity/policy.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

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
        params: z.object({ deviceId: DeviceId }),
        body: LabelVisibilityBody,
        response: { 200: LabelVisibility },
      },
    },
    async (request) => {
      const { deviceId } = request.params;
      const current = await labelVisibilityOf(ctx.db, deviceId);
      authorize(request.actor, "device.label-visibility", current ? { ownerId: current.ownerId } : null);
      if (!current) throw new IgnisError("not_found", "no such device");
      await setLabelVisibility(ctx.db, deviceId, request.body.public);
      request.auditDetails = { before: current.labelPublic, after: request.body.public };
      return { deviceId, labelPublic: request.body.public };
    },
  );
}
