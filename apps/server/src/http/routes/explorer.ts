import {
  ExplorerDevicePage,
  ExplorerDeviceQuery,
  ExplorerMap,
  ExplorerStats,
  PublicDeviceDetail,
} from "@ignis/protocol";
import { z } from "zod";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

// Any string is accepted as an id so that a malformed id, a missing device and a hidden device all get the same
// 404 from the explorer: nothing about which ids exist can be learnt from the answer.
const DeviceParams = z.object({ deviceId: z.string().max(200) });

/** The public explorer: anyone may read it; nothing it returns names an owner. */
export function explorerRoutes(app: App, ctx: AppContext): void {
  app.get(
    "/v1/explorer/stats",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["explorer"],
        summary: "Network overview: devices, GPUs by model, vendor and region, uptime, epochs",
        response: { 200: ExplorerStats },
      },
    },
    async (_request, reply) => {
      reply.header("cache-control", "public, max-age=2");
      return ctx.explorer.stats();
    },
  );

  app.get(
    "/v1/explorer/map",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["explorer"],
        summary:
          "Network map: devices online and GPUs by model per country (never finer), with the GeoIP attribution",
        response: { 200: ExplorerMap },
      },
    },
    async (_request, reply) => {
      reply.header("cache-control", "public, max-age=2");
      return ctx.explorer.map();
    },
  );

  app.get(
    "/v1/explorer/devices",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["explorer"],
        summary: "Search shown devices by id prefix, filter by status, model and vendor",
        querystring: ExplorerDeviceQuery,
        response: { 200: ExplorerDevicePage },
      },
    },
    async (request) => ctx.explorer.devices(request.query),
  );

  app.get(
    "/v1/explorer/devices/:deviceId",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["explorer"],
        summary: "One device's public page: hardware, status, uptime history, verification history",
        params: DeviceParams,
        response: { 200: PublicDeviceDetail },
      },
    },
    async (request) => ctx.explorer.device(request.params.deviceId),
  );
}
