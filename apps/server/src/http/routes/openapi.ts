import type { App } from "../app.js";

/** `GET /openapi.json`: the OpenAPI 3.1 document generated from the routes' zod schemas. */
export function openApiRoutes(app: App): void {
  app.get("/openapi.json", { config: { meta: { access: "public" } }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
}
