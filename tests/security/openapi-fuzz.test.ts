import { ignisErrorCodes } from "@ignis/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { changedTables, stateDigest } from "./support/state-digest.js";
import { buildWorld, keepDevicesOnline, type Pov, type World } from "./support/world.js";

/** The part of an OpenAPI 3.1 document the fuzzer reads. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}
interface Operation {
  parameters?: { in: string; name: string; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
}

/** One bad request: a path, and optionally a body (string or raw bytes) with its content type. */
interface BadRequest {
  label: string;
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
}

const SEED = 0x15_f022;
const CODES = new Set<string>(ignisErrorCodes);
// Requests in flight at once: enough to keep the server busy, few enough for a 2-core CI runner.
const CONCURRENCY = 8;
// Without a credential a user route refuses before reading anything else, so a few cases show that.
const ANONYMOUS_CASES_ON_USER_ROUTES = 6;

// Path parameter values no route accepts: over `maxParamLength` (200), percent-encoding that does not decode
// or decodes to bytes that are not UTF-8 (an overlong '/', a lone surrogate), NUL, and traversal.
const BAD_SEGMENTS = ["a".repeat(300), "%ZZ", "%C0%AF", "%ED%A0%80", "..%2F..%2F%00"];
// Query values of the wrong type or shape for any declared parameter.
const BAD_QUERY_VALUES = ["-1", "1e999", "%ZZ", "%ED%A0%80", "x".repeat(4_000)];
const HUGE_QUERY = `?q=${"x".repeat(20 * 1024)}`;
// Bodies no JSON route accepts, whatever its schema.
const BAD_BODIES: { label: string; body: string | Uint8Array; contentType: string }[] = [
  { label: "truncated JSON", body: '{"name":', contentType: "application/json" },
  { label: "not JSON", body: "hello", contentType: "application/json" },
  { label: "empty JSON", body: "", contentType: "application/json" },
  { label: "JSON null", body: "null", contentType: "application/json" },
  { label: "JSON array", body: "[]", contentType: "application/json" },
  {
    label: "bytes not UTF-8",
    body: Uint8Array.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
    contentType: "application/json",
  },
  { label: "lone surrogate key", body: '{"\\ud800":"x"}', contentType: "application/json" },
  { label: "prototype pollution", body: '{"__proto__":{"admin":true}}', contentType: "application/json" },
  {
    label: "over the body limit",
    body: JSON.stringify({ x: "x".repeat(300 * 1024) }),
    contentType: "application/json",
  },
  { label: "wrong content type", body: '{"name":"x"}', contentType: "text/plain" },
  { label: "unknown content type", body: "\u0000\u0001", contentType: "application/octet-stream" },
];

/** A value of the wrong type for a property, and one with invalid Unicode or of absurd size. */
function badValuesFor(schema: JsonSchema | undefined): unknown[] {
  const types = typesOf(schema);
  const values: unknown[] = ["\ud800", "x".repeat(100 * 1024)];
  // A schema the document does not type ($ref, allOf) gets no wrong-type values: any value might be right.
  if (types.size === 0) return values;
  if (!types.has("number") && !types.has("integer")) values.push(12345);
  else if (!types.has("string")) values.push("12");
  if (!types.has("object")) values.push({ nested: { deep: [1, 2, 3] } });
  return values;
}

/** Every JSON type a schema admits, through nested unions. */
function typesOf(schema: JsonSchema | undefined): Set<string> {
  const types = new Set<string>();
  if (schema === undefined) return types;
  for (const t of [schema.type ?? []].flat()) types.add(t);
  for (const inner of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    for (const t of typesOf(inner)) types.add(t);
  }
  return types;
}

/** The schema of a JSON request body, if the operation declares one. */
function bodySchema(op: Operation): JsonSchema | undefined {
  return op.requestBody?.content?.["application/json"]?.schema;
}

/** Fills path parameters: with `fill` where given, else with a well-formed id nobody holds. */
function pathWith(template: string, fill: (name: string) => string): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => fill(name));
}

