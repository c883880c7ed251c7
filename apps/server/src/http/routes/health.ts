import { IgnisError } from "@ignis/protocol";
import { z } from "zod";
import { VERSION } from "../../version.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/** `/healthz` and `/metrics`. */
export function healthRoutes(app: App, ctx: AppContext): void {
  app.get(
    "/healthz",
    {
      config: { meta: { access: "public" } },
      schema: {
        summary: "Liveness: answers ok while the server runs",
        description:
          'The body is exactly `{ "status": "ok" }` (CONTRACT.md). The headers `x-ignis-release` and ' +
          "`x-ignis-time` (ISO 8601 with milliseconds) give the server's release and clock, which `ignis doctor` " +
          "compares with the worker's own to find clock skew.",
        tags: ["system"],
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async (_request, reply) => {
      reply.header("x-ignis-release", VERSION).header("x-ignis-time", new Date().toISOString());
      return { status: "ok" as const };
    },
  );

  app.get(
    "/metrics",
    {
      config: { meta: { access: "user" } },
      schema: {
        summary: "Prometheus metrics (admins, or anyone on the metrics port)",
        tags: ["system"],
        description: "Prometheus text; admins only here, anyone on the metrics port.",
      },
    },
    async (request, reply) => {
      if (request.actor.kind !== "user" || !request.actor.roles.includes("admin")) {
        throw new IgnisError("forbidden", "metrics are for admins (or the metrics port)");
      }
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );
}
