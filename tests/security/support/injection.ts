import fc from "fast-check";
import type { CellRequest, MatrixRow } from "./matrix-presets.js";
import type { Pov } from "./world.js";

/** Classic injection strings: SQL, NoSQL-ish operators, comment tricks, encodings, NUL bytes, path tricks. */
export const CLASSIC_PAYLOADS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE devices; --",
  "\"; update devices set label='pwned'; --",
  "1; select pg_sleep(5)",
  "' UNION SELECT id, key_hash FROM api_keys --",
  "dev_aaaaaaaaaaaaaaaaaaaaaaaaaa' OR owner_id IS NOT NULL --",
  "$1",
  "%27%20OR%201%3D1",
  "\\'; --",
  "/* */ OR /**/ 1=1",
  "a\u0000b",
  "../../etc/passwd",
  '{"$ne": null}',
  "𝕴𝖌𝖓𝖎𝖘 ' --",
];

const META = ["'", '"', ";", "--", "/*", "*/", "\\", "%", "_", "\u0000", "$1", ")", "(", "\n", "`"];

/** Injection payloads: the classics, and random strings salted with SQL metacharacters. */
export const payloadArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...CLASSIC_PAYLOADS) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...META), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.join("")),
  },
);

/** One place a request carries a caller-chosen string. */
export interface Slot {
  kind: "path" | "query" | "body";
  name: string;
  /** The request with the payload in this slot. */
  inject(payload: string): CellRequest;
}

function stringLeaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

function setAt(value: unknown, path: (string | number)[], payload: string): unknown {
  if (path.length === 0) return payload;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[path[0]!] = setAt(copy[path[0]!], path.slice(1), payload);
  return copy;
}

/** Every string slot of a concrete request: its path parameters, the route's query parameters and body strings. */
export function slotsOf(route: string, base: CellRequest, queryParams: string[]): Slot[] {
  const url = route.split(" ")[1]!;
  const patternParts = url.split("/");
  const pathParts = base.path.split("?")[0]!.split("/");
  const slots: Slot[] = [];
  patternParts.forEach((part, i) => {
    if (!part.startsWith(":") && part !== "*") return;
    slots.push({
      kind: "path",
      name: part,
      inject: (p) => ({
        ...base,
        path: pathParts.map((seg, j) => (j === i ? encodeURIComponent(p) : seg)).join("/"),
      }),
    });
  });
  for (const name of queryParams) {
    slots.push({
      kind: "query",
      name,
      inject: (p) => ({ ...base, path: `${base.path.split("?")[0]}?${new URLSearchParams({ [name]: p })}` }),
    });
  }
  for (const leaf of stringLeaves(base.body)) {
    slots.push({
      kind: "body",
      name: leaf.join("."),
      inject: (p) => ({ ...base, body: setAt(base.body, leaf, p) }),
    });
  }
  return slots;
}

/** The point of view that gets furthest into a route: the first one the matrix lets through. */
export function deepestPov(row: MatrixRow): Pov {
  const order: Pov[] = ["owner", "customer", "admin", "otherSupplier", "anonymous"];
  return (
    order.find((pov) => (row.expect[pov] ?? 500) < 300) ?? (row.expect.admin !== 401 ? "admin" : "anonymous")
  );
}

/** Query parameter names per route, read from the server's own OpenAPI document. */
export function queryParamsFrom(openapi: {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
}): Map<string, string[]> {
  const byRoute = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(openapi.paths)) {
    const url = path.replace(/\{([^}]+)\}/g, ":$1");
    for (const [method, op] of Object.entries(operations)) {
      const names = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
      byRoute.set(`${method.toUpperCase()} ${url}`, names);
    }
  }
  return byRoute;
}
