import { IgnisError } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ANONYMOUS, actorId, credentialId } from "../identity/actor.js";
import { authenticate } from "../identity/authenticate.js";
import { appendAudit } from "../security/audit-log.js";
import type { RateClass } from "../security/rate-limits.js";
import type { App, RouteMeta } from "./app.js";
import { sendProblem } from "./app.js";
import type { AppContext } from "./context.js";
import { toIgnisError } from "./problem.js";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Routes whose requests the pipeline leaves alone: the embedded IdP and the worker socket authenticate in-band. */
function isSelfAuthenticating(url: string): boolean {
  return url.startsWith("/oidc/") || url === "/oidc" || url.startsWith("/v1/worker/");
}

function metaOf(request: FastifyRequest): RouteMeta | undefined {
  return request.routeOptions.config?.meta;
}

/** Installs authentication, access checks, rate limits, auditing and metrics on every request. */
export function installRequestPipeline(app: App, ctx: AppContext): void {
  app.addHook("onRequest", async (request, reply) => {
    request.actor = ANONYMOUS;
    if (isSelfAuthenticating(request.url)) return;
    try {
      request.actor = await authenticate(ctx.db, ctx.verifier, request.headers.authorization);
    } catch (error) {
      const ignis = toIgnisError(error);
      await ctx.rateLimits.consume("auth", `ip:${request.ip}`).catch(() => undefined);
      return sendProblem(reply, request, ignis);
    }
    const meta = metaOf(request);
    const write = !READ_METHODS.has(request.method);
    const rateClass: RateClass = meta?.rateClass ?? (write ? "write" : "read");
    const principal =
      request.actor.kind === "user" ? `cred:${request.actor.credential.id}` : `ip:${request.ip}`;
    try {
      await ctx.rateLimits.consume(rateClass, principal);
    } catch (error) {
      return sendProblem(reply, request, toIgnisError(error));
    }
    if (meta?.access === "user" && request.actor.kind !== "user") {
      return sendProblem(reply, request, new IgnisError("unauthenticated", "sign in or present an API key"));
    }
    return undefined;
  });

  app.addHook("onSend", async (request, reply, payload) => {
    if (isSelfAuthenticating(request.url)) return payload;
    const write = !READ_METHODS.has(request.method);
    const status = reply.statusCode;
    const refusedAuth = status === 401 || status === 403;
    if (!write && !refusedAuth) return payload;
    await auditRequest(ctx, request, reply, payload);
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    ctx.metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

async function auditRequest(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const meta = metaOf(request);
  const status = reply.statusCode;
  let outcome = "ok";
  if (status >= 400) {
    let code = "error";
    if (typeof payload === "string" && payload.startsWith("{")) {
      try {
        code = (JSON.parse(payload) as { code?: string }).code ?? code;
      } catch {
        // a non-JSON error body keeps the generic code
      }
    }
    outcome = `${status >= 500 ? "failed" : "refused"}:${code}`;
  }
  const params = (request.params ?? {}) as Record<string, unknown>;
  const objectId =
    request.auditObjectId ??
    (meta?.objectParam && typeof params[meta.objectParam] === "string"
      ? (params[meta.objectParam] as string)
      : null);
  try {
    await appendAudit(ctx.db, {
      actorType: request.actor.kind === "anonymous" ? "anonymous" : request.actor.kind,
      actorId: actorId(request.actor),
      credentialId: credentialId(request.actor),
      action: meta?.action ?? `${request.method} ${request.routeOptions.url ?? "unmatched"}`,
      objectType: meta?.objectType ?? null,
      objectId: objectId ? String(objectId).slice(0, 200) : null,
      outcome,
      requestId: request.id,
      ip: request.ip,
      details: { status, ...(request.auditDetails ?? {}) },
    });
  } catch (error) {
    // A write whose audit record cannot be stored must not look successful to the caller.
    request.log.error({ err: error }, "audit append failed");
    throw new IgnisError("unavailable", "the audit log is unavailable; retry", { cause: error });
  }
}
