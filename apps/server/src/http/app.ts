import { randomUUID } from "node:crypto";
import fastifyHelmet from "@fastify/helmet";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { IgnisError } from "@ignis/protocol";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Actor } from "../identity/actor.js";
import type { Action } from "../identity/policy.js";
import { trustProxyOption } from "./client-address.js";
import type { AppContext } from "./context.js";
import { answerClientError, frameworkProblem } from "./framework-errors.js";
import { completeOperations } from "./openapi-document.js";
import { problemFor, toIgnisError } from "./problem.js";
import { installRequestPipeline } from "./request-pipeline.js";
import type { RouteTable } from "./route-table.js";
import { registerRoutes } from "./routes/index.js";

/** The Fastify instance with zod schemas as its type provider. */
export type App = FastifyInstance<
  import("node:http").Server,
  import("node:http").IncomingMessage,
  import("node:http").ServerResponse,
  import("fastify").FastifyBaseLogger,
  ZodTypeProvider
>;

/** What a route declares about itself, read by the pipeline and by the authorization matrix test. */
export interface RouteMeta {
  /** `public` routes need no credential; all others need a user. */
  access: "public" | "user";
  /** Audit action name, one of the policy's actions; every non-GET route must have one. */
  action?: Action;
  /** Rate-limit class; derived from the method when absent. */
  rateClass?: import("../security/rate-limits.js").RateClass;
  /** Path parameter naming the object acted on, for the audit record. */
  objectParam?: string;
  objectType?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor;
    /** Extra facts for the audit record (for example the old label, so an admin can revert). */
    auditDetails: Record<string, unknown> | undefined;
    auditObjectId: string | undefined;
    /** Set once the request's audit record was written in its write's own transaction (audited-write.ts). */
    auditedWithWrite: boolean;
  }
  interface FastifyContextConfig {
    meta?: RouteMeta;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** A request's id: the caller's well-formed `X-Request-Id`, else a fresh one. */
export function requestIdOf(request: import("node:http").IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Builds the HTTP application: pipeline, error mapping, OpenAPI and every route. */
export async function buildApp(
  ctx: AppContext,
  logger: import("fastify").FastifyBaseLogger,
  routeTable: RouteTable = [],
): Promise<App> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: ctx.config.bodyLimitBytes,
    genReqId: requestIdOf,
    ajv: { customOptions: { allErrors: false } },
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: "idle",
    // A request (a worker's upgrade included) must send its headers within 10 s and finish within 60 s, so a
    // slow-loris client cannot hold sockets open; the check runs every second.
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    // Only behind a configured proxy is X-Forwarded-For believed; otherwise the socket address is the IP.
    trustProxy: trustProxyOption(ctx.config.trustProxy),
    // Refusals made before any route runs (a path that does not decode, an over-long path parameter, headers
    // past Node's 16 KB) answer problem+json with a stable code like every other refusal.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, frameworkProblem(error)),
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Set per request in onRequest; null here keeps the request shape stable for V8.
  app.decorateRequest("actor", null as never);
  app.decorateRequest("auditDetails", undefined);
  app.decorateRequest("auditObjectId", undefined);
  app.decorateRequest("auditedWithWrite", false);

  await app.register(fastifyHelmet, {
    // Not helmet's `no-referrer`: under it a browser sends `Origin: null` with a same-origin form post (the
    // device-code page oidc-provider renders, our sign-in forms), which the CSRF check must refuse. Same-origin
    // requests carry the real origin; other sites get no referrer at all.
    referrerPolicy: { policy: "same-origin" },
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Ignis control plane", version: "0.1.0", description: "The Ignis GPU network API." },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "OIDC access token or API key" },
        },
      },
    },
    transform: jsonSchemaTransform,
    // operationIds, security and the 4xx problem+json answers, from the route table (filled before any request).
    transformObject: (documents) =>
      "openapiObject" in documents
        ? (completeOperations(
            documents.openapiObject as Parameters<typeof completeOperations>[0],
            routeTable,
          ) as typeof documents.openapiObject)
        : documents.swaggerObject,
    hideUntagged: false,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs", staticCSP: true });

  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const ignis = classifyError(error);
    if (ignis.code === "internal") request.log.error({ err: error }, "unhandled error");
    else
      request.log.info(
        { code: ignis.code, cause: (ignis.cause as Error | undefined)?.message },
        "request refused",
      );
    return sendProblem(reply, request, ignis);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new IgnisError("not_found", "no such route or object")),
  );

  installRequestPipeline(app, ctx);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      routeTable.push({
        method,
        url: route.url,
        meta: (route.config as { meta?: RouteMeta } | undefined)?.meta,
      });
    }
  });
  await registerRoutes(app, ctx);
  return app;
}

/** Longest a client may take to send a request's headers (the worker socket's upgrade request included). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Longest a client may take to send a whole request. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** Sends an IgnisError as problem+json, with Retry-After for rate limits. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: IgnisError) {
  const body = problemFor(error, request.id, request.url.split("?")[0] ?? "/");
  const retry = error.details?.retryAfterSeconds;
  if (typeof retry === "number") reply.header("retry-after", String(retry));
  if (body.status === 401) reply.header("www-authenticate", 'Bearer realm="ignis"');
  return reply.code(body.status).type("application/problem+json").send(body);
}

function classifyError(error: unknown): IgnisError {
  if (error instanceof IgnisError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => {
      const keys = (v.params as { keys?: string[] } | undefined)?.keys ?? [];
      const base = v.instancePath.replace(/^\//, "").replaceAll("/", ".");
      return {
        path: [base, keys.join(",")].filter(Boolean).join("."),
        message: v.message ?? "invalid",
        kind: v.keyword,
      };
    });
    const unknown = issues.some((i) => i.kind === "unrecognized_keys");
    return new IgnisError(
      unknown ? "unknown_field" : "validation_failed",
      unknown ? "the body has fields that cannot be set" : "the request is not valid",
      {
        details: {
          errors: issues.map(({ path, message }) => ({
            path: `${error.validationContext ?? "body"}${path ? `.${path}` : ""}`,
            message,
          })),
        },
      },
    );
  }
  const code = (error as { code?: string }).code;
  const statusCode = (error as { statusCode?: number }).statusCode;
  if (code === "FST_ERR_CTP_BODY_TOO_LARGE")
    return new IgnisError("payload_too_large", "the request body is too large");
  if (
    code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
    code === "FST_ERR_CTP_EMPTY_JSON_BODY" ||
    error instanceof SyntaxError
  ) {
    return new IgnisError("malformed_json", "the request body is not valid JSON");
  }
  if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH") {
    return new IgnisError("bad_request", "unsupported content type; send application/json");
  }
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    return new IgnisError(
      statusCode === 413 ? "payload_too_large" : "bad_request",
      "the request is not valid",
      { cause: error },
    );
  }
  return toIgnisError(error);
}
