import { CreateMaintenanceWindowBody, MaintenanceWindowList, MaintenanceWindowView } from "@ignis/protocol";
import { authorize } from "../../identity/policy.js";
import {
  declareMaintenanceWindow,
  listMaintenanceWindows,
  type MaintenanceWindow,
} from "../../rewards/maintenance-windows.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

function windowView(w: MaintenanceWindow): MaintenanceWindowView {
  return {
    id: w.id,
    start: w.startsAt.toISOString(),
    end: w.endsAt.toISOString(),
    graceMinutes: w.graceMinutes,
    leadMinutes: w.leadMinutes,
    reason: w.reason,
    createdAt: w.createdAt.toISOString(),
  };
}

/** Admin routes to declare and list maintenance windows, whose minutes returning devices keep. */
export function maintenanceWindowRoutes(app: App, ctx: AppContext): void {
  app.post(
    "/v1/admin/maintenance-windows",
    {
      config: {
        meta: { access: "user", action: "admin.maintenance-window.create", objectType: "maintenance-window" },
      },
      schema: {
        tags: ["admin", "rewards"],
        summary:
          "Declare a maintenance window: devices seen before it that return within the grace keep its minutes",
        body: CreateMaintenanceWindowBody,
        response: { 201: MaintenanceWindowView },
      },
    },
    async (request, reply) => {
      authorize(request.actor, "admin.maintenance-window.create");
      const window = await declareMaintenanceWindow(ctx.db, request.body, {
        epochSeconds: ctx.rewards.timing.epochSeconds,
        createdBy: request.actor.userId,
      });
      request.auditObjectId = window.id;
      request.auditDetails = {
        start: request.body.start,
        end: request.body.end,
        reason: request.body.reason,
      };
      reply.code(201);
      return windowView(window);
    },
  );

  app.get(
    "/v1/admin/maintenance-windows",
    {
      config: { meta: { access: "user" } },
      schema: {
        tags: ["admin", "rewards"],
        summary: "Declared maintenance windows, newest first",
        response: { 200: MaintenanceWindowList },
      },
    },
    async (request) => {
      authorize(request.actor, "admin.maintenance.read");
      return { items: (await listMaintenanceWindows(ctx.db)).map(windowView) };
    },
  );
}
