import { IgnisError } from "@ignis/protocol";
import { z } from "zod";
import { type Device, findDevice } from "../../../devices/device-record.js";
import type { Actor } from "../../../identity/actor.js";
import { authorize, type UserAction } from "../../../identity/policy.js";
import type { AppContext } from "../../context.js";

/**
 * Path parameters of every `/v1/devices/{deviceId}` route. Any string is accepted as an id: a malformed id, a
 * missing device and another owner's device all get the same 404, so answers say nothing about which ids exist.
 */
export const DeviceParams = z.object({ deviceId: z.string().max(200) });

/**
 * The one ownership lookup of the `/v1/devices/{deviceId}/*` routes: loads the device and authorizes the action
 * on it, throwing the policy's single `not_found` for a missing device and for another owner's device alike.
 */
export async function ownedDevice(
  ctx: AppContext,
  actor: Actor,
  deviceId: string,
  action: UserAction,
): Promise<Device> {
  const device = await findDevice(ctx.db, deviceId);
  authorize(actor, action, device ? { ownerId: device.ownerId } : null);
  if (!device) throw new IgnisError("not_found", "no such object");
  return device;
}
