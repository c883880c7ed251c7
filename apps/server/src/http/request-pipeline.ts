import { IgnisError } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ANONYMOUS, actorId, credentialId } from "../identity/actor.js";
import { authenticate } from "../identity/authenticate.js";
import { appendAudit } from "../security/audit-log.js";
import {
  type BrowserRequest,
  corsDecision,
  isCrossSiteWrite,
  type OriginPolicy,
} from "../security/browser-origin.js";
import type { RateClass } from "../security/rate-limits.js";
import type { RequestSignal } from "../security/signals.js";
import type { App, RouteMeta } from "./app.js";
import { sendProblem } from "./app.js";
import type { AppContext } from "./context.js";
import { toIgnisError } from "./problem.js";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const CORS_METHODS = "GET, POST, PUT, PATCH, DELETE";
const CORS_HEADERS = "authorization, content-type, x-request-id";

/** Routes whose requests the pipeline leaves alone: the embedded IdP and the worker socket authenticate in-band. */
function isSelfAuthenticating(url: string): boolean {
  return url.startsWith("/oidc/") || url === "/oidc" || url.startsWith("/v1/worker/");
}

function metaOf(request: FastifyRequest): RouteMeta | undefined {
  return request.routeOptions.config?.meta;
}

function rateClassOf(request: FastifyRequest): RateClass {
  return metaOf(request)?.rateClass ?? (READ_METHODS.has(request.method) ? "read" : "write");
}

/** The path parameter naming the object: the route's `objectParam`, else its one `...Id` parameter. */
function objectParamOf(request: FastifyRequest): string | undefined {
  const meta = metaOf(request);
  if (meta?.objectParam) return meta.objectParam;
  const idParams = Object.keys((request.params ?? {}) as object).filter((k) => k.endsWith("Id"));
  return idParams.length === 1 ? idParams[0] : undefined;
}

function objectIdOf(request: FastifyRequest): string | null {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const param = objectParamOf(request);
  const id = request.auditObjectId ?? (param && typeof params[param] === "string" ? params[param] : null);
  return id ? String(id).slice(0, 200) : null;
}

function objectTypeOf(request: FastifyRequest): string | null {
  const meta = metaOf(request);
  if (meta?.objectType) return meta.objectType;
  const param = objectParamOf(request);
  return param ? param.slice(0, -2) : null;
}

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (depth > 64 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.includes("\u0000") || containsNul(v, depth + 1));
}

function browserRequest(request: FastifyRequest): BrowserRequest {
  const h = request.headers;
  const preflight = h["access-control-request-method"];
  return {
    method: request.method,
    origin: typeof h.origin === "string" ? h.origin : undefined,
    referer: typeof h.referer === "string" ? h.referer : undefined,
    hasCookie: typeof h.cookie === "string" && h.cookie.length > 0,
    preflightMethod: typeof preflight === "string" ? preflight : undefined,
  };
}

