import { type DeviceView, IgnisError } from "@ignis/protocol";
import { z } from "zod";
import { type Device, findDevice, keysOfDevices, toDeviceView } from "../../../devices/device-record.js";
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

/** The owner's view of a device: its record, its keys, and whether a session holds it now. */
export async function ownerView(ctx: AppContext, device: Device): Promise<DeviceView> {
  const keys = await keysOfDevices(ctx.db, [device.id]);
  return toDeviceView(device, keys.get(device.id) ?? [], ctx.gateway.isConnected(device.id));
}

/** The owner's view of a device as stored now, after a route changed it. */
export async function reloadedOwnerView(ctx: AppContext, deviceId: string): Promise<DeviceView> {
  const device = await findDevice(ctx.db, deviceId);
  if (!device) throw new IgnisError("not_found", "no such object");
  return ownerView(ctx, device);
}
