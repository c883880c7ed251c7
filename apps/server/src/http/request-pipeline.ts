import { IgnisError } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ANONYMOUS, actorId, credentialId } from "../identity/actor.js";
import { authenticate } from "../identity/authenticate.js";
import { type AuditEntry, appendAudit } from "../security/audit-log.js";
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

// A lone UTF-16 surrogate (JSON allows `"\ud800"`) cannot be stored as UTF-8 text: PostgreSQL refuses it in
// jsonb and text, after the caller's write may already have succeeded elsewhere. With the `u` flag a paired
// surrogate is one code point outside this class, so only unpaired halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why a string cannot be stored as text, or null when it can. */
function badText(s: string): string | null {
  if (s.includes("\u0000")) return "text may not contain NUL characters";
  if (LONE_SURROGATE.test(s)) return "text may not contain lone UTF-16 surrogates (invalid Unicode)";
  return null;
}

// The query parser keeps a percent-encoded sequence that is not UTF-8 (`%FF`, an encoded surrogate) as raw text
// instead of refusing it; decodeURIComponent is strict, so it tells.
function badUrlEncoding(url: string): string | null {
  try {
    decodeURIComponent(url);
    return null;
  } catch {
    return "the URL holds a percent-encoded sequence that is not UTF-8";
  }
}

function findBadText(value: unknown, depth = 0): string | null {
  if (typeof value === "string") return badText(value);
  if (depth > 64 || value === null || typeof value !== "object") return null;
  if (Array.isArray(value)) {
    for (const v of value) {
      const bad = findBadText(v, depth + 1);
      if (bad) return bad;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const bad = badText(k) ?? findBadText(v, depth + 1);
    if (bad) return bad;
  }
  return null;
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
    // Health probes are never limited or blocked: an orchestrator must always see a live replica as live.
    if (request.url.split("?")[0] === "/healthz" || isSelfAuthenticating(request.url)) return;
    const ipKey = `ip:${request.ip}`;
    try {
      request.actor = await authenticate(ctx.db, ctx.verifier, request.headers.authorization);
    } catch (error) {
      const ignis = toIgnisError(error);
      // A failed credential is anonymous: the address's block and its failure budget apply to it.
      try {
        await refuseBlockedAddress(ctx, request.ip, ipKey);
        if (ignis.code !== "unavailable") await ctx.rateLimits.consume("auth", ipKey);
      } catch (limited) {
        return sendProblem(reply, request, toIgnisError(limited));
      }
      return sendProblem(reply, request, ignis);
    }
    const meta = metaOf(request);
    const rateClass = rateClassOf(request);
    try {
      if (request.actor.kind === "user") {
        // A containment decided a moment ago but not yet stored applies already.
        const held = ctx.security.heldContainment(request.actor.credential.id, request.actor.userId);
        if (held) throw new IgnisError(held, "held pending a security review");
        // A valid credential is limited on its own budget, never by its address: an operator behind the same
        // NAT or proxy as a scanner keeps working.
        await ctx.rateLimits.consume(rateClass, `cred:${request.actor.credential.id}`);
      } else {
        await refuseBlockedAddress(ctx, request.ip, ipKey);
        await ctx.rateLimits.consume(rateClass, ipKey);
      }
    } catch (error) {
      return sendProblem(reply, request, toIgnisError(error));
    }
    if (meta?.access === "user" && request.actor.kind !== "user") {
      return sendProblem(reply, request, new IgnisError("unauthenticated", "sign in or present an API key"));
    }
    return undefined;
  });

  // PostgreSQL text holds neither NUL nor invalid Unicode; refusing both here, before validation and before any
  // handler writes, gives every route one clear 400 instead of a driver error halfway through a write.
  app.addHook("preValidation", async (request, reply) => {
    const bad =
      badUrlEncoding(request.url) ??
      findBadText(request.params) ??
      findBadText(request.query) ??
      findBadText(request.body);
    if (bad) return sendProblem(reply, request, new IgnisError("bad_request", bad));
    return undefined;
  });
  installStrictJsonParser(app);

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
    // Recorded already, in the write's own transaction (audited-write.ts).
    if (request.auditedWithWrite && status < 400) return payload;
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

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Replaces the JSON body parser with one that refuses bytes that are not UTF-8 (the default decodes them to
 * U+FFFD silently) and then parses with Fastify's own parser (prototype-poisoning checks included).
 */
function installStrictJsonParser(app: App): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = UTF8.decode(body as Buffer);
    } catch {
      done(new IgnisError("bad_request", "the request body is not valid UTF-8"), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

/** Refuses an anonymous request from an address under an automatic block (or one decided a moment ago). */
async function refuseBlockedAddress(ctx: AppContext, ip: string, ipKey: string): Promise<void> {
  const blocked = ctx.security.heldAddress(ip) ? 60 : await ctx.rateLimits.blockedFor(ipKey);
  if (blocked > 0) {
    throw new IgnisError("rate_limited", "this address is blocked pending a security review", {
      details: { retryAfterSeconds: blocked },
    });
  }
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

/** The audit record of a request with the given outcome (`ok`, `refused:<code>`, `failed:<code>`). */
export function auditEntryOf(request: FastifyRequest, status: number, outcome: string): AuditEntry {
  const meta = metaOf(request);
  return {
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
  };
}

async function auditRequest(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
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
    await appendAudit(ctx.db, auditEntryOf(request, status, outcome));
  } catch (error) {
    // A write whose audit record cannot be stored must not look successful to the caller.
    request.log.error({ err: error }, "audit append failed");
    throw new IgnisError("unavailable", "the audit log is unavailable; retry", { cause: error });
  }
}
