import { CreateMaintenanceWindowBody, MaintenanceWindowList, MaintenanceWindowView } from "@ignis/protocol";
import { authorize } from "../../identity/policy.js";
import {
  declareMaintenanceWindow,
  listMaintenanceWindows,
  type MaintenanceWindow,
} from "../../rewards/maintenance-windows.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
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
      const createdBy = request.actor.userId;
      reply.code(201);
      const window = await auditedWrite(ctx, request, reply, async (trx) => {
        const declared = await declareMaintenanceWindow(trx, request.body, {
          epochSeconds: ctx.rewards.timing.epochSeconds,
          createdBy,
        });
        request.auditObjectId = declared.id;
        request.auditDetails = {
          start: request.body.start,
          end: request.body.end,
          reason: request.body.reason,
        };
        return declared;
      });
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
