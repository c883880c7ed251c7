import fc from "fast-check";

/** Real values the crawl plugs into paths and queries, next to made-up and hostile ones. */
export interface KnownValues {
  shownDeviceIds: string[];
  hiddenDeviceIds: string[];
  userIds: string[];
  epochs: number[];
}

const RANDOM_DEVICE = `dev_${"q".repeat(26)}`;
const HOSTILE = [
  "'",
  "' or '1'='1",
  "%00",
  "..%2f..%2fetc%2fpasswd",
  "<script>alert(1)</script>",
  "-1",
  "9".repeat(40),
];

/** Candidate values for a path parameter, by its name. */
export function paramValues(name: string, known: KnownValues): string[] {
  if (/device/i.test(name))
    return [...known.shownDeviceIds, ...known.hiddenDeviceIds, RANDOM_DEVICE, ...HOSTILE];
  if (/user/i.test(name)) return [...known.userIds, "usr_notauser", ...HOSTILE];
  if (/epoch/i.test(name)) return [...known.epochs.map(String), "0", "-1", "1e9", "abc"];
  return ["x", "0", ...HOSTILE];
}

/** Candidate rest-of-path values for a wildcard route. */
export function wildcardValues(prefix: string): string[] {
  if (prefix.startsWith("/oidc")) {
    return [".well-known/openid-configuration", "jwks", "auth", "token", "me", "session/end", "reg", "x"];
  }
  return ["", "devices", "supplier", "auth/callback", "favicon.svg", "assets/none.js", "index.html", ".env"];
}

/** Query strings worth trying on any route: filters, cursors and lookups with real and hostile values. */
export function queryVariants(known: KnownValues): string[] {
  const device = known.shownDeviceIds[0] ?? RANDOM_DEVICE;
  const hidden = known.hiddenDeviceIds[0] ?? RANDOM_DEVICE;
  const qs = (o: Record<string, string>) => `?${new URLSearchParams(o).toString()}`;
  return [
    "",
    qs({ q: device }),
    qs({ q: hidden }),
    qs({ q: device.slice(4, 9) }),
    qs({ q: "dev_" }),
    qs({ status: "online", limit: "100" }),
    qs({ status: "revoked" }),
    qs({ limit: "100000" }),
    qs({ cursor: "AAAA" }),
    qs({ deviceId: hidden, userId: known.userIds[0] ?? "usr_x" }),
    qs({ owner: known.userIds[0] ?? "usr_x", include: "owner" }),
    qs({ epoch: String(known.epochs[0] ?? 0) }),
  ];
}

/** Arbitrary query strings with arbitrary keys and values, for the fuzzed part of the crawl. */
export const fuzzedQuery = fc
  .dictionary(
    fc.constantFrom("q", "status", "model", "vendor", "cursor", "limit", "after", "deviceId", "epoch", "x"),
    fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constantFrom(...HOSTILE)),
    { maxKeys: 4 },
  )
  .map((o) => {
    const s = new URLSearchParams(o).toString();
    return s ? `?${s}` : "";
  });

/** Arbitrary path segments, for parameters. */
export const fuzzedSegment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 60 }).map((s) => encodeURIComponent(s)),
  fc.stringMatching(/^dev_[a-z2-7]{26}$/),
  fc.constantFrom(...HOSTILE),
);

/** Arbitrary JSON bodies for public write routes. */
export const fuzzedBody = fc.oneof(
  fc.constant({}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ code: fc.string(), publicKey: fc.string(), signature: fc.string() }),
);
