import type { App } from "../app.js";
import type { AppContext } from "../context.js";
import { adminMachineClientRoutes } from "./admin-machine-clients.js";
import { adminSecurityRoutes } from "./admin-security.js";
import { adminUserRoutes } from "./admin-users.js";
import { apiKeyRoutes } from "./api-keys.js";
import { authConfigRoutes } from "./auth-config.js";
import { clusterAccessRoutes } from "./cluster-access.js";
import { clusterRoutes } from "./clusters.js";
import { creditRoutes } from "./credits.js";
import { registerDeviceRoutes } from "./devices/index.js";
import { deviceEnrollmentRoutes } from "./devices-enrollment.js";
import { deviceKeyMigrationRoutes } from "./devices-key-migrations.js";
import { explorerRoutes } from "./explorer.js";
import { healthRoutes } from "./health.js";
import { linkTestRoutes } from "./link-test.js";
import { maintenanceWindowRoutes } from "./maintenance-windows.js";
import { marketRoutes } from "./market.js";
import { openApiRoutes } from "./openapi.js";
import { proofAdminRoutes } from "./proof-admin.js";
import { rewardRoutes } from "./rewards.js";
import { rewardAdminRoutes } from "./rewards-admin.js";
import { signInRoutes } from "./sign-in.js";
import { stakeRoutes } from "./stakes.js";
import { webStaticRoutes } from "./web-static.js";
import { workerRolloutRoutes } from "./worker-rollouts.js";
import { workerSocketRoutes } from "./worker-socket.js";

/** Registers every route module; a route added here is picked up by the authorization matrix test. */
export async function registerRoutes(app: App, ctx: AppContext): Promise<void> {
  healthRoutes(app, ctx);
  linkTestRoutes(app);
  openApiRoutes(app);
  apiKeyRoutes(app, ctx);
  adminUserRoutes(app, ctx);
  adminMachineClientRoutes(app, ctx);
  registerDeviceRoutes(app, ctx);
  deviceEnrollmentRoutes(app, ctx);
  deviceKeyMigrationRoutes(app, ctx);
  workerRolloutRoutes(app, ctx);
  await workerSocketRoutes(app, ctx);
  adminSecurityRoutes(app, ctx);
  authConfigRoutes(app, ctx);
  await signInRoutes(app, ctx);
  explorerRoutes(app, ctx);
  rewardRoutes(app, ctx);
  rewardAdminRoutes(app, ctx);
  maintenanceWindowRoutes(app, ctx);
  clusterRoutes(app, ctx);
  // After workerSocketRoutes: it registers the WebSocket plugin these routes upgrade with.
  clusterAccessRoutes(app, ctx);
  creditRoutes(app, ctx);
  marketRoutes(app, ctx);
  proofAdminRoutes(app, ctx);
  stakeRoutes(app, ctx);
  webStaticRoutes(app, ctx);
}
