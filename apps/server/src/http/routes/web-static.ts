import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, normalize, resolve, sep } from "node:path";
import fastifyStatic from "@fastify/static";
import { IgnisError, WebConfig } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { API_SCOPE, WEB_CALLBACK_PATH } from "../../identity/embedded-oidc.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/**
 * Where `npm run build -w apps/web` writes the web app, unless IGNIS_WEB_DIR says otherwise: found through the
 * workspace package, so the sources and the bundle (apps/server/dist/main.js) find the same directory.
 */
export const DEFAULT_WEB_DIR = join(
  dirname(createRequire(import.meta.url).resolve("@ignis/web/package.json")),
  "dist",
);

/** Paths the web app never answers: the API, the identity provider and the server's own pages. */
const RESERVED = ["/v1", "/oidc", "/docs", "/openapi.json", "/healthz", "/metrics", "/invite", "/auth"];
/** The one reserved path the web app owns: the OIDC redirect URI it registers. */
const SPA_PATHS_UNDER_RESERVED = new Set([WEB_CALLBACK_PATH]);
const IMMUTABLE = "public, max-age=31536000, immutable";

function isReserved(path: string): boolean {
  if (SPA_PATHS_UNDER_RESERVED.has(path)) return false;
  return RESERVED.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`));
}

/** `GET /v1/web-config` and the built web app at `/`, with an SPA fallback for browser navigations. */
export function webStaticRoutes(app: App, ctx: AppContext): void {
  app.get(
    "/v1/web-config",
    {
      config: { meta: { access: "public" } },
      schema: {
        tags: ["system"],
        summary: "What the web app needs to sign users in (issuer and public client id)",
        response: { 200: WebConfig },
      },
    },
    async () => ({
      issuer: ctx.verifier.issuer,
      clientId: ctx.config.oidc.webClientId,
      audience: ctx.config.oidc.audience,
      // An external IdP names API permissions its own way; there the audience alone selects the API.
      scopes: ["openid", "email", "offline_access", ...(ctx.config.oidc.embedded ? [API_SCOPE] : [])],
      embedded: ctx.config.oidc.embedded,
      redirectPath: WEB_CALLBACK_PATH,
    }),
  );

  const root = resolve(ctx.config.webDir ?? DEFAULT_WEB_DIR);
  // The document's CSP governs the SPA's fetches: allow the external issuer's token endpoint when there is one.
  const issuerOrigin = ctx.config.oidc.embedded ? undefined : new URL(ctx.verifier.issuer).origin;
  const documentCsp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self'${issuerOrigin ? ` ${issuerOrigin}` : ""}`,
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join("; ");

  app.register(async (scope) => {
    await scope.register(fastifyStatic, { root, serve: false, suppressWarning: true });

    const sendIndex = (request: FastifyRequest, reply: FastifyReply) => {
      if (!existsSync(join(root, "index.html"))) {
        throw new IgnisError("not_found", "the web app is not built; run `npm run build:web`");
      }
      request.log.trace("web app navigation");
      reply.header("cache-control", "no-cache");
      reply.header("content-security-policy", documentCsp);
      return reply.sendFile("index.html", root, { cacheControl: false });
    };

    scope.get(
      "/*",
      { config: { meta: { access: "public" } }, schema: { hide: true } },
      async (request, reply) => {
        const path = request.url.split("?")[0] ?? "/";
        if (isReserved(path)) throw new IgnisError("not_found", "no such route or object");
        const file = staticFileFor(root, path);
        if (file) {
          if (file.startsWith(`assets${sep}`)) reply.header("cache-control", IMMUTABLE);
          return reply.sendFile(file, root, { cacheControl: !file.startsWith(`assets${sep}`) });
        }
        // The root is the app whatever the client asks for (curl, a health probe); deeper unknown paths get the
        // shell only for browser navigations, so a missing asset stays a clear 404 problem.
        const accept = request.headers.accept ?? "";
        if (path === "/" || accept.includes("text/html")) return sendIndex(request, reply);
        throw new IgnisError("not_found", "no such route or object");
      },
    );
  });
}

/** The built file a path names, relative to the root, or null (index.html is served only as the SPA shell). */
function staticFileFor(root: string, path: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  const relative = normalize(decoded).replace(/^[/\\]+/, "");
  if (!relative || relative === "index.html" || relative.includes("\0")) return null;
  const full = resolve(root, relative);
  if (!full.startsWith(root + sep)) return null;
  try {
    return statSync(full).isFile() ? relative : null;
  } catch {
    return null;
  }
}
