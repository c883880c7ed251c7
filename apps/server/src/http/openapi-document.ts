import { Problem } from "@ignis/protocol";
import { z } from "zod";
import type { RouteTable } from "./route-table.js";

/** The parts of an OpenAPI operation this module fills in. */
interface Operation {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string }>;
  requestBody?: unknown;
  responses?: Record<string, unknown>;
}

/** An OpenAPI document, as far as this module reads and writes it. */
interface Document {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown>; responses?: Record<string, unknown> };
  security?: Array<Record<string, string[]>>;
  servers?: Array<{ url: string; description?: string }>;
  [key: string]: unknown;
}

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];

/** The 4xx answers every route can give, by status: what makes them, as the pipeline and http/problem.ts do. */
const ERROR_RESPONSES: Record<string, string> = {
  "400":
    "The request is malformed or fails validation (validation_failed, unknown_field, malformed_json, ...)",
  "401": "No valid credential (unauthenticated, invalid_token, invalid_api_key, api_key_expired, ...)",
  "403": "The credential lacks the role, scope or ownership (forbidden, insufficient_scope, writes_frozen)",
  "404": "No such object, or one the caller may not see (not_found and the object's own codes)",
  "413": "The body is larger than the server accepts (payload_too_large)",
  "414": "A path parameter is longer than the server reads (uri_too_long)",
  "429": "The credential or address spent its budget (rate_limited); Retry-After says when to come back",
  "431":
    "The request line or headers are larger than the server reads, e.g. a 20 KB query (headers_too_large)",
};

/** `GET /v1/devices/{deviceId}/challenges` → `getDevicesByDeviceIdChallenges`. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split("/")
    .filter((s) => s && s !== "v1")
    .map((s) => {
      const param = /^\{(.+)\}$/.exec(s);
      const word = (param ? `by-${param[1]}` : s).replace(
        /[^A-Za-z0-9]+(.)?/g,
        (_m, c: string | undefined) => (c ? c.toUpperCase() : ""),
      );
      return word.charAt(0).toUpperCase() + word.slice(1);
    });
  return method.toLowerCase() + words.join("");
}

/**
 * Completes the generated document with what the routes' zod schemas cannot say: an operationId for every
 * operation (a route's own schema.operationId wins), its security requirement from the route's access (public
 * routes need none, all others a bearer credential), and the problem+json 4xx answers it can really give:
 * 400 when it takes parameters or a body, 401/403 when it needs a credential, 404 when its path names an object,
 * 413 when it takes a body, 414 when its path has a parameter, 429 everywhere (every route is rate limited) and
 * 431 everywhere (Node's parser refuses oversized request lines and headers before any route runs).
 */
export function completeOperations(doc: Document, routes: RouteTable): Document {
  const access = new Map(
    routes.map((r) => [
      `${r.method.toLowerCase()} ${r.url.replace(/:([A-Za-z]+)/g, "{$1}")}`,
      r.meta?.access,
    ]),
  );
  doc.components ??= {};
  const components = doc.components;
  components.schemas = { ...components.schemas, Problem: z.toJSONSchema(Problem, { io: "output" }) };
  components.responses = { ...components.responses };
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
    components.responses[`Problem${status}`] = {
      description,
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }
  // Every path is served from the server's own origin (IGNIS_PUBLIC_URL), whatever that is.
  doc.servers ??= [{ url: "/", description: "the server that serves this document" }];
  doc.security = [{ bearer: [] }];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.operationId ??= operationIdFor(method, path);
      const isPublic = access.get(`${method} ${path}`) === "public";
      operation.security = isPublic ? [] : [{ bearer: [] }];
      const statuses = ["429", "431"];
      const hasBody = operation.requestBody !== undefined;
      if (hasBody || (operation.parameters?.length ?? 0) > 0) statuses.push("400");
      if (!isPublic) statuses.push("401", "403");
      if (path.includes("{")) statuses.push("404", "414");
      if (hasBody) statuses.push("413");
      operation.responses ??= {};
      const responses = operation.responses;
      for (const status of statuses.sort()) {
        responses[status] ??= { $ref: `#/components/responses/Problem${status}` };
      }
      // A route's own error schemas are sent as problem+json too (sendProblem), not as the generated JSON.
      for (const [status, response] of Object.entries(responses)) {
        const content = (response as { content?: Record<string, unknown> }).content;
        if (!/^[45]/.test(status) || !content?.["application/json"]) continue;
        content["application/problem+json"] ??= content["application/json"];
        delete content["application/json"];
      }
    }
  }
  return doc;
}
