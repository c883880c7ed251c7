import { DeviceView, IgnisError, KeyRotationRequestView, ResolveConflictBody } from "@ignis/protocol";
import { revokeDevice } from "../../../devices/revoke.js";
import { requestKeyRotation, resolveConflictKeepingOne } from "../../../devices/session-conflict.js";
import type { App } from "../../app.js";
import { auditedWrite } from "../../audited-write.js";
import type { AppContext } from "../../context.js";
import { DeviceParams, ownedDevice, reloadedOwnerView } from "./owned-device.js";

/** The owner's say over a device's identity: ask for a key rotation, resolve a duplicate-session conflict. */
export function deviceIdentityRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/devices/:deviceId/rotate-key",
    {
      config: {
        meta: { access: "user", action: "device.rotate-key", objectType: "device", objectParam: "deviceId" },
      },
      schema: {
        tags: ["devices"],
        summary: "Ask the device to rotate its key: now if it is connected, else at its next session",
        params: DeviceParams,
        response: { 202: KeyRotationRequestView },
      },
    },
    async (request, reply) => {
      const device = await ownedDevice(ctx, request.actor, request.params.deviceId, "device.rotate-key");
      if (device.status === "revoked") throw new IgnisError("device_revoked", "the device is revoked");
      if (device.status === "conflict") {
        throw new IgnisError("device_conflict", "resolve the device's conflict first (keep or revoke)");
      }
      const requestedAt = new Date();
      reply.code(202);
      await auditedWrite(ctx, request, reply, async (trx) => {
        await requestKeyRotation(trx, device.id, requestedAt);
        request.auditDetails = { connected: ctx.gateway.isConnected(device.id) };
      });
      // Sent once the request is committed; a device that is not reached now rotates at its next session.
      const delivered = await ctx.gateway.requestKeyRotation(device.id);
      return { deviceId: device.id, requestedAt: requestedAt.toISOString(), delivered };
    },
  );

  app.post(
    "/v1/devices/:deviceId/resolve-conflict",
    {
      config: {
        meta: {
          access: "user",
          action: "device.resolve-conflict",
          objectType: "device",
          objectParam: "deviceId",
        },
      },
      schema: {
        tags: ["devices"],
        summary:
          "End a duplicate-session conflict: keep one machine (its key then rotates) or revoke the device",
        params: DeviceParams,
        body: ResolveConflictBody,
        response: { 200: DeviceView },
      },
    },
    async (request, reply) => {
      const device = await ownedDevice(
        ctx,
        request.actor,
        request.params.deviceId,
        "device.resolve-conflict",
      );
      if (device.status !== "conflict") throw new IgnisError("conflict", "the device is not in conflict");
      const before = { status: device.status, peers: device.conflict?.peers ?? [] };
      const { action } = request.body;
      await auditedWrite(ctx, request, reply, async (trx) => {
        if (action === "keep") await resolveConflictKeepingOne(trx, device.id);
        else await revokeDevice(trx, device.id);
        request.auditDetails = { action, before };
      });
      if (action === "revoke") await ctx.gateway.disconnect(device.id, "device_revoked");
      return reloadedOwnerView(ctx, device.id);
    },
  );
}