/** Every bad request the fuzzer sends to one operation, deterministically from the seed. */
function badRequestsFor(
  template: string,
  op: Operation,
  write: boolean,
  realId: (name: string) => string,
): BadRequest[] {
  const cases: BadRequest[] = [];
  const dummy = () => "zz0fuzz0000000000000000000";
  const pathParams = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
  const queryParams = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
  for (const name of pathParams) {
    for (const seg of BAD_SEGMENTS) {
      cases.push({
        label: `path ${name}=${seg.slice(0, 20)}`,
        path: pathWith(template, (n) => (n === name ? seg : dummy())),
      });
    }
  }
  const base = pathWith(template, dummy);
  for (const name of queryParams) {
    for (const value of BAD_QUERY_VALUES) {
      cases.push({ label: `query ${name}=${value.slice(0, 20)}`, path: `${base}?${name}=${value}` });
    }
    cases.push({ label: `query ${name} repeated`, path: `${base}?${name}=1&${name}=2&${name}[x]=3` });
  }
  cases.push({ label: "20 KB query string", path: `${base}${HUGE_QUERY}` });
  for (const seg of fc.sample(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), {
    seed: SEED,
    numRuns: 2,
  })) {
    cases.push({ label: "random path text", path: `${base}/${encodeURIComponent(seg)}` });
  }
  const schema = bodySchema(op);
  if (!write) return cases;
  if (schema === undefined) {
    // No body is expected: sending one must not make the route act on a real object.
    cases.push({ label: "unexpected body", path: base, body: '{"x":', contentType: "application/json" });
    return cases;
  }
  // A bad body reaches the route's own validation only when the path names real objects.
  const target = pathWith(template, realId);
  for (const bad of BAD_BODIES) {
    // `null` is how a client says "no body" where the body is optional.
    if (bad.label === "JSON null" && (op.requestBody?.required !== true || typesOf(schema).has("null")))
      continue;
    cases.push({ ...bad, path: target });
  }
  if ((schema.required ?? []).length > 0) {
    cases.push({
      label: "missing required fields",
      path: target,
      body: "{}",
      contentType: "application/json",
    });
  }
  for (const [prop, propSchema] of Object.entries(schema.properties ?? {})) {
    for (const value of badValuesFor(propSchema)) {
      cases.push({
        label: `body ${prop}=${JSON.stringify(value).slice(0, 20)}`,
        path: target,
        body: JSON.stringify({ [prop]: value }),
        contentType: "application/json",
      });
    }
  }
  cases.push({
    label: "unknown field",
    path: target,
    body: '{"ownerId":"usr_x","role":"admin"}',
    contentType: "application/json",
  });
  for (const value of fc.sample(fc.jsonValue({ maxDepth: 3 }), { seed: SEED, numRuns: 2 })) {
    const body = JSON.stringify(value) ?? "null";
    cases.push({
      label: `random JSON ${body.slice(0, 20)}`,
      path: target,
      body,
      contentType: "application/json",
    });
  }
  return cases;
}

/** About `count` items taken evenly from the whole list. */
function spread<T>(items: T[], count: number): T[] {
  const step = Math.max(1, Math.ceil(items.length / count));
  return items.filter((_item, i) => i % step === 0);
}

/** What went wrong with one answer, or undefined when it is a proper refusal. */
function faultOf(status: number, contentType: string, body: string, write: boolean): string | undefined {
  if (status >= 500) return `answered ${status}`;
  if (status < 400) return write ? `a write accepted bad input (${status})` : undefined;
  if (!contentType.startsWith("application/problem+json")) return `${status} as ${contentType || "no type"}`;
  const code = (JSON.parse(body) as { code?: unknown }).code;
  if (typeof code !== "string" || !CODES.has(code)) return `${status} with code ${String(code)}`;
  return undefined;
}

