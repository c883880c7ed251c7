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
  // Invalid Unicode: lone surrogates (valid JSON escapes, unstorable text) must be a 400, never a 5xx.
  "up\ud800grade",
  "\udc00",
  "k\ude00'--",
];

const META = ["'", '"', ";", "--", "/*", "*/", "\\", "%", "_", "\u0000", "$1", ")", "(", "\n", "`", "\ud800"];

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

/**
 * Percent-encodes a path segment; a lone surrogate (which encodeURIComponent refuses) goes out as its WTF-8
 * bytes (`%ED%A0%80`), exactly the invalid UTF-8 a hostile client can send.
 */
function encodeSegment(p: string): string {
  let out = "";
  for (let i = 0; i < p.length; i += 1) {
    const c = p.charCodeAt(i);
    const high = c >= 0xd800 && c <= 0xdbff;
    if (high && i + 1 < p.length && (p.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += encodeURIComponent(p.slice(i, i + 2));
      i += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const hex = (b: number) => `%${b.toString(16).toUpperCase()}`;
      out += hex(0xe0 | (c >> 12)) + hex(0x80 | ((c >> 6) & 0x3f)) + hex(0x80 | (c & 0x3f));
    } else out += encodeURIComponent(p[i]!);
  }
  return out;
}

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
        path: pathParts.map((seg, j) => (j === i ? encodeSegment(p) : seg)).join("/"),
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