/** Installs CORS/CSRF checks, authentication, access checks, rate limits, auditing, metrics and monitoring. */
export function installRequestPipeline(app: App, ctx: AppContext): void {
  const publicOrigin = new URL(ctx.publicUrl).origin;
  const originPolicy = (request: FastifyRequest): OriginPolicy => ({
    selfOrigins: [publicOrigin, `${request.protocol}://${request.host}`],
    corsOrigins: ctx.config.corsOrigins,
  });

  app.addHook("onRequest", async (request, reply) => {
    request.actor = ANONYMOUS;
    const browser = browserRequest(request);
    const policy = originPolicy(request);
    const cors = corsDecision(browser, policy);
    if (cors.allowOrigin) {
      reply.header("access-control-allow-origin", cors.allowOrigin);
      reply.header("access-control-expose-headers", "retry-after, x-request-id");
    }
    reply.header("vary", "Origin");
    if (cors.preflight) {
      if (cors.allowOrigin) {
        reply.header("access-control-allow-methods", CORS_METHODS);
        reply.header("access-control-allow-headers", CORS_HEADERS);
        reply.header("access-control-max-age", "600");
      }
      return reply.code(204).send();
    }
    if (isCrossSiteWrite(browser, policy)) {
      return sendProblem(reply, request, new IgnisError("csrf_failed", "cross-site request refused"));
    }
    const ipKey = `ip:${request.ip}`;
    try {
      // A blocked address (automatic containment) is refused before any other work, on every route.
      const blocked = ctx.security.heldAddress(request.ip) ? 60 : await ctx.rateLimits.blockedFor(ipKey);
      if (blocked > 0) {
        throw new IgnisError("rate_limited", "this address is blocked pending a security review", {
          details: { retryAfterSeconds: blocked },
        });
      }
    } catch (error) {
      return sendProblem(reply, request, toIgnisError(error));
    }
    if (isSelfAuthenticating(request.url)) return;
    if (request.headers.authorization) {
      try {
        // Guessing keys or tokens: once the address has spent its failure budget, stop checking its guesses.
        await ctx.rateLimits.check("auth", ipKey);
      } catch (error) {
        return sendProblem(reply, request, toIgnisError(error));
      }
    }
    try {
      request.actor = await authenticate(ctx.db, ctx.verifier, request.headers.authorization);
    } catch (error) {
      const ignis = toIgnisError(error);
      await ctx.rateLimits.consume("auth", ipKey).catch(() => undefined);
      return sendProblem(reply, request, ignis);
    }
    const meta = metaOf(request);
    const rateClass = rateClassOf(request);
    if (request.actor.kind === "user") {
      // A containment decided a moment ago but not yet stored applies already.
      const held = ctx.security.heldContainment(
        request.actor.credential.id,
        request.actor.userId,
        !READ_METHODS.has(request.method),
      );
      if (held) return sendProblem(reply, request, new IgnisError(held, "held pending a security review"));
    }
    try {
      if (request.actor.kind === "user")
        await ctx.rateLimits.consume(rateClass, `cred:${request.actor.credential.id}`);
      await ctx.rateLimits.consume(rateClass, ipKey);
    } catch (error) {
      return sendProblem(reply, request, toIgnisError(error));
    }
    if (meta?.access === "user" && request.actor.kind !== "user") {
      return sendProblem(reply, request, new IgnisError("unauthenticated", "sign in or present an API key"));
    }
    return undefined;
  });

  // PostgreSQL text cannot hold NUL; refusing it here gives every route a clear 400 instead of a driver error.
  app.addHook("preValidation", async (request, reply) => {
    if (containsNul(request.params) || containsNul(request.query) || containsNul(request.body)) {
      return sendProblem(
        reply,
        request,
        new IgnisError("bad_request", "text may not contain NUL characters"),
      );
    }
    return undefined;
  });

  app.addHook("onSend", async (request, reply, payload) => {
    if (isSelfAuthenticating(request.url)) return payload;
    const write = !READ_METHODS.has(request.method);
    const status = reply.statusCode;
    const refusedAuth = status === 401 || status === 403;
    // A signed-in caller's 404 on an object route is a probe for someone else's object: worth a record.
    const probe = status === 404 && request.actor.kind !== "anonymous" && objectIdOf(request) !== null;
    // Read routes that declare an action (admin reads of the audit log, for example) are audited too.
    const auditedRead = metaOf(request)?.action !== undefined;
    if (!write && !refusedAuth && !probe && !auditedRead) return payload;
    await auditRequest(ctx, request, reply, payload);
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    ctx.metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (request.method !== "OPTIONS") ctx.security.observeRequest(signalOf(request, reply.statusCode, route));
  });
}

function signalOf(request: FastifyRequest, status: number, route: string): RequestSignal {
  const actor = request.actor ?? ANONYMOUS;
  return {
    at: Date.now(),
    actorType: actor.kind,
    actorId: actorId(actor),
    credentialId: credentialId(actor),
    credentialType: actor.kind === "user" ? actor.credential.type : actor.kind === "device" ? "device" : null,
    admin: actor.kind === "user" && actor.roles.includes("admin"),
    ip: request.ip,
    method: request.method,
    route,
    rateClass: rateClassOf(request),
    write: !READ_METHODS.has(request.method),
    objectType: objectTypeOf(request),
    objectId: objectIdOf(request),
    status,
  };
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
  try {
    await appendAudit(ctx.db, {
      actorType: request.actor.kind === "anonymous" ? "anonymous" : request.actor.kind,
      actorId: actorId(request.actor),
      credentialId: credentialId(request.actor),
      action: meta?.action ?? `${request.method} ${request.routeOptions.url ?? "unmatched"}`,
      objectType: objectTypeOf(request),
      objectId: objectIdOf(request),
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