describeEachDialect("bad requests generated from the OpenAPI document", (database) => {
  let w: World;
  let doc: OpenApiDoc;
  let anonymousAddress = 0;

  beforeAll(async () => {
    w = await buildWorld(database(), { IGNIS_TRUST_PROXY: "127.0.0.1" });
    await keepDevicesOnline(w);
    doc = (await (await fetch(`${w.t.url}/openapi.json`)).json()) as OpenApiDoc;
  }, 60_000);
  afterAll(() => w?.t.stop());

  const realIds = (): Record<string, string> => ({
    deviceId: w.deviceA,
    clusterId: w.clusterId,
    alertId: w.alertId,
    keyId: w.owner.keyId,
    userId: w.owner.userId,
  });

  async function send(
    pov: Pov,
    method: string,
    bad: BadRequest,
  ): Promise<{ status: number; type: string; text: string }> {
    const bearer = w.bearer(pov);
    anonymousAddress += 1;
    const res = await fetch(`${w.t.url}${bad.path}`, {
      method,
      redirect: "manual",
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(bad.contentType ? { "content-type": bad.contentType } : {}),
        "x-forwarded-for": `198.18.${(anonymousAddress >> 8) & 255}.${anonymousAddress & 255}`,
      },
      body: bad.body as BodyInit | undefined,
    });
    return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
  }

  /** Sends one bad request and returns what is wrong with the answer, if anything. */
  async function probe(pov: Pov, verb: string, template: string, bad: BadRequest, write: boolean) {
    const answer = await send(pov, verb, bad);
    const fault = faultOf(answer.status, answer.type, answer.text, write);
    return fault ? `${verb} ${template} as ${pov}, ${bad.label}: ${fault}` : undefined;
  }

  it("never answers 5xx, answers every 4xx as problem+json with a known code, and changes nothing", async () => {
    const faults: string[] = [];
    let sent = 0;
    const ids = realIds();
    const access = new Map(w.t.server.routeTable.map((r) => [`${r.method} ${r.url}`, r.meta?.access]));
    for (const [template, ops] of Object.entries(doc.paths)) {
      // The identity provider's endpoints answer OAuth's own error format (RFC 6749 §5.2), not problem+json.
      if (template.startsWith("/oidc")) continue;
      for (const [method, op] of Object.entries(ops)) {
        const verb = method.toUpperCase();
        const write = verb !== "GET" && verb !== "HEAD";
        const cases = badRequestsFor(
          template,
          op,
          write,
          (name) => ids[name] ?? "zz0fuzz0000000000000000000",
        );
        const route = `${verb} ${template.replace(/\{([A-Za-z]+)\}/g, ":$1")}`;
        // Each case as the credential that gets furthest into the route, and without a credential.
        const signedIn: Pov = template.startsWith("/v1/admin") ? "admin" : "owner";
        const runs: [Pov, BadRequest][] =
          access.get(route) === "public"
            ? cases.flatMap((bad) => [
                ["anonymous", bad] as [Pov, BadRequest],
                [signedIn, bad] as [Pov, BadRequest],
              ])
            : [
                ...cases.map((bad) => [signedIn, bad] as [Pov, BadRequest]),
                ...spread(cases, ANONYMOUS_CASES_ON_USER_ROUTES).map(
                  (bad) => ["anonymous", bad] as [Pov, BadRequest],
                ),
              ];
        // Alerts are the monitor's answer to a stream of refusals, not the write's; nothing else may move.
        const before = write ? await stateDigest(w.db, ["security_alerts"]) : undefined;
        for (let i = 0; i < runs.length; i += CONCURRENCY) {
          const batch = runs.slice(i, i + CONCURRENCY);
          const found = await Promise.all(batch.map(([pov, bad]) => probe(pov, verb, template, bad, write)));
          sent += batch.length;
          faults.push(...found.filter((f): f is string => f !== undefined));
        }
        if (before) {
          const changed = changedTables(before, await stateDigest(w.db, ["security_alerts"]));
          if (changed.length > 0) faults.push(`${verb} ${template}: bad input changed ${changed.join(", ")}`);
        }
      }
    }
    expect(sent).toBeGreaterThan(1_000);
    expect(faults).toEqual([]);
  }, 300_000);

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(w.db)).toMatchObject({ ok: true });
  });
});
