import type { App } from "../../app.js";
import type { AppContext } from "../../context.js";
import { deviceRoutes } from "./devices.js";
import { deviceIdentityRoutes } from "./identity.js";
import { explorerLabelRoutes } from "./label-visibility.js";
import { devicePriceRoutes } from "./price.js";

/**
 * Registers every `/v1/devices` route (list, read, label, revoke, key rotation, conflicts, price, label
 * visibility) and enrollment codes; each `/v1/devices/{deviceId}/*` handler finds its device through
 * `ownedDevice`, so a missing device and another owner's device get the same 404 everywhere.
 */
export function registerDeviceRoutes(app: App, ctx: AppContext): void {
  deviceRoutes(app, ctx);
  deviceIdentityRoutes(app, ctx);
  explorerLabelRoutes(app, ctx);
  devicePriceRoutes(app, ctx);
}
