import type { FastifyReply, FastifyRequest } from "fastify";
import type { EmbeddedOidc } from "../../identity/embedded-oidc.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/** Where the embedded provider lives on our origin; its issuer is `${publicUrl}${OIDC_PREFIX}`. */
export const OIDC_PREFIX = "/oidc";

/**
 * Mounts the embedded provider (a Koa app) under /oidc. Requests are hijacked in onRequest, before Fastify parses
 * a body, so the provider reads the raw stream itself. The public origin goes in as X-Forwarded-* (the provider
 * runs with `proxy`), so every URL it builds (discovery, device verification, cookies' `secure`) is public no
 * matter which address the request came in on.
 */
export function mountOidcProvider(app: App, ctx: AppContext, oidc: EmbeddedOidc): void {
  const callback = oidc.provider.callback();
  const publicBase = new URL(ctx.publicUrl);
  const basePath = publicBase.pathname.replace(/\/$/, "");

  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const req = request.raw as typeof request.raw & { originalUrl?: string; baseUrl?: string };
    const original = req.url ?? OIDC_PREFIX;
    let inner = original.slice(OIDC_PREFIX.length);
    if (!inner.startsWith("/")) inner = `/${inner}`;
    // oidc-provider derives its mount path from these when it builds endpoint URLs.
    req.originalUrl = `${basePath}${original}`;
    req.baseUrl = `${basePath}${OIDC_PREFIX}`;
    req.url = inner;
    req.headers["x-forwarded-host"] = publicBase.host;
    req.headers["x-forwarded-proto"] = publicBase.protocol.replace(":", "");
    req.headers["x-forwarded-for"] = request.ip;
    try {
      await callback(req, reply.raw);
    } catch (error) {
      request.log.error({ err: error }, "embedded OpenID provider failed");
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { "content-type": "text/plain" });
      reply.raw.end("internal error");
    }
  };

  for (const url of [OIDC_PREFIX, `${OIDC_PREFIX}/*`]) {
    app.route({
      method: ["GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"],
      url,
      config: { meta: { access: "public", action: "oidc.request" } },
      schema: { hide: true },
      onRequest: handOver,
      handler: async () => undefined,
    });
  }
}
